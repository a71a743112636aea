// A TCP proxy to the test PostgreSQL server that can forget its connections without a word:
// Tests/Support/forgetful_proxy.py. It stands for a database host that rebooted, or a virtual
// address moved to another host: a connection idle in the pool is dead, and nothing says so
// until its next bytes are answered with a reset.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class ForgetfulProxy: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support/forgetful_proxy.py")

    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    private let directory: URL
    private let ackFile: URL
    private let process: Subprocess

    /// Starts a proxy to the Unix socket `target` and returns once it listens.
    public init(to target: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-proxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port"), log = directory.appendingPathComponent("proxy.log")
        ackFile = directory.appendingPathComponent("forgotten")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--target", target, "--port-file", portFile.path, "--ack-file", ackFile.path,
                             "--lifetime", "1200"]  // the hang guard's twenty minutes: no test still running outlives it
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(Double(answerGuardSeconds))
        var found: Int?
        while found == nil && process.isRunning && Date() < deadline {
            found = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            if found == nil { usleep(20_000) }
        }
        guard let found else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            process.signal(SIGKILL)
            process.waitUntilExit()
            throw ProxyError(description: "the proxy did not start: \(text)")
        }
        port = found
    }

    deinit {
        process.signal(SIGKILL)  // nothing once it has exited and been reaped
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
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
        process.signal(signal)
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
