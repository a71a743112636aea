// The REST API's bearer tokens, below HTTP: making one (the secret is shown once and only its
// SHA-256 is stored), listing and revoking them, telling which token a presented secret is, and
// noting when each was last used. The server's auth middleware calls `authenticate` on every
// request and `recordUse` once it has authorised one; the CLI's `pitstop token` makes the rest.
import Crypto
import Foundation
public import PitstopCore
public import PitstopStore
import Synchronization

/// What a token may do. Each role includes the ones below it: viewer < executor < operator.
public enum TokenRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Reads.
    case viewer
    /// Reads, and moves events and waves through their lifecycle (approve, start, complete,
    /// fail, cancel).
    case executor
    /// Everything.
    case `operator`

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .executor: 1
        case .operator: 2
        }
    }

    public static func < (a: TokenRole, b: TokenRole) -> Bool { a.rank < b.rank }

    /// Whether a token of this role may do what needs `needed`.
    public func allows(_ needed: TokenRole) -> Bool { self >= needed }

    /// The role spelled `text`, as an operator or a request gives it.
    ///
    /// - Throws: ``PitstopError`` `.invalid`, naming the value and the roles there are.
    public init(parsing text: String) throws(PitstopError) {
        guard let role = TokenRole(rawValue: text) else {
            throw PitstopError(.invalid, "'\(text.truncatedForMessage)' is not a token role; use one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = role
    }
}

/// A token as everyone but its holder sees it: never its secret, nor the secret's hash.
public struct APIToken: Sendable, Hashable {
    public let name: String
    public let role: TokenRole
    public let createdAt: Timestamp
    public let createdBy: String
    /// When a request it authorised was last served, to the minute; `nil` before its first use.
    public let lastUsedAt: Timestamp?

    public init(name: String, role: TokenRole, createdAt: Timestamp, createdBy: String, lastUsedAt: Timestamp?) {
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.lastUsedAt = lastUsedAt
    }
}

/// The tokens' use cases. Keep one value for the life of a server (``Services/tokens`` shares
/// one cache per ``Services``): ``authenticate(_:)`` reuses what it read until the store's
/// change mark moves.
public struct TokenService: Sendable {
    public let store: any Store
    private let cache: TokenCache

    public init(store: any Store) {
        self.init(store: store, cache: TokenCache())
    }

    init(store: any Store, cache: TokenCache) {
        self.store = store
        self.cache = cache
    }

    /// What every secret starts with, so that one pasted in the wrong place can be recognised.
    public static let secretPrefix = "pitstop_"
    /// The audit actions of ``create(name:role:actor:at:)`` and ``revoke(name:actor:at:)``.
    public static let createAction = "token.create"
    public static let revokeAction = "token.revoke"
    /// ``recordUse(_:at:)`` writes a token's stamp at most this often, in seconds.
    public static let stampInterval: Int64 = 60
    /// The longest token name.
    public static let maximumNameLength = 64

    // MARK: Managing tokens

    /// Makes a token: a new random secret, of which only the SHA-256 is stored, and one
    /// `token.create` audit entry (its name and role) in the same transaction.
    ///
    /// - Returns: the token and its secret, which nothing can give back later.
    /// - Throws: ``PitstopError`` `.invalid` for a name that breaks the rules,
    ///   `.conflict` when a token of that name exists.
    public func create(name: String, role: TokenRole, actor: String, at: Timestamp) async throws -> (token: APIToken, secret: String) {
        try Self.validate(name: name)
        let secret = Self.newSecret()
        let stored = StoredToken(name: name, role: role.rawValue, hash: Self.hexDigest(secret), createdAt: at, createdBy: actor)
        try await store.write { tx in
            try tx.tokens.insert(stored)
            try tx.audit.append(at: at, actor: actor, action: Self.createAction, subjects: [], details: Self.auditDetails(name: name, role: role))
        }
        return (APIToken(name: name, role: role, createdAt: at, createdBy: actor, lastUsedAt: nil), secret)
    }

    /// Every token, in name order.
    public func list() async throws -> [APIToken] {
        try await store.read { tx in try tx.tokens.all().map(Self.token) }
    }

    /// Deletes a token, with one `token.revoke` audit entry in the same transaction. A server
    /// refuses the secret from its next request on (the change mark moves at the commit).
    ///
    /// - Throws: ``PitstopError`` `.invalid` for a name no token can have, `.notFound` when
    ///   there is no such token; nothing is written then.
    public func revoke(name: String, actor: String, at: Timestamp) async throws {
        try Self.validate(name: name)
        try await store.write { tx in
            guard let stored = try tx.tokens.byName(name) else {
                throw PitstopError(.notFound, "no token named \(name); `pitstop token list` shows the tokens there are")
            }
            let role = try Self.role(of: stored)
            _ = try tx.tokens.delete(name: name)
            try tx.audit.append(at: at, actor: actor, action: Self.revokeAction, subjects: [], details: Self.auditDetails(name: name, role: role))
        }
    }

    // MARK: Serving requests

    /// Read-only: the token whose hash matches, or nil. Compares SHA-256 digests in constant time
    /// against every stored hash (no early exit, no SQL lookup by the secret). Writes nothing.
    ///
    /// The tokens are read once and kept until the store's change mark moves (a token made or
    /// revoked by any process, a use recorded), so a request usually reads nothing.
    public func authenticate(_ presented: String) async throws -> APIToken? {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        let entries = try await current()
        // Every entry is compared to the end, and the match is picked without a branch on the
        // bytes compared: how long this takes depends on how many tokens there are, not on
        // which one, if any, matches or how closely.
        var matched = 0
        for (index, entry) in entries.enumerated() {
            var difference: UInt8 = 0
            for i in 0..<digest.count { difference |= entry.digest[i] ^ digest[i] }
            // 1 when difference is 0, else 0.
            let equal = Int((UInt16(difference) &- 1) >> 15)
            matched |= equal &* (index &+ 1)
        }
        return matched == 0 ? nil : entries[matched - 1].token
    }

    /// Stamps last_used_at; called by the server only after a request is authorised. Writes at
    /// most once a minute per token (skip when the stored stamp is < 60 s old) so reads stay
    /// reads. A token revoked meanwhile is left alone.
    public func recordUse(_ name: String, at: Timestamp) async throws {
        guard let known = try await current().first(where: { $0.token.name == name }),
              !Self.stampedRecently(known.token.lastUsedAt, at) else { return }
        try await store.write { tx in
            // Checked again under the write lock: a request in parallel may have stamped it.
            guard let stored = try tx.tokens.byName(name), !Self.stampedRecently(stored.lastUsedAt, at) else { return }
            try tx.tokens.stampLastUsed(name: name, at: at)
        }
    }

    /// The tokens with their digests, read again only when the change mark moved.
    private func current() async throws -> [TokenCache.Entry] {
        // Read the mark before the data: a commit in between only makes the entry stale sooner.
        let mark = store.changeMark()
        if let entries = cache.entries(at: mark) { return entries }
        let entries = try await store.read { tx in
            try tx.tokens.all().map { stored in
                TokenCache.Entry(token: try Self.token(stored), digest: Self.bytes(hex: stored.hash))
            }
        }
        cache.keep(entries, at: mark)
        return entries
    }

    // MARK: Rules and shapes

    /// Refuses (`.invalid`, naming it) a name that is not 1 to 64 letters, digits, `.`, `_` or
    /// `-` (the same rule as the table's CHECK), and one that starts like a secret (without
    /// repeating it).
    public static func validate(name: String) throws(PitstopError) {
        let allowed = name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
        // A secret pasted where the name goes would be echoed in messages, lists and the audit log.
        if name.hasPrefix(secretPrefix) {
            throw PitstopError(.invalid, "that looks like a token's secret, not its name (names cannot start with '\(secretPrefix)'); "
                + "it is not repeated here; `pitstop token list` shows the names")
        }
        guard !name.isEmpty, name.utf8.count <= maximumNameLength, allowed else {
            throw PitstopError(.invalid, "token name '\(name.truncatedForMessage)' is not allowed: use 1 to \(maximumNameLength) letters, digits, '.', '_' or '-'")
        }
    }

    private static func stampedRecently(_ last: Timestamp?, _ now: Timestamp) -> Bool {
        guard let last else { return false }
        return now - last < stampInterval
    }

    /// `pitstop_` and the base64url (no padding) of 32 random bytes: 43 characters.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return secretPrefix + Base64URL.encode(bytes)
    }

    /// Lowercase hex SHA-256 of the secret's UTF-8 bytes: what the database keeps.
    static func hexDigest(_ secret: String) -> String {
        Hex.string(SHA256.hash(data: Data(secret.utf8)))
    }

    /// The 32 bytes a stored hex digest spells; a malformed one (the schema's CHECK forbids it)
    /// becomes bytes no SHA-256 of a presented secret is expected to equal.
    private static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        guard digits.count == 64 else { return [UInt8](repeating: 0, count: 32) }
        return (0..<32).map { i in
            guard let high = value(digits[2 * i]), let low = value(digits[2 * i + 1]) else { return 0 }
            return high << 4 | low
        }
    }

    private static func role(of stored: StoredToken) throws -> TokenRole {
        // The schema's CHECK allows only the roles this enum spells.
        guard let role = TokenRole(rawValue: stored.role) else {
            throw PitstopError(.internal, "api_tokens row '\(stored.name)' cannot be read: its role '\(stored.role.truncatedForMessage)' is unknown to this build; the database was changed outside Pitstop")
        }
        return role
    }

    private static func token(_ stored: StoredToken) throws -> APIToken {
        APIToken(name: stored.name, role: try role(of: stored), createdAt: stored.createdAt, createdBy: stored.createdBy, lastUsedAt: stored.lastUsedAt)
    }

    /// Name and role: never the secret or its hash.
    private static func auditDetails(name: String, role: TokenRole) -> String {
        JSONText.object([("name", JSONText.quote(name)), ("role", JSONText.quote(role.rawValue))])
    }
}

/// The tokens and their digests as last read, with the change mark read before them; shared by
/// the copies of one ``TokenService``.
final class TokenCache: Sendable {
    struct Entry: Sendable {
        let token: APIToken
        let digest: [UInt8]
    }

    private let last = Mutex<(mark: ChangeMark, entries: [Entry])?>(nil)

    init() {}

    /// What was kept at `mark`, or nil when the mark has moved since (or nothing was kept).
    func entries(at mark: ChangeMark) -> [Entry]? {
        last.withLock { last in last.flatMap { $0.mark == mark ? $0.entries : nil } }
    }

    func keep(_ entries: [Entry], at mark: ChangeMark) {
        last.withLock { $0 = (mark, entries) }
    }
}
