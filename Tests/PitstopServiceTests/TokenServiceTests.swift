// The REST API's tokens below HTTP: made with a secret shown once and stored as its SHA-256,
// listed without it, revoked, recognised from a presented secret without a write (and without a
// read while nothing changed), their use stamped at most once a minute, and audited without the
// secret. Every test with a database runs on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopStore
import PitstopTestSupport
import Synchronization
import Testing
@testable import PitstopService

private let now = Timestamp(iso8601: "2026-12-01T00:00:00Z")!

/// A store that counts the units of work run on it, to tell a cached answer from a read.
private final class CountingStore: Store {
    let base: any Store
    private let counts = Mutex<(reads: Int, writes: Int)>((0, 0))

    init(_ base: any Store) { self.base = base }

    var reads: Int { counts.withLock { $0.reads } }
    var writes: Int { counts.withLock { $0.writes } }

    func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        counts.withLock { $0.reads += 1 }
        return try await base.read(work)
    }
    func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        counts.withLock { $0.writes += 1 }
        return try await base.write(work)
    }
    func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        counts.withLock { $0.writes += 1 }
        return try await base.bulkWrite(work)
    }
    func isHealthy() async -> Bool { await base.isHealthy() }
    func changeMark() -> ChangeMark { base.changeMark() }
    func tryLock(_ name: String) async throws -> LockAttempt { try await base.tryLock(name) }
}

/// A database on one engine, its store as a server opens it (on PostgreSQL, listening for
/// commits so that its change mark can be trusted), and the service on a counting wrapper.
private struct Fixture {
    let raw: TestDatabase
    let store: CountingStore
    let tokens: TokenService
    var database: any Store { raw.store }

    init(_ engine: TestEngine) throws {
        raw = try TestDatabase(engine, listening: true)
        store = CountingStore(raw.store)
        tokens = TokenService(store: store)
    }

    func auditEntries() async throws -> [AuditEntry] { try await AuditService(store: database).entries(AuditFilter()) }

    /// Every row of the tokens table, as the database holds it.
    func rows() throws -> [[String?]] {
        try raw.rows("SELECT name, role, hash, created_at, created_by, last_used_at FROM api_tokens ORDER BY name")
    }

    /// Waits for the store to have heard of its own last commit (see ``TestDatabase/settled(_:)``).
    func settled() async throws { try await raw.settled() }
}

/// The hex SHA-256 the service stores (its own function: this target does not import Crypto),
/// checked against the standard's test vector.
private func sha256Hex(_ s: String) -> String { TokenService.hexDigest(s) }

@Test func theStoredDigestIsHexSHA256() {
    #expect(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

// MARK: Roles

@Test func rolesAreOrderedAndEachAllowsWhatIsBelowIt() throws {
    #expect(TokenRole.viewer < .executor && TokenRole.executor < .operator)
    #expect(TokenRole.allCases.sorted() == [.viewer, .executor, .operator])
    #expect(TokenRole.operator.allows(.viewer) && TokenRole.operator.allows(.executor) && TokenRole.operator.allows(.operator))
    #expect(TokenRole.executor.allows(.viewer) && TokenRole.executor.allows(.executor) && !TokenRole.executor.allows(.operator))
    #expect(TokenRole.viewer.allows(.viewer) && !TokenRole.viewer.allows(.executor))
    #expect(try TokenRole(parsing: "executor") == .executor)
    let error = #expect(throws: PitstopError.self) { try TokenRole(parsing: "admin") }
    #expect(error?.kind == .invalid)
    #expect(error?.message == "'admin' is not a token role; use one of viewer, executor, operator")
}

// MARK: Create, list, revoke

@Test(arguments: TestEngine.all) func aCreatedTokenIsListedWithoutItsSecretAndItsSecretAuthenticates(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (token, secret) = try await f.tokens.create(name: "ci-bot", role: .executor, actor: "alice", at: now)
    #expect(token == APIToken(name: "ci-bot", role: .executor, createdAt: now, createdBy: "alice", lastUsedAt: nil))

    // The secret: pitstop_ and 43 characters of base64url (32 bytes)
    #expect(secret.hasPrefix("pitstop_"))
    let body = secret.dropFirst("pitstop_".count)
    #expect(body.count == 43)
    #expect(body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })

    #expect(try await f.tokens.list() == [token])
    #expect(try await f.tokens.authenticate(secret) == token)
}

@Test(arguments: TestEngine.all) func secretsDifferEveryTime(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    var secrets: Set<String> = []
    for i in 0..<20 { secrets.insert(try await f.tokens.create(name: "t\(i)", role: .viewer, actor: "alice", at: now).secret) }
    #expect(secrets.count == 20)
}

@Test(arguments: TestEngine.all) func theDatabaseKeepsOnlyTheHashOfTheSecret(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    let rows = try f.rows()
    #expect(rows == [["ci", "viewer", sha256Hex(secret), now.iso8601, "alice", nil]])
    #expect(!rows.flatMap { $0 }.contains { $0?.contains(secret.dropFirst("pitstop_".count)) == true })
}

@Test(arguments: TestEngine.all) func listIsInNameOrder(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    for name in ["zulu", "alpha", "Mike", "bravo"] { _ = try await f.tokens.create(name: name, role: .viewer, actor: "alice", at: now) }
    #expect(try await f.tokens.list().map(\.name) == ["Mike", "alpha", "bravo", "zulu"])
}

@Test(arguments: TestEngine.all) func createAndRevokeAreAuditedWithNameAndRoleNeverTheSecretOrItsHash(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .operator, actor: "alice", at: now)
    try await f.tokens.revoke(name: "ci", actor: "bob", at: now + 60)
    let entries = try await f.auditEntries()
    #expect(entries.map(\.action) == ["token.create", "token.revoke"])
    #expect(entries.map(\.actor) == ["alice", "bob"])
    #expect(entries.map(\.at) == [now, now + 60])
    for entry in entries {
        let details = try #require(try JSONSerialization.jsonObject(with: Data(entry.details.utf8)) as? [String: String])
        #expect(details == ["name": "ci", "role": "operator"])
        #expect(!entry.details.contains(secret) && !entry.details.contains(sha256Hex(secret)))
    }
    #expect(try await AuditService(store: f.database).verify(now: now + 60).chain.ok)
}

