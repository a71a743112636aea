// A small SMTP client (RFC 5321) over POSIX sockets that hands messages to a local relay.
//
// Pitstop talks to a relay on the same host or network (Postfix, an MTA sidecar, a test sink):
// plain SMTP, no TLS and no AUTH, because the relay does the onward delivery and its own
// security. Written on Glibc sockets so that the tool needs no extra package to send mail.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One reply from the relay: a three-digit code and its text lines.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code, like 250 or 550.
    public var code: Int
    /// The text of each line, without the code.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 4xx: the relay may accept the same thing later.
    public var isTransient: Bool { (400..<500).contains(code) }

    public var description: String { "\(code) " + lines.joined(separator: " / ") }
}

/// Why an SMTP exchange did not end with the message accepted.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    /// The step that failed: `connect`, `greeting`, `EHLO`, `MAIL FROM`, `RCPT TO`, `DATA`, `end of data`.
    public var stage: String
    public var message: String
    /// The relay's refusal, when it refused.
    public var reply: SMTPReply?
    /// Whether the connection is gone (or in an unknown state) and must not be used again.
    public var connectionLost: Bool

    public init(stage: String, message: String, reply: SMTPReply? = nil, connectionLost: Bool) {
        self.stage = stage
        self.message = message
        self.reply = reply
        self.connectionLost = connectionLost
    }

    public var description: String { "\(stage): \(message)" }
}

/// A session with one SMTP relay. Not thread-safe: one sender uses it at a time.
///
/// Every read and write has a deadline of `timeout` seconds. RFC 5321 §4.5.3.2 suggests
/// minutes per step for mail crossing the internet; a local relay answers in milliseconds,
/// so a shorter limit finds a hung relay sooner.
public final class SMTPClient {
    /// The relay's host name or address.
    public let host: String
    public let port: UInt16
    /// Seconds allowed for each step: connecting, each command's reply, the message itself.
    public let timeout: Double
    /// The extensions the relay announced in its EHLO reply (upper-cased keywords), empty after HELO.
    public private(set) var extensions: Set<String> = []

    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    public init(host: String, port: UInt16, timeout: Double = 60) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    deinit { closeSocket() }

    /// Whether a session is open.
    public var isConnected: Bool { fd >= 0 }

    /// Connects, reads the greeting and introduces itself with EHLO, falling back to HELO for
    /// a relay that does not know EHLO (RFC 5321 §3.2).
    public func connect(clientName: String = SMTPClient.localName()) throws(SMTPError) {
        closeSocket()
        fd = try Self.openSocket(host: host, port: port, timeout: timeout)
        do throws(SMTPError) {
            let greeting = try readReply(stage: "greeting")
            guard greeting.code == 220 else {
                throw SMTPError(stage: "greeting", message: "the relay does not accept mail: \(greeting)", reply: greeting, connectionLost: true)
            }
            let ehlo = try command("EHLO \(clientName)", stage: "EHLO")
            if ehlo.code == 250 {
                extensions = Set(ehlo.lines.dropFirst().compactMap { $0.split(separator: " ").first.map { $0.uppercased() } })
            } else if (500..<600).contains(ehlo.code) {
                extensions = []
                let helo = try command("HELO \(clientName)", stage: "HELO")
                guard helo.code == 250 else {
                    throw SMTPError(stage: "HELO", message: "refused: \(helo)", reply: helo, connectionLost: true)
                }
            } else {
                throw SMTPError(stage: "EHLO", message: "refused: \(ehlo)", reply: ehlo, connectionLost: true)
            }
        } catch {
            closeSocket()
            throw error
        }
    }

