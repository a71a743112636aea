// A database written by release 0006 opens in this release with nothing lost, row by row.
//
// What it proves: every event of `Tests/PitstopCLITests/Fixtures/release-0006.sql` (a dump of a
// database that release 0006, the last one to store plans as one `events` row per VM, wrote
// through its real CLI) is read raw from the old `events` table, all 18 columns, before Pitstop
// touches the file; then `AppDatabase.open(path:)` opens it (applying whatever migrations came
// after 0006), and the repository must give back, for every old row, an EventRecord equal to it
// field by field: id, campaign, VM, region, set, update and fault domain, wave, kind, planned
// start and end, status, planned-at, approval, actual start and end, forced, reason; no event
// more, none less; the same events per wave, per campaign and per VM. The campaigns, notices,
// audit log and its subjects, audit keys and VMs must be row for row what they were, read both
// raw (their columns in release 0006) and through the repositories, and the audit chain must
// still verify with the same head. A conversion that drops or alters any of these fails here.
//
// It reads the old tables only before Pitstop opens the file, and afterwards only the tables a
// change of how plans are stored leaves alone, so it holds before and after that change.
//
// The fixture is made by (ONLY with the release 0006 binary, never a newer one: it stands for
// the databases release 0006 wrote):
//     python3 Tests/Support/make_release_0006_fixture.py --pitstop .build/debug/pitstop
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

/// The dump, found from this file's place in `Tests/PitstopStoreTests/`.
private let release0006Dump = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("PitstopCLITests/Fixtures/release-0006.sql")

/// One row of release 0006's `events` table, as stored.
private struct OldEvent: Sendable {
    var id, campaign, vm, region: String
    var availabilitySet: String?
    var updateDomain, faultDomain: Int?
    var wave, kind, startUTC, endUTC, status, plannedAt: String
    var approvedAt, actualStart, actualEnd: String?
    var forced: Int
    var reason: String?

    static let columns = """
        id, campaign, vm, region, availability_set, update_domain, fault_domain, wave, kind, start_utc, end_utc, \
        status, planned_at, approved_at, actual_start, actual_end, forced, reason
        """

    init(_ row: Row) {
        id = row["id"]; campaign = row["campaign"]; vm = row["vm"]; region = row["region"]
        availabilitySet = row["availability_set"]; updateDomain = row["update_domain"]; faultDomain = row["fault_domain"]
        wave = row["wave"]; kind = row["kind"]; startUTC = row["start_utc"]; endUTC = row["end_utc"]
        status = row["status"]; plannedAt = row["planned_at"]; approvedAt = row["approved_at"]
        actualStart = row["actual_start"]; actualEnd = row["actual_end"]; forced = row["forced"]; reason = row["reason"]
    }
}

/// The tables a change of how plans are stored leaves alone, with their columns in release 0006
/// and an order that makes the reading repeatable.
private let untouchedTables: [(table: String, columns: String, order: String)] = [
    ("campaigns", "id, kind, status, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, description, start_utc, end_utc", "id"),
    ("notices", "id, campaign, subscription, recipients, subject, body, queued_at, first_start, sent_at, attempts, last_error", "id"),
    ("audit_log", "seq, at, actor, action, details, prev_hash, hash", "seq"),
    ("audit_subjects", "seq, kind, name", "seq, kind, name"),
    ("audit_keys", "public_key, fingerprint, created_at", "public_key"),
    ("vms", "name, region, subscription, availability_set, update_domain, fault_domain, ip_address", "name"),
    ("availability_sets", "name, region, subscription, fault_domains, update_domains, placed_count", "name"),
    ("regions", "name, display_name", "name"),
    ("region_pairs", "region, paired_with", "region, paired_with"),
    ("subscriptions", "id, admins, co_admins, notice_time_zone", "id"),
]

/// Every row of `table` as raw values.
private func rawRows(_ db: Database, _ t: (table: String, columns: String, order: String)) throws -> [[DatabaseValue]] {
    try Row.fetchAll(db, sql: "SELECT \(t.columns) FROM \(t.table) ORDER BY \(t.order)").map { Array($0.databaseValues) }
}

