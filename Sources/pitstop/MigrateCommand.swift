// `pitstop migrate` moves a SQLite database into PostgreSQL, for an operator who outgrows one
// machine: every row, the audit chain verified on arrival.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite database into an empty PostgreSQL database.",
        discussion: """
            Copies every table (fleet, windows, plans and their events, notices, tokens and the \
            audit log) in one transaction, which commits only when every row has arrived and the \
            audit chain walks intact to the source's head; then records the move in the log. \
            The target must be empty: make one with createdb. The SQLite file is only read \
            (brought up to this release's schema first, as any command does). Afterwards, point \
            every command and server at the PostgreSQL URL (--db or $PITSTOP_DB).
            Exit status: 0 moved, 2 bad usage, a target that is not empty, or an error (nothing copied).
            """)

    @Option(help: ArgumentHelp("The SQLite database to copy.", valueName: "path")) var from: String
    @Option(help: ArgumentHelp("The empty PostgreSQL database to copy it into.", valueName: "postgres://USER@HOST/DATABASE")) var to: String
    @OptionGroup var format: FormatOption<TableOrJSON>

    func run() async throws {
        try await guarded {
            guard !DatabaseMover.isPostgres(from) else {
                throw Failure("--from: names a PostgreSQL database; migrate copies a SQLite file (PATH or sqlite:PATH) into PostgreSQL")
            }
            guard DatabaseMover.isPostgres(to) else {
                throw Failure("--to: '\(to.truncatedForMessage)' is not a postgres://USER@HOST/DATABASE URL; migrate copies into PostgreSQL only")
            }
            let progress = Self.progress()
            let report = try await DatabaseMover.move(from: from, to: to, actor: Invocation.actor(), clock: { try Invocation.now() },
                                                      progress: progress)
            if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            switch format.value {
            case .json:
                print(Responses.databaseMove(report))
            case .table:
                print("moved \(report.source) into \(report.target)")
                var table = Table("table", "rows", numeric: [1])
                for t in report.tables { table.add(t.name, "\(t.rows)") }
                print(table.text, terminator: "")
                let head = report.chain.head.map { "head \($0.seq) \($0.hash.prefix(16))…, the source's" } ?? "empty, as the source's"
                print("audit chain: intact on arrival, \(report.chain.entries) entries, \(head); entry \(report.recorded.seq) records the move")
                print("next: give --db \(report.target) (or set PITSTOP_DB) to every command and server; the SQLite file was left as it was")
            }
        }
    }

    /// Rows copied, on stderr while it is a terminal.
    static func progress() -> (@Sendable (String, Int) -> Void)? {
        guard isatty(2) == 1 else { return nil }
        return { table, rows in FileHandle.standardError.write(Data("\rmigrate: \(table) \(rows) rows\u{1B}[K".utf8)) }
    }
}