    /// Sends one message: MAIL FROM, RCPT TO for each recipient, DATA with the message
    /// dot-stuffed, and returns the relay's reply to the end of data.
    ///
    /// If any recipient is refused, the transaction is reset before DATA and nothing is sent
    /// to anyone: a retry then reaches every recipient once, instead of some of them twice.
    /// `message` is the whole RFC 5322 message with CRLF line endings.
    @discardableResult
    public func send(from sender: String, to recipients: [String], message: [UInt8]) throws(SMTPError) -> SMTPReply {
        guard isConnected else { throw SMTPError(stage: "MAIL FROM", message: "not connected", connectionLost: true) }
        do throws(SMTPError) {
            let mail = try command("MAIL FROM:<\(sender)>", stage: "MAIL FROM")
            guard mail.isPositive else {
                resetTransaction()
                throw SMTPError(stage: "MAIL FROM", message: "refused <\(sender)>: \(mail)", reply: mail, connectionLost: mail.code == 421)
            }
            var refused: [(String, SMTPReply)] = []
            for recipient in recipients {
                let rcpt = try command("RCPT TO:<\(recipient)>", stage: "RCPT TO")
                if rcpt.code == 421 { throw SMTPError(stage: "RCPT TO", message: "the relay closed the session: \(rcpt)", reply: rcpt, connectionLost: true) }
                if !rcpt.isPositive { refused.append((recipient, rcpt)) }
            }
            guard refused.isEmpty else {
                resetTransaction()
                throw SMTPError(stage: "RCPT TO", message: "refused " + refused.map { "<\($0.0)>: \($0.1)" }.joined(separator: "; "),
                                reply: refused[0].1, connectionLost: false)
            }
            let data = try command("DATA", stage: "DATA")
            guard data.code == 354 else {
                resetTransaction()
                throw SMTPError(stage: "DATA", message: "refused: \(data)", reply: data, connectionLost: data.code == 421)
            }
            try write(Self.dotStuffed(message), stage: "DATA")
            let end = try readReply(stage: "end of data")
            guard end.isPositive else {
                throw SMTPError(stage: "end of data", message: "refused: \(end)", reply: end, connectionLost: end.code == 421)
            }
            return end
        } catch {
            if error.connectionLost { closeSocket() }
            throw error
        }
    }

    /// Ends the session politely; errors are ignored, the connection is closed either way.
    public func quit() {
        guard isConnected else { return }
        _ = try? command("QUIT", stage: "QUIT")
        closeSocket()
    }

    /// Abandons the current mail transaction (RSET). A relay that does not answer is dropped.
    public func resetTransaction() {
        guard isConnected else { return }
        do {
            let reply = try command("RSET", stage: "RSET")
            if !reply.isPositive { closeSocket() }
        } catch {
            closeSocket()
        }
    }

