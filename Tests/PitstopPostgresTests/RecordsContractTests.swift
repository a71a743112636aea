// The audit log, the notice outbox, the scheduled-events bookkeeping, the gauges and the API
// tokens: the same answers, orders and refusals on SQLite and on PostgreSQL.
import Foundation
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing

private let t0 = Timestamp(seconds: 1_800_000_000)

/// A campaign row for notices to belong to.
private func addCampaign(_ repos: any Repositories, id: String, status: CampaignStatus = .scheduled) throws {
    let campaign = Campaign(id: id, kind: .reboot, regions: ["r1"], createdAt: t0, notBefore: t0, perVMDuration: 600, udGap: 300)
    try repos.events.insert(campaign: campaign, span: TimeRange(start: t0, end: Timestamp(seconds: t0.seconds + 3600)))
    if status != .scheduled { try repos.events.setStatus(ofCampaign: id, to: status) }
}

private func notice(_ campaign: String, _ subscription: String, queued: Int64 = 0) -> NoticeRecord {
    NoticeRecord(id: 0, campaign: campaign, subscription: subscription, recipients: ["a@example.com", "b \"x\"@example.com"],
                 subject: "Maintenance \(campaign)", body: "Body for \(subscription)", queuedAt: Timestamp(seconds: t0.seconds + queued),
                 firstStart: Timestamp(seconds: t0.seconds + 7200), sentAt: nil, attempts: 0, lastError: nil)
}

