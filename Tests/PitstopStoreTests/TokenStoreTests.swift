// The tokens table of 0006: a database of the release before it opens and migrates with nothing
// lost, and the table's CHECKs hold the rules even for a write that bypasses Pitstop.
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

@Suite struct APITokensMigrationTests {
    /// The migrations the release before API tokens shipped: 0001 to 0005.
    static let previous = Array(Migration.all.prefix { $0.name < "0006" })

    @Test func aDatabaseWithoutTokensOpensAndMigratesTo0006WithNothingLost() async throws {
        // Given a database file written by the previous release: a fleet, a log and an audit key
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(Self.previous.count == 5)
        let (path, old) = try databaseOfRelease(Self.previous, in: directory)
        let now = Timestamp(iso8601: "2026-11-22T10:00:00Z")!
        try await old.write { db in
            let tx = SQLiteRepositories(db: db)
            _ = try tx.fleet.upsert(region: Region(name: "eastus"))
            _ = try tx.fleet.upsert(subscription: Subscription(id: "contoso", admins: ["ops@contoso.example"], coAdmins: []))
            try tx.audit.append(at: now, actor: "old", action: "region.added", subjects: [AuditSubject(.region, "eastus")], details: "{}")
            try tx.audit.record(key: AuditKeyRecord(publicKey: String(repeating: "A", count: 43) + "=", fingerprint: "0123456789abcdef", createdAt: now))
            try tx.audit.append(at: now, actor: "old", action: "audit.key.recorded", subjects: [], details: "{}")
        }
        func snapshot(_ writer: any DatabaseWriter) throws -> [[String?]] {
            try writer.read { db in
                var rows: [[String?]] = []
                for table in ["regions", "subscriptions", "audit_log", "audit_subjects", "audit_keys", "pitstop_migrations"] {
                    rows += try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map { row in [table] + row.databaseValues.map { $0.description } }
                }
                return rows
            }
        }
        let before = try snapshot(old)
        try old.close()

        // When this release opens it
        let database = try AppDatabase.open(path: path)

        // Then 0006 (and every later migration) is applied, every row of before is still there
        // unchanged, and there are no tokens yet
        #expect(try database.appliedMigrations() == Migration.all.map(\.name))
        #expect(try database.appliedMigrations().contains("0006_api_tokens.sql"))
        let after = try snapshot(database.writer)
        #expect(after.filter { $0[0] != "pitstop_migrations" } == before.filter { $0[0] != "pitstop_migrations" })
        #expect(Array(after.filter { $0[0] == "pitstop_migrations" }.prefix(5)) == before.filter { $0[0] == "pitstop_migrations" })
        #expect(try await database.read { tx in try tx.audit.verifyChain() }.ok)
        #expect(try await database.read { tx in try tx.audit.keys() }.count == 1)
        #expect(try await database.read { tx in try tx.tokens.all() }.isEmpty)

        // and the new table takes a token
        try await database.write { tx in
            try tx.tokens.insert(StoredToken(name: "ci", role: "viewer", hash: String(repeating: "ab", count: 32), createdAt: now, createdBy: "tester"))
        }
        #expect(try await database.read { tx in try tx.tokens.all() }.map(\.name) == ["ci"])
    }
}

@Suite struct TokenRepositoryTests {
    let now = Timestamp(iso8601: "2026-11-22T10:00:00Z")!

    func token(_ name: String, _ role: String = "viewer", hash: String? = nil) -> StoredToken {
        StoredToken(name: name, role: role, hash: hash ?? String(repeating: String(name.count % 10), count: 64), createdAt: now, createdBy: "tester")
    }

    @Test func tokensAreKeptInNameOrderAndFoundByName() async throws {
        let database = try AppDatabase.inMemory()
        try await database.write { tx in
            try tx.tokens.insert(token("zeta", hash: String(repeating: "a", count: 64)))
            try tx.tokens.insert(token("alpha", "operator", hash: String(repeating: "b", count: 64)))
        }
        let all = try await database.read { tx in try tx.tokens.all() }
        #expect(all.map(\.name) == ["alpha", "zeta"])
        #expect(all[0].role == "operator" && all[0].createdAt == now && all[0].createdBy == "tester" && all[0].lastUsedAt == nil)
        #expect(try await database.read { tx in try tx.tokens.byName("zeta") }?.hash == String(repeating: "a", count: 64))
        #expect(try await database.read { tx in try tx.tokens.byName("nobody") } == nil)
    }

    @Test func aDuplicateNameIsAConflictThatSaysWhatToDo() async throws {
        let database = try AppDatabase.inMemory()
        try await database.write { tx in try tx.tokens.insert(token("ci", hash: String(repeating: "a", count: 64))) }
        let error = await #expect(throws: PitstopError.self) {
            try await database.write { tx in try tx.tokens.insert(token("ci", hash: String(repeating: "b", count: 64))) }
        }
        #expect(error?.kind == .conflict)
        #expect(error?.message == "token ci already exists; revoke it first or pick another name")
    }

    @Test func deleteAndStampSayWhetherThereWasSuchAToken() async throws {
        let database = try AppDatabase.inMemory()
        try await database.write { tx in try tx.tokens.insert(token("ci", hash: String(repeating: "a", count: 64))) }
        #expect(try await database.write { tx in try tx.tokens.stampLastUsed(name: "ci", at: now + 5) })
        #expect(try await database.read { tx in try tx.tokens.byName("ci") }?.lastUsedAt == now + 5)
        #expect(try await database.write { tx in try tx.tokens.stampLastUsed(name: "other", at: now) } == false)
        #expect(try await database.write { tx in try tx.tokens.delete(name: "ci") })
        #expect(try await database.write { tx in try tx.tokens.delete(name: "ci") } == false)
    }

    @Test func theTableRefusesBadNamesRolesAndHashesWrittenBehindPitstopsBack() throws {
        let database = try AppDatabase.inMemory()
        let good = String(repeating: "a", count: 64)
        for (name, role, hash) in [
            ("", "viewer", good), ("has space", "viewer", good), ("slash/", "viewer", good), (String(repeating: "x", count: 65), "viewer", good),
            ("ci", "admin", good), ("ci", "viewer", "secret"), ("ci", "viewer", String(repeating: "A", count: 64)),
        ] {
            #expect(throws: DatabaseError.self, "\(name) \(role) \(hash)") {
                try database.writer.write { db in
                    try db.execute(sql: "INSERT INTO api_tokens(name, role, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [name, role, hash, now.iso8601, "tester"])
                }
            }
        }
        try database.writer.write { db in
            try db.execute(sql: "INSERT INTO api_tokens(name, role, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [String(repeating: "x", count: 64), "executor", good, now.iso8601, "tester"])
            try db.execute(sql: "INSERT INTO api_tokens(name, role, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: ["A-z_0.9", "operator", String(repeating: "b", count: 64), now.iso8601, "tester"])
        }
    }
}
