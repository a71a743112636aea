// The REST API's bearer tokens (migration 0006): a name, a role and the SHA-256 of the secret.
// Nothing here takes a secret: tokens are read whole (they are few) and compared by the service,
// never looked up by what a caller presented.
import GRDB
package import PitstopCore

struct SQLiteTokenRepository: TokenRepository {
    let db: Database

    private static let columns = "name, role, hash, created_at, created_by, last_used_at"

    func insert(_ token: StoredToken) throws {
        // Named before SQLite's UNIQUE would refuse it, so the message can say what to do.
        if try byName(token.name) != nil { throw StoredToken.nameTaken(token.name) }
        try constrained {
            try db.execute(sql: """
                INSERT INTO api_tokens(name, role, hash, created_at, created_by, last_used_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [token.name, token.role, token.hash, token.createdAt.iso8601, token.createdBy, token.lastUsedAt?.iso8601])
        }
    }

    func all() throws -> [StoredToken] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.columns) FROM api_tokens ORDER BY name")).map(Self.token)
    }

    func byName(_ name: String) throws -> StoredToken? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.columns) FROM api_tokens WHERE name = ?"), arguments: [name]).map(Self.token)
    }

    func delete(name: String) throws -> Bool {
        try db.execute(sql: "DELETE FROM api_tokens WHERE name = ?", arguments: [name])
        return db.changesCount > 0
    }

    func stampLastUsed(name: String, at: Timestamp) throws -> Bool {
        try db.execute(sql: "UPDATE api_tokens SET last_used_at = ? WHERE name = ?", arguments: [at.iso8601, name])
        return db.changesCount > 0
    }

    private static func token(_ row: Row) throws -> StoredToken {
        try StoredToken(stored: row[0], role: row[1], hash: row[2], createdAt: row[3], createdBy: row[4], lastUsedAt: row[5])
    }
}

extension StoredToken {
    /// What inserting a token under a name already taken throws.
    package static func nameTaken(_ name: String) -> PitstopError {
        PitstopError(.conflict, "token \(name) already exists; revoke it first or pick another name")
    }

    /// A token as `api_tokens` stores it, its times as ISO text.
    package init(stored name: String, role: String, hash: String, createdAt: String?, createdBy: String, lastUsedAt: String?) throws {
        func instant(_ text: String?, _ column: String) throws -> Timestamp? {
            guard let text else { return nil }
            guard let t = Timestamp(iso8601: text) else {
                throw corruptRow(table: "api_tokens", key: name, problem: "its \(column) '\(text.truncatedForMessage)' cannot be read")
            }
            return t
        }
        guard let created = try instant(createdAt, "created_at") else {
            throw corruptRow(table: "api_tokens", key: name, problem: "it has no created_at")
        }
        self.init(name: name, role: role, hash: hash, createdAt: created, createdBy: createdBy, lastUsedAt: try instant(lastUsedAt, "last_used_at"))
    }
}