/// The entries every audit test appends: times, actors, actions and subjects that the filters
/// tell apart, with a repeated subject that is stored once.
private func appendSample(_ repos: any Repositories) throws -> [AuditEntry] {
    let audit = repos.audit
    return [
        try audit.append(at: t0, actor: "alice", action: "vm.added", subjects: [AuditSubject(.vm, "web-1"), AuditSubject(.region, "r1")],
                         details: #"{"n":1}"#),
        try audit.append(at: Timestamp(seconds: t0.seconds + 60), actor: "bob", action: "vm.moved",
                         subjects: [AuditSubject(.vm, "web-1"), AuditSubject(.vm, "web-1"), AuditSubject(.set, "as-1")], details: "{}"),
        try audit.append(at: Timestamp(seconds: t0.seconds + 120), actor: "alice", action: "vm.added", subjects: [AuditSubject(.vm, "web-2")],
                         details: #"{"é":"ü"}"#),
        try audit.append(at: Timestamp(seconds: t0.seconds + 180), actor: "carol", action: "campaign.planned", subjects: [], details: "{}"),
    ]
}

private func entries(_ store: any Store, _ filter: AuditFilter) async throws -> [AuditEntry] {
    try await store.read { repos in
        var out: [AuditEntry] = []
        try repos.audit.forEach(filter) { out.append($0) }
        return out
    }
}

private func conflict(_ error: any Error, _ message: String) -> Bool {
    guard let error = error as? PitstopError else { return false }
    return error.kind == .conflict && error.message == message
}

@Suite("Audit log on both engines")
struct AuditContractTests {
    @Test("appended entries chain, and read back whole, oldest first", arguments: TestEngine.all)
    func appendAndRead(engine: TestEngine) async throws {
        let store = try engine.store()
        let appended = try await store.write { try appendSample($0) }
        #expect(appended.map(\.seq) == [1, 2, 3, 4])
        #expect(appended[0].previousHash == AuditLog.genesis)
        #expect(appended[1].previousHash == appended[0].hash)
        #expect(appended[1].subjects == [AuditSubject(.set, "as-1"), AuditSubject(.vm, "web-1")])
        let all = try await entries(store, AuditFilter())
        #expect(all == appended)
        // A second unit of work continues the chain.
        let fifth = try await store.write { repos in
            try repos.audit.append(at: Timestamp(seconds: t0.seconds + 240), actor: "dave", action: "vm.removed",
                                   subjects: [AuditSubject(.vm, "web-2")], details: "{}")
        }
        #expect(fifth.seq == 5 && fifth.previousHash == appended[3].hash)
        let head = try await store.read { try $0.audit.head() }
        #expect(head == ChainHead(seq: 5, hash: fifth.hash))
        let hashes = try await store.read { repos in (try repos.audit.entryHash(seq: 2), try repos.audit.entryHash(seq: 9)) }
        #expect(hashes.0 == appended[1].hash)
        #expect(hashes.1 == nil)
    }

    @Test("filters select by subject, action, time, seq and count", arguments: TestEngine.all)
    func filters(engine: TestEngine) async throws {
        let store = try engine.store()
        _ = try await store.write { try appendSample($0) }
        #expect(try await entries(store, AuditFilter(subject: AuditSubject(.vm, "web-1"))).map(\.seq) == [1, 2])
        #expect(try await entries(store, AuditFilter(subject: AuditSubject(.vm, "web-9"))).isEmpty)
        #expect(try await entries(store, AuditFilter(action: "vm.added")).map(\.seq) == [1, 3])
        #expect(try await entries(store, AuditFilter(since: Timestamp(seconds: t0.seconds + 60))).map(\.seq) == [2, 3, 4])
        #expect(try await entries(store, AuditFilter(until: Timestamp(seconds: t0.seconds + 120))).map(\.seq) == [1, 2])
        #expect(try await entries(store, AuditFilter(afterSeq: 1, limit: 2)).map(\.seq) == [2, 3])
        #expect(try await entries(store, AuditFilter(limit: 0)).isEmpty)
        #expect(try await entries(store, AuditFilter(subject: AuditSubject(.vm, "web-1"), action: "vm.moved", afterSeq: 1)).map(\.seq) == [2])
        let bySubject = try await entries(store, AuditFilter(subject: AuditSubject(.vm, "web-1"), afterSeq: 1))
        #expect(bySubject.map(\.seq) == [2])
        // A subject filter still reads every subject of the entries it selects.
        #expect(bySubject.first?.subjects == [AuditSubject(.set, "as-1"), AuditSubject(.vm, "web-1")])
    }

    @Test("verifyChain: empty, intact, and its head", arguments: TestEngine.all)
    func verify(engine: TestEngine) async throws {
        let store = try engine.store()
        let empty = try await store.read { try $0.audit.verifyChain() }
        #expect(empty == ChainCheck(entries: 0, firstBroken: nil, head: nil))
        let appended = try await store.write { try appendSample($0) }
        let check = try await store.read { try $0.audit.verifyChain() }
        #expect(check == ChainCheck(entries: 4, firstBroken: nil, head: ChainHead(seq: 4, hash: appended[3].hash)))
    }

    @Test("the same entries hash the same on both engines")
    func sameChain() async throws {
        var chains: [[AuditEntry]] = []
        for engine in TestEngine.all {
            let store = try engine.store()
            chains.append(try await store.write { try appendSample($0) })
            #expect(try await entries(store, AuditFilter()) == chains.last!)
        }
        for chain in chains.dropFirst() { #expect(chain == chains[0]) }
        // The hash any tool recomputes from the entry's fields.
        let first = chains[0][1]
        #expect(first.hash == AuditLog.hash(seq: first.seq, at: first.at.iso8601, actor: first.actor, action: first.action,
                                            subjects: first.subjects, details: first.details, previousHash: first.previousHash))
    }

    @Test("keys: oldest first, a repeat refused", arguments: TestEngine.all)
    func keys(engine: TestEngine) async throws {
        let store = try engine.store()
        let late = AuditKeyRecord(publicKey: String(repeating: "B", count: 43) + "=", fingerprint: "00000000000000aa",
                                  createdAt: Timestamp(seconds: t0.seconds + 10))
        let early = AuditKeyRecord(publicKey: String(repeating: "C", count: 43) + "=", fingerprint: "00000000000000bb", createdAt: t0)
        let tie = AuditKeyRecord(publicKey: String(repeating: "A", count: 43) + "=", fingerprint: "00000000000000ab",
                                 createdAt: Timestamp(seconds: t0.seconds + 10))
        try await store.write { repos in for key in [late, early, tie] { try repos.audit.record(key: key) } }
        #expect(try await store.read { try $0.audit.keys() } == [early, late, tie])
        await #expect { try await store.write { try $0.audit.record(key: early) } } throws: { conflict($0, "audit_keys is append-only") }
        // A new key under a fingerprint already recorded.
        let clash = AuditKeyRecord(publicKey: String(repeating: "D", count: 43) + "=", fingerprint: early.fingerprint, createdAt: t0)
        await #expect { try await store.write { try $0.audit.record(key: clash) } } throws: { conflict($0, "audit_keys is append-only") }
        #expect(try await store.read { try $0.audit.keys() }.count == 3)
    }

    @Test("no append-only trigger is missing from a new store", arguments: TestEngine.all)
    func triggersPresent(engine: TestEngine) async throws {
        let store = try engine.store()
        #expect(try await store.read { try $0.audit.missingAppendOnlyTriggers() } == [])
    }

    @Test("a dropped trigger is named, and an edit behind Pitstop's back breaks the chain there",
          .enabled(if: TestEngine.all.contains(.postgres)))
    func droppedTrigger() async throws {
        let url = try PostgresServer.freshDatabase()
        let store = try PostgresStore.open(PostgresLocation(url: url))
        defer { store.close() }
        _ = try await store.write { try appendSample($0) }
        let database = PostgresServer.databaseName(of: url)
        try PostgresServer.psql(database: database, "DROP TRIGGER audit_log_no_update ON audit_log")
        #expect(try await store.read { try $0.audit.missingAppendOnlyTriggers() } == ["audit_log_no_update"])
        try PostgresServer.psql(database: database, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        let check = try await store.read { try $0.audit.verifyChain() }
        #expect(check.entries == 4)
        #expect(check.firstBroken == ChainBreak(seq: 3, reason: "its content or subjects do not match its hash: the entry was edited"))
        // Entries renumbered: the walk names the gap.
        try PostgresServer.psql(database: database, "UPDATE audit_log SET seq = 9 WHERE seq = 4")
        let cut = try await store.read { try $0.audit.verifyChain() }
        #expect(cut.firstBroken?.seq == 3)
        #expect(cut.head?.seq == 9)
    }

    @Test("notices sent more than once, in log order", arguments: TestEngine.all)
    func repeatedSendings(engine: TestEngine) async throws {
        let store = try engine.store()
        try await store.write { repos in
            for (second, id) in [(0, "7"), (10, "8"), (20, "7"), (30, "9"), (40, "8"), (50, "7")] {
                try repos.audit.append(at: Timestamp(seconds: t0.seconds + Int64(second)), actor: "mailer", action: "notice.sent",
                                       subjects: [AuditSubject(.notice, id), AuditSubject(.campaign, "c1")], details: "{}")
            }
            try repos.audit.append(at: t0, actor: "mailer", action: "notice.failed", subjects: [AuditSubject(.notice, "9")], details: "{}")
        }
        let repeated = try await store.read { try $0.audit.repeatedNoticeSendings() }
        #expect(repeated == [
            RepeatedSending(notice: "7", campaign: nil, subscription: nil, times: [0, 20, 50].map { Timestamp(seconds: t0.seconds + $0) }),
            RepeatedSending(notice: "8", campaign: nil, subscription: nil, times: [10, 40].map { Timestamp(seconds: t0.seconds + $0) }),
        ])
    }

    @Test("a repeated sending names its notice's campaign and subscription", arguments: TestEngine.all)
    func repeatedSendingOwner(engine: TestEngine) async throws {
        let store = try engine.store()
        let id = try await store.write { repos in
            try addCampaign(repos, id: "c1")
            try repos.notices.insert(notice: notice("c1", "sub-1"))
            let id = try repos.notices.notices().first!.id
            for _ in 0..<2 {
                try repos.audit.append(at: t0, actor: "mailer", action: "notice.sent", subjects: [AuditSubject(.notice, String(id))], details: "{}")
            }
            return id
        }
        let repeated = try await store.read { try $0.audit.repeatedNoticeSendings() }
        #expect(repeated == [RepeatedSending(notice: String(id), campaign: "c1", subscription: "sub-1", times: [t0, t0])])
    }
}

