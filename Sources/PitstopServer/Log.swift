// Structured logs: one logfmt line per entry (`time=… level=info msg=request method=GET …`),
// to standard error, so that a request log can be read by eye and parsed by tools.
import Foundation
public import Logging
import PitstopCore

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

    /// Now in UTC with milliseconds, `2026-12-02T18:13:41.277Z`. Written by hand: one line a
    /// request, and Foundation's formatter cost more than the rest of the line.
    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        let seconds = now.rounded(.down)
        let whole = Timestamp(seconds: Int64(seconds)).iso8601  // ...:SSZ
        let millis = min(999, Int((now - seconds) * 1000))
        let fraction = String(millis + 1000).dropFirst()  // zero-padded to three digits
        return whole.dropLast() + "." + fraction + "Z"
    }

    /// Writes whole lines to standard error, each with one write(2): Linux keeps one call's
    /// bytes together on a file or pipe (a line is far below PIPE_BUF), so no lock is needed.
    public static let standardError: @Sendable (String) -> Void = { line in
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
