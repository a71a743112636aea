// The one error shape every use case throws: a kind that says what went wrong in terms an
// adapter can map (the CLI to an exit status, the server to an HTTP status), a message an
// operator understands, and, for bad input, the places it came from.

/// A refused or failed operation. Nothing was written.
public struct PitstopError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as an adapter maps it.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The input is wrong; ``PitstopError/problems`` names each place when there are several.
        case invalid
        /// The thing named does not exist.
        case notFound
        /// The change clashes with what is stored: a duplicate name, a removal others depend
        /// on, a transition from the wrong state, no valid plan.
        case conflict
        /// A scheduling rule refuses it given what is running now (a guarded start);
        /// ``PitstopError/conflicts`` names the events it would clash with.
        case refused
        /// The database stayed busy with another process for longer than the busy timeout.
        case busy
        /// The database cannot serve now: its server is down or restarting, refuses new
        /// connections, or dropped the one in use. Nobody's input is wrong and nothing was
        /// written; the same request may succeed shortly.
        case unavailable
        /// A fault that is not the caller's: a corrupt row, an unreadable file, a bug.
        case `internal`
    }

    public var kind: Kind
    /// One or more lines, in an operator's words.
    public var message: String
    /// Every bad record of a refused input, each with its file, line and field.
    public var problems: [InputError]
    /// The ids of what the operation conflicts with (events, for a refused start).
    public var conflicts: [String]

    public init(_ kind: Kind, _ message: String, problems: [InputError] = [], conflicts: [String] = []) {
        self.kind = kind
        self.message = message
        self.problems = problems
        self.conflicts = conflicts
    }

    /// An input refused for each of `problems` (a whole file's worth).
    public static func invalidInput(_ problems: [InputError]) -> PitstopError {
        PitstopError(.invalid, "refused: \(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing was written", problems: problems)
    }

    public var description: String {
        problems.isEmpty ? message : (problems.map(\.description) + [message]).joined(separator: "\n")
    }
}

extension PitstopError {
    /// Runs `body`, turning a core ``InputProblem`` into an `.invalid` error whose message
    /// starts with `context` (a field or option name) when one is given.
    public static func validating<T>(_ context: String? = nil, _ body: () throws(InputProblem) -> T) throws(PitstopError) -> T {
        do throws(InputProblem) { return try body() } catch {
            throw PitstopError(.invalid, context.map { "\($0): \(error.message)" } ?? error.message)
        }
    }
}