@Suite("Notice outbox on both engines")
struct NoticeContractTests {
    @Test("insert, list by campaign, keys, one by id", arguments: TestEngine.all)
    func insertAndRead(engine: TestEngine) async throws {
        let store = try engine.store()
        try await store.write { repos in
            try addCampaign(repos, id: "c1")
            try addCampaign(repos, id: "c2")
            try repos.notices.insert(notice: notice("c2", "sub-b"))
            try repos.notices.insert(notice: notice("c1", "sub-a", queued: 5))
            try repos.notices.insert(notice: notice("c1", "sub-b"))
        }
        let all = try await store.read { try $0.notices.notices() }
        #expect(all.map { "\($0.campaign)/\($0.subscription)" } == ["c2/sub-b", "c1/sub-a", "c1/sub-b"])
        #expect(all.map(\.id) == all.map(\.id).sorted())
        #expect(Set(all.map(\.id)).count == 3)
        var expected = notice("c1", "sub-a", queued: 5)
        expected.id = all[1].id
        #expect(all[1] == expected)
        #expect(try await store.read { try $0.notices.notices(campaign: "c1") } == Array(all[1...]))
        #expect(try await store.read { try $0.notices.notices(campaign: "c9") } == [])
        #expect(try await store.read { try $0.notices.notice(id: all[0].id) } == all[0])
        #expect(try await store.read { try $0.notices.notice(id: 999_999) } == nil)
        #expect(try await store.read { try $0.notices.noticeKeys() } == [
            NoticeKey(campaign: "c2", subscription: "sub-b"), NoticeKey(campaign: "c1", subscription: "sub-a"),
            NoticeKey(campaign: "c1", subscription: "sub-b"),
        ])
        // One notice per (campaign, subscription); a refused write leaves nothing.
        await #expect { try await store.write { repos in
            try repos.notices.insert(notice: notice("c1", "sub-c"))
            try repos.notices.insert(notice: notice("c1", "sub-a"))
        } } throws: { conflict($0, "a record with that name already exists") }
        #expect(try await store.read { try $0.notices.notices() }.count == 3)
        // A notice of an unknown campaign is refused.
        await #expect { try await store.write { try $0.notices.insert(notice: notice("nope", "sub-a")) } } throws: {
            conflict($0, "refers to something that does not exist")
        }
    }

    @Test("markSent once, recordFailure while queued", arguments: TestEngine.all)
    func sending(engine: TestEngine) async throws {
        let store = try engine.store()
        let ids = try await store.write { repos in
            try addCampaign(repos, id: "c1")
            try repos.notices.insert(notice: notice("c1", "sub-a"))
            try repos.notices.insert(notice: notice("c1", "sub-b"))
            return try repos.notices.notices().map(\.id)
        }
        let sentAt = Timestamp(seconds: t0.seconds + 99)
        let first = try await store.write { repos in
            (try repos.notices.recordFailure(id: ids[0], error: "smtp down"), try repos.notices.markSent(id: ids[0], at: sentAt))
        }
        #expect(first == (true, true))
        let again = try await store.write { repos in
            (try repos.notices.markSent(id: ids[0], at: Timestamp(seconds: 5)), try repos.notices.recordFailure(id: ids[0], error: "late"),
             try repos.notices.recordFailure(id: 999_999, error: "x"), try repos.notices.markSent(id: 999_999, at: sentAt))
        }
        #expect(again == (false, false, false, false))
        let failed = try await store.write { repos in
            (try repos.notices.recordFailure(id: ids[1], error: "one"), try repos.notices.recordFailure(id: ids[1], error: "two"))
        }
        #expect(failed == (true, true))
        let sent = try #require(try await store.read { try $0.notices.notice(id: ids[0]) })
        #expect(sent.sentAt == sentAt && sent.attempts == 2 && sent.lastError == nil)
        let queued = try #require(try await store.read { try $0.notices.notice(id: ids[1]) })
        #expect(queued.sentAt == nil && queued.attempts == 2 && queued.lastError == "two")
    }

    @Test("cancelled campaigns", arguments: TestEngine.all)
    func cancelled(engine: TestEngine) async throws {
        let store = try engine.store()
        #expect(try await store.read { try $0.notices.cancelledCampaigns() } == [])
        try await store.write { repos in
            try addCampaign(repos, id: "c1")
            try addCampaign(repos, id: "c2", status: .cancelled)
            try addCampaign(repos, id: "c3", status: .cancelled)
        }
        #expect(try await store.read { try $0.notices.cancelledCampaigns() } == ["c2", "c3"])
    }
}