@Test(arguments: TestEngine.all) func aDuplicateNameIsRefusedAndNothingIsWritten(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    _ = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    let before = try f.rows()
    let error = await #expect(throws: PitstopError.self) { try await f.tokens.create(name: "ci", role: .operator, actor: "mallory", at: now + 1) }
    #expect(error?.kind == .conflict)
    #expect(error?.message == "token ci already exists; revoke it first or pick another name")
    #expect(try f.rows() == before)
    #expect(try await f.auditEntries().count == 1)
}

@Test(arguments: TestEngine.all, ["", "has space", "slash/name", "dollar$", "é", "new\nline", String(repeating: "x", count: 65)])
func aBadNameIsRefusedNamingItAndNothingIsWritten(engine: TestEngine, name: String) async throws {
    let f = try Fixture(engine)
    let error = await #expect(throws: PitstopError.self) { try await f.tokens.create(name: name, role: .viewer, actor: "alice", at: now) }
    #expect(error?.kind == .invalid)
    #expect(error?.message.hasPrefix("token name '\(name.truncatedForMessage)' is not allowed") == true)
    #expect(try f.rows().isEmpty)
    #expect(try await f.auditEntries().isEmpty)
    #expect(f.store.writes == 0)
}

@Test(arguments: TestEngine.all) func theLongestNameAndEveryAllowedCharacterAreAccepted(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    _ = try await f.tokens.create(name: String(repeating: "x", count: 64), role: .viewer, actor: "alice", at: now)
    _ = try await f.tokens.create(name: "A-z_0.9", role: .viewer, actor: "alice", at: now)
    #expect(try await f.tokens.list().count == 2)
}

@Test(arguments: TestEngine.all) func revokingAnUnknownTokenIsNotFoundAndWritesNothing(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    _ = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    let error = await #expect(throws: PitstopError.self) { try await f.tokens.revoke(name: "cl", actor: "alice", at: now) }
    #expect(error?.kind == .notFound)
    #expect(error?.message == "no token named cl; `pitstop token list` shows the tokens there are")
    #expect(try await f.auditEntries().count == 1)
    #expect(try await f.tokens.list().map(\.name) == ["ci"])
}

// MARK: Authenticate

@Test(arguments: TestEngine.all) func aWrongSecretIsNil(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .operator, actor: "alice", at: now)
    var lastChanged = Array(secret)
    lastChanged[lastChanged.count - 1] = lastChanged.last == "A" ? "B" : "A"
    for wrong in ["", "pitstop_", String(lastChanged), secret + " ", " " + secret, secret.uppercased(), sha256Hex(secret),
                  String(secret.dropFirst("pitstop_".count)), TokenService.newSecret()] {
        #expect(try await f.tokens.authenticate(wrong) == nil, "\(wrong)")
    }
    #expect(try await f.tokens.authenticate(secret)?.name == "ci")
}

@Test(arguments: TestEngine.all) func eachSecretIsItsOwnToken(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let viewer = try await f.tokens.create(name: "viewer", role: .viewer, actor: "alice", at: now)
    let executor = try await f.tokens.create(name: "executor", role: .executor, actor: "alice", at: now)
    let admin = try await f.tokens.create(name: "admin", role: .operator, actor: "alice", at: now)
    #expect(try await f.tokens.authenticate(viewer.secret) == viewer.token)
    #expect(try await f.tokens.authenticate(executor.secret) == executor.token)
    #expect(try await f.tokens.authenticate(admin.secret) == admin.token)
}

@Test(arguments: TestEngine.all) func aRevokedSecretIsNil(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    #expect(try await f.tokens.authenticate(secret) != nil)
    try await f.tokens.revoke(name: "ci", actor: "alice", at: now)
    #expect(try await f.tokens.authenticate(secret) == nil)
    #expect(try await f.tokens.list().isEmpty)
}

