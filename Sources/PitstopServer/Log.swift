// Structured logs: one logfmt line per entry (`time=… level=info msg=request method=GET …`),
// to standard error, so that a request log can be read by eye and parsed by tools.
import Foundation
public import Logging
import Synchronization

/// The logger `pitstop serve` uses: logfmt on standard error, at `level`.
public func serverLogger(level: Logger.Level = .info) -> Logger {
    var logger = Logger(label: "pitstop") { label in LogfmtLogHandler(label: label, write: LogfmtLogHandler.standardError) }
    logger.logLevel = level
    return logger
}

/// Writes each entry as one logfmt line through `write`.
public struct LogfmtLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", Self.timestamp()), ("level", event.level.rawValue), ("msg", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() where key != "hb.request.id" {
            fields.append((key, "\(merged[key]!)"))
        }
        write(fields.map { "\($0.0)=\(Self.quoted($0.1))" }.joined(separator: " ") + "\n")
    }

    static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    static func timestamp() -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
    }

    private static let lock = Mutex<Void>(())

    /// Writes whole lines to standard error, one at a time.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
