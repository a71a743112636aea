// A TCP proxy to the test PostgreSQL server that can forget its connections without a word:
// Tests/Support/forgetful_proxy.py. It stands for a database host that rebooted, or a virtual
// address moved to another host: a connection idle in the pool is dead, and nothing says so
// until its next bytes are answered with a reset.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class ForgetfulProxy: @unchecked Sendable {
    private let server: SupportServer
    /// The file the proxy appends a line to once it has done what a signal asked.
    private var ackFile: URL { server.directory.appendingPathComponent(Self.ackName) }
    private static let ackName = "acknowledged"
    /// The port it listens on, on 127.0.0.1.
    public var port: Int { server.port }

    /// Starts a proxy to the Unix socket `target` and returns once it listens. It lives the hang
    /// guard's twenty minutes: no test still running outlives it.
    public init(to target: String) throws {
        server = try SupportServer(script: "forgetful_proxy.py", lifetime: 1200, arguments: { directory in
            ["--target", target, "--ack-file", directory.appendingPathComponent(Self.ackName).path]
        })
    }

    /// Forgets every connection open now; returns how many, once it has.
    @discardableResult
    public func forget() throws -> Int {
        let line = try ask(SIGUSR1, what: "forget its connections")
        guard let count = Int(line.dropFirst("forgot ".count)) else { throw ProxyError(description: "the proxy said '\(line)'") }
        return count
    }

    /// Stops listening: a new connection to its port is refused. Those open go on.
    public func stopListening() throws {
        _ = try ask(SIGUSR2, what: "stop listening")
    }

    /// Sends `signal` and returns the line the proxy writes once it has done what it asks.
    private func ask(_ signal: Int32, what: String) throws -> Substring {
        let before = acknowledged().count
        server.signal(signal)
        let deadline = Date().addingTimeInterval(Double(answerGuardSeconds))
        while Date() < deadline {
            let lines = acknowledged()
            if lines.count > before { return lines[before] }
            usleep(20_000)
        }
        throw ProxyError(description: "the proxy did not \(what) within \(answerGuardSeconds) s")
    }

    private func acknowledged() -> [Substring] {
        ((try? String(contentsOf: ackFile, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    public struct ProxyError: Error, CustomStringConvertible {
        public let description: String
    }
}