@Test(arguments: TestEngine.all) func authenticateWritesNothingAndReadsOnlyWhenSomethingChanged(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    try await f.settled()
    let writes = f.store.writes
    let mark = f.database.changeMark()

    for _ in 0..<5 { _ = try await f.tokens.authenticate(secret) }
    _ = try await f.tokens.authenticate("pitstop_wrong")
    #expect(f.store.writes == writes)
    #expect(f.database.changeMark() == mark)
    #expect(f.store.reads == 1)

    // A new token moves the mark: the next request reads the tokens again, once.
    let second = try await f.tokens.create(name: "cd", role: .executor, actor: "alice", at: now)
    try await f.settled()
    #expect(try await f.tokens.authenticate(second.secret)?.name == "cd")
    #expect(try await f.tokens.authenticate(secret)?.name == "ci")
    #expect(f.store.reads == 2)
}

@Test(arguments: TestEngine.all) func servicesShareOneCacheAcrossItsTokenServices(engine: TestEngine) async throws {
    let database = try TestDatabase(engine, listening: true)
    let store = CountingStore(database.store)
    let services = Services(store: store)
    let (_, secret) = try await services.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    try await database.settled()
    _ = try await services.tokens.authenticate(secret)
    _ = try await services.tokens.authenticate(secret)
    #expect(store.reads == 1)
}

@Test(arguments: TestEngine.all) func aTokenRevokedByAnotherProcessIsRefusedAtOnce(engine: TestEngine) async throws {
    // Two opens of one database stand for the server and a `pitstop token revoke` run beside it.
    let database = try TestDatabase(engine)
    let serverStore = try database.reopen(listening: true)
    let server = TokenService(store: serverStore)
    let cli = TokenService(store: try database.reopen())

    let (_, secret) = try await cli.create(name: "ci", role: .viewer, actor: "alice", at: now)
    try await database.settled(serverStore)
    #expect(try await server.authenticate(secret)?.name == "ci")
    let before = serverStore.changeMark()
    try await cli.revoke(name: "ci", actor: "alice", at: now)
    switch engine {
    case .sqlite:
        try await Task.sleep(for: .milliseconds(5))  // longer than the mark's reuse of the WAL index (1 ms)
    case .postgres:
        // The server hears of the other process's commit by NOTIFY: at once, as a socket goes.
        _ = try await eventually(every: .milliseconds(10)) { serverStore.changeMark() != before }
    }
    #expect(serverStore.changeMark() != before)
    #expect(try await server.authenticate(secret) == nil)
}

// MARK: Record use

@Test(arguments: TestEngine.all) func useIsStampedAtMostOnceAMinute(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    let tokens = f.tokens
    @Sendable func lastUsed() async throws -> Timestamp? {
        let all = try await tokens.list()
        return all.first?.lastUsedAt
    }

    // The first use is stamped
    try await f.tokens.recordUse("ci", at: now + 100)
    #expect(try await lastUsed() == now + 100)

    // Uses within the minute write nothing at all
    try await f.settled()
    let writes = f.store.writes, mark = f.database.changeMark()
    try await f.tokens.recordUse("ci", at: now + 101)
    try await f.tokens.recordUse("ci", at: now + 159)
    #expect(f.store.writes == writes)
    #expect(f.database.changeMark() == mark)
    #expect(try await lastUsed() == now + 100)

    // A minute later it is stamped again, and authenticate shows the new stamp
    try await f.tokens.recordUse("ci", at: now + 160)
    #expect(try await lastUsed() == now + 160)
    #expect(try await f.tokens.authenticate(secret)?.lastUsedAt == now + 160)
    #expect(try await f.auditEntries().map(\.action) == ["token.create"])
}

@Test(arguments: TestEngine.all) func recordingUseOfAnUnknownOrRevokedTokenChangesNothing(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    _ = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    try await f.tokens.revoke(name: "ci", actor: "alice", at: now)
    let writes = f.store.writes
    try await f.tokens.recordUse("ci", at: now + 100)
    try await f.tokens.recordUse("nobody", at: now + 100)
    #expect(f.store.writes == writes)
    #expect(try f.rows().isEmpty)
}

@Test(arguments: TestEngine.all) func aSecretGivenAsANameIsRefusedWithoutRepeatingIt(engine: TestEngine) async throws {
    let f = try Fixture(engine)
    let (_, secret) = try await f.tokens.create(name: "ci", role: .viewer, actor: "alice", at: now)
    for attempt in [{ _ = try await f.tokens.create(name: secret, role: .viewer, actor: "alice", at: now) },
                    { try await f.tokens.revoke(name: secret, actor: "alice", at: now) }] {
        let error = await #expect(throws: PitstopError.self) { try await attempt() }
        #expect(error?.kind == .invalid)
        #expect(error?.message.contains("looks like a token's secret") == true)
        #expect(error?.message.contains(secret) == false)
    }
    #expect(try await f.auditEntries().count == 1)
}
