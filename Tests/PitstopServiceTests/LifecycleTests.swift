// The event lifecycle on an in-memory database: transitions, refused and forced starts, waves, audit.
import Foundation
import GRDB
import PitstopCore
import PitstopService
import PitstopStore
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
private struct Fixture {
    let database: AppDatabase
    let lifecycle: LifecycleService
    let campaign: String

    init(regions: [String] = ["eastus", "westus"], udGap: Int64 = 1800) throws {
        database = try AppDatabase.inMemory()
        _ = try InventoryService(database: database).importDocument(Array(fleetJSON.utf8), file: "fleet.json")
        let plan = try SchedulerService(database: database).plan(
            CampaignRequest(kind: .reboot, regions: regions, notBefore: at("2026-11-10T00:00:00Z"), udGap: udGap),
            now: planned, dryRun: false, actor: "planner")
        campaign = plan.campaign.id
        lifecycle = LifecycleService(database: database)
    }

    /// The VM's event in the campaign, as stored now.
    func record(_ vm: String) throws -> EventRecord {
        try #require(try SchedulerService(database: database).campaign(campaign).events.first { $0.event.vm == vm })
    }

    func id(_ vm: String) throws -> String { try record(vm).event.id }
    func wave(_ vm: String) throws -> String { try record(vm).event.wave }
    func plannedStart(_ vm: String) throws -> Timestamp { try record(vm).event.range.start }

    /// Audit actions in order, after the planning entries.
    func actions() throws -> [String] {
        try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_log WHERE action LIKE 'event.%' ORDER BY seq")
        }
    }

    func auditRows() throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0 }
    }

    func subjects(seq: Int64) throws -> Set<String> {
        try database.writer.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT kind, name FROM audit_subjects WHERE seq = ?", arguments: [seq]).map { "\($0[0] as String) \($0[1] as String)" })
        }
    }

    /// Starts an event at its planned start.
    func startOnTime(_ vm: String) throws {
        try lifecycle.start(.event(try id(vm)), at: try plannedStart(vm), actor: "tester")
    }
}

private func refusal(_ body: () throws -> Void) -> StartRefused? {
    do { try body() } catch let refused as StartRefused { return refused } catch { Issue.record("expected a refusal, got \(error)") }
    return nil
}

private func serviceError(_ body: () throws -> Void) -> ServiceError? {
    do { try body() } catch let error as ServiceError { return error } catch { Issue.record("expected a ServiceError, got \(error)") }
    return nil
}

// MARK: Legal transitions

