// HistoryAudit: each rule broken by actual times is found, at its boundary and not before it.
import Testing
@testable import PitstopCore

/// 2026-12-01T00:00:00Z, and instants as seconds after it.
private let t0 = Timestamp(iso8601: "2026-12-01T00:00:00Z")!
private func t(_ seconds: Int64) -> Timestamp { t0 + seconds }

/// One event as it happened: planned at `plannedStart` for `planned` seconds, actually down
/// from `start` to `end` (seconds after t0).
private func happened(
    _ vm: String, region: String = "eastus", set: String? = "web", ud: Int? = 0, kind: MaintenanceKind = .reboot,
    campaign: String = "c1", planned: Int64 = 900, plannedStart: Int64? = nil, start: Int64, end: Int64?,
    status: EventStatus = .completed, forced: Bool = false, reason: String? = nil, subscription: String? = "contoso"
) -> EventRecord {
    let wave = set.map { "\(campaign)-\($0)-\(ud ?? 0)" } ?? "\(campaign)-\(region)-single"
    let plannedAt = t(plannedStart ?? start)
    let event = PlannedEvent(campaign: campaign, vm: vm, region: region, availabilitySet: set,
                             updateDomain: set == nil ? nil : ud, faultDomain: set == nil ? nil : 0, wave: wave, kind: kind,
                             range: TimeRange(start: plannedAt, end: plannedAt + planned), status: status, plannedAt: t(-30 * 86_400))
    return EventRecord(event: event, subscription: subscription, actualStart: t(start), actualEnd: end.map(t), forced: forced, reason: reason)
}

/// Every reboot of campaign c1 notified in time, so that only the rule under test can fire.
private let notified: [NoticeKey: Timestamp?] = [NoticeKey(campaign: "c1", subscription: "contoso"): t(-8 * 86_400)]

private func findings(_ events: [EventRecord], pairs: [RegionPair] = [], notices: [NoticeKey: Timestamp?] = notified, now: Int64 = 86_400) -> [Finding] {
    HistoryAudit.findings(events: events, pairs: pairs, notices: notices, now: t(now))
}

@Test func aHistoryThatKeptEveryRuleHasNoFindings() {
    let events = [
        happened("web-0", ud: 0, start: 0, end: 900),
        happened("web-1", ud: 1, start: 900, end: 1800),  // the next UD right as the first ends
        happened("west-0", region: "westus", set: "api", start: 1800, end: 2700),
    ]
    #expect(findings(events, pairs: [RegionPair(region: "eastus", pairedWith: "westus")]).isEmpty)
}

// MARK: Rule 1

@Test func twoUpdateDomainsOfOneSetDownTogetherAreFound() {
    let events = [
        happened("web-0", ud: 0, start: 0, end: 900),
        happened("web-5", ud: 0, start: 0, end: 700),
        happened("web-1", ud: 1, start: 600, end: 1500),
    ]
    let found = findings(events)
    #expect(found.map(\.rule) == [.updateDomainOverlap])
    #expect(found.first?.at == t(600))
    // web-5 was back up by 700 but still overlapped web-1 from 600; all three are named.
    #expect(found.first?.events == events.map(\.event.id).sorted())
    #expect(found.first?.message.contains("set web: update domains 0 and 1") == true)
}

@Test func updateDomainsOfDifferentCampaignsStillClash() {
    let events = [
        happened("web-0", ud: 0, campaign: "c1", start: 0, end: 900),
        happened("web-1", ud: 1, campaign: "c2", start: 800, end: 1700),
    ]
    let notices = notified.merging([NoticeKey(campaign: "c2", subscription: "contoso"): t(-8 * 86_400)]) { a, _ in a }
    #expect(findings(events, notices: notices).map(\.rule) == [.updateDomainOverlap])
}

@Test func oneUpdateDomainOrDifferentSetsDownTogetherIsFine() {
    let events = [
        happened("web-0", ud: 0, start: 0, end: 900),
        happened("web-5", ud: 0, start: 100, end: 1000),
        happened("api-1", set: "api", ud: 1, start: 100, end: 1000),
    ]
    #expect(findings(events).isEmpty)
}

