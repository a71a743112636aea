// `pitstop`: the command-line tool. It parses, calls a service, and prints; it never writes SQL.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

@main
struct Pitstop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitstop",
        abstract: "Planned maintenance for a fleet of virtual machines.",
        discussion: """
            The database is --db PATH, else $PITSTOP_DB, else $XDG_DATA_HOME/pitstop/pitstop.sqlite \
            (~/.local/share/pitstop/pitstop.sqlite): a SQLite file, or a PostgreSQL database that \
            several servers share, as postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?host=/SOCKET/DIR&pool=N&sslmode=MODE&sslrootcert=FILE&…] (sslmode as libpq: disable, prefer, require, verify-ca, verify-full; sslcert, sslkey, connect_timeout, keepalives, keepalives_idle, keepalives_interval, keepalives_count, tcp_user_timeout and target_session_attrs as libpq too; several hosts are tried in turn for the one that takes writes; see the README). \
            PITSTOP_NOW replaces the clock.
            Exit status: 0 success, 1 findings (check, a refused start), 2 refused input, 3 an internal fault.
            """,
        subcommands: [
            Demo.self, Import.self, Export.self, InventoryCommand.self, RegionCommand.self, RegionsCommand.self,
            SubscriptionCommand.self, SetCommand.self, VMCommand.self, WindowCommand.self, BlackoutCommand.self,
            WindowsCommand.self, PlanCommand.self, UpcomingCommand.self, CheckCommand.self, CampaignCommand.self, EventCommand.self,
            NotifyCommand.self, NoticesCommand.self, AuditCommand.self, ReportCommand.self, ServeCommand.self, TokenCommand.self,
            MigrateCommand.self,
        ])
}

/// Options every command that touches the database takes.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database: a SQLite file (PATH or sqlite:PATH) or a postgres://USER@HOST/DATABASE URL (default: $PITSTOP_DB, else $XDG_DATA_HOME/pitstop/pitstop.sqlite).")
    var db: String?

    var path: String { DatabaseLocation.resolve(explicit: db) }

    /// The use cases on this database. Only a command that records the fleet passes
    /// `creating: true`; every other one refuses a database that does not exist (exit 2, naming
    /// the path) rather than leave a new empty one behind a typo. One command runs one thing at a
    /// time: one connection, not a pool (`serve` opens its own).
    func open(creating: Bool = false) throws -> Services { try Services.open(path: path, creating: creating, concurrent: false) }

    /// The fleet's use cases, acting as this process's operator at the command's clock.
    func inventory(creating: Bool = false) throws -> InventoryService {
        let actor = Invocation.actor()
        return try open(creating: creating).inventory(actor: actor, clock: { try Invocation.now() })
    }
}

/// Who acts and when, as this process sees it: the CLI is the only layer that reads the
/// environment or the clock; every use case takes both as arguments.
enum Invocation {
    /// `$PITSTOP_ACTOR`, else the OS user.
    static func actor(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let a = environment["PITSTOP_ACTOR"], !a.isEmpty { return a }
        if let u = environment["USER"] ?? environment["LOGNAME"], !u.isEmpty { return u }
        return NSUserName()
    }

    /// `PITSTOP_NOW` (ISO 8601 with an offset) replaces the system clock, so that plans can be
    /// rehearsed and tested.
    static func now(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Timestamp {
        guard let text = environment["PITSTOP_NOW"], !text.isEmpty else { return Timestamp(Date()) }
        guard let t = Timestamp(iso8601: text) else {
            throw PitstopError(.invalid, "PITSTOP_NOW: '\(text.truncatedForMessage)' is not an ISO 8601 instant with an offset (like 2026-11-22T10:00:00Z)")
        }
        return t
    }
}

/// Where the database lives when no `--db` is given: `$PITSTOP_DB`, else
/// `$XDG_DATA_HOME/pitstop/pitstop.sqlite`, else `~/.local/share/pitstop/pitstop.sqlite`.
enum DatabaseLocation {
    static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let path = environment["PITSTOP_DB"], !path.isEmpty { return path }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty { return data + "/pitstop/pitstop.sqlite" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/pitstop/pitstop.sqlite"
    }
}

/// The values `--format` takes: spelled the same in every command, each command offering the
/// ones that make sense for what it prints.
protocol OutputChoice: ExpressibleByArgument, CaseIterable, RawRepresentable<String> {
    /// What a command prints without `--format`.
    static var standard: Self { get }
}

enum TableOrJSON: String, OutputChoice { case table, json; static let standard = table }
enum TableJSONOrCSV: String, OutputChoice { case table, json, csv; static let standard = table }
enum TableJSONOrICS: String, OutputChoice { case table, json, ics; static let standard = table }
enum JSONOnly: String, OutputChoice { case json; static let standard = json }

/// `--format`, declared once for every command that prints data.
struct FormatOption<Choice: OutputChoice>: ParsableArguments {
    @Option(name: .customLong("format"), help: ArgumentHelp("How to print.", valueName: "format"))
    var value: Choice = Choice.standard
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

/// The exit status of each kind of error: the one place the CLI maps them.
func exitStatus(of kind: PitstopError.Kind) -> Int32 {
    switch kind {
    case .invalid, .notFound, .conflict, .busy: 2
    case .refused: 1
    case .internal, .unavailable: 3
    }
}

/// Runs a command body, turning every error into a message on stderr and an exit status,
/// never a stack of Swift types.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as PitstopError {
        for problem in error.problems { printError(problem.description, prefix: false) }
        printError(error.problems.isEmpty ? error.message
                   : "import refused: \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s"); nothing was written")
        throw ExitCode(exitStatus(of: error.kind))
    } catch let error as Failure {
        printError(error.message)
        throw ExitCode(error.code)
    } catch let error as InputProblem {
        printError(error.message)
        throw ExitCode(2)
    } catch let error as ExitCode {
        throw error
    } catch {
        // Not the operator's doing: say so without the internals, which help nobody at a terminal.
        printError("internal error: an unexpected failure stopped the command; nothing more was written. Please report it with the command you ran.")
        throw ExitCode(3)
    }
}

/// Writes a message to stderr. Its lines stay lines; any other control character (a CR or NUL
/// that came from the input) is shown as an escape, never sent raw to the terminal.
func printError(_ message: String, prefix: Bool = true) {
    let text = message.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).escapingControlCharacters }.joined(separator: "\n")
    FileHandle.standardError.write(Data(((prefix ? "pitstop: " : "") + text + "\n").utf8))
}

/// Buffered standard output: a million-line export should not make a million write calls.
/// Used by one command at a time; `@unchecked` so streaming reads can write to it.
final class StandardOutput: @unchecked Sendable {
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

/// Mutable state for a streaming callback: the callback runs serially on the database's own
/// queue while the command waits for it, so nothing touches the value concurrently.
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
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

/// Parses a range option (`--within`, `--horizon`): a duration of at most
/// ``InputLimits/maximumRangeSeconds``, refused before the database is opened. The use case
/// checks the same bound for callers other than the CLI.
func parseRange(_ text: String, option: String) throws -> Int64 {
    let seconds = try parseDuration(text, option: option)
    do { try InputLimits.checkRange(seconds) } catch { throw Failure("\(option): \(error.message)") }
    return seconds
}
