// The REST API's bearer tokens on PostgreSQL: a name, a role and the SHA-256 of the secret,
// read back by the same code as on SQLite (`StoredToken(stored:...)`).
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresTokenRepository: TokenRepository {
    let session: PostgresSession

    private static let columns = "name, role, hash, created_at, created_by, last_used_at"

    func insert(_ token: StoredToken) throws {
        // Named before the primary key would refuse it (and abort the transaction), so the
        // message can say what to do.
        if try byName(token.name) != nil { throw StoredToken.nameTaken(token.name) }
        try session.execute("""
            INSERT INTO api_tokens(name, role, hash, created_at, created_by, last_used_at)
            VALUES (\(token.name), \(token.role), \(token.hash), \(token.createdAt.iso8601), \(token.createdBy), \(token.lastUsedAt?.iso8601))
            """)
    }

    func all() throws -> [StoredToken] {
        try session.rows("SELECT \(unescaped: Self.columns) FROM api_tokens ORDER BY name").map(token)
    }

    func byName(_ name: String) throws -> StoredToken? {
        try session.row("SELECT \(unescaped: Self.columns) FROM api_tokens WHERE name = \(name)").map(token)
    }

    func delete(name: String) throws -> Bool {
        try session.execute("DELETE FROM api_tokens WHERE name = \(name)") > 0
    }

    func stampLastUsed(name: String, at: Timestamp) throws -> Bool {
        try session.execute("UPDATE api_tokens SET last_used_at = \(at.iso8601) WHERE name = \(name)") > 0
    }

    private func token(_ row: PostgresRow) throws -> StoredToken {
        let (name, role, hash, createdAt, createdBy, lastUsedAt) = try session.decode(row, (String, String, String, String?, String, String?).self)
        return try StoredToken(stored: name, role: role, hash: hash, createdAt: createdAt, createdBy: createdBy, lastUsedAt: lastUsedAt)
    }
}
