// Slow and idle clients: a connection that stalls mid-request is closed once it has sent
// nothing for the idle timeout, and neither it nor fifty idle connections keep a normal client
// from being answered meanwhile. The server under test has a 1 s timeout (30 s by default).
// No test here bounds how fast anything happens (this machine is shared and noisy): a close
// within the 20 s a receive waits proves the 1 s timeout, since the default would take 30 s.
import Foundation
import PitstopServer
import Testing

/// A TCP connection to 127.0.0.1:`port` that has sent `bytes` and then nothing; a receive
/// waits at most 20 s.
func stalledConnection(port: Int, sending bytes: String = "") async throws -> Int32 {
    try await onThread {
        let fd = try connectedSocket(port: port, receiveTimeout: 20)
        let data = Array(bytes.utf8)
        if !data.isEmpty {
            guard data.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == data.count else { close(fd); throw SocketError(description: "send: \(errno)") }
        }
        return fd
    }
}

/// Reads until the server closes `fd` (end of file or reset): how long that took, or `nil` when
/// it was still open after 20 s. Whatever was received before it is returned too.
func waitForClose(_ fd: Int32) async throws -> (seconds: Double?, received: String) {
    try await onThread {
        let start = ContinuousClock.now
        var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[0..<n]; continue }
            let text = String(decoding: received, as: UTF8.self)
            if n == 0 || errno == ECONNRESET {
                let elapsed = ContinuousClock.now - start
                return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, text)
            }
            return (nil, text)  // EAGAIN: the receive timeout, still open
        }
    }
}

/// Whether the server still holds `fd` open: nothing to read and no end of file, without waiting.
func isStillOpen(_ fd: Int32) -> Bool {
    var byte: UInt8 = 0
    let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
}

@Suite struct TimeoutTests {
    @Test func aStalledRequestLineIsClosedWithinTheIdleTimeoutWhileANormalClientIsServed() async throws {
        let fixture = try await Fixture()
        try await withLiveServer(fixture, idleTimeout: .seconds(1)) { port in
            let start = ContinuousClock.now
            let stalled = try await stalledConnection(port: port, sending: "GET /heal")
            defer { close(stalled) }
            // Meanwhile a normal client is answered.
            #expect(try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status == 200)
            let (seconds, received) = try await waitForClose(stalled)
            #expect(seconds != nil, "still open after 20 s")
            // Closed by the timeout, not at once.
            let closedAfter = ContinuousClock.now - start
            #expect(closedAfter >= .milliseconds(900), "closed after \(closedAfter)")
            #expect(received.isEmpty || received.hasPrefix("HTTP/1.1 408") || received.hasPrefix("HTTP/1.1 400"), "\(received)")
        }
    }

    /// A slowloris: the head trickles in a byte every 200 ms, each one "activity", yet the whole
    /// head must arrive within the timeout, so the server closes it all the same.
    @Test func aHeadThatTricklesIsClosedToo() async throws {
        let fixture = try await Fixture()
        try await withLiveServer(fixture, idleTimeout: .seconds(1)) { port in
            let trickling = try await stalledConnection(port: port)
            defer { close(trickling) }
            // A server whose 1 s timer restarted on every byte would take all 140 bytes.
            let head = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100)
            let sentBeforeClose = try await onThread { () -> Int in
                for (index, byte) in head.enumerated() {
                    var one = byte
                    // MSG_NOSIGNAL: a send on the closed connection fails with EPIPE, never SIGPIPE.
                    if send(trickling, &one, 1, Int32(MSG_NOSIGNAL)) != 1 { return index }
                    usleep(200_000)
                }
                return head.count
            }
            #expect(sentBeforeClose < head.count, "the server took the whole head, a byte every 200 ms, without closing")
        }
    }

    @Test func aBodyThatStallsIsClosedToo() async throws {
        let fixture = try await Fixture()
        try await withLiveServer(fixture, idleTimeout: .seconds(1)) { port in
            let stalled = try await stalledConnection(
                port: port, sending: "POST /metadata/scheduledevents?api-version=2020-07-01 HTTP/1.1\r\nHost: x\r\nMetadata: true\r\nContent-Length: 100\r\n\r\n{\"Start")
            defer { close(stalled) }
            let (seconds, _) = try await waitForClose(stalled)
            #expect(seconds != nil, "still open after 20 s")
        }
    }

    @Test func aTLSConnectionThatNeverShakesHandsIsClosed() async throws {
        let fixture = try await Fixture()
        let certificate = try await TestCertificate()
        try await withLiveServer(fixture, tls: certificate.files, idleTimeout: .seconds(1)) { port in
            let silent = try await stalledConnection(port: port)
            defer { close(silent) }
            #expect(try await httpsGet(port: port, trusting: certificate.certificate).stdout.hasPrefix("200\n"))
            let (seconds, _) = try await waitForClose(silent)
            #expect(seconds != nil, "still open after 20 s")
        }
    }

    @Test func fiftyIdleConnectionsDoNotStopANormalRequest() async throws {
        let fixture = try await Fixture()
        // A timeout longer than the test however slow the machine: on a loaded CI machine the
        // default 30 s could end the first idle connection before the last was opened.
        try await withLiveServer(fixture, idleTimeout: .seconds(600)) { port in
            var idle: [Int32] = []
            defer { idle.forEach { close($0) } }
            for index in 0..<50 {
                // Half send nothing, half half a request line.
                idle.append(try await stalledConnection(port: port, sending: index.isMultiple(of: 2) ? "" : "GET /healthz HT"))
            }
            for _ in 0..<3 {
                #expect(try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status == 200)
            }
            // Answered while every idle connection was still held open.
            let open = idle.filter(isStillOpen).count
            #expect(open == idle.count, "\(idle.count - open) idle connections were closed before the normal client was answered")
        }
    }
}
