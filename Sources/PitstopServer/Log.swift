// Structured logs: one logfmt line per entry (`time=… level=info msg=request method=GET …`),
// to standard error, so that a request log can be read by eye and parsed by tools.
import Foundation
public import Logging
import PitstopCore
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
        // One string, appended to in place: a request writes one of these lines.
        var line = "time=" + Self.timestamp()
        line.reserveCapacity(256)
        Self.append("level", event.level.rawValue, to: &line)
        Self.append("msg", event.message.description, to: &line)
        let merged = metadata.isEmpty ? event.metadata ?? [:] : metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where key != "hb.request.id" {
            Self.append(key, Self.text(value), to: &line)
        }
        line += "\n"
        write(line)
    }

    private static func append(_ key: String, _ value: String, to line: inout String) {
        line += " "
        line += key
        line += "="
        line += quoted(value)
    }

    private static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        default: value.description
        }
    }

    /// `value` as it is, or JSON-quoted when it holds a space, `"`, `=` or a control character
    /// (a line break most of all), so that a value can never end a line or fake a field.
    static func quoted(_ value: String) -> String {
        // Most values need no quotes: look at the bytes, never at grapheme clusters.
        guard value.isEmpty || value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 || $0 == 0x3D }) else { return value }
        return JSONText.quote(value)
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

    /// Writes lines to standard error through ``LineBatcher/standardError``.
    public static let standardError: @Sendable (String) -> Void = { line in LineBatcher.standardError.append(line) }
}

/// Lines gathered in memory and written to a file descriptor together, by a thread of its own
/// every ``interval`` (and at once past ``limit`` bytes), instead of one write(2) a line: under
/// load that call cost a server more than the rest of a request's log line. Whole lines only,
/// in the order they were appended; a line waits at most ``interval``. ``flush()`` writes what
/// is waiting: `pitstop serve` calls it as it stops, so only a crash can lose the last lines.
public final class LineBatcher: Sendable {
    /// How long a line may wait.
    public static let interval: Duration = .milliseconds(20)
    /// Bytes waiting that make the appending thread write them at once.
    static let limit = 64 * 1024

    /// The process's standard error, with its one writing thread.
    public static let standardError = LineBatcher(fd: 2)

    private let fd: Int32
    private let waiting = Mutex<[UInt8]>([])
    /// Held while a batch is written, so that batches reach the file in order.
    private let writing = Mutex<Void>(())

    init(fd: Int32) {
        self.fd = fd
        waiting.withLock { $0.reserveCapacity(Self.limit) }
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: Double(Self.interval.components.attoseconds) / 1e18 + Double(Self.interval.components.seconds))
                flush()
            }
        }
        thread.name = "pitstop-log"
        thread.start()
    }

    public func append(_ line: String) {
        let full = waiting.withLock { waiting in
            waiting.append(contentsOf: line.utf8)
            return waiting.count >= Self.limit
        }
        if full { flush() }
    }

    /// Writes every line waiting.
    public func flush() {
        writing.withLock { _ in
            let batch = waiting.withLock { waiting in
                defer { waiting.removeAll(keepingCapacity: true) }
                return waiting
            }
            batch.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }
}
