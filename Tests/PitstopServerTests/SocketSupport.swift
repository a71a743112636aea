// Real sockets for the tests: the server on a loopback port, clients bound to the source
// address of the VM they play (127.0.0.2, 127.0.0.3, … are all local on Linux), Python clients
// as subprocesses, and the built binary. Blocking I/O runs on threads of its own, never on the
// cooperative pool the server's handlers need.
import Foundation
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopTestSupport
import ServiceLifecycle
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

/// A TCP connection to 127.0.0.1:`port`, from `source` when given; a receive waits at most
/// `receiveTimeout` seconds. Blocking: call it on a thread of its own.
func connectedSocket(port: Int, from source: String? = nil, receiveTimeout: Int = answerGuardSeconds) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SocketError(description: "socket: \(errno)") }
    var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    func address(_ ip: String, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        inet_pton(AF_INET, ip, &a.sin_addr)
        return a
    }
    if let source {
        var local = address(source, 0)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { close(fd); throw SocketError(description: "bind \(source): \(errno)") }
    }
    var remote = address("127.0.0.1", UInt16(port))
    let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { close(fd); throw SocketError(description: "connect: \(errno)") }
    return fd
}

/// Sends all of `text` on `fd`.
func sendAll(_ fd: Int32, _ text: String) throws {
    let bytes = Array(text.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw SocketError(description: "send: \(errno)") }
        sent += n
    }
}

/// An HTTP/1.1 request as text: `Host`, the headers, and the body with its length.
func requestText(method: String = "GET", path: String, headers: [(String, String)], body: String? = nil) -> String {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 169.254.169.254\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
    return text + "\r\n" + (body ?? "")
}

/// The first whole answer at the start of `bytes` and how many bytes it took (its body as long
/// as its `Content-Length`, or the rest when it has none); `nil` while it is incomplete.
func parseResponse(_ bytes: [UInt8], toEnd: Bool = false) throws -> (RawResponse, Int)? {
    guard let split = bytes.firstRange(of: Array("\r\n\r\n".utf8))?.lowerBound else { return nil }
    let lines = String(decoding: bytes[..<split], as: UTF8.self).components(separatedBy: "\r\n")
    guard lines[0].split(separator: " ").count >= 2, let status = Int(lines[0].split(separator: " ")[1]) else {
        throw SocketError(description: "not a status line: \(lines[0])")
    }
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let bodyStart = split + 4
    let length = fields["content-length"].flatMap(Int.init) ?? (toEnd ? bytes.count - bodyStart : 0)
    guard bytes.count >= bodyStart + length else { return nil }
    let body = String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self)
    return (RawResponse(status: status, headers: fields, body: body), bodyStart + length)
}

/// One HTTP/1.1 request over a new connection from `source` to 127.0.0.1:`port`.
func rawRequest(port: Int, from source: String, method: String = "GET", path: String,
                headers: [(String, String)] = [("Metadata", "true")], body: String? = nil) async throws -> RawResponse {
    try await onThread {
        let fd = try connectedSocket(port: port, from: source)
        defer { close(fd) }
        try sendAll(fd, requestText(method: method, path: path, headers: [("Connection", "close")] + headers, body: body))
        return try responseUntilClosed(fd)
    }
}

/// The answer on `fd`, read until the server closes the connection.
func responseUntilClosed(_ fd: Int32) throws -> RawResponse {
    var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { break }
        guard n > 0 else { throw SocketError(description: "recv: \(errno)") }
        received += buffer[0..<n]
    }
    guard let (response, _) = try parseResponse(received, toEnd: true) else {
        throw SocketError(description: "no whole answer in \(String(decoding: received.prefix(500), as: UTF8.self))")
    }
    return response
}

/// A connection kept alive from `source`, as a VM's poller keeps one: requests sent as given
/// (several at once are pipelined), answers read one at a time.
final class KeptAliveConnection: @unchecked Sendable {
    private let fd: Int32
    private var received: [UInt8] = []

    /// A receive waits `receiveTimeout` seconds at most.
    init(port: Int, from source: String, receiveTimeout: Int = answerGuardSeconds) async throws {
        fd = try await onThread { try connectedSocket(port: port, from: source, receiveTimeout: receiveTimeout) }
    }

    deinit { close(fd) }

    func send(_ requests: [String]) async throws {
        let text = requests.joined()
        try await onThread { try sendAll(self.fd, text) }
    }

    /// The next answer; throws when the server closes or says nothing for 10 s first.
    func next() async throws -> RawResponse {
        try await onThread {
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                if let (response, used) = try parseResponse(self.received) {
                    self.received.removeFirst(used)
                    return response
                }
                let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw SocketError(description: n == 0 ? "the server closed the connection" : "recv: \(errno)") }
                self.received += buffer[0..<n]
            }
        }
    }
}

/// The real server (the application `pitstop serve` builds, on 127.0.0.1 and a free port)
/// over the fixture's database and clock, while `body` runs with its port; HTTPS when `tls` names
/// the files.
///
/// Run in a service group of its own that no signal stops, not HummingbirdTesting's `.live`,
/// whose group shuts its server down on SIGTERM or SIGINT to the test process: one such signal
/// meant for a child closed the kept-alive connections of every live server of every test then
/// running (`pitstop serve` itself does stop on them: BinaryServeTests).
func withLiveServer<T: Sendable>(_ fixture: Fixture, limit: RequestLimit? = .metadata, simulate: Bool = false, log: LogLines = LogLines(),
                                  tls: TLSFiles? = nil, idleTimeout: Duration = ServeArguments.defaultIdleTimeout,
                                  _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
    let (ports, listening) = AsyncStream.makeStream(of: Int.self)
    let app = try buildApplication(ServeArguments(hostname: "127.0.0.1", port: 0, databasePath: "", simulate: simulate, requestLimit: limit,
                                                  simulationTick: .milliseconds(50), tls: tls, idleTimeout: idleTimeout),
                                   services: fixture.services, clock: fixture.clock.read, logger: log.logger,
                                   onRunning: { port in listening.yield(port) })
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: log.logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { listening.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await tasks.waitForAll()  // the server's own error, if it stopped with one
            throw SocketError(description: "the server stopped before it listened")
        }
        do {
            let value = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
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
        let outcome = try ChildProcess.run(executable, arguments, environment: environment)
        return ProcessRun(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }
}
