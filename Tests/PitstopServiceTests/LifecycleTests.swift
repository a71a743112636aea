// The event lifecycle on an in-memory database: transitions, refused and forced starts, waves, audit.
import Foundation
import PitstopCore
import PitstopService
import PitstopStore
import PitstopTestSupport
import Testing

/// eastus (set web: UDs 0 and 1, web-0..web-3; single-instance solo-east) is linked to westus
/// (set api: api-0, api-1 in UDs 0 and 1), one way only; northeurope is unpaired.
private let fleetJSON = """
    {
      "regions": [{"name": "eastus"}, {"name": "westus"}, {"name": "northeurope"}],
      "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
      "subscriptions": [{"id": "sub", "admins": ["ops@example.com"]}],
      "availabilitySets": [
        {"name": "web", "region": "eastus", "subscription": "sub", "updateDomains": 2},
        {"name": "api", "region": "westus", "subscription": "sub", "updateDomains": 2}
      ],
      "vms": [
        {"name": "web-0", "availabilitySet": "web"}, {"name": "web-1", "availabilitySet": "web"},
        {"name": "web-2", "availabilitySet": "web"}, {"name": "web-3", "availabilitySet": "web"},
        {"name": "solo-east", "region": "eastus", "subscription": "sub"},
        {"name": "api-0", "availabilitySet": "api"}, {"name": "api-1", "availabilitySet": "api"}
      ]
    }
    """