@Test func approvingMarksAScheduledEventApproved() throws {
    let f = try Fixture()
    let result = try f.lifecycle.approve(.event(try f.id("web-0")), at: at("2026-11-02T09:00:00Z"), actor: "owner")
    let record = try f.record("web-0")
    #expect(record.event.status == .scheduled)
    #expect(record.approvedAt == at("2026-11-02T09:00:00Z"))
    #expect(result.audit?.action == "event.approved")
    #expect(result.audit?.actor == "owner")
    let subjects = try f.subjects(seq: try #require(result.audit?.seq))
    #expect(subjects.isSuperset(of: ["event \(try f.id("web-0"))", "vm web-0", "set web", "region eastus", "campaign \(f.campaign)"]))
}

@Test func approvingTwiceChangesNothing() throws {
    let f = try Fixture()
    let id = try f.id("web-0")
    try f.lifecycle.approve(.event(id), at: at("2026-11-02T09:00:00Z"))
    let rows = try f.auditRows()
    let again = try f.lifecycle.approve(.event(id), at: at("2026-11-03T09:00:00Z"))
    #expect(again.changed.isEmpty)
    #expect(again.audit == nil)
    #expect(try f.auditRows() == rows)
    #expect(try f.record("web-0").approvedAt == at("2026-11-02T09:00:00Z"))
}

@Test func startingRecordsTheActualStart() throws {
    let f = try Fixture()
    let start = try f.plannedStart("web-0") + 120
    let result = try f.lifecycle.start(.event(try f.id("web-0")), at: start, reason: "agent picked it up")
    let record = try f.record("web-0")
    #expect(record.event.status == .started)
    #expect(record.actualStart == start)
    #expect(!record.forced)
    #expect(record.reason == "agent picked it up")
    #expect(!result.forced)
    #expect(result.audit?.details.contains("\"forced\": false") == true)
}

@Test(arguments: [Transition.complete, .fail])
func endingRecordsTheActualEnd(transition: Transition) throws {
    let f = try Fixture()
    try f.startOnTime("web-0")
    let end = try f.plannedStart("web-0") + 1000
    let result = try f.lifecycle.transition(transition, .event(try f.id("web-0")), at: end, reason: "host patched")
    let record = try f.record("web-0")
    #expect(record.event.status == (transition == .complete ? .completed : .failed))
    #expect(record.actualEnd == end)
    #expect(result.audit?.action == transition.action)
    #expect(result.audit?.details.contains("\"seconds\": 1000") == true)
}

@Test func cancellingAScheduledEvent() throws {
    let f = try Fixture()
    let result = try f.lifecycle.cancel(.event(try f.id("solo-east")), at: at("2026-11-05T00:00:00Z"), reason: "VM retired")
    #expect(try f.record("solo-east").event.status == .cancelled)
    #expect(result.audit?.action == "event.cancelled")
    #expect(result.audit?.details.contains("VM retired") == true)
}

// MARK: Illegal transitions

/// (what happened first, the transition attempted, the status the message names)
@Test(arguments: [
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
func illegalTransitionsAreInvalid(before: [Transition], attempt: Transition, status: String) throws {
    let f = try Fixture()
    let id = try f.id("web-0")
    var instant = try f.plannedStart("web-0")
    for step in before {
        try f.lifecycle.transition(step, .event(id), at: instant)
        instant = instant + 60
    }
    let rows = try f.auditRows()
    let error = serviceError { try f.lifecycle.transition(attempt, .event(id), at: instant) }
    #expect(error?.kind == .invalid)
    #expect(error?.message.contains(id) == true)
    #expect(error?.message.contains(status) == true)
    #expect(try f.auditRows() == rows)
}

@Test func anEndBeforeTheStartIsInvalid() throws {
    let f = try Fixture()
    try f.startOnTime("web-0")
    let error = serviceError { try f.lifecycle.complete(.event(try f.id("web-0")), at: try f.plannedStart("web-0") - 60) }
    #expect(error?.kind == .invalid)
}

@Test func unknownEventsAndWavesAreNotFound() throws {
    let f = try Fixture()
    #expect(serviceError { try f.lifecycle.start(.event("nope"), at: noticeRuns) }?.kind == .notFound)
    #expect(serviceError { try f.lifecycle.start(.wave("nope"), at: noticeRuns) }?.kind == .notFound)
}

// MARK: Refused starts

@Test func aSecondUpdateDomainIsRefusedWhileTheFirstRuns() throws {
    let f = try Fixture()
    try f.startOnTime("web-0")
    try f.lifecycle.approve(.event(try f.id("web-1")), at: planned)
    let rows = try f.auditRows()
    let refused = refusal { try f.lifecycle.start(.event(try f.id("web-1")), at: try f.plannedStart("web-0") + 300) }
    #expect(refused?.verdict.conflicts.map(\.rule) == [.updateDomainOverlap])
    #expect(refused?.verdict.conflicts.first?.events.contains(try f.id("web-0")) == true)
    #expect(refused?.message.contains(try f.id("web-0")) == true)
    // Nothing written.
    #expect(try f.record("web-1").event.status == .scheduled)
    #expect(try f.auditRows() == rows)
}

@Test func theNextUpdateDomainWaitsForTheRecoveryGap() throws {
    let f = try Fixture()
    try f.lifecycle.start(.wave(try f.wave("web-0")), at: try f.plannedStart("web-0"))
    let ended = try f.plannedStart("web-0") + 900
    try f.lifecycle.complete(.wave(try f.wave("web-0")), at: ended)
    try f.lifecycle.approve(.wave(try f.wave("web-1")), at: planned)
    let refused = refusal { try f.lifecycle.start(.wave(try f.wave("web-1")), at: ended + 600) }
    #expect(refused?.verdict.conflicts.map(\.rule) == [.udGap])
    #expect(Set(refused?.verdict.conflicts.first?.events ?? []) == [try f.id("web-0"), try f.id("web-2")])
    // After the 30 min gap it may go.
    let result = try f.lifecycle.start(.wave(try f.wave("web-1")), at: ended + 1800)
    #expect(result.changed.count == 2)
}

/// The table has eastus -> westus only; a start in either region waits for the other.
@Test(arguments: [("web-0", "api-0"), ("api-0", "web-0")])
func aLinkedRegionRunningRefusesTheStartEitherWay(first: String, second: String) throws {
    let f = try Fixture()
    for vm in [first, second] { try f.lifecycle.approve(.wave(try f.wave(vm)), at: planned) }
    let t = at("2026-11-09T00:00:00Z")
    try f.lifecycle.start(.wave(try f.wave(first)), at: t)
    let refused = refusal { try f.lifecycle.start(.wave(try f.wave(second)), at: t + 60) }
    #expect(refused?.verdict.conflicts.map(\.rule) == [.pairOverlap])
    #expect(refused?.verdict.conflicts.first?.events.contains(try f.id(first)) == true)
}

@Test func aSingleInstanceVMWaitsForItsRegionsSets() throws {
    let f = try Fixture()
    try f.lifecycle.approve(.event(try f.id("solo-east")), at: planned)
    let refused = refusal { try f.lifecycle.start(.event(try f.id("solo-east")), at: noticeRuns + 3600) }
    let conflict = try #require(refused?.verdict.conflicts.first)
    #expect(conflict.rule == .singleBeforeMulti)
    #expect(Set(conflict.events) == Set(try ["web-0", "web-1", "web-2", "web-3"].map(f.id)))
}

@Test func aSingleInstanceVMMayStartOnceItsRegionsSetsAreDone() throws {
    let f = try Fixture()
    var t = try f.plannedStart("web-0")
    for vm in ["web-0", "web-1"] {
        try f.lifecycle.approve(.wave(try f.wave(vm)), at: planned)
        try f.lifecycle.start(.wave(try f.wave(vm)), at: t)
        try f.lifecycle.complete(.wave(try f.wave(vm)), at: t + 900)
        t = t + 900 + 1800
    }
    try f.lifecycle.approve(.event(try f.id("solo-east")), at: planned)
    let result = try f.lifecycle.start(.event(try f.id("solo-east")), at: t)
    #expect(!result.forced)
}

// MARK: Forced starts

@Test func aForcedStartIsRecordedWithItsConflicts() throws {
    let f = try Fixture()
    try f.startOnTime("web-0")
    let start = try f.plannedStart("web-0") + 300
    let result = try f.lifecycle.start(.event(try f.id("web-1")), at: start, reason: "security fix cannot wait", force: true, actor: "oncall")
    let record = try f.record("web-1")
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
    #expect((conflicts.first?["events"] as? [String])?.contains(try f.id("web-0")) == true)
    #expect(details["unapproved"] as? [String] == [try f.id("web-1")])
}

@Test func forceWithoutAReasonIsInvalid() throws {
    let f = try Fixture()
    try f.startOnTime("web-0")
    for reason in [nil, "", "  "] {
        let error = serviceError { try f.lifecycle.start(.event(try f.id("web-1")), at: noticeRuns + 60, reason: reason, force: true) }
        #expect(error?.kind == .invalid)
    }
    #expect(try f.record("web-1").event.status == .scheduled)
}

@Test func forceOnAStartTheRulesAllowIsNotRecordedAsForced() throws {
    let f = try Fixture()
    let result = try f.lifecycle.start(.event(try f.id("web-0")), at: try f.plannedStart("web-0"), reason: "routine", force: true)
    #expect(!result.forced)
    #expect(try f.record("web-0").forced == false)
}

// MARK: Approval and early starts

@Test func anApprovalAllowsAnEarlyStartButNotBeforeTheNoticePeriod() throws {
    let f = try Fixture()
    let id = try f.id("web-0")
    #expect(try f.plannedStart("web-0") > noticeRuns)
    // Unapproved and early: refused.
    let unapproved = refusal { try f.lifecycle.start(.event(id), at: noticeRuns + 3600) }
    #expect(unapproved?.verdict.unapproved == [id])
    #expect(unapproved?.verdict.conflicts.isEmpty == true)

    try f.lifecycle.approve(.event(id), at: at("2026-11-02T00:00:00Z"))
    // Approved, but the 7-day notice has not run yet: still refused.
    let tooSoon = refusal { try f.lifecycle.start(.event(id), at: noticeRuns - 60) }
    #expect(tooSoon?.verdict.conflicts.map(\.rule) == [.shortNotice])
    #expect(tooSoon?.verdict.unapproved.isEmpty == true)

    // Approved and after the notice: early is fine.
    let result = try f.lifecycle.start(.event(id), at: noticeRuns + 3600)
    #expect(!result.forced)
    #expect(result.audit?.details.contains("\"early\": true") == true)
}

// MARK: Waves

@Test func waveOperationsChangeEveryEventOfTheWave() throws {
    let f = try Fixture()
    let wave = try f.wave("web-0")
    let members = Set(try ["web-0", "web-2"].map(f.id))
    let approved = try f.lifecycle.approve(.wave(wave), at: planned)
    let started = try f.lifecycle.start(.wave(wave), at: try f.plannedStart("web-0"))
    let completed = try f.lifecycle.complete(.wave(wave), at: try f.plannedStart("web-0") + 900)
    for result in [approved, started, completed] {
        #expect(Set(result.changed.map(\.event.id)) == members)
        let subjects = try f.subjects(seq: try #require(result.audit?.seq))
        #expect(subjects.isSuperset(of: ["wave \(wave)", "vm web-0", "vm web-2", "set web", "region eastus", "campaign \(f.campaign)"]))
    }
    for vm in ["web-0", "web-2"] {
        let r = try f.record(vm)
        #expect(r.event.status == .completed)
        #expect(r.approvedAt == planned)
        #expect(r.actualEnd == (try f.plannedStart("web-0")) + 900)
    }
    // One entry per wave operation.
    #expect(try f.actions() == ["event.approved", "event.started", "event.completed"])
}

@Test func aWaveLeavesMembersThatMovedOnTheirOwn() throws {
    let f = try Fixture()
    let wave = try f.wave("web-0")
    try f.lifecycle.start(.event(try f.id("web-0")), at: try f.plannedStart("web-0"))
    try f.lifecycle.fail(.event(try f.id("web-0")), at: try f.plannedStart("web-0") + 60)
    let started = try f.lifecycle.start(.wave(wave), at: try f.plannedStart("web-0") + 120)
    #expect(started.changed.map(\.event.vm) == ["web-2"])
    #expect(started.unchanged.map(\.event.vm) == ["web-0"])
    // Starting it again: nothing left to start.
    #expect(serviceError { try f.lifecycle.start(.wave(wave), at: try f.plannedStart("web-0") + 180) }?.kind == .invalid)
}

@Test func completingAWaveWithAMemberThatNeverStartedIsInvalid() throws {
    let f = try Fixture()
    try f.startOnTime("web-0")
    let error = serviceError { try f.lifecycle.complete(.wave(try f.wave("web-0")), at: try f.plannedStart("web-0") + 900) }
    #expect(error?.kind == .invalid)
    #expect(error?.message.contains(try f.id("web-2")) == true)
    #expect(try f.record("web-0").event.status == .started)
}

// MARK: Audit

@Test func everyTransitionAppendsOneAuditEntry() throws {
    let f = try Fixture()
    let before = try f.auditRows()
    try f.lifecycle.approve(.event(try f.id("web-0")), at: planned)
    try f.startOnTime("web-0")
    try f.lifecycle.complete(.event(try f.id("web-0")), at: try f.plannedStart("web-0") + 900)
    try f.startOnTime("web-2")
    try f.lifecycle.fail(.event(try f.id("web-2")), at: try f.plannedStart("web-0") + 950)
    try f.lifecycle.cancel(.wave(try f.wave("web-1")), at: try f.plannedStart("web-0") + 1000)
    #expect(try f.auditRows() == before + 6)
    #expect(try f.actions() == ["event.approved", "event.started", "event.completed", "event.started", "event.failed", "event.cancelled"])
}