@Suite("Scheduled-events bookkeeping on both engines")
struct ScheduledEventsContractTests {
    @Test("an incarnation starts at one, rises by one for each new content, stays for the same, and never goes back", arguments: TestEngine.all)
    func incarnations(engine: TestEngine) async throws {
        let (store, sql) = try FleetContractTests.openWithBackDoor(engine)
        #expect(try await store.read { try $0.scheduledEvents.incarnation(vm: "web-1") } == nil)
        let later = Timestamp(seconds: t0.seconds + 60)
        let numbers = try await store.bookkeepingWrite { repos in
            [try repos.scheduledEvents.incarnate(vm: "web-1", digest: "d1", at: t0), try repos.scheduledEvents.incarnate(vm: "web-2", digest: "x", at: t0),
             try repos.scheduledEvents.incarnate(vm: "web-1", digest: "d1", at: later), try repos.scheduledEvents.incarnate(vm: "web-1", digest: "d2", at: later)]
        }
        #expect(numbers == [1, 1, 1, 2])
        #expect(try await store.read { try $0.scheduledEvents.incarnation(vm: "web-1") }
                == DocumentIncarnation(vm: "web-1", number: 2, digest: "d2", changedAt: later))
        // An old content again is a new incarnation.
        #expect(try await store.bookkeepingWrite { try $0.scheduledEvents.incarnate(vm: "web-1", digest: "d1", at: later) } == 3)
        #expect(try await store.read { try $0.scheduledEvents.incarnation(vm: "web-2") } == DocumentIncarnation(vm: "web-2", number: 1, digest: "x", changedAt: t0))
        // The schema itself keeps a number from going back, whoever writes.
        #expect(throws: (any Error).self) { _ = try sql("UPDATE scheduled_event_documents SET incarnation = 2 WHERE vm = 'web-1'") }
        #expect(throws: (any Error).self) { _ = try sql("DELETE FROM scheduled_event_documents WHERE vm = 'web-1'") }
        #expect(try await store.read { try $0.scheduledEvents.incarnation(vm: "web-1") }?.number == 3)
    }

    @Test("polls at once for one VM raise its number once for one new content", arguments: TestEngine.all)
    func racingIncarnations(engine: TestEngine) async throws {
        let store = try engine.store()
        _ = try await store.bookkeepingWrite { try $0.scheduledEvents.incarnate(vm: "web-1", digest: "d1", at: t0) }
        let numbers = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<8 {
                group.addTask { try await store.bookkeepingWrite { try $0.scheduledEvents.incarnate(vm: "web-1", digest: "d2", at: t0) } }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(numbers == Array(repeating: 2, count: 8))
        #expect(try await store.read { try $0.scheduledEvents.incarnation(vm: "web-1") }?.number == 2)
        // Two contents at once (a poll on each side of a wave coming into view): never one
        // number for both.
        let served = try await withThrowingTaskGroup(of: (Int64, String).self) { group in
            for i in 0..<8 {
                let digest = i % 2 == 0 ? "d3" : "d4"
                group.addTask { (try await store.bookkeepingWrite { try $0.scheduledEvents.incarnate(vm: "web-1", digest: digest, at: t0) }, digest) }
            }
            return try await group.reduce(into: [Int64: Set<String>]()) { $0[$1.0, default: []].insert($1.1) }
        }
        #expect(served.values.allSatisfy { $0.count == 1 }, "one incarnation numbered two documents: \(served)")
        #expect(served.keys.allSatisfy { $0 > 2 })
    }
}