@Test func aStillRunningEventCountsUpToNow() {
    let events = [
        happened("web-0", ud: 0, start: 0, end: nil, status: .started),
        happened("web-1", ud: 1, start: 5000, end: 5900),
    ]
    func overlaps(now: Int64) -> Bool { findings(events, now: now).contains { $0.rule == .updateDomainOverlap } }
    #expect(!overlaps(now: 4000))
    #expect(overlaps(now: 6000))
}

// MARK: Rule 3

@Test(arguments: [("eastus", "westus"), ("westus", "eastus")])
func pairedRegionsDownTogetherAreFoundWhicheverWayTheLinkPoints(from: String, to: String) {
    let events = [
        happened("web-0", region: "eastus", start: 0, end: 900),
        happened("api-0", region: "westus", set: "api", start: 899, end: 1800),
    ]
    let found = findings(events, pairs: [RegionPair(region: from, pairedWith: to)])
    #expect(found.map(\.rule) == [.pairOverlap])
    #expect(found.first?.at == t(899))
    #expect(found.first?.message.contains("eastus and westus") == true)
    #expect(found.first?.events.count == 2)
}

@Test func unpairedRegionsMayOverlap() {
    let events = [
        happened("web-0", region: "eastus", start: 0, end: 900),
        happened("db-0", region: "northeurope", set: "db", start: 0, end: 900),
    ]
    #expect(findings(events, pairs: [RegionPair(region: "eastus", pairedWith: "westus")]).isEmpty)
}

@Test func aPairOverlapNamesOnlyTheEventsDownDuringIt() {
    // eastus is busy from 0 to 3000 in three back-to-back events; westus only overlaps the last.
    let events = [
        happened("web-0", region: "eastus", ud: 0, start: 0, end: 1000),
        happened("web-1", region: "eastus", ud: 1, start: 1000, end: 2000),
        happened("web-2", region: "eastus", ud: 2, start: 2000, end: 3000),
        happened("api-0", region: "westus", set: "api", start: 2500, end: 3500),
    ]
    let found = findings(events, pairs: [RegionPair(region: "eastus", pairedWith: "westus")])
    #expect(found.map(\.rule) == [.pairOverlap])
    #expect(Set(found[0].events) == [events[2].event.id, events[3].event.id])
}

// MARK: Rule 6 and the overrun

@Test(arguments: [(30 as Int64, false), (31, true)])
func aFreezeLongerThanThirtySecondsIsFound(seconds: Int64, flagged: Bool) {
    let events = [happened("web-0", kind: .freeze, planned: 30, start: 0, end: seconds)]
    #expect(findings(events).map(\.rule) == (flagged ? [.freezeTooLong] : []))
}