/// What the old file holds, read without Pitstop.
private struct Snapshot: Sendable {
    var events: [OldEvent]
    var tables: [String: [[DatabaseValue]]]
}

/// Loads the dump into a new file in `directory` (plain SQL, no migrator) and reads it raw.
private func loadRelease0006(in directory: URL) throws -> (path: String, before: Snapshot) {
    let path = directory.appendingPathComponent("release-0006.sqlite").path
    let dump = try String(contentsOf: release0006Dump, encoding: .utf8)
    let queue = try DatabaseQueue(path: path)
    try queue.inDatabase { db in try db.execute(sql: dump) }
    let snapshot = try queue.read { db in
        Snapshot(events: try Row.fetchAll(db, sql: "SELECT \(OldEvent.columns) FROM events ORDER BY seq").map(OldEvent.init),
                 tables: try Dictionary(uniqueKeysWithValues: untouchedTables.map { ($0.table, try rawRows(db, $0)) }))
    }
    try queue.close()
    return (path, snapshot)
}

/// Reads the same tables raw after Pitstop opened (and migrated) the file and closed it.
private func rawTables(_ path: String) throws -> [String: [[DatabaseValue]]] {
    var configuration = Configuration()
    configuration.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    defer { try? queue.close() }
    return try queue.read { db in try Dictionary(uniqueKeysWithValues: untouchedTables.map { ($0.table, try rawRows(db, $0)) }) }
}

private func time(_ text: String?) throws -> Timestamp? {
    guard let text else { return nil }
    guard let instant = Timestamp(iso8601: text) else { throw PitstopError(.invalid, "not an ISO 8601 instant: \(text)") }
    return instant
}

/// Expects `record` to be the old row `old`, field by field.
private func expectSame(_ record: EventRecord, as old: OldEvent) throws {
    let e = record.event, id = old.id
    #expect(e.id == old.id)
    #expect(e.campaign == old.campaign, "\(id): campaign")
    #expect(e.vm == old.vm, "\(id): vm")
    #expect(e.region == old.region, "\(id): region")
    #expect(e.availabilitySet == old.availabilitySet, "\(id): availability set")
    #expect(e.updateDomain == old.updateDomain, "\(id): update domain")
    #expect(e.faultDomain == old.faultDomain, "\(id): fault domain")
    #expect(e.wave == old.wave, "\(id): wave")
    #expect(e.kind.rawValue == old.kind, "\(id): kind")
    #expect(e.range.start == (try time(old.startUTC)), "\(id): planned start")
    #expect(e.range.end == (try time(old.endUTC)), "\(id): planned end")
    #expect(e.status.rawValue == old.status, "\(id): status")
    #expect(e.plannedAt == (try time(old.plannedAt)), "\(id): planned at")
    #expect(record.approvedAt == (try time(old.approvedAt)), "\(id): approved at")
    #expect(record.actualStart == (try time(old.actualStart)), "\(id): actual start")
    #expect(record.actualEnd == (try time(old.actualEnd)), "\(id): actual end")
    #expect(record.forced == (old.forced == 1), "\(id): forced")
    #expect(record.reason == old.reason, "\(id): reason")
}

@Suite struct ReleaseMigrationStoreTests {
    @Test func theFixtureHoldsEveryStateAnEventCanBeIn() throws {
        // Given the old file, read raw
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = try loadRelease0006(in: directory).before.events

        // then the fixture exercises what a lossy conversion could lose
        #expect(Set(old.map(\.status)) == ["scheduled", "started", "completed", "failed", "cancelled"])
        #expect(Set(old.map(\.kind)) == ["freeze", "reboot"])
        #expect(old.contains { $0.forced == 1 && $0.reason != nil })
        #expect(old.contains { $0.status == "failed" && $0.reason != nil })
        #expect(old.contains { $0.status == "started" && $0.actualStart != nil && $0.actualEnd == nil })
        #expect(old.contains { $0.availabilitySet == nil })
        #expect(Set(old.compactMap(\.faultDomain)).count >= 3)
        #expect(Set(old.compactMap(\.updateDomain)).count >= 3)
        // a wave with an approved event and an unapproved one
        let waves = Dictionary(grouping: old, by: \.wave)
        #expect(waves.values.contains { w in w.contains { $0.approvedAt != nil } && w.contains { $0.approvedAt == nil } })
        // a wave where one event failed and the others completed
        #expect(waves.values.contains { w in w.contains { $0.status == "failed" } && w.contains { $0.status == "completed" } })
        // events of a VM no longer in the fleet
        let vms = try DatabaseQueue(path: directory.appendingPathComponent("release-0006.sqlite").path).read { db in
            try Set(String.fetchAll(db, sql: "SELECT name FROM vms"))
        }
        #expect(old.contains { !vms.contains($0.vm) })
    }