@Suite("Gauges on both engines")
struct GaugeContractTests {
    @Test("an empty store", arguments: TestEngine.all)
    func empty(engine: TestEngine) async throws {
        let store = try engine.store()
        let gauges = try await store.read { repos in
            (try repos.gauges.eventCounts(), try repos.gauges.wavesRunning(), try repos.gauges.noticesQueued(), try repos.gauges.databaseSizeBytes())
        }
        #expect(gauges.0 == [])
        #expect(gauges.1 == 0)
        #expect(gauges.2 == 0)
        #expect(gauges.3 > 0)
    }

    @Test("queued notices leave out the sent ones and those of cancelled campaigns", arguments: TestEngine.all)
    func noticesQueued(engine: TestEngine) async throws {
        let store = try engine.store()
        try await store.write { repos in
            try addCampaign(repos, id: "c1")
            try addCampaign(repos, id: "c2", status: .cancelled)
            for (campaign, subscription) in [("c1", "a"), ("c1", "b"), ("c1", "c"), ("c2", "a")] {
                try repos.notices.insert(notice: notice(campaign, subscription))
            }
            let first = try repos.notices.notices(campaign: "c1")[0].id
            _ = try repos.notices.markSent(id: first, at: t0)
        }
        #expect(try await store.read { try $0.gauges.noticesQueued() } == 2)
    }
}

