// Where a PostgreSQL database is: what `--db postgres://user@host/db` names.
import Foundation
public import PitstopCore

/// A PostgreSQL database as a `postgres://` (or `postgresql://`) URL names it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/SOCKET/DIR&pool=N]`. A `host`
/// parameter that is a directory, as in libpq, reaches the server over its Unix socket there.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        /// The socket file itself: `DIR/.s.PGSQL.PORT`.
        case unixSocket(path: String)
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    /// How many connections one process opens at most: its units of work that run at once.
    public var poolSize: Int

    public static let defaultPort = 5432
    public static let defaultPoolSize = 8
    public static let maxPoolSize = 256

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String, poolSize: Int = defaultPoolSize) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
        self.poolSize = poolSize
    }

    /// Parses a URL; a refusal names the part that is wrong.
    public init(url text: String) throws(PitstopError) {
        func refuse(_ why: String) -> PitstopError {
            PitstopError(.invalid, "--db \(PostgresLocation.redacted(text)): \(why); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/SOCKET/DIR&pool=N]")
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
            default:
                throw refuse("unknown parameter '\(key)' (known: host, pool)")
            }
        }

        var host = String(hostPort)
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
        if let socketDirectory {
            endpoint = .unixSocket(path: socketDirectory + "/.s.PGSQL.\(port)")
        } else {
            guard !host.isEmpty else { throw refuse("the host is missing (give HOST, or ?host=/SOCKET/DIR)") }
            endpoint = .tcp(host: host, port: port)
        }
        self.user = user
        self.password = password
        self.database = database
        self.poolSize = poolSize
    }

    /// The URL with its password hidden: what messages and logs show.
    public var description: String {
        let auth = password == nil ? user : "\(user):***"
        return switch endpoint {
        case .tcp(let host, let port): "postgres://\(auth)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        case .unixSocket(let path):
            // The socket's directory and port, as the URL gives them: the text works as --db.
            if let suffix = path.range(of: "/.s.PGSQL.", options: .backwards), let port = Int(path[suffix.upperBound...]) {
                "postgres://\(auth)@\(port == Self.defaultPort ? "" : ":\(port)")/\(database)?host=\(path[..<suffix.lowerBound])"
            } else {
                "postgres://\(auth)@/\(database)?host=\(path)"
            }
        }
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
