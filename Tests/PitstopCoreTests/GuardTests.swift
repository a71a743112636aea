// Guarded execution: the starts the rules refuse given what actually ran, and early-start timing.
import Testing
@testable import PitstopCore

/// Builds guard inputs: events of campaign `c1` (reboot, 30 min recovery gap) unless told otherwise.
private struct GuardFixture {
    var terms: [String: CampaignTerms] = [
        "c1": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 1800),
        "c2": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 0),
    ]
    var pairs = [RegionPair(region: "eastus", pairedWith: "westus")]

    /// An event of `vm` planned for `start` (15 min), planned at 2026-11-01.
    static func event(
        _ vm: String, region: String = "eastus", set: String? = nil, ud: Int? = nil, campaign: String = "c1",
        start: String = "2026-11-10T00:00:00Z", status: EventStatus = .scheduled
    ) -> PlannedEvent {
        let wave = set.map { "\(campaign)-\($0)-\(ud ?? 0)" } ?? "\(campaign)-\(region)-single"
        let s = at(start)
        return PlannedEvent(
            campaign: campaign, vm: vm, region: region, availabilitySet: set, updateDomain: ud,
            faultDomain: ud.map { $0 % 2 }, wave: wave, kind: .reboot, range: TimeRange(start: s, end: s + 900),
            status: status, plannedAt: planningTime)
    }

    /// The event as it stands: started at `started` (and ended at `ended`) if given.
    static func tracked(_ e: PlannedEvent, started: String? = nil, ended: String? = nil, approved: String? = nil) -> EventRecord {
        var e = e
        if started != nil { e.status = ended == nil ? .started : .completed }
        return EventRecord(event: e, approvedAt: approved.map(at), actualStart: started.map(at), actualEnd: ended.map(at))
    }

    func conflicts(_ starting: [PlannedEvent], at instant: String, _ others: [EventRecord]) -> [Finding] {
        Guard.conflicts(starting: starting, at: at(instant), others: others, campaigns: terms, pairs: pairs)
    }
}

private typealias F = GuardFixture

// MARK: Rule 1

@Test func anotherUpdateDomainRunningRefusesTheStart() {
    let running = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-10T00:00:00Z")
    let found = F().conflicts([F.event("web-1", set: "web", ud: 1)], at: "2026-11-10T00:05:00Z", [running])
    #expect(found.map(\.rule) == [.updateDomainOverlap])
    #expect(found.first?.events == [running.event.id])
    #expect(found.first?.message.contains(running.event.id) == true)
}

@Test func anotherCampaignsUpdateDomainRunningRefusesTheStartToo() {
    let running = F.tracked(F.event("web-0", set: "web", ud: 0, campaign: "c2"), started: "2026-11-10T00:00:00Z")
    let found = F().conflicts([F.event("web-1", set: "web", ud: 1)], at: "2026-11-10T00:05:00Z", [running])
    #expect(found.map(\.rule) == [.updateDomainOverlap])
}

@Test func theSameUpdateDomainGoesTogether() {
    let running = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-10T00:00:00Z")
    #expect(F().conflicts([F.event("web-2", set: "web", ud: 0)], at: "2026-11-10T00:01:00Z", [running]).isEmpty)
}

@Test func anotherSetIsIndependent() {
    let running = F.tracked(F.event("api-0", set: "api", ud: 0), started: "2026-11-10T00:00:00Z")
    #expect(F().conflicts([F.event("web-1", set: "web", ud: 1)], at: "2026-11-10T00:01:00Z", [running]).isEmpty)
}

@Test(arguments: [
    // (start of UD 1, expected): UD 0 ran 00:00-00:15 and campaign c1 wants 30 min of recovery.
    ("2026-11-10T00:20:00Z", RuleName?.some(.udGap)),
    ("2026-11-10T00:44:59Z", RuleName?.some(.udGap)),
    ("2026-11-10T00:45:00Z", RuleName?.none),
    ("2026-11-10T03:00:00Z", RuleName?.none),
])
func aFinishedUpdateDomainHoldsTheSetForTheRecoveryGap(start: String, expected: RuleName?) {
    let done = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-10T00:00:00Z", ended: "2026-11-10T00:15:00Z")
    let found = F().conflicts([F.event("web-1", set: "web", ud: 1)], at: start, [done])
    #expect(found.map(\.rule) == (expected.map { [$0] } ?? []))
}