    @Test func everyOldEventReadsBackFieldByFieldAfterTheMigration() async throws {
        // Given the old file and every row of its events table, read raw
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (path, before) = try loadRelease0006(in: directory)
        #expect(!before.events.isEmpty)

        // when this release opens it (and migrates it) and reads the events through the repository
        let database = try AppDatabase.open(path: path)
        let all = try await database.read { tx in try tx.events.events(.all) }
        let oldIDs = before.events.map(\.id)
        let one = try await database.read { tx in try oldIDs.map { try tx.events.events(.event($0)) } }
        let waveIDs = Array(Set(before.events.map(\.wave))).sorted()
        let byWave = try await database.read { tx in try waveIDs.map { try Set(tx.events.events(.wave($0)).map(\.event.id)) } }
        let campaignIDs = Array(Set(before.events.map(\.campaign))).sorted()
        let byCampaign = try await database.read { tx in try campaignIDs.map { try Set(tx.events.events(.campaign($0)).map(\.event.id)) } }
        let vmNames = Array(Set(before.events.map(\.vm))).sorted()
        let byVM = try await database.read { tx in try vmNames.map { try Set(tx.events.events(.vm($0)).map(\.event.id)) } }
        try database.writer.close()

        // then there are as many events as rows, each one equal to its row
        #expect(all.count == before.events.count)
        #expect(Set(all.map(\.event.id)) == Set(oldIDs))
        let read = Dictionary(all.map { ($0.event.id, $0) }, uniquingKeysWith: { first, _ in first })
        for old in before.events {
            let record = try #require(read[old.id], "event \(old.id) is gone")
            try expectSame(record, as: old)
        }
        // and each is found alone by its id
        for (old, found) in zip(before.events, one) {
            #expect(found.count == 1, "event \(old.id): \(found.count) found by id")
            if let record = found.first { try expectSame(record, as: old) }
        }
        // with the same members per wave, per campaign and per VM
        for (wave, members) in zip(waveIDs, byWave) {
            #expect(members == Set(before.events.filter { $0.wave == wave }.map(\.id)), "wave \(wave)")
        }
        for (campaign, members) in zip(campaignIDs, byCampaign) {
            #expect(members == Set(before.events.filter { $0.campaign == campaign }.map(\.id)), "campaign \(campaign)")
        }
        for (vm, members) in zip(vmNames, byVM) {
            #expect(members == Set(before.events.filter { $0.vm == vm }.map(\.id)), "VM \(vm)")
        }
    }

