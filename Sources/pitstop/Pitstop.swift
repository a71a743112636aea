// `pitstop`: the command-line tool. It parses, calls a service, and prints; it never writes SQL.
import ArgumentParser
import Foundation
import GRDB
import PitstopCore
import PitstopService
import PitstopStore

@main
struct Pitstop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Planned maintenance for a fleet of virtual machines.",
        discussion: """
            The database is --db PATH, else $PITSTOP_DB, else $XDG_DATA_HOME/pitstop/pitstop.sqlite \
            (~/.local/share/pitstop/pitstop.sqlite). PITSTOP_NOW replaces the clock.
            Exit status: 0 success, 1 findings (check), 2 refused input or a failed command.
            """,
        subcommands: [
            Demo.self, Import.self, Export.self, InventoryCommand.self, RegionCommand.self, RegionsCommand.self,
            SubscriptionCommand.self, SetCommand.self, VMCommand.self, WindowCommand.self, BlackoutCommand.self,
            WindowsCommand.self, PlanCommand.self, UpcomingCommand.self, CheckCommand.self, CampaignCommand.self, EventCommand.self,
            NotifyCommand.self, NoticesCommand.self, AuditCommand.self, ReportCommand.self,
        ])
}

/// Options every command that touches the database takes.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database file (default: $PITSTOP_DB, else $XDG_DATA_HOME/pitstop/pitstop.sqlite).")
    var db: String?

    var path: String { DatabaseLocation.resolve(explicit: db) }

    func open() throws -> AppDatabase {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure("\(path) is a directory; --db takes the database file (it is created if missing)")
        }
        do {
            return try AppDatabase.open(path: path)
        } catch let error as MigrationError {
            throw Failure("\(path): \(error)")
        } catch let error as DatabaseError {
            throw Failure("\(path): cannot open the database: \(error.message ?? "\(error)")")
        }
    }

    func inventory() throws -> InventoryService { InventoryService(database: try open()) }
}

/// How a command prints data.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// A refusal that has been printed already or carries its message; exits with `code`.
struct Failure: Error, CustomStringConvertible {
    var message: String
    var code: Int32 = 2
    init(_ message: String, code: Int32 = 2) {
        self.message = message
        self.code = code
    }
    var description: String { message }
}

/// Runs a command body, turning the errors operators can cause into a message on stderr and
/// a non-zero exit, instead of a stack of Swift types.
func guarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ServiceError {
        printError(error.message)
        throw ExitCode(2)
    } catch let error as ImportFailure {
        for e in error.errors { printError(e.description, prefix: false) }
        printError("import refused: \(error.errors.count) problem\(error.errors.count == 1 ? "" : "s"); nothing was written")
        throw ExitCode(2)
    } catch let error as Failure {
        printError(error.message)
        throw ExitCode(error.code)
    } catch let error as DatabaseError {
        printError("database: \(error.message ?? "\(error)")")
        throw ExitCode(2)
    } catch let error as InputProblem {
        printError(error.message)
        throw ExitCode(2)
    }
}

func printError(_ message: String, prefix: Bool = true) {
    FileHandle.standardError.write(Data(((prefix ? "pitstop: " : "") + message + "\n").utf8))
}

/// Buffered standard output: a million-line export should not make a million write calls.
final class StandardOutput {
    private var buffer: [UInt8] = []
    init() { buffer.reserveCapacity(1 << 16) }
    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }
    func flush() {
        fflush(nil)  // what print() buffered comes first
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
    deinit { flush() }
}

/// What a progress count measures.
enum ProgressUnit {
    case bytes, events
}

/// Progress for long work, on stderr and only when stderr is a terminal, so that output
/// piped to a file or `--format json` stays clean.
func progressReporter(_ label: String, unit: ProgressUnit = .bytes) -> ProgressHandler? {
    guard isatty(2) == 1 else { return nil }
    return { done, total in
        func amount(_ n: Int) -> String { unit == .bytes ? "\(n >> 20) MB" : "\(n)" }
        var text = "\r\(label): "
        if let total, total > 0 {
            text += "\(done * 100 / total)% (\(amount(done)) of \(amount(total))\(unit == .events ? " events" : ""))"
        } else {
            text += amount(done)
        }
        FileHandle.standardError.write(Data(text.utf8))
        if let total, done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// Parses an ISO 8601 instant option.
func parseInstant(_ text: String, option: String) throws -> Timestamp {
    guard let t = Timestamp(iso8601: text) else {
        throw Failure("\(option): '\(text.truncatedForMessage)' is not an ISO 8601 instant with a zone (like 2026-12-20T00:00:00Z)")
    }
    return t
}

/// Parses a duration option (`30d`, `PT8H`).
func parseDuration(_ text: String, option: String) throws -> Int64 {
    do { return try DurationText(parsing: text).seconds } catch { throw Failure("\(option): \(error.message)") }
}
