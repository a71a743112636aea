// The checker on hand-made event lists: each rule broken on purpose is caught under its
// name, and a fleet changed after planning is judged as it is now.
import Foundation
import Testing
@testable import PitstopCore

@Suite struct CheckerTests {
    let t = at("2026-11-08T00:00:00Z")
    let fleet: FleetSnapshot

    init() throws {
        fleet = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [SetSpec(name: "web", region: "eastus", updateDomains: 3, vms: 6), SetSpec(name: "w", region: "westus", vms: 2)],
            singles: ["eastus": 1],
            blackouts: [Blackout(name: "xmas", region: "eastus", start: at("2026-12-24T00:00:00Z"), end: at("2026-12-27T00:00:00Z"))])
    }

    func check(_ events: [PlannedEvent], in fleet: FleetSnapshot? = nil, notices: Set<NoticeKey>? = nil) -> [Finding] {
        let fleet = fleet ?? self.fleet
        let terms = ["c1": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 1800), "c2": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 1800)]
        return Checker.check(events: events, fleet: fleet, campaigns: terms, notices: notices ?? allNotices(events, fleet: fleet))
    }

    func rules(_ violations: [Finding]) -> [RuleName] { violations.map(\.rule) }

    // MARK: Each rule

    @Test func twoUpdateDomainsAtOnceOverlap() {
        let found = check([event("web-0", fleet: fleet, start: t), event("web-1", fleet: fleet, start: t + 300)])
        #expect(rules(found) == [.updateDomainOverlap])
        #expect(found.first?.message == "set web in eastus: UD 0 (web-0) and UD 1 (web-1) overlap at 2026-11-08T00:05:00Z")
        #expect(found.first?.regions == ["eastus"])
        #expect(found.first?.events.count == 2)
    }

    @Test func aNextUpdateDomainSoonerThanTheGapIsCaught() {
        let found = check([event("web-0", fleet: fleet, start: t), event("web-1", fleet: fleet, start: t + 1200)])
        #expect(rules(found) == [.udGap])
        #expect(found.first?.message.contains("UD 1 starts at 2026-11-08T00:20:00Z, 5m after UD 0 ended at 2026-11-08T00:15:00Z") == true)
        #expect(found.first?.message.contains("recovery gap of 30m") == true)
    }

    @Test func theGapOfTheLaterCampaignApplies() {
        let terms = ["c1": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 1800), "c2": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 0)]
        let events = [event("web-0", fleet: fleet, campaign: "c1", start: t), event("web-1", fleet: fleet, campaign: "c2", start: t + 900)]
        #expect(Checker.check(events: events, fleet: fleet, campaigns: terms, notices: allNotices(events, fleet: fleet)).isEmpty)
        let reversed = [event("web-0", fleet: fleet, campaign: "c2", start: t), event("web-1", fleet: fleet, campaign: "c1", start: t + 900)]
        #expect(rules(Checker.check(events: reversed, fleet: fleet, campaigns: terms, notices: allNotices(reversed, fleet: fleet))) == [.udGap])
    }

    @Test func pairedRegionsUnderMaintenanceTogetherInTwoCampaigns() {
        let found = check([event("web-0", fleet: fleet, campaign: "c1", start: t), event("w-0", fleet: fleet, campaign: "c2", start: t + 600)])
        #expect(rules(found) == [.pairOverlap])
        #expect(found.first?.regions == ["eastus", "westus"])
        #expect(found.first?.at == t + 600)
    }

    @Test func theMessageOfAPairClashNamesEachRegionWithItsCampaignInClosedParentheses() {
        let found = check([event("web-0", fleet: fleet, campaign: "c1", start: t), event("w-0", fleet: fleet, campaign: "c2", start: t + 600)])
        let message = try? #require(found.first?.message)
        #expect(message?.hasPrefix("paired regions eastus (campaign c1, web-0) and westus (campaign c2, w-0) are both under maintenance") == true, "\(message ?? "")")
        #expect(message?.filter { $0 == "(" }.count == message?.filter { $0 == ")" }.count)
    }

    @Test func pairedRegionsInterleavingInOneCampaign() {
        // No instant with both busy, but westus runs between two eastus waves.
        let found = check([
            event("web-0", fleet: fleet, start: t), event("w-0", fleet: fleet, start: t + 1200),
            event("web-1", fleet: fleet, start: t + 3600),
        ])
        #expect(rules(found) == [.pairOverlap])
        #expect(found.first?.message.contains("interleave") == true)
    }

    @Test func aPairLinkGivenInOneDirectionBindsBoth() throws {
        let reversed = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("westus", "eastus")],
            sets: [SetSpec(name: "web", region: "eastus", vms: 1), SetSpec(name: "w", region: "westus", vms: 1)])
        let found = check([event("web-0", fleet: reversed, start: t), event("w-0", fleet: reversed, start: t)], in: reversed)
        #expect(rules(found) == [.pairOverlap])
    }

    @Test func singleInstanceVMsBeforeTheSetsAreDone() {
        let found = check([event("eastus-solo-0", fleet: fleet, start: t), event("web-0", fleet: fleet, start: t + 3600)])
        #expect(rules(found) == [.singleBeforeMulti])
        #expect(found.first?.message.hasPrefix("eastus: single-instance VMs (eastus-solo-0) start at 2026-11-08T00:00:00Z") == true)
    }

    @Test func anEventBeforeItsNoticeHasRun() {
        let found = check([event("web-0", fleet: fleet, start: planningTime + 86_400)])
        #expect(rules(found) == [.shortNotice])
        #expect(found.first?.message.contains("earliest 2026-11-08T00:00:00Z") == true)
    }

    @Test func anEventOutsideItsWindows() throws {
        let windowed = try makeFleet(
            regions: ["eastus"], sets: [SetSpec(name: "web", region: "eastus", vms: 2)],
            windows: [oneOffWindow("nightly", .region("eastus"), start: "2026-11-09T22:00", hours: 1)])
        let inside = event("web-0", fleet: windowed, start: at("2026-11-09T22:00:00Z"))
        let straddling = event("web-1", fleet: windowed, start: at("2026-11-09T22:50:00Z"))
        let found = check([inside, straddling], in: windowed)
        #expect(rules(found) == [.outsideWindow])
        #expect(found.first?.events == [straddling.id])
        #expect(found.first?.message.contains("'nightly'") == true)
    }

    @Test func anEventStraddlingTwoOverlappingOccurrencesIsInsideNeither() throws {
        let windowed = try makeFleet(
            regions: ["eastus"], sets: [SetSpec(name: "web", region: "eastus", vms: 1)],
            windows: [
                oneOffWindow("a", .region("eastus"), start: "2026-11-09T22:00", hours: 1),
                oneOffWindow("b", .region("eastus"), start: "2026-11-09T22:30", hours: 1),
            ])
        #expect(rules(check([event("web-0", fleet: windowed, start: at("2026-11-09T22:50:00Z"))], in: windowed)).isEmpty)
        let tooLong = event("web-0", fleet: windowed, start: at("2026-11-09T22:10:00Z"), seconds: 4800)
        #expect(rules(check([tooLong], in: windowed)) == [.outsideWindow])
    }

    @Test func anEventInABlackout() {
        let found = check([event("web-0", fleet: fleet, start: at("2026-12-26T23:50:00Z"))])
        #expect(rules(found) == [.inBlackout])
        #expect(found.first?.message.contains("'xmas'") == true)
        #expect(check([event("w-0", fleet: fleet, start: at("2026-12-25T00:00:00Z"))]).isEmpty)
    }

    @Test func aFreezeLongerThan30Seconds() {
        let found = check([event("web-0", fleet: fleet, kind: .freeze, start: t, seconds: 45)])
        #expect(rules(found) == [.freezeTooLong])
        #expect(found.first?.message.contains("last up to 45s") == true)
    }

    @Test func aVMInTwoOverlappingEvents() {
        let found = check([event("web-0", fleet: fleet, campaign: "c1", start: t), event("web-0", fleet: fleet, campaign: "c2", start: t + 600)])
        #expect(rules(found) == [.doubleBooked])
        #expect(found.first?.message.hasPrefix("eastus: VM web-0 is in overlapping events") == true)
    }

    @Test func aRebootWithoutANoticeButNotAFreeze() {
        let reboot = [event("web-0", fleet: fleet, start: t)]
        let found = check(reboot, notices: [])
        #expect(rules(found) == [.missingNotice])
        #expect(found.first?.message == "campaign c1: subscription sub has no notice for 1 reboot event (web-0), the first at 2026-11-08T00:00:00Z")
        #expect(check(reboot, notices: [NoticeKey(campaign: "c2", subscription: "sub")]).map(\.rule) == [.missingNotice])
        #expect(check([event("web-0", fleet: fleet, kind: .freeze, start: t, seconds: 30)], notices: []).isEmpty)
    }

    @Test func everyRuleNameIsCaughtSomewhere() throws {
        let windowed = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [SetSpec(name: "web", region: "eastus", updateDomains: 3, vms: 6), SetSpec(name: "w", region: "westus", vms: 2)],
            singles: ["eastus": 1],
            windows: [oneOffWindow("w-window", .availabilitySet("w"), start: "2026-11-20T00:00", hours: 1)],
            blackouts: [Blackout(name: "xmas", region: "eastus", start: at("2026-12-24T00:00:00Z"), end: at("2026-12-27T00:00:00Z"))])
        let events = [
            event("web-0", fleet: windowed, start: t), event("web-1", fleet: windowed, start: t + 300),  // overlap
            event("web-2", fleet: windowed, start: t + 1800),  // gap
            event("w-0", fleet: windowed, campaign: "c2", start: t),  // pair, outside window
            event("eastus-solo-0", fleet: windowed, start: t - 86_400),  // before sets, short notice
            event("web-3", fleet: windowed, kind: .freeze, start: at("2026-12-25T00:00:00Z"), seconds: 60),  // blackout, too long
            event("web-4", fleet: windowed, start: t + 5000), event("web-4", fleet: windowed, campaign: "c2", start: t + 5100),  // double
        ]
        let found = Checker.check(events: events, fleet: windowed, campaigns: [:], notices: [])
        #expect(Set(found.map(\.rule)) == Set(RuleName.scheduling))
        #expect(RuleName.scheduling.map(\.rawValue) == [
            "update-domain-overlap", "ud-gap", "pair-overlap", "single-before-multi", "short-notice",
            "outside-window", "in-blackout", "freeze-too-long", "double-booked", "missing-notice",
        ])
    }

    // MARK: Only active events, grouping, order

    @Test func onlyScheduledAndStartedEventsAreChecked() {
        for status in [EventStatus.completed, .failed, .cancelled] {
            #expect(check([event("web-0", fleet: fleet, start: t), event("web-1", fleet: fleet, start: t, status: status)]).isEmpty)
        }
        #expect(rules(check([event("web-0", fleet: fleet, start: t), event("web-1", fleet: fleet, start: t, status: .started)])) == [.updateDomainOverlap])
    }

    @Test func manyEventsBreakingARuleTheSameWayAreOneViolation() throws {
        let big = try makeFleet(regions: ["eastus"], sets: [SetSpec(name: "big", region: "eastus", updateDomains: 2, vms: 400)])
        let events = big.vms.map { event($0.name, fleet: big, start: t) }
        let found = check(events, in: big)
        #expect(rules(found) == [.updateDomainOverlap])
        #expect(found.first?.events.count == 400)
        #expect(found.first?.message.contains("and 197 more") == true)
    }

    @Test func violationsComeInOrderOfInstantThenRule() {
        let events = [
            event("web-0", fleet: fleet, start: t + 86_400), event("web-1", fleet: fleet, start: t + 86_400),
            event("eastus-solo-0", fleet: fleet, start: planningTime + 3600),
        ]
        let found = check(events)
        #expect(found.map(\.at) == found.map(\.at).sorted())
        #expect(rules(found) == [.singleBeforeMulti, .shortNotice, .updateDomainOverlap])
        #expect(check(events) == found)
        #expect(check(events.reversed()).map { [$0.rule.rawValue, $0.at.iso8601] } == found.map { [$0.rule.rawValue, $0.at.iso8601] })
    }

    // MARK: The fleet as it is now, not as planned

    @Test func aVMMovedToAnotherUpdateDomainAfterPlanning() throws {
        let campaign = try makeCampaign(regions: ["eastus"], fleet: fleet)
        let events = try Planner.plan(campaign, fleet: fleet, existing: [])
        #expect(check(events).isEmpty)

        var vms = fleet.vms
        let i = try #require(vms.firstIndex { $0.name == "web-1" })
        vms[i].updateDomain = 0
        vms[i].faultDomain = 1
        let moved = try FleetSnapshot(regions: fleet.regions, pairs: fleet.pairs, subscriptions: fleet.subscriptions, sets: fleet.sets, vms: vms, blackouts: fleet.blackouts)

        let found = check(events, in: moved)
        #expect(rules(found) == [.updateDomainOverlap])
        #expect(found.first?.message == "set web in eastus: UD 0 (web-1) and UD 1 (web-4) overlap at 2026-11-08T00:45:00Z")
    }

    @Test func aPairLinkAddedAfterPlanning() throws {
        let unpaired = try makeFleet(
            regions: ["eastus", "northeurope"],
            sets: [SetSpec(name: "e", region: "eastus", vms: 1), SetSpec(name: "n", region: "northeurope", vms: 1)])
        let events = try Planner.plan(try makeCampaign(fleet: unpaired), fleet: unpaired, existing: [])
        #expect(check(events, in: unpaired).isEmpty)

        let paired = try FleetSnapshot(
            regions: unpaired.regions, pairs: [RegionPair(region: "northeurope", pairedWith: "eastus")],
            subscriptions: unpaired.subscriptions, sets: unpaired.sets, vms: unpaired.vms)
        #expect(rules(check(events, in: paired)) == [.pairOverlap])
    }

    @Test func aSetWindowRemovedAfterPlanning() throws {
        let regionWindow = oneOffWindow("region", .region("eastus"), start: "2026-11-20T00:00", hours: 4)
        let setWindow = oneOffWindow("api", .availabilitySet("api"), start: "2026-11-12T10:00", hours: 2)
        let before = try makeFleet(regions: ["eastus"], sets: [SetSpec(name: "api", region: "eastus", vms: 1)], windows: [regionWindow, setWindow])
        let events = try Planner.plan(try makeCampaign(fleet: before), fleet: before, existing: [])
        #expect(check(events, in: before).isEmpty)

        let after = try makeFleet(regions: ["eastus"], sets: [SetSpec(name: "api", region: "eastus", vms: 1)], windows: [regionWindow])
        let found = check(events, in: after)
        #expect(rules(found) == [.outsideWindow])
        #expect(found.first?.message.contains("the region's windows 'region'") == true)
    }

    @Test func aVMGoneFromTheFleetIsJudgedByItsEvent() throws {
        let gone = PlannedEvent(
            campaign: "c1", vm: "ghost", region: "eastus", availabilitySet: "web", updateDomain: 2,
            faultDomain: 0, wave: "x", kind: .reboot, range: TimeRange(start: t, end: t + 900), plannedAt: planningTime)
        #expect(rules(check([gone, event("web-0", fleet: fleet, start: t)])) == [.updateDomainOverlap])
    }
}
