// Where a PostgreSQL database is: what `--db postgres://user@host/db` names.
import Foundation
public import PitstopCore

/// A PostgreSQL database as a `postgres://` (or `postgresql://`) URL names it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/SOCKET/DIR&pool=N&sslmode=MODE&…]`.
/// A `host` parameter that is a directory, as in libpq, reaches the server over its Unix socket
/// there; `sslmode`, `sslrootcert`, `sslcert` and `sslkey` mean what they mean to libpq (the
/// client certificate and key are taken only when given: no default files are looked for), and
/// so do `connect_timeout`, `keepalives`, `keepalives_idle`, `keepalives_interval`,
/// `keepalives_count` and `tcp_user_timeout`, with defaults of Pitstop's own (``Liveness``).
/// Several hosts (`HOST1[:PORT1],HOST2[:PORT2]`, as libpq takes them) are tried in turn, and
/// with `target_session_attrs=read-write` (the default when there are several) only a server
/// that takes writes is kept: after a standby is promoted, the same URL finds it.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        /// The socket file itself: `DIR/.s.PGSQL.PORT`.
        case unixSocket(path: String)
    }

    /// Whether a TCP connection is encrypted and how the server's certificate is checked:
    /// libpq's `sslmode`, with its names and meanings. A Unix socket is never encrypted (as in
    /// libpq, the mode is ignored there: the connection does not leave the machine).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Never encrypted.
        case disable
        /// Encrypted when the server offers TLS, else not; the certificate is not checked.
        case prefer
        /// Encrypted, or no connection; the certificate is checked only when `sslrootcert` is
        /// given (then as `verify-ca`), as libpq does.
        case require
        /// Encrypted, and the server's certificate must chain to a trusted root.
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate must name the host the URL gives.
        case verifyFull = "verify-full"
    }

    /// Where the server is: several TCP hosts are tried in turn (never empty).
    public var endpoints: [Endpoint]
    /// The first of ``endpoints``.
    public var endpoint: Endpoint { endpoints[0] }
    /// Whether a connection is kept only when its server takes writes (libpq's
    /// `target_session_attrs`): `read-write` by default when several hosts are given, so that
    /// a standby among them is passed over; else `any`.
    public var targetSessionAttributes: TargetSessionAttributes

    public enum TargetSessionAttributes: String, Sendable, Hashable, CaseIterable {
        /// Whatever server answers first.
        case any
        /// A server that takes writes: not a standby, not read-only by default.
        case readWrite = "read-write"
        /// As libpq's `primary`: for Pitstop, which writes, the same as `read-write`.
        case primary
    }
    public var user: String
    public var password: String?
    public var database: String
    /// How many connections one process opens at most: its units of work that run at once.
    public var poolSize: Int
    /// TLS on a TCP connection: libpq's default, `prefer`.
    public var tlsMode: TLSMode
    /// The certificates (PEM) that the server's must chain to; nil: the system's trusted roots.
    public var tlsRootCertificates: String?
    /// The certificate (PEM, with any intermediates after it) and private key (PEM, not
    /// encrypted) this client shows when the server asks for one (`sslcert` and `sslkey`):
    /// both or neither.
    public var tlsClientCertificate: TLSClientCertificate?
    /// How long a connection may take to open, and how a TCP connection notices a server
    /// that is gone without a word.
    public var liveness: Liveness

    /// A server host that loses power, or a network that splits, sends nothing: no reset, no
    /// refusal. Left to the kernel, a connection waiting on such a server waits about 15
    /// minutes (TCP's retransmissions) or, idle, for ever; every unit of work on it, and so a
    /// pool thread, waits with it. These bound that wait, with libpq's parameters and
    /// meanings; the defaults give such a server up within about 30 s, where libpq's (the
    /// system's) take hours. A server that is only slow is not given up: its kernel answers
    /// the keepalive probes and acknowledges what is sent, however long a statement runs.
    public struct Liveness: Sendable, Hashable {
        /// Seconds to open a connection, TLS and login included (`connect_timeout`).
        public var connectTimeout: Int
        /// TCP keepalive probes (`keepalives`, `keepalives_idle`, `keepalives_interval`,
        /// `keepalives_count`); nil when turned off (`keepalives=0`).
        public var keepalive: Keepalive?
        /// Milliseconds that data sent may stay unacknowledged before the connection is
        /// dropped (`tcp_user_timeout`, Linux's `TCP_USER_TIMEOUT`); 0 leaves it to the system.
        public var tcpUserTimeout: Int

        public struct Keepalive: Sendable, Hashable {
            /// Seconds of silence before the first probe.
            public var idle: Int
            /// Seconds between probes.
            public var interval: Int
            /// Probes unanswered before the connection is dropped.
            public var count: Int
            public init(idle: Int, interval: Int, count: Int) {
                self.idle = idle
                self.interval = interval
                self.count = count
            }
        }

        public init(connectTimeout: Int = 5, keepalive: Keepalive? = Keepalive(idle: 15, interval: 5, count: 3), tcpUserTimeout: Int = 30_000) {
            self.connectTimeout = connectTimeout
            self.keepalive = keepalive
            self.tcpUserTimeout = tcpUserTimeout
        }

        public static let standard = Liveness()
        public static let connectTimeoutRange = 1...3600
        /// Linux's bounds for `TCP_KEEPIDLE` and `TCP_KEEPINTVL`, and for `TCP_KEEPCNT`.
        public static let keepaliveSecondsRange = 1...32767
        public static let keepaliveCountRange = 1...127
        public static let tcpUserTimeoutRange = 0...3_600_000

        /// The same bounds for the server's end of a TCP connection, as settings its startup
        /// message carries (PostgreSQL 12 or later): the server drops the connection of a
        /// client that vanished without a word, and so lets go of what it held (a write
        /// transaction's lock, the executor's lease) in seconds, not the system's two hours.
        var serverSettings: [(String, String)] {
            var out: [(String, String)] = []
            if let keepalive {
                out += [("tcp_keepalives_idle", "\(keepalive.idle)"), ("tcp_keepalives_interval", "\(keepalive.interval)"),
                        ("tcp_keepalives_count", "\(keepalive.count)")]
            }
            if tcpUserTimeout > 0 { out.append(("tcp_user_timeout", "\(tcpUserTimeout)")) }
            return out
        }

        /// The parameters that differ from the defaults, as the URL gives them.
        var parameters: [String] {
            var out: [String] = []
            let standard = Liveness.standard
            if connectTimeout != standard.connectTimeout { out.append("connect_timeout=\(connectTimeout)") }
            if let keepalive {
                let usual = standard.keepalive!
                if keepalive.idle != usual.idle { out.append("keepalives_idle=\(keepalive.idle)") }
                if keepalive.interval != usual.interval { out.append("keepalives_interval=\(keepalive.interval)") }
                if keepalive.count != usual.count { out.append("keepalives_count=\(keepalive.count)") }
            } else {
                out.append("keepalives=0")
            }
            if tcpUserTimeout != standard.tcpUserTimeout { out.append("tcp_user_timeout=\(tcpUserTimeout)") }
            return out
        }
    }

    public struct TLSClientCertificate: Sendable, Hashable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public static let defaultPort = 5432
    public static let defaultPoolSize = 8
    public static let maxPoolSize = 256

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String, poolSize: Int = defaultPoolSize,
                tlsMode: TLSMode = .prefer, tlsRootCertificates: String? = nil, tlsClientCertificate: TLSClientCertificate? = nil,
                liveness: Liveness = .standard) {
        self.endpoints = [endpoint]
        self.targetSessionAttributes = .any
        self.user = user
        self.password = password
        self.database = database
        self.poolSize = poolSize
        self.tlsMode = tlsMode
        self.tlsRootCertificates = tlsRootCertificates
        self.tlsClientCertificate = tlsClientCertificate
        self.liveness = liveness
    }

    /// The shape of the URL, for messages.
    static let shape = "postgres://USER[:PASSWORD]@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?host=/SOCKET/DIR&pool=N&sslmode=MODE&sslrootcert=FILE&sslcert=FILE&sslkey=FILE"
        + "&connect_timeout=S&keepalives=1|0&keepalives_idle=S&keepalives_interval=S&keepalives_count=N&tcp_user_timeout=MS&target_session_attrs=any|read-write]"
    static let parameterNames = ["host", "pool", "sslmode", "sslrootcert", "sslcert", "sslkey",
                                 "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "target_session_attrs"]

    /// Parses a URL; a refusal names the option that gave it (`--db`, or `migrate`'s `--to`)
    /// and the part that is wrong.
    public init(url text: String, option: String = "--db") throws(PitstopError) {
        func refuse(_ why: String) -> PitstopError {
            PitstopError(.invalid, "\(option) \(PostgresLocation.redacted(text)): \(why); expected \(PostgresLocation.shape)")
        }
        guard let schemeEnd = text.range(of: "://"), Self.isURL(text) else { throw refuse("not a postgres:// URL") }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw refuse("the database name is missing") }
        let authority = rest[..<slash]
        let databaseText = rest[rest.index(after: slash)...]
        guard let database = Self.decoded(databaseText), !database.isEmpty, !database.contains("/") else {
            throw refuse("the database name is missing or not a plain name")
        }
        guard let at = authority.lastIndex(of: "@") else { throw refuse("the user is missing (USER@HOST)") }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let userText = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let user = Self.decoded(userText[0]), !user.isEmpty else { throw refuse("the user is missing (USER@HOST)") }
        let password = userText.count > 1 ? Self.decoded(userText[1]) : nil
        if userText.count > 1, password == nil { throw refuse("the password is not valid percent-encoding") }

        var socketDirectory: String?
        var poolSize = Self.defaultPoolSize
        var tlsMode = TLSMode.prefer, tlsRootCertificates: String?, clientCertificate: String?, clientKey: String?
        var liveness = Liveness.standard, keepalivesOn = true, keepalive = Liveness.standard.keepalive!
        var targetSessionAttributes: TargetSessionAttributes?
        /// A whole number in `range`, or a refusal naming the parameter and what it counts.
        func number(_ key: String, _ value: String?, _ range: ClosedRange<Int>, _ unit: String) throws(PitstopError) -> Int {
            guard let value, let n = Int(value), range.contains(n) else {
                throw refuse("\(key)=\(value ?? ""): give a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]), value = parts.count > 1 ? Self.decoded(parts[1]) : nil
            switch key {
            case "host":
                guard let value, value.hasPrefix("/") else { throw refuse("host=\(value ?? ""): give the directory of the server's Unix socket, an absolute path") }
                socketDirectory = value
            case "pool":
                guard let value, let n = Int(value), (1...Self.maxPoolSize).contains(n) else {
                    throw refuse("pool=\(value ?? ""): give a whole number of connections from 1 to \(Self.maxPoolSize)")
                }
                poolSize = n
            case "sslmode":
                guard let value, let mode = TLSMode(rawValue: value) else {
                    throw refuse("sslmode=\(value ?? ""): give one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tlsMode = mode
            case "sslrootcert":
                guard let value, !value.isEmpty else { throw refuse("sslrootcert=: give the file of the certificates (PEM) the server's must chain to") }
                tlsRootCertificates = value
            case "sslcert":
                guard let value, !value.isEmpty else { throw refuse("sslcert=: give the file of this client's certificate (PEM)") }
                clientCertificate = value
            case "sslkey":
                guard let value, !value.isEmpty else { throw refuse("sslkey=: give the file of the private key (PEM) of the certificate in sslcert") }
                clientKey = value
            case "connect_timeout":
                liveness.connectTimeout = try number(key, value, Liveness.connectTimeoutRange, "seconds")
            case "keepalives":
                guard let value, value == "0" || value == "1" else { throw refuse("keepalives=\(value ?? ""): give 1 (on) or 0 (off)") }
                keepalivesOn = value == "1"
            case "keepalives_idle":
                keepalive.idle = try number(key, value, Liveness.keepaliveSecondsRange, "seconds")
            case "keepalives_interval":
                keepalive.interval = try number(key, value, Liveness.keepaliveSecondsRange, "seconds")
            case "keepalives_count":
                keepalive.count = try number(key, value, Liveness.keepaliveCountRange, "probes")
            case "tcp_user_timeout":
                liveness.tcpUserTimeout = try number(key, value, Liveness.tcpUserTimeoutRange, "milliseconds (0: the system's)")
            case "target_session_attrs":
                let taken = TargetSessionAttributes.allCases.map(\.rawValue)
                guard let value, let attributes = TargetSessionAttributes(rawValue: value) else {
                    throw refuse("target_session_attrs=\(value ?? ""): give one of \(taken.joined(separator: ", ")) (Pitstop writes: a standby will not do)")
                }
                targetSessionAttributes = attributes
            default:
                throw refuse("unknown parameter '\(key)' (known: \(Self.parameterNames.joined(separator: ", ")))")
            }
        }
        liveness.keepalive = keepalivesOn ? keepalive : nil
        switch (clientCertificate, clientKey) {
        case (nil, nil): tlsClientCertificate = nil
        case (let certificate?, let key?): tlsClientCertificate = TLSClientCertificate(certificate: certificate, key: key)
        case (_?, nil): throw refuse("sslcert without sslkey: give the file of the certificate's private key as sslkey=FILE too")
        case (nil, _?): throw refuse("sslkey without sslcert: give the file of the key's certificate as sslcert=FILE too")
        }

        var hosts: [(host: String, port: Int)] = []
        for text in hostPort.split(separator: ",", omittingEmptySubsequences: false) {
            var host = String(text)
            var port = Self.defaultPort
            if host.hasPrefix("[") {  // [IPv6]:port
                guard let close = host.firstIndex(of: "]") else { throw refuse("an IPv6 host needs its closing ]") }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw refuse("the port is not a number from 1 to 65535") }
                    port = p
                } else if !after.isEmpty {
                    throw refuse("unexpected text after the IPv6 host")
                }
                host = String(host[host.index(after: host.startIndex)..<close])
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else { throw refuse("the port is not a number from 1 to 65535") }
                port = p
                host = String(host[..<colon])
            }
            hosts.append((host, port))
        }
        if let socketDirectory {
            guard hosts.count == 1 else { throw refuse("host=\(socketDirectory) is one Unix socket: give one server, not \(hosts.count)") }
            endpoints = [.unixSocket(path: socketDirectory + "/.s.PGSQL.\(hosts[0].port)")]
        } else {
            guard hosts.allSatisfy({ !$0.host.isEmpty }) else {
                throw refuse(hosts.count == 1 ? "the host is missing (give HOST, or ?host=/SOCKET/DIR)" : "a host of the list is empty (HOST1,HOST2)")
            }
            endpoints = hosts.map { .tcp(host: $0.host, port: $0.port) }
        }
        self.targetSessionAttributes = targetSessionAttributes ?? (endpoints.count > 1 ? .readWrite : .any)
        self.user = user
        self.password = password
        self.database = database
        self.poolSize = poolSize
        self.tlsMode = tlsMode
        self.tlsRootCertificates = tlsRootCertificates
        self.liveness = liveness
    }

    /// The URL with its password hidden: what messages and logs show.
    public var description: String {
        let auth = password == nil ? user : "\(user):***"
        switch endpoint {
        case .tcp:
            var parameters: [String] = []
            if tlsMode != .prefer { parameters.append("sslmode=\(tlsMode.rawValue)") }
            if let tlsRootCertificates { parameters.append("sslrootcert=\(Self.encoded(tlsRootCertificates))") }
            if let tlsClientCertificate {
                parameters.append("sslcert=\(Self.encoded(tlsClientCertificate.certificate))")
                parameters.append("sslkey=\(Self.encoded(tlsClientCertificate.key))")
            }
            parameters += liveness.parameters
            if targetSessionAttributes != (endpoints.count > 1 ? .readWrite : .any) {
                parameters.append("target_session_attrs=\(targetSessionAttributes.rawValue)")
            }
            return "postgres://\(auth)@\(endpoints.map(Self.hostAndPort).joined(separator: ","))/\(database)"
                + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
        case .unixSocket(let path):
            // The socket's directory and port, as the URL gives them: the text works as --db.
            if let suffix = path.range(of: "/.s.PGSQL.", options: .backwards), let port = Int(path[suffix.upperBound...]) {
                return "postgres://\(auth)@\(port == Self.defaultPort ? "" : ":\(port)")/\(database)?host=\(Self.encoded(String(path[..<suffix.lowerBound])))"
            } else {
                return "postgres://\(auth)@/\(database)?host=\(Self.encoded(path))"
            }
        }
    }

    /// `HOST:PORT` (`[HOST]:PORT` for IPv6) of a TCP endpoint, as a URL and messages give it.
    static func hostAndPort(_ endpoint: Endpoint) -> String {
        switch endpoint {
        case .tcp(let host, let port): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .unixSocket(let path): path
        }
    }

    /// A parameter's value as a URL carries it: the characters that would end or change it
    /// percent-encoded, so that ``decoded(_:)`` gives it back.
    static func encoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "#"), UInt8(ascii: "+"), UInt8(ascii: "="), 0...32, 127...255:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            default:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// `text` with any password replaced by `***`, for a message about a URL that did not parse.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].firstIndex(of: "@") else { return text }
        let userInfo = text[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// Percent-decoding; nil when a `%` is not followed by two hex digits.
    static func decoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: Swift.max(0, width - count)) + self }
}