    /// The name this host gives in EHLO: its host name, else an address literal.
    public static func localName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "[127.0.0.1]" }
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Only what a domain may hold: anything else could break the command line.
        let allowed = text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == ".") }
        return text.isEmpty || !allowed ? "[127.0.0.1]" : text
    }

    /// The message as DATA carries it (RFC 5321 §4.5.2): a line that starts with "." gets a
    /// second one, and the end is CRLF "." CRLF.
    public static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 16)
        var atLineStart = true
        for byte in message {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !out.isEmpty && !(out.count >= 2 && out[out.count - 2] == 13 && out[out.count - 1] == 10) { out += [13, 10] }
        out += Array(".\r\n".utf8)
        return out
    }

    // MARK: Wire

    private func command(_ line: String, stage: String) throws(SMTPError) -> SMTPReply {
        try write(Array((line + "\r\n").utf8), stage: stage)
        return try readReply(stage: stage)
    }

    /// Reads one reply, which may span several lines (`250-...` then `250 ...`).
    private func readReply(stage: String) throws(SMTPError) -> SMTPReply {
        let deadline = Self.monotonicNow() + timeout
        var code: Int?
        var lines: [String] = []
        while true {
            let line = try readLine(stage: stage, deadline: deadline)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let value = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(value) || (100..<200).contains(value),
                  bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-") else {
                closeSocket()
                throw SMTPError(stage: stage, message: "not an SMTP reply: '\(line.prefix(80))'", connectionLost: true)
            }
            if let code, code != value {
                closeSocket()
                throw SMTPError(stage: stage, message: "a reply's lines disagree on the code (\(code), \(value))", connectionLost: true)
            }
            code = value
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { return SMTPReply(code: value, lines: lines) }
        }
    }

    private func readLine(stage: String, deadline: Double) throws(SMTPError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                var end = newline
                if end > 0 && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeSubrange(0...newline)
                return line
            }
            // A reply line is at most 512 octets (RFC 5321 §4.5.3.1.5); far more is not SMTP.
            guard buffer.count < 65_536 else {
                closeSocket()
                throw SMTPError(stage: stage, message: "the relay sent a line longer than 64 KiB", connectionLost: true)
            }
            try waitFor(Int16(POLLIN), stage: stage, deadline: deadline)
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                closeSocket()
                throw SMTPError(stage: stage, message: "the relay closed the connection", connectionLost: true)
            } else if errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK {
                let reason = Self.errorText()
                closeSocket()
                throw SMTPError(stage: stage, message: "cannot read from the relay: \(reason)", connectionLost: true)
            }
        }
    }

    private func write(_ bytes: [UInt8], stage: String) throws(SMTPError) {
        let deadline = Self.monotonicNow() + timeout
        var offset = 0
        while offset < bytes.count {
            try waitFor(Int16(POLLOUT), stage: stage, deadline: deadline)
            let n = bytes.withUnsafeBytes { raw in
                socketSend(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n > 0 {
                offset += n
            } else if n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK {
                let reason = Self.errorText()
                closeSocket()
                throw SMTPError(stage: stage, message: "cannot write to the relay: \(reason)", connectionLost: true)
            }
        }
    }

    private func waitFor(_ events: Int16, stage: String, deadline: Double) throws(SMTPError) {
        while true {
            let remaining = deadline - Self.monotonicNow()
            guard remaining > 0 else {
                closeSocket()
                throw SMTPError(stage: stage, message: "no answer from the relay within \(Self.seconds(timeout))", connectionLost: true)
            }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                let reason = Self.errorText()
                closeSocket()
                throw SMTPError(stage: stage, message: "cannot wait for the relay: \(reason)", connectionLost: true)
            }
        }
    }

    private func closeSocket() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll()
    }

    /// Resolves `host` (a name, an IPv4 or IPv6 address) and connects to the first address
    /// that answers within the timeout.
    private static func openSocket(host: String, port: UInt16, timeout: Double) throws(SMTPError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw SMTPError(stage: "connect", message: "cannot resolve '\(host)': \(String(cString: gai_strerror(resolved)))", connectionLost: true)
        }
        defer { freeaddrinfo(list) }
        var failures: [String] = []
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socketOpen(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { failures.append(errorText()); continue }
            // Non-blocking from the start, so that connect, reads and writes all keep the deadline.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if socketConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else { failures.append(errorText()); close(fd); continue }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&descriptor, 1, Int32(timeout * 1000))
            guard ready > 0 else { failures.append(ready == 0 ? "timed out after \(seconds(timeout))" : errorText()); close(fd); continue }
            var problem: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &problem, &length)
            if problem == 0 { return fd }
            failures.append(String(cString: strerror(problem)))
            close(fd)
        }
        let reasons = Array(Set(failures)).sorted().joined(separator: "; ")
        throw SMTPError(stage: "connect", message: "cannot connect to \(host):\(port): \(reasons.isEmpty ? "no address" : reasons)", connectionLost: true)
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }

    private static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : "\(s) s" }

    private static func monotonicNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

// The C calls under names that the client's own members (`send`, `connect`) do not shadow.
private func socketOpen(_ family: Int32, _ type: Int32, _ proto: Int32) -> Int32 { socket(family, type, proto) }
private func socketConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 { connect(fd, address, length) }
private func socketSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if os(Linux)
    // MSG_NOSIGNAL: a relay that hangs up must give an error, not kill the process with SIGPIPE.
    return send(fd, bytes, count, Int32(MSG_NOSIGNAL))
    #else
    return send(fd, bytes, count, 0)
    #endif
}