@Suite("API tokens on both engines")
struct TokenContractTests {
    private func token(_ name: String, _ role: String = "viewer", fill: Character = "a") -> StoredToken {
        StoredToken(name: name, role: role, hash: String(repeating: fill, count: 64), createdAt: t0, createdBy: "admin")
    }

    @Test("insert, list in name order, by name, refuse a taken name", arguments: TestEngine.all)
    func insertAndRead(engine: TestEngine) async throws {
        let store = try engine.store()
        try await store.write { repos in
            try repos.tokens.insert(token("zed", "operator", fill: "1"))
            try repos.tokens.insert(token("Bob", fill: "2"))
            try repos.tokens.insert(token("amy", "executor", fill: "3"))
        }
        let all = try await store.read { try $0.tokens.all() }
        #expect(all.map(\.name) == ["Bob", "amy", "zed"])
        #expect(all[2] == token("zed", "operator", fill: "1"))
        #expect(try await store.read { try $0.tokens.byName("amy") } == token("amy", "executor", fill: "3"))
        #expect(try await store.read { try $0.tokens.byName("AMY") } == nil)
        await #expect { try await store.write { repos in
            try repos.tokens.insert(token("new", fill: "4"))
            try repos.tokens.insert(token("amy", fill: "5"))
        } } throws: { error in
            conflict(error, "token amy already exists; revoke it first or pick another name")
        }
        #expect(try await store.read { try $0.tokens.all() }.count == 3)
        // The same hash under another name: the unique index refuses it.
        await #expect { try await store.write { try $0.tokens.insert(token("copy", fill: "1")) } } throws: {
            conflict($0, "a record with that name already exists")
        }
        // A role the schema does not know.
        await #expect { try await store.write { try $0.tokens.insert(token("odd", "root", fill: "6")) } } throws: {
            conflict($0, "the change breaks a rule of the stored fleet")
        }
    }

    @Test("delete and stampLastUsed", arguments: TestEngine.all)
    func deleteAndStamp(engine: TestEngine) async throws {
        let store = try engine.store()
        try await store.write { repos in
            try repos.tokens.insert(token("one", fill: "1"))
            try repos.tokens.insert(token("two", fill: "2"))
        }
        let used = Timestamp(seconds: t0.seconds + 500)
        let stamped = try await store.write { repos in
            (try repos.tokens.stampLastUsed(name: "one", at: used), try repos.tokens.stampLastUsed(name: "none", at: used))
        }
        #expect(stamped == (true, false))
        #expect(try await store.read { try $0.tokens.byName("one") }?.lastUsedAt == used)
        #expect(try await store.read { try $0.tokens.byName("two") }?.lastUsedAt == nil)
        let deleted = try await store.write { repos in (try repos.tokens.delete(name: "two"), try repos.tokens.delete(name: "two")) }
        #expect(deleted == (true, false))
        #expect(try await store.read { try $0.tokens.all() }.map(\.name) == ["one"])
    }
}