@Test func theRecoveryGapIsTheStartingCampaigns() {
    // c2 asks for no gap: its UD 1 may follow c1's UD 0 at once.
    let done = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-10T00:00:00Z", ended: "2026-11-10T00:15:00Z")
    #expect(F().conflicts([F.event("web-1", set: "web", ud: 1, campaign: "c2")], at: "2026-11-10T00:15:00Z", [done]).isEmpty)
}

@Test func scheduledEventsOfOtherUpdateDomainsDoNotBlock() {
    let planned = F.tracked(F.event("web-0", set: "web", ud: 0, start: "2026-11-10T00:00:00Z"))
    #expect(F().conflicts([F.event("web-1", set: "web", ud: 1)], at: "2026-11-10T00:05:00Z", [planned]).isEmpty)
}

@Test(arguments: [
    // (other's actual range, start, expected)
    (TimeRange(start: at("2026-11-10T00:00:00Z"), end: Guard.openEnd), "2026-11-10T00:10:00Z", RuleName?.some(.updateDomainOverlap)),
    // Recorded late: the other started after this start's instant and ran past it.
    (TimeRange(start: at("2026-11-10T00:20:00Z"), end: at("2026-11-10T00:30:00Z")), "2026-11-10T00:10:00Z", .some(.updateDomainOverlap)),
    (TimeRange(start: at("2026-11-10T00:00:00Z"), end: at("2026-11-10T00:15:00Z")), "2026-11-10T00:30:00Z", .some(.udGap)),
    (TimeRange(start: at("2026-11-10T00:00:00Z"), end: at("2026-11-10T00:15:00Z")), "2026-11-10T00:45:00Z", .none),
])
func ruleOneAtTheInstantOfAStart(other: TimeRange, start: String, expected: RuleName?) {
    #expect(Rules.updateDomainClash(startingAt: at(start), other: other, gap: 1800) == expected)
}

// MARK: Rule 3

@Test(arguments: [("eastus", "westus"), ("westus", "eastus")])
func aLinkedRegionRunningRefusesTheStartInEitherDirection(running region: String, starting partner: String) {
    // The table only has eastus -> westus; the guard holds it both ways.
    let busy = F.tracked(F.event("solo-a", region: region, campaign: "c2"), started: "2026-11-10T00:00:00Z")
    let found = F().conflicts([F.event("solo-b", region: partner)], at: "2026-11-10T00:05:00Z", [busy])
    #expect(found.map(\.rule) == [.pairOverlap])
    #expect(found.first?.events == [busy.event.id])
}

@Test func anUnpairedRegionMayRunAtTheSameTime() {
    let busy = F.tracked(F.event("solo-a", region: "northeurope"), started: "2026-11-10T00:00:00Z")
    #expect(F().conflicts([F.event("solo-b", region: "eastus")], at: "2026-11-10T00:05:00Z", [busy]).isEmpty)
}

@Test func aLinkedRegionThatFinishedAnotherCampaignDoesNotBlock() {
    let done = F.tracked(F.event("solo-a", region: "westus", campaign: "c2"), started: "2026-11-10T00:00:00Z", ended: "2026-11-10T00:15:00Z")
    #expect(F().conflicts([F.event("solo-b", region: "eastus")], at: "2026-11-10T00:15:00Z", [done]).isEmpty)
}

@Test func withinACampaignALinkedRegionPartWayThroughBlocksBetweenItsWaves() {
    // westus finished UD 0 of its set and still has UD 1 ahead: eastus would interleave.
    let done = F.tracked(F.event("api-0", region: "westus", set: "api", ud: 0), started: "2026-11-10T00:00:00Z", ended: "2026-11-10T00:15:00Z")
    let ahead = F.tracked(F.event("api-1", region: "westus", set: "api", ud: 1, start: "2026-11-10T00:45:00Z"))
    let found = F().conflicts([F.event("web-0", set: "web", ud: 0)], at: "2026-11-10T00:20:00Z", [done, ahead])
    #expect(found.map(\.rule) == [.pairOverlap])
    #expect(found.first?.events == [ahead.event.id])
    // Once westus is done, eastus may begin.
    let finished = F.tracked(ahead.event, started: "2026-11-10T00:45:00Z", ended: "2026-11-10T01:00:00Z")
    #expect(F().conflicts([F.event("web-0", set: "web", ud: 0)], at: "2026-11-10T01:00:00Z", [done, finished]).isEmpty)
}

// MARK: Rule 2

