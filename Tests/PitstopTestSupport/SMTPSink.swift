// A real SMTP server for the notifier and CLI tests: Tests/Support/smtp_sink.py (aiosmtpd) on loopback.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One message as the sink received it.
public struct ReceivedMail: Sendable {
    public var mailfrom: String
    public var rcpttos: [String]
    public var data: String

    public init(mailfrom: String, rcpttos: [String], data: String) {
        self.mailfrom = mailfrom
        self.rcpttos = rcpttos
        self.data = data
    }

    /// The value of the first header named `name` (unfolded), if any.
    public func header(_ name: String) -> String? {
        guard let end = data.range(of: "\r\n\r\n") else { return nil }
        var value: String?
        for line in data[..<end.lowerBound].components(separatedBy: "\r\n") {
            if line.first == " " || line.first == "\t" {
                if value != nil { value! += line }
            } else if value != nil {
                return value
            } else if line.lowercased().hasPrefix(name.lowercased() + ":") {
                value = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            }
        }
        return value
    }

    public var messageID: String? { header("Message-ID") }
}

/// The sink process (Tests/Support/smtp_sink.py), started on a port the kernel picks and
/// stopped when the value goes.
public final class SMTPSink: @unchecked Sendable {
    /// Whether python3 with aiosmtpd is here; CI installs it (`pip install aiosmtpd`).
    public static let available: Bool = {
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import aiosmtpd"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    public static let unavailableReason: Comment = "needs python3 with aiosmtpd (pip install aiosmtpd)"

    private let server: SupportServer
    public var directory: URL { server.directory }
    public let out: URL
    public var port: UInt16 { UInt16(server.port) }

    /// Starts the sink and returns once it accepts connections.
    public init(refuse: [String] = [], delay: Double = 0, noEHLO: Bool = false) throws {
        do {
            server = try SupportServer(script: "smtp_sink.py", lifetime: 300, arguments: { directory in
                var arguments = ["--out", directory.appendingPathComponent("received.jsonl").path]
                for address in refuse { arguments += ["--refuse", address] }
                if delay > 0 { arguments += ["--delay", String(delay)] }
                if noEHLO { arguments.append("--no-ehlo") }
                return arguments
            }, ready: { port in UInt16(exactly: port).map(Self.accepts(port:)) ?? false })
        } catch let failure as SupportServer.StartFailure {
            throw SinkError(message: failure.description)
        }
        out = server.directory.appendingPathComponent("received.jsonl")
    }

    /// SIGTERM, then SIGKILL if it has not gone within 5 s.
    public func stop() {
        server.stop()
    }

    /// Every message received so far, in order.
    public func messages() throws -> [ReceivedMail] {
        guard let data = try? Data(contentsOf: out) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let from = object["mailfrom"] as? String, let to = object["rcpttos"] as? [String], let body = object["data"] as? String else {
                throw SinkError(message: "unreadable sink line: \(line)")
            }
            return ReceivedMail(mailfrom: from, rcpttos: to, data: body)
        }
    }

    /// Whether something listens on 127.0.0.1:`port`.
    public static func accepts(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

public struct SinkError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// A port on loopback where nothing listens (bound, then released).
public func closedPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}