    @Test func campaignsNoticesAuditAndFleetRowsAreUnchangedAndTheChainVerifies() async throws {
        // Given the old file and its rows, read raw
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (path, before) = try loadRelease0006(in: directory)

        // when this release opens it and reads through the repositories
        let database = try AppDatabase.open(path: path)
        let (campaigns, notices, entries, chain) = try await database.read { tx in
            var entries: [AuditEntry] = []
            try tx.audit.forEach(AuditFilter()) { entries.append($0) }
            return (try tx.events.campaigns(), try tx.notices.notices(), entries, try tx.audit.verifyChain())
        }
        try database.writer.close()

        // then the raw rows are what they were
        let after = try rawTables(path)
        for table in untouchedTables.map(\.table) {
            let old = try #require(before.tables[table]), new = try #require(after[table])
            #expect(new == old, "table \(table) changed")
        }

        // and the repositories give back the same campaigns, field by field
        let oldCampaigns = try #require(before.tables["campaigns"])
        #expect(campaigns.count == oldCampaigns.count)
        for row in oldCampaigns {
            let id = try #require(String.fromDatabaseValue(row[0]))
            let c = try #require(campaigns.first { $0.campaign.id == id }, "campaign \(id) is gone")
            #expect(c.campaign.kind.rawValue == String.fromDatabaseValue(row[1]))
            #expect(c.status.rawValue == String.fromDatabaseValue(row[2]))
            #expect(c.campaign.createdAt == (try time(String.fromDatabaseValue(row[3]))))
            #expect(c.campaign.notBefore == (try time(String.fromDatabaseValue(row[4]))))
            let regions = try JSONDecoder().decode([String].self, from: Data(try #require(String.fromDatabaseValue(row[5])).utf8))
            #expect(c.campaign.regions == regions)
            #expect(c.campaign.perVMDuration == Int64.fromDatabaseValue(row[6]))
            #expect(c.campaign.udGap == Int64.fromDatabaseValue(row[7]))
            #expect(c.campaign.horizon == Int64.fromDatabaseValue(row[8]))
            #expect(c.campaign.description == String.fromDatabaseValue(row[9]))
            #expect(c.span.start == (try time(String.fromDatabaseValue(row[10]))))
            #expect(c.span.end == (try time(String.fromDatabaseValue(row[11]))))
        }

        // the same notices
        let oldNotices = try #require(before.tables["notices"])
        #expect(notices.count == oldNotices.count)
        for row in oldNotices {
            let id = try #require(Int64.fromDatabaseValue(row[0]))
            let n = try #require(notices.first { $0.id == id }, "notice \(id) is gone")
            #expect(n.campaign == String.fromDatabaseValue(row[1]))
            #expect(n.subscription == String.fromDatabaseValue(row[2]))
            let recipients = try JSONDecoder().decode([String].self, from: Data(try #require(String.fromDatabaseValue(row[3])).utf8))
            #expect(n.recipients == recipients)
            #expect(n.subject == String.fromDatabaseValue(row[4]))
            #expect(n.body == String.fromDatabaseValue(row[5]))
            #expect(n.queuedAt == (try time(String.fromDatabaseValue(row[6]))))
            #expect(n.firstStart == (try time(String.fromDatabaseValue(row[7]))))
            #expect(n.sentAt == (try time(String.fromDatabaseValue(row[8]))))
            #expect(n.attempts == Int.fromDatabaseValue(row[9]))
            #expect(n.lastError == String.fromDatabaseValue(row[10]))
        }

        // the same audit entries with the same subjects
        let oldEntries = try #require(before.tables["audit_log"]), oldSubjects = try #require(before.tables["audit_subjects"])
        #expect(entries.count == oldEntries.count)
        for (entry, row) in zip(entries, oldEntries) {
            #expect(entry.seq == Int64.fromDatabaseValue(row[0]))
            #expect(entry.at == (try time(String.fromDatabaseValue(row[1]))))
            #expect(entry.actor == String.fromDatabaseValue(row[2]))
            #expect(entry.action == String.fromDatabaseValue(row[3]))
            #expect(entry.details == String.fromDatabaseValue(row[4]))
            #expect(entry.previousHash == String.fromDatabaseValue(row[5]))
            #expect(entry.hash == String.fromDatabaseValue(row[6]))
            let subjects = Set(oldSubjects.filter { Int64.fromDatabaseValue($0[0]) == entry.seq }
                .map { "\(String.fromDatabaseValue($0[1]) ?? ""):\(String.fromDatabaseValue($0[2]) ?? "")" })
            #expect(Set(entry.subjects.map { "\($0.kind.rawValue):\($0.name)" }) == subjects, "subjects of entry \(entry.seq)")
        }

        // and the chain verifies, ending at the old head
        #expect(chain.ok, "the chain is broken: \(String(describing: chain.firstBroken))")
        #expect(chain.entries == oldEntries.count)
        #expect(chain.head?.hash == oldEntries.last.flatMap { String.fromDatabaseValue($0[6]) })
    }
}