@Test func aSingleInstanceVMWaitsForItsRegionsSetEventsOfTheCampaign() {
    let ran = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-10T00:00:00Z", ended: "2026-11-10T00:15:00Z")
    let running = F.tracked(F.event("api-0", set: "api", ud: 0), started: "2026-11-10T00:10:00Z")
    let ahead = F.tracked(F.event("web-1", set: "web", ud: 1, start: "2026-11-10T00:45:00Z"))
    let found = F().conflicts([F.event("solo-0")], at: "2026-11-10T00:20:00Z", [ran, running, ahead])
    #expect(found.map(\.rule) == [.singleBeforeMulti])
    #expect(found.first?.events == [running.event.id, ahead.event.id].sorted())
}

@Test func aSingleInstanceVMMayStartOnceTheSetsAreDone() {
    let ran = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-10T00:00:00Z", ended: "2026-11-10T00:15:00Z")
    var cancelled = F.event("web-1", set: "web", ud: 1)
    cancelled.status = .cancelled
    // Another campaign's pending set events and another region's do not hold it back.
    let otherCampaign = F.tracked(F.event("web-2", set: "web", ud: 0, campaign: "c2", start: "2026-11-12T00:00:00Z"))
    let otherRegion = F.tracked(F.event("db-0", region: "northeurope", set: "db", ud: 0))
    let found = F().conflicts([F.event("solo-0")], at: "2026-11-10T00:15:00Z",
                              [ran, EventRecord(event: cancelled), otherCampaign, otherRegion])
    #expect(found.isEmpty)
}

// MARK: Rule 7

@Test func aVMAlreadyUnderMaintenanceIsNotStartedAgain() {
    let busy = F.tracked(F.event("solo-0", campaign: "c2"), started: "2026-11-10T00:00:00Z")
    let found = F().conflicts([F.event("solo-0")], at: "2026-11-10T00:05:00Z", [busy])
    #expect(found.map(\.rule) == [.doubleBooked])
}

// MARK: Waves

@Test func aWaveNamesEachConflictingEventOnce() {
    let running = (0..<3).map { F.tracked(F.event("web-\($0 * 2)", set: "web", ud: 0), started: "2026-11-10T00:00:00Z") }
    let wave = (0..<3).map { F.event("web-\($0 * 2 + 1)", set: "web", ud: 1) }
    let found = F().conflicts(wave, at: "2026-11-10T00:05:00Z", running + wave.map { F.tracked($0) })
    #expect(found.count == 1)
    #expect(found.first?.events == running.map(\.event.id).sorted())
}

// MARK: Timing

@Test(arguments: [
    // (start, approved, expected): planned at 11-01 (reboot: 7 days' notice) for 11-10.
    ("2026-11-10T00:00:00Z", false, StartTiming.onTime),
    ("2026-11-10T06:00:00Z", false, .onTime),
    ("2026-11-09T00:00:00Z", false, .needsApproval(plannedStart: at("2026-11-10T00:00:00Z"))),
    ("2026-11-09T00:00:00Z", true, .approvedEarly),
    ("2026-11-08T00:00:00Z", true, .approvedEarly),
    ("2026-11-07T23:59:59Z", true, .beforeNotice(earliest: at("2026-11-08T00:00:00Z"))),
    ("2026-11-05T00:00:00Z", false, .beforeNotice(earliest: at("2026-11-08T00:00:00Z"))),
])
func anEarlyStartNeedsAnApprovalAndTheNoticePeriod(start: String, approved: Bool, expected: StartTiming) {
    let event = F.tracked(F.event("solo-0"), approved: approved ? "2026-11-02T00:00:00Z" : nil)
    #expect(Guard.timing(of: event, at: at(start)) == expected)
}

@Test func theVerdictCombinesRulesNoticeAndApproval() {
    let running = F.tracked(F.event("web-0", set: "web", ud: 0), started: "2026-11-05T00:00:00Z")
    let starting = F.tracked(F.event("web-1", set: "web", ud: 1))
    let verdict = Guard.judge(starting: [starting], at: at("2026-11-05T00:05:00Z"), others: [running], campaigns: F().terms, pairs: F().pairs)
    #expect(verdict.conflicts.map(\.rule) == [.updateDomainOverlap, .shortNotice])
    #expect(verdict.unapproved.isEmpty)
    #expect(!verdict.isAllowed)

    let early = Guard.judge(starting: [starting], at: at("2026-11-09T00:00:00Z"), others: [], campaigns: F().terms, pairs: F().pairs)
    #expect(early.conflicts.isEmpty)
    #expect(early.unapproved == [starting.event.id])

    let clear = Guard.judge(starting: [starting], at: at("2026-11-10T00:00:00Z"), others: [], campaigns: F().terms, pairs: F().pairs)
    #expect(clear.isAllowed)
}