private func at(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

/// When the test campaign is planned; a reboot may then start from 2026-11-08.
private let planned = at("2026-11-01T00:00:00Z")
private let noticeRuns = at("2026-11-08T00:00:00Z")

/// A fleet and one reboot campaign over eastus and westus, not before 2026-11-10, 30 min gap.
/// Every test here runs on SQLite and on PostgreSQL.
private struct Fixture {
    let database: any Store
    let raw: TestDatabase
    let lifecycle: LifecycleService
    let campaign: String

    init(_ engine: TestEngine, regions: [String] = ["eastus", "westus"], udGap: Int64 = 1800) async throws {
        raw = try TestDatabase(engine)
        database = raw.store
        _ = try await InventoryService(store: database, actor: "test", clock: { planned })
            .importDocument(.bytes(Array(fleetJSON.utf8), name: "fleet.json"))
        let plan = try await SchedulerService(store: database).plan(
            CampaignRequest(kind: .reboot, regions: regions, notBefore: at("2026-11-10T00:00:00Z"), udGap: udGap),
            now: planned, dryRun: false, actor: "planner")
        campaign = plan.campaign.id
        lifecycle = LifecycleService(store: database)
    }

    /// The VM's event in the campaign, as stored now.
    func record(_ vm: String) async throws -> EventRecord {
        try #require(try await SchedulerService(store: database).campaign(campaign).events.first { $0.event.vm == vm })
    }

    func id(_ vm: String) async throws -> String { try await record(vm).event.id }
    func wave(_ vm: String) async throws -> String { try await record(vm).event.wave }
    func plannedStart(_ vm: String) async throws -> Timestamp { try await record(vm).event.range.start }

    /// Audit actions in order, after the planning entries.
    func actions() throws -> [String] {
        try raw.strings("SELECT action FROM audit_log WHERE action LIKE 'event.%' ORDER BY seq").compactMap { $0 }
    }

    func auditRows() throws -> Int {
        try raw.integer("SELECT count(*) FROM audit_log") ?? 0
    }

    func subjects(seq: Int64) throws -> Set<String> {
        Set(try raw.strings("SELECT kind || ' ' || name FROM audit_subjects WHERE seq = ?", [.integer(seq)]).compactMap { $0 })
    }

    /// Starts an event at its planned start.
    func startOnTime(_ vm: String) async throws {
        try await lifecycle.start(.event(try await id(vm)), at: try await plannedStart(vm), actor: "tester")
    }
}

private func refusal(_ body: () async throws -> Void) async -> PitstopError? {
    do { try await body() } catch let refused as PitstopError where refused.kind == .refused { return refused } catch { Issue.record("expected a refusal, got \(error)") }
    return nil
}

private func serviceError(_ body: () async throws -> Void) async -> PitstopError? {
    do { try await body() } catch let error as PitstopError { return error } catch { Issue.record("expected a PitstopError, got \(error)") }
    return nil
}

/// The rules a refusal names, one per conflict line of its message (`  rule: ...`), in order;
/// the `not-approved` line is not a rule.
private func rules(_ refused: PitstopError?) -> [String] {
    guard let refused else { return [] }
    return refused.message.split(separator: "\n").dropFirst().compactMap { line -> String? in
        guard line.hasPrefix("  "), let colon = line.firstIndex(of: ":") else { return nil }
        let rule = line[line.startIndex..<colon].trimmingCharacters(in: .whitespaces)
        return rule == "not-approved" ? nil : rule
    }
}

/// The `not-approved` line of a refusal, if any.
private func notApproved(_ refused: PitstopError?) -> String? {
    refused?.message.split(separator: "\n").first { $0.hasPrefix("  not-approved:") }.map(String.init)
}

// MARK: Legal transitions

@Test(arguments: TestEngine.all) func approvingMarksAScheduledEventApproved(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let result = try await f.lifecycle.approve(.event(try await f.id("web-0")), at: at("2026-11-02T09:00:00Z"), actor: "owner")
    let record = try await f.record("web-0")
    #expect(record.event.status == .scheduled)
    #expect(record.approvedAt == at("2026-11-02T09:00:00Z"))
    #expect(result.audit?.action == "event.approved")
    #expect(result.audit?.actor == "owner")
    let subjects = try f.subjects(seq: try #require(result.audit?.seq))
    #expect(subjects.isSuperset(of: ["event \(try await f.id("web-0"))", "vm web-0", "set web", "region eastus", "campaign \(f.campaign)"]))
}

@Test(arguments: TestEngine.all) func approvingTwiceChangesNothing(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let id = try await f.id("web-0")
    try await f.lifecycle.approve(.event(id), at: at("2026-11-02T09:00:00Z"), actor: "tester")
    let rows = try f.auditRows()
    let again = try await f.lifecycle.approve(.event(id), at: at("2026-11-03T09:00:00Z"), actor: "tester")
    #expect(again.changed.isEmpty)
    #expect(again.audit == nil)
    #expect(try f.auditRows() == rows)
    #expect(try await f.record("web-0").approvedAt == at("2026-11-02T09:00:00Z"))
}

@Test(arguments: TestEngine.all) func startingRecordsTheActualStart(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let start = try await f.plannedStart("web-0") + 120
    let result = try await f.lifecycle.start(.event(try await f.id("web-0")), at: start, reason: "agent picked it up", actor: "tester")
    let record = try await f.record("web-0")
    #expect(record.event.status == .started)
    #expect(record.actualStart == start)
    #expect(!record.forced)
    #expect(record.reason == "agent picked it up")
    #expect(!result.forced)
    #expect(result.audit?.details.contains("\"forced\": false") == true)
}

@Test(arguments: TestEngine.all, [Transition.complete, .fail])
func endingRecordsTheActualEnd(engine: TestEngine, transition: Transition) async throws {
    let f = try await Fixture(engine)
    try await f.startOnTime("web-0")
    let end = try await f.plannedStart("web-0") + 1000
    let result = try await f.lifecycle.transition(transition, .event(try await f.id("web-0")), at: end, reason: "host patched", actor: "tester")
    let record = try await f.record("web-0")
    #expect(record.event.status == (transition == .complete ? .completed : .failed))
    #expect(record.actualEnd == end)
    #expect(result.audit?.action == transition.action)
    #expect(result.audit?.details.contains("\"seconds\": 1000") == true)
}

@Test(arguments: TestEngine.all) func cancellingAScheduledEvent(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let result = try await f.lifecycle.cancel(.event(try await f.id("solo-east")), at: at("2026-11-05T00:00:00Z"), reason: "VM retired", actor: "tester")
    #expect(try await f.record("solo-east").event.status == .cancelled)
    #expect(result.audit?.action == "event.cancelled")
    #expect(result.audit?.details.contains("VM retired") == true)
}

// MARK: Illegal transitions

/// (what happened first, the transition attempted, the status the message names)
@Test(arguments: TestEngine.all, [
    ([Transition](), Transition.complete, "scheduled"),
    ([], .fail, "scheduled"),
    ([.start], .start, "started"),
    ([.start], .cancel, "started"),
    ([.start], .approve, "started"),
    ([.start, .complete], .complete, "completed"),
    ([.start, .fail], .start, "failed"),
    ([.cancel], .start, "cancelled"),
    ([.cancel], .complete, "cancelled"),
    ([.cancel], .approve, "cancelled"),
    ([.cancel], .cancel, "cancelled"),
])
func illegalTransitionsAreConflicts(engine: TestEngine, step: ([Transition], Transition, String)) async throws {
    let (before, attempt, status) = step
    let f = try await Fixture(engine)
    let id = try await f.id("web-0")
    var instant = try await f.plannedStart("web-0")
    for step in before {
        try await f.lifecycle.transition(step, .event(id), at: instant, actor: "tester")
        instant = instant + 60
    }
    let rows = try f.auditRows()
    let attemptAt = instant
    let error = await serviceError { try await f.lifecycle.transition(attempt, .event(id), at: attemptAt, actor: "tester") }
    #expect(error?.kind == .conflict)
    #expect(error?.message.contains(id) == true)
    #expect(error?.message.contains(status) == true)
    #expect(try f.auditRows() == rows)
}

@Test(arguments: TestEngine.all) func anEndBeforeTheStartIsInvalid(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.startOnTime("web-0")
    let error = await serviceError { try await f.lifecycle.complete(.event(try await f.id("web-0")), at: try await f.plannedStart("web-0") - 60, actor: "tester") }
    #expect(error?.kind == .invalid)
}

@Test(arguments: TestEngine.all) func unknownEventsAndWavesAreNotFound(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    #expect(await serviceError { try await f.lifecycle.start(.event("nope"), at: noticeRuns, actor: "tester") }?.kind == .notFound)
    #expect(await serviceError { try await f.lifecycle.start(.wave("nope"), at: noticeRuns, actor: "tester") }?.kind == .notFound)
}

// MARK: Refused starts

@Test(arguments: TestEngine.all) func aSecondUpdateDomainIsRefusedWhileTheFirstRuns(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.startOnTime("web-0")
    try await f.lifecycle.approve(.event(try await f.id("web-1")), at: planned, actor: "tester")
    let rows = try f.auditRows()
    let refused = await refusal { try await f.lifecycle.start(.event(try await f.id("web-1")), at: try await f.plannedStart("web-0") + 300, actor: "tester") }
    #expect(rules(refused) == [RuleName.updateDomainOverlap.rawValue])
    #expect(refused?.conflicts.contains(try await f.id("web-0")) == true)
    #expect(refused?.message.contains(try await f.id("web-0")) == true)
    // Nothing written.
    #expect(try await f.record("web-1").event.status == .scheduled)
    #expect(try f.auditRows() == rows)
}

@Test(arguments: TestEngine.all) func theNextUpdateDomainWaitsForTheRecoveryGap(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.lifecycle.start(.wave(try await f.wave("web-0")), at: try await f.plannedStart("web-0"), actor: "tester")
    let ended = try await f.plannedStart("web-0") + 900
    try await f.lifecycle.complete(.wave(try await f.wave("web-0")), at: ended, actor: "tester")
    try await f.lifecycle.approve(.wave(try await f.wave("web-1")), at: planned, actor: "tester")
    let refused = await refusal { try await f.lifecycle.start(.wave(try await f.wave("web-1")), at: ended + 600, actor: "tester") }
    #expect(rules(refused) == [RuleName.udGap.rawValue])
    #expect(Set(refused?.conflicts ?? []) == [try await f.id("web-0"), try await f.id("web-2")])
    // After the 30 min gap it may go.
    let result = try await f.lifecycle.start(.wave(try await f.wave("web-1")), at: ended + 1800, actor: "tester")
    #expect(result.changed.count == 2)
}

/// The table has eastus -> westus only; a start in either region waits for the other.
@Test(arguments: TestEngine.all, [("web-0", "api-0"), ("api-0", "web-0")])
func aLinkedRegionRunningRefusesTheStartEitherWay(engine: TestEngine, order: (String, String)) async throws {
    let (first, second) = order
    let f = try await Fixture(engine)
    for vm in [first, second] { try await f.lifecycle.approve(.wave(try await f.wave(vm)), at: planned, actor: "tester") }
    let t = at("2026-11-09T00:00:00Z")
    try await f.lifecycle.start(.wave(try await f.wave(first)), at: t, actor: "tester")
    let refused = await refusal { try await f.lifecycle.start(.wave(try await f.wave(second)), at: t + 60, actor: "tester") }
    #expect(rules(refused) == [RuleName.pairOverlap.rawValue])
    #expect(refused?.conflicts.contains(try await f.id(first)) == true)
}

@Test(arguments: TestEngine.all) func aSingleInstanceVMWaitsForItsRegionsSets(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.lifecycle.approve(.event(try await f.id("solo-east")), at: planned, actor: "tester")
    let refused = await refusal { try await f.lifecycle.start(.event(try await f.id("solo-east")), at: noticeRuns + 3600, actor: "tester") }
    #expect(rules(refused).first == RuleName.singleBeforeMulti.rawValue)
    var webIDs: [String] = []
    for vm in ["web-0", "web-1", "web-2", "web-3"] { webIDs.append(try await f.id(vm)) }
    let conflicts = try #require(refused).conflicts
    #expect(Set(conflicts) == Set(webIDs))
}

@Test(arguments: TestEngine.all) func aSingleInstanceVMMayStartOnceItsRegionsSetsAreDone(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    var t = try await f.plannedStart("web-0")
    for vm in ["web-0", "web-1"] {
        try await f.lifecycle.approve(.wave(try await f.wave(vm)), at: planned, actor: "tester")
        try await f.lifecycle.start(.wave(try await f.wave(vm)), at: t, actor: "tester")
        try await f.lifecycle.complete(.wave(try await f.wave(vm)), at: t + 900, actor: "tester")
        t = t + 900 + 1800
    }
    try await f.lifecycle.approve(.event(try await f.id("solo-east")), at: planned, actor: "tester")
    let result = try await f.lifecycle.start(.event(try await f.id("solo-east")), at: t, actor: "tester")
    #expect(!result.forced)
}

// MARK: Forced starts

@Test(arguments: TestEngine.all) func aForcedStartIsRecordedWithItsConflicts(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.startOnTime("web-0")
    let start = try await f.plannedStart("web-0") + 300
    let result = try await f.lifecycle.start(.event(try await f.id("web-1")), at: start, reason: "security fix cannot wait", force: true, actor: "oncall")
    let record = try await f.record("web-1")
    #expect(record.event.status == .started)
    #expect(record.forced)
    #expect(record.reason == "security fix cannot wait")
    #expect(result.forced)
    #expect(result.conflicts.map(\.rule) == [.updateDomainOverlap])
    let entry = try #require(result.audit)
    #expect(entry.action == "event.started")
    #expect(entry.actor == "oncall")
    let details = try #require(try JSONSerialization.jsonObject(with: Data(entry.details.utf8)) as? [String: Any])
    #expect(details["forced"] as? Bool == true)
    #expect(details["reason"] as? String == "security fix cannot wait")
    let conflicts = try #require(details["conflicts"] as? [[String: Any]])
    #expect(conflicts.map { $0["rule"] as? String } == ["update-domain-overlap"])
    #expect((conflicts.first?["events"] as? [String])?.contains(try await f.id("web-0")) == true)
    #expect(details["unapproved"] as? [String] == [try await f.id("web-1")])
}

@Test(arguments: TestEngine.all) func forceWithoutAReasonIsInvalid(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.startOnTime("web-0")
    for reason in [nil, "", "  "] {
        let error = await serviceError { try await f.lifecycle.start(.event(try await f.id("web-1")), at: noticeRuns + 60, reason: reason, force: true, actor: "tester") }
        #expect(error?.kind == .invalid)
    }
    #expect(try await f.record("web-1").event.status == .scheduled)
}

@Test(arguments: TestEngine.all) func forceOnAStartTheRulesAllowIsNotRecordedAsForced(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let result = try await f.lifecycle.start(.event(try await f.id("web-0")), at: try await f.plannedStart("web-0"), reason: "routine", force: true, actor: "tester")
    #expect(!result.forced)
    #expect(try await f.record("web-0").forced == false)
}

// MARK: Approval and early starts

@Test(arguments: TestEngine.all) func anApprovalAllowsAnEarlyStartButNotBeforeTheNoticePeriod(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let id = try await f.id("web-0")
    #expect(try await f.plannedStart("web-0") > noticeRuns)
    // Unapproved and early: refused.
    let unapproved = await refusal { try await f.lifecycle.start(.event(id), at: noticeRuns + 3600, actor: "tester") }
    #expect(notApproved(unapproved) == "  not-approved: \(Guard.names([id])) is planned to start later; starting before the planned start needs the owner's approval")
    #expect(rules(unapproved).isEmpty)
    #expect(unapproved?.conflicts.isEmpty == true)

    try await f.lifecycle.approve(.event(id), at: at("2026-11-02T00:00:00Z"), actor: "tester")
    // Approved, but the 7-day notice has not run yet: still refused.
    let tooSoon = await refusal { try await f.lifecycle.start(.event(id), at: noticeRuns - 60, actor: "tester") }
    #expect(rules(tooSoon) == [RuleName.shortNotice.rawValue])
    #expect(tooSoon != nil && notApproved(tooSoon) == nil)

    // Approved and after the notice: early is fine.
    let result = try await f.lifecycle.start(.event(id), at: noticeRuns + 3600, actor: "tester")
    #expect(!result.forced)
    #expect(result.audit?.details.contains("\"early\": true") == true)
}

// MARK: Waves

@Test(arguments: TestEngine.all) func waveOperationsChangeEveryEventOfTheWave(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let wave = try await f.wave("web-0")
    let members: Set<String> = [try await f.id("web-0"), try await f.id("web-2")]
    let approved = try await f.lifecycle.approve(.wave(wave), at: planned, actor: "tester")
    let started = try await f.lifecycle.start(.wave(wave), at: try await f.plannedStart("web-0"), actor: "tester")
    let completed = try await f.lifecycle.complete(.wave(wave), at: try await f.plannedStart("web-0") + 900, actor: "tester")
    for result in [approved, started, completed] {
        #expect(Set(result.changed.map(\.event.id)) == members)
        let subjects = try f.subjects(seq: try #require(result.audit?.seq))
        #expect(subjects.isSuperset(of: ["wave \(wave)", "vm web-0", "vm web-2", "set web", "region eastus", "campaign \(f.campaign)"]))
    }
    for vm in ["web-0", "web-2"] {
        let r = try await f.record(vm)
        #expect(r.event.status == .completed)
        #expect(r.approvedAt == planned)
        #expect(r.actualEnd == (try await f.plannedStart("web-0")) + 900)
    }
    // One entry per wave operation.
    #expect(try f.actions() == ["event.approved", "event.started", "event.completed"])
}

@Test(arguments: TestEngine.all) func aWaveLeavesMembersThatMovedOnTheirOwn(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let wave = try await f.wave("web-0")
    try await f.lifecycle.start(.event(try await f.id("web-0")), at: try await f.plannedStart("web-0"), actor: "tester")
    try await f.lifecycle.fail(.event(try await f.id("web-0")), at: try await f.plannedStart("web-0") + 60, actor: "tester")
    let started = try await f.lifecycle.start(.wave(wave), at: try await f.plannedStart("web-0") + 120, actor: "tester")
    #expect(started.changed.map(\.event.vm) == ["web-2"])
    #expect(started.unchanged.map(\.event.vm) == ["web-0"])
    // Starting it again: nothing left to start.
    #expect(await serviceError { try await f.lifecycle.start(.wave(wave), at: try await f.plannedStart("web-0") + 180, actor: "tester") }?.kind == .conflict)
}

@Test(arguments: TestEngine.all) func completingAWaveWithAMemberThatNeverStartedIsAConflict(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    try await f.startOnTime("web-0")
    let error = await serviceError { try await f.lifecycle.complete(.wave(try await f.wave("web-0")), at: try await f.plannedStart("web-0") + 900, actor: "tester") }
    #expect(error?.kind == .conflict)
    #expect(error?.message.contains(try await f.id("web-2")) == true)
    #expect(try await f.record("web-0").event.status == .started)
}

// MARK: Audit

@Test(arguments: TestEngine.all) func everyTransitionAppendsOneAuditEntry(engine: TestEngine) async throws {
    let f = try await Fixture(engine)
    let before = try f.auditRows()
    try await f.lifecycle.approve(.event(try await f.id("web-0")), at: planned, actor: "tester")
    try await f.startOnTime("web-0")
    try await f.lifecycle.complete(.event(try await f.id("web-0")), at: try await f.plannedStart("web-0") + 900, actor: "tester")
    try await f.startOnTime("web-2")
    try await f.lifecycle.fail(.event(try await f.id("web-2")), at: try await f.plannedStart("web-0") + 950, actor: "tester")
    try await f.lifecycle.cancel(.wave(try await f.wave("web-1")), at: try await f.plannedStart("web-0") + 1000, actor: "tester")
    #expect(try f.auditRows() == before + 6)
    #expect(try f.actions() == ["event.approved", "event.started", "event.completed", "event.started", "event.failed", "event.cancelled"])
}