@Test(arguments: [(1800 as Int64, false), (1801, true)])
func aRebootOverTwiceItsPlannedDowntimeIsFound(seconds: Int64, flagged: Bool) {
    let events = [happened("web-0", planned: 900, start: 100, end: 100 + seconds)]
    let found = findings(events)
    #expect(found.map(\.rule) == (flagged ? [.rebootOverrun] : []))
    if flagged { #expect(found[0].at == t(100 + 2 * 900)) }
}

@Test func freezesOfOneWaveTooLongMakeOneFinding() {
    let events = (0..<4).map { happened("web-\($0)", kind: .freeze, planned: 30, start: 0, end: 40 + Int64($0)) }
    let found = findings(events)
    #expect(found.count == 1)
    #expect(found[0].events.count == 4)
    #expect(found[0].message.contains("longest 43s (web-3)"))
}

// MARK: Rule 4

@Test(arguments: [
    (Int64(-7 * 86_400), false),  // exactly 7 days ahead: in time
    (Int64(-7 * 86_400 + 1), true),  // a second late
])
func aRebootNeedsItsNoticeSentSevenDaysAhead(sentAt: Int64, flagged: Bool) {
    let events = [happened("web-0", start: 0, end: 900)]
    let found = findings(events, notices: [NoticeKey(campaign: "c1", subscription: "contoso"): t(sentAt)])
    #expect(found.map(\.rule) == (flagged ? [.noticeLate] : []))
}

@Test func aRebootWithANoticeNeverSentOrNeverQueuedIsFound() {
    let events = [happened("web-0", start: 0, end: 900)]
    let queued: [NoticeKey: Timestamp?] = [NoticeKey(campaign: "c1", subscription: "contoso"): Timestamp?.none]
    let unsent = findings(events, notices: queued)
    #expect(unsent.map(\.rule) == [.noticeLate])
    #expect(unsent[0].message.contains("never sent"))
    let missing = findings(events, notices: [:])
    #expect(missing.map(\.rule) == [.noticeLate])
    #expect(missing[0].message.contains("no notice was queued"))
}

@Test func aNoticeOfAnotherSubscriptionDoesNotCount() {
    let events = [happened("web-0", start: 0, end: 900, subscription: "fabrikam")]
    #expect(findings(events).map(\.rule) == [.noticeLate])
}

@Test func aFreezeNeedsNoNotice() {
    #expect(findings([happened("web-0", kind: .freeze, planned: 30, start: 0, end: 20)], notices: [:]).isEmpty)
}

// MARK: Forced starts

@Test func aForcedStartIsFoundWithItsReason() {
    let events = [happened("web-0", start: 0, end: 900, forced: true, reason: "security fix cannot wait")]
    let found = findings(events)
    #expect(found.map(\.rule) == [.forcedStart])
    #expect(found[0].message.contains("security fix cannot wait"))
    #expect(found[0].at == t(0))
}

// MARK: Definitions

@Test func historyRulesShareTheSchedulingRulesNames() {
    // One enum names both: a rule judged on plans and on history is the same case.
    #expect(Set(RuleName.scheduling).intersection(RuleName.history) == [.updateDomainOverlap, .pairOverlap, .freezeTooLong])
    // Every other name is of a finding about the audit log itself.
    #expect(Set(RuleName.scheduling).union(RuleName.history).union(RuleName.log) == Set(RuleName.allCases))
    #expect(Set(RuleName.log).isDisjoint(with: Set(RuleName.scheduling).union(RuleName.history)))
    #expect(RuleName.history.map(\.rawValue) == [
        "update-domain-overlap", "pair-overlap", "freeze-too-long", "reboot-overrun", "notice-late", "forced-start",
    ])
}

@Test func eventsThatNeverStartedAreNotJudged() {
    var e = happened("web-1", ud: 1, start: 0, end: 900, status: .scheduled)
    e.actualStart = nil
    e.actualEnd = nil
    #expect(findings([happened("web-0", ud: 0, start: 0, end: 900), e], notices: notified).isEmpty)
}

/// For random histories of one set, an update-domain finding exists exactly when two events of
/// different update domains overlap, compared against the obvious quadratic check. An event
/// that ended as it started was never down: it overlaps nothing.
@Test func updateDomainFindingsMatchAPairwiseCheck() {
    for seed in 0..<400 as Range<UInt64> {
        var random = DetailRandom(state: seed)
        let n = random.int(1...8)
        let events = (0..<n).map { i -> EventRecord in
            let start = Int64(random.int(0...40) * 50)
            return happened("web-\(i)", ud: random.int(0...2), start: start, end: start + Int64(random.int(0...10) * 50))
        }
        func clash(_ a: EventRecord, _ b: EventRecord) -> Bool {
            let (x, y) = (a.actualRange(now: t0)!, b.actualRange(now: t0)!)
            return a.event.updateDomain != b.event.updateDomain && !x.isEmpty && !y.isEmpty && x.overlaps(y)
        }
        let expected = events.contains { a in events.contains { b in clash(a, b) } }
        let found = findings(events).filter { $0.rule == .updateDomainOverlap }
        #expect(!found.isEmpty == expected, "seed \(seed)")
        // Every event a finding names overlaps another of a different update domain.
        for f in found {
            for id in f.events {
                let e = events.first { $0.event.id == id }!
                #expect(events.contains { clash($0, e) }, "seed \(seed)")
            }
        }
    }
}
