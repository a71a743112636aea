// Real sockets for the tests: the server on a loopback port, clients bound to the source
// address of the VM they play (127.0.0.2, 127.0.0.3, … are all local on Linux), Python clients
// as subprocesses, and the built binary. Blocking I/O runs on threads of its own, never on the
// cooperative pool the server's handlers need.
import Foundation
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import Testing

/// Runs `work` on a new thread and resumes with its result.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

struct SocketError: Error, CustomStringConvertible {
    var description: String
}

/// An HTTP answer as read off the socket.
struct RawResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
    }
}

/// One HTTP/1.1 request over a new connection from `source` to 127.0.0.1:`port`.
func rawRequest(port: Int, from source: String, method: String = "GET", path: String,
                headers: [(String, String)] = [("Metadata", "true")], body: String? = nil) async throws -> RawResponse {
    try await onThread {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func address(_ ip: String, _ port: UInt16) -> sockaddr_in {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, ip, &a.sin_addr)
            return a
        }
        var local = address(source, 0), remote = address("127.0.0.1", UInt16(port))
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw SocketError(description: "bind \(source): \(errno)") }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw SocketError(description: "connect: \(errno)") }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw SocketError(description: "send: \(errno)") }
            sent += n
        }
        var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw SocketError(description: "recv: \(errno)") }
            received += buffer[0..<n]
        }
        let reply = String(decoding: received, as: UTF8.self)
        guard let split = reply.range(of: "\r\n\r\n") else { throw SocketError(description: "no header end in \(reply)") }
        let lines = reply[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawResponse(status: status, headers: fields, body: String(reply[split.upperBound...]))
    }
}

/// The real server (the application `pitstop serve` builds, on 127.0.0.1 and a free port)
/// over the fixture's database and clock, while `body` runs with its port; HTTPS when `tls` names
/// the files.
func withLiveServer<T: Sendable>(_ fixture: Fixture, limit: RequestLimit? = .metadata, simulate: Bool = false, log: LogLines = LogLines(),
                                  tls: TLSFiles? = nil, idleTimeout: Duration = ServeArguments.defaultIdleTimeout,
                                  _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
    let app = try buildApplication(ServeArguments(hostname: "127.0.0.1", port: 0, databasePath: "", simulate: simulate, requestLimit: limit,
                                                  simulationTick: .milliseconds(50), tls: tls, idleTimeout: idleTimeout),
                                   services: fixture.services, clock: fixture.clock.read, logger: log.logger)
    return try await app.test(.live) { client in try await body(try #require(client.port)) }
}

/// What a subprocess did.
struct ProcessRun: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// The repository root, from this file's place.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs the Python client in `mode` as the VM at `source`.
func pythonClient(_ mode: String, port: Int, source: String, _ extra: [String] = []) async throws -> ProcessRun {
    try await runProcess("/usr/bin/env", ["python3", repositoryRoot.appendingPathComponent("Tests/Support/metadata_client.py").path,
                                          mode, "--port", "\(port)", "--source", source] + extra)
}

/// Runs a program to its end, on a thread of its own; `environment` replaces the inherited one.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessRun {
    try await onThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes while it runs, so that a chatty child never blocks on a full pipe.
        let stderrData = LockedData()
        let drain = Thread { stderrData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        drain.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !stderrData.done { usleep(1000) }
        return ProcessRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                          stderr: String(decoding: stderrData.data, as: UTF8.self))
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Data?
    func set(_ d: Data) { lock.withLock { value = d } }
    var done: Bool { lock.withLock { value != nil } }
    var data: Data { lock.withLock { value ?? Data() } }
}
