// The service floor's contract with its adapters: imports read bytes as they arrive, who and
// when are arguments, and every failure crosses the seam as a PitstopError of a known kind.
// Every test here runs on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopStore
import PitstopTestSupport
import Testing
@testable import PitstopService

private let t0 = Timestamp(iso8601: "2026-12-01T00:00:00Z")!

private let fleetCSV = """
    name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress
    web-0,eastus,contoso,web,,,10.0.0.4
    web-1,eastus,contoso,web,,,10.0.0.5
    web-2,eastus,contoso,web,,,
    jump,eastus,contoso,,,,10.0.0.9

    """

private let seed = """
    {"regions": [{"name": "eastus"}], "subscriptions": [{"id": "contoso"}],
     "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 3}]}
    """

/// Chunks of `bytes` of `size` bytes each, arriving one at a time as a request body would.
private struct Chunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let bytes: [UInt8]
    let size: Int
    struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ArraySlice<UInt8>
        let size: Int
        mutating func next() async throws -> [UInt8]? {
            guard !rest.isEmpty else { return nil }
            await Task.yield()
            let chunk = Array(rest.prefix(size))
            rest = rest.dropFirst(size)
            return chunk
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: bytes[...], size: size) }
}

/// A body that fails half way, as a dropped connection does.
private struct BrokenBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    struct Lost: Error {}
    struct AsyncIterator: AsyncIteratorProtocol {
        var sent = false
        mutating func next() async throws -> [UInt8]? {
            if sent { throw Lost() }
            sent = true
            return Array("name,region,subscription,availabilitySet,updateDomain,faultDomain\nweb-0,eastus,contoso,web,,\n".utf8)
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}

private func seeded(_ engine: TestEngine, actor: String = "floor", clock: Timestamp = t0) async throws -> (InventoryService, TestDatabase) {
    let db = try TestDatabase(engine)
    let inventory = InventoryService(store: db.store, actor: actor, clock: { clock })
    _ = try await inventory.importDocument(.bytes(Array(seed.utf8), name: "seed.json"))
    return (inventory, db)
}

/// Each VM as `name:UD:address`, read behind the store's back.
private func vmRows(_ db: TestDatabase) throws -> [String] {
    try db.strings("""
        SELECT name || ':' || coalesce(CAST(update_domain AS TEXT), '-') || ':' || coalesce(ip_address, '-') FROM vms ORDER BY name
        """).compactMap { $0 }
}

@Test(arguments: TestEngine.all) func aCSVStreamedInSmallChunksImportsExactlyAsTheSameFileDoes(engine: TestEngine) async throws {
    let (streamed, streamedDB) = try await seeded(engine)
    let bytes = Array(fleetCSV.utf8)
    // 7-byte chunks split records, fields and the header across chunk boundaries.
    let viaStream = try await streamed.importCSV(.stream(Chunks(bytes: bytes, size: 7), name: "upload.csv", sizeHint: nil))

    let (whole, wholeDB) = try await seeded(engine)
    let viaBytes = try await whole.importCSV(.bytes(bytes, name: "upload.csv"))

    #expect(viaStream == viaBytes)
    #expect(viaStream.vms.added == 4)
    #expect(try vmRows(streamedDB) == vmRows(wholeDB))
}

@Test(arguments: TestEngine.all) func aBodyThatBreaksOffHalfWayWritesNothing(engine: TestEngine) async throws {
    let (inventory, db) = try await seeded(engine)
    await #expect { try await inventory.importCSV(.stream(BrokenBody(), name: "upload.csv", sizeHint: nil)) } throws: { error in
        guard let error = error as? PitstopError else { return false }
        return error.kind == .invalid && error.message.hasPrefix("upload.csv: cannot be read")
    }
    #expect(try vmRows(db).isEmpty)
}

@Test(arguments: TestEngine.all) func theAuditNamesTheActorAndInstantTheCallerPassed(engine: TestEngine) async throws {
    let when = Timestamp(iso8601: "2026-12-24T18:00:00Z")!
    let (inventory, db) = try await seeded(engine, actor: "token:night-shift", clock: when)
    try await inventory.addVM(VMDraft(name: "web-9", region: "eastus", subscription: "contoso", availabilitySet: "web"))
    let entry = try #require(try await AuditService(store: db.store).entries(AuditFilter(subject: AuditSubject(.vm, "web-9"))).last)
    #expect(entry.actor == "token:night-shift")
    #expect(entry.at == when)
}

@Test(arguments: TestEngine.all) func aConstraintTheDatabaseRefusesArrivesAsAConflictInWords(engine: TestEngine) async throws {
    let (inventory, _) = try await seeded(engine)
    try await inventory.addVM(VMDraft(name: "web-0", region: "eastus", subscription: "contoso", availabilitySet: "web", ipAddress: "10.0.0.4"))
    await #expect { try await inventory.addVM(VMDraft(name: "web-1", region: "eastus", subscription: "contoso", availabilitySet: "web", ipAddress: "10.0.0.4")) } throws: { error in
        guard let error = error as? PitstopError else { return false }
        return error.kind == .conflict && error.message == "ipAddress 10.0.0.4 is already used by VM web-0"
    }
}

@Test(arguments: TestEngine.all) func aRowChangedBehindPitstopsBackIsAnInternalFaultNamingTheRow(engine: TestEngine) async throws {
    let db = try TestDatabase(engine)
    try db.execute("""
        INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, description, start_utc, end_utc)
        VALUES ('c1', 'reboot', 'yesterday', '2026-12-01T00:00:00Z', '[]', 900, 1800, 86400, '', '2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z')
        """)
    await #expect { try await SchedulerService(store: db.store).campaigns() } throws: { error in
        guard let error = error as? PitstopError else { return false }
        // In words: nothing of the engine's driver (GRDB, SQLite, PostgresNIO) shows through.
        return error.kind == .internal && error.message.contains("campaigns row 'c1' cannot be read")
            && !["GRDB", "SQLITE", "PSQL", "Postgres"].contains { error.message.contains($0) }
    }
}

@Test(arguments: TestEngine.all) func healthNeedsAReachableMigratedDatabase(engine: TestEngine) async throws {
    #expect(await Services(store: try TestDatabase(engine).store).isHealthy())
}
