// The planner on small, targeted fleets: each rule kept, plans short, failures explained.
import Foundation
import Testing
@testable import PitstopCore

@Suite struct PlannerTests {
    let web = SetSpec(name: "web", region: "eastus", updateDomains: 3, vms: 6)

    // MARK: Layout

    @Test func setWavesGoBackToBackWithTheGapAndSingleInstanceVMsLast() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web], singles: ["eastus": 2])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.count == 8)
        let startOf = Dictionary(uniqueKeysWithValues: events.map { ($0.vm, $0.range.start) })
        #expect(startOf["web-0"] == at("2026-11-08T00:00:00Z"))
        #expect(startOf["web-3"] == at("2026-11-08T00:00:00Z"))
        #expect(startOf["web-1"] == at("2026-11-08T00:45:00Z"))
        #expect(startOf["web-2"] == at("2026-11-08T01:30:00Z"))
        #expect(startOf["eastus-solo-0"] == at("2026-11-08T01:45:00Z"))
        #expect(startOf["eastus-solo-1"] == at("2026-11-08T01:45:00Z"))
        #expect(Set(events.filter { $0.updateDomain == 0 }.map(\.wave)).count == 1)
        #expect(Set(events.map(\.wave)).count == 4)
        #expect(events.allSatisfy { $0.range.duration == 900 && $0.status == .scheduled && $0.plannedAt == planningTime })
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func updateDomainsWithoutVMsAreSkipped() throws {
        let fleet = try FleetSnapshot(
            regions: [Region(name: "eastus")],
            sets: [AvailabilitySet(name: "db", region: "eastus", subscription: "sub", updateDomains: 5)],
            vms: [
                VirtualMachine(name: "db-a", region: "eastus", subscription: "sub", availabilitySet: "db", updateDomain: 0, faultDomain: 0),
                VirtualMachine(name: "db-b", region: "eastus", subscription: "sub", availabilitySet: "db", updateDomain: 3, faultDomain: 1),
            ])
        let campaign = try makeCampaign(fleet: fleet, udGap: 0)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.map(\.range.start) == [at("2026-11-08T00:00:00Z"), at("2026-11-08T00:15:00Z")])
        #expect(events.map(\.updateDomain) == [0, 3])
    }

    @Test func setsOfARegionRunInParallel() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web, SetSpec(name: "api", region: "eastus", updateDomains: 2, vms: 2)])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.first { $0.vm == "api-0" }?.range.start == at("2026-11-08T00:00:00Z"))
        #expect(events.first { $0.vm == "web-0" }?.range.start == at("2026-11-08T00:00:00Z"))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    // MARK: Rule 3, pairs

    @Test func pairedRegionsTakeTurnsAndOthersRunInParallel() throws {
        let fleet = try makeFleet(
            regions: ["eastus", "westus", "northeurope"], pairs: [("eastus", "westus")],
            sets: [
                SetSpec(name: "e", region: "eastus", vms: 5), SetSpec(name: "w", region: "westus", vms: 5),
                SetSpec(name: "n", region: "northeurope", vms: 5),
            ])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        let east = try #require(span(events, region: "eastus")), west = try #require(span(events, region: "westus"))
        #expect(!east.overlaps(west))
        #expect(span(events, region: "northeurope")?.start == campaign.earliestStart)
        #expect(PlanSummary(events: events).length == Planner.lowerBound(campaign, fleet: fleet))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func asymmetricLinksAreConflictsBothWays() throws {
        // southcentralus is named by two links, only as the target of each.
        let fleet = try makeFleet(
            regions: ["brazilsouth", "northcentralus", "southcentralus"],
            pairs: [("brazilsouth", "southcentralus"), ("northcentralus", "southcentralus")],
            sets: [
                SetSpec(name: "b", region: "brazilsouth", vms: 2), SetSpec(name: "n", region: "northcentralus", vms: 2),
                SetSpec(name: "s", region: "southcentralus", vms: 2),
            ])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        let south = try #require(span(events, region: "southcentralus"))
        #expect(!south.overlaps(try #require(span(events, region: "brazilsouth"))))
        #expect(!south.overlaps(try #require(span(events, region: "northcentralus"))))
        #expect(span(events, region: "brazilsouth")?.start == span(events, region: "northcentralus")?.start)
        #expect(PlanSummary(events: events).length == Planner.lowerBound(campaign, fleet: fleet))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func anOddCycleOfPairsIsPlannedInThreeTurns() throws {
        let fleet = try makeFleet(
            regions: ["a", "b", "c"], pairs: [("a", "b"), ("b", "c"), ("c", "a")],
            sets: ["a", "b", "c"].map { SetSpec(name: "set-\($0)", region: $0, updateDomains: 2, vms: 2) })
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        let spans = try ["a", "b", "c"].map { try #require(span(events, region: $0)) }
        #expect(!spans[0].overlaps(spans[1]) && !spans[1].overlaps(spans[2]) && !spans[0].overlaps(spans[2]))
        #expect(PlanSummary(events: events).length == 3 * (2 * 900 + 1800))
        #expect(Planner.lowerBound(campaign, fleet: fleet) == 3 * (2 * 900 + 1800))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func aFiveCycleOfPairsNeedsThreeTurnsWhereTheBoundSaysTwo() throws {
        // An odd cycle is not perfect: no two linked regions together, yet 3 turns are needed.
        let names = ["a", "b", "c", "d", "e"]
        let fleet = try makeFleet(
            regions: names, pairs: (0..<5).map { (names[$0], names[($0 + 1) % 5]) },
            sets: names.map { SetSpec(name: "set-\($0)", region: $0, updateDomains: 1, vms: 1) })
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(Planner.lowerBound(campaign, fleet: fleet) == 2 * 900)
        #expect(PlanSummary(events: events).length == 3 * 900)
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func anotherTurnOrderIsTriedWhenTheBestEstimateDoesNotFit() throws {
        // By ideal spans eastus would go first, but then westus's only window is gone.
        let fleet = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [SetSpec(name: "e", region: "eastus", vms: 1), SetSpec(name: "w", region: "westus", vms: 1)],
            windows: [oneOffWindow("west-night", .region("westus"), start: "2026-11-08T00:00", seconds: 1200)])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.first { $0.vm == "w-0" }?.range.start == at("2026-11-08T00:00:00Z"))
        #expect(events.first { $0.vm == "e-0" }?.range.start == at("2026-11-08T00:15:00Z"))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func aFailureAfterWaitingForPartnersSaysSo() throws {
        let fleet = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [SetSpec(name: "e", region: "eastus", vms: 1), SetSpec(name: "w", region: "westus", vms: 1)],
            windows: [
                oneOffWindow("east-night", .region("eastus"), start: "2026-11-08T00:00", seconds: 1200),
                oneOffWindow("west-night", .region("westus"), start: "2026-11-08T00:00", seconds: 1200),
            ])
        let campaign = try makeCampaign(fleet: fleet)

        let error = #expect(throws: PlanningFailure.self) { try Planner.plan(campaign, fleet: fleet, existing: []) }

        #expect(error?.message == "set w in westus: no occurrence of its windows ('west-night') between 2026-11-08T00:15:00Z and the end of the 90d horizon at 2027-02-06T00:00:00Z has room for update domain 0 (15m) (westus waits for its paired regions eastus until 2026-11-08T00:15:00Z)")
        #expect(error?.region == "westus")
    }

    @Test func aPartnerBusyInAnotherCampaignPushesTheRegionBack() throws {
        let fleet = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [SetSpec(name: "e", region: "eastus", vms: 1), SetSpec(name: "w", region: "westus", vms: 1)])
        let other = try makeCampaign("old", regions: ["westus"], fleet: fleet)
        let existing = try Planner.plan(other, fleet: fleet, existing: [])
        let campaign = try makeCampaign("new", regions: ["eastus"], fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: existing)

        #expect(events.map(\.range.start) == [at("2026-11-08T00:15:00Z")])
        #expect(violations(existing + events, fleet: fleet, campaigns: [other, campaign]).isEmpty)
    }

    // MARK: Rules 1 and 7 against other campaigns

    @Test func aVMsEventInAnotherCampaignIsNotDoubleBooked() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let old = try makeCampaign("old", kind: .freeze, fleet: fleet, notBefore: at("2026-11-08T00:05:00Z"))
        let existing = [event("web-0", fleet: fleet, campaign: "old", kind: .freeze, start: at("2026-11-08T00:05:00Z"), seconds: 30)]
        let campaign = try makeCampaign("new", fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: existing)

        #expect(events.first { $0.vm == "web-0" }?.range.start == at("2026-11-08T00:05:30Z"))
        #expect(violations(existing + events, fleet: fleet, campaigns: [old, campaign]).isEmpty)
    }

    @Test func anotherCampaignsUpdateDomainIntervalKeepsBothGaps() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let old = try makeCampaign("old", fleet: fleet, notBefore: at("2026-11-08T00:10:00Z"), udGap: 600)
        let existing = [event("web-1", fleet: fleet, campaign: "old", start: at("2026-11-08T00:10:00Z"))]
        let campaign = try makeCampaign("new", fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: existing, existingCampaigns: ["old": old.terms])

        // UD 0 may not end later than 10 min (old's gap) before old's UD 1 starts, so it waits
        // for 30 min (its own gap) after that interval.
        #expect(events.first { $0.vm == "web-0" }?.range.start == at("2026-11-08T00:55:00Z"))
        #expect(violations(existing + events, fleet: fleet, campaigns: [old, campaign]).isEmpty)
    }

    @Test func inactiveEventsOfOtherCampaignsAndOwnEventsAreIgnored() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let campaign = try makeCampaign("new", fleet: fleet)
        let existing = [
            event("web-0", fleet: fleet, campaign: "old", start: at("2026-11-08T00:00:00Z"), status: .cancelled),
            event("web-0", fleet: fleet, campaign: "old", start: at("2026-11-08T00:00:00Z"), status: .completed),
            event("web-0", fleet: fleet, campaign: "new", start: at("2026-11-08T00:00:00Z")),
        ]

        let events = try Planner.plan(campaign, fleet: fleet, existing: existing)

        #expect(events.first { $0.vm == "web-0" }?.range.start == at("2026-11-08T00:00:00Z"))
    }

    // MARK: Rule 4, notice

    @Test(arguments: [MaintenanceKind.reboot, .freeze])
    func eventsStartOnceTheNoticeHasRun(kind: MaintenanceKind) throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let campaign = try makeCampaign(kind: kind, fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.map(\.range.start).min() == planningTime + kind.noticePeriod)
        #expect(events.allSatisfy { $0.range.duration == kind.defaultPerVMDuration && $0.kind == kind })
    }

    // MARK: Rule 5, windows and blackouts

    @Test func wavesWaitForTheNextWindowOccurrence() throws {
        let fleet = try makeFleet(
            regions: ["eastus"], sets: [web], singles: ["eastus": 1],
            windows: [
                oneOffWindow("night-1", .region("eastus"), start: "2026-11-09T22:00", hours: 1),
                oneOffWindow("night-2", .region("eastus"), start: "2026-11-10T22:00", hours: 1),
            ])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        let startOf = Dictionary(uniqueKeysWithValues: events.map { ($0.vm, $0.range.start) })
        #expect(startOf["web-0"] == at("2026-11-09T22:00:00Z"))
        #expect(startOf["web-1"] == at("2026-11-09T22:45:00Z"))
        #expect(startOf["web-2"] == at("2026-11-10T22:00:00Z"))
        #expect(startOf["eastus-solo-0"] == at("2026-11-10T22:15:00Z"))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func aSetsOwnWindowsOverrideItsRegionsButNotForSingleInstanceVMs() throws {
        let fleet = try makeFleet(
            regions: ["eastus"], sets: [SetSpec(name: "api", region: "eastus", updateDomains: 1, vms: 1)], singles: ["eastus": 1],
            windows: [
                oneOffWindow("region", .region("eastus"), start: "2026-11-20T00:00", hours: 4),
                oneOffWindow("api", .availabilitySet("api"), start: "2026-11-12T10:00", hours: 2),
            ])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.first { $0.vm == "api-0" }?.range.start == at("2026-11-12T10:00:00Z"))
        #expect(events.first { $0.vm == "eastus-solo-0" }?.range.start == at("2026-11-20T00:00:00Z"))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    @Test func noEventOverlapsABlackoutOfTheFleetOrTheRegion() throws {
        let fleet = try makeFleet(
            regions: ["eastus", "westus"],
            sets: [SetSpec(name: "e", region: "eastus", vms: 1), SetSpec(name: "w", region: "westus", vms: 1)],
            blackouts: [
                Blackout(name: "freeze-all", region: nil, start: at("2026-11-08T00:00:00Z"), end: at("2026-11-08T06:00:00Z")),
                Blackout(name: "west-sale", region: "westus", start: at("2026-11-08T06:10:00Z"), end: at("2026-11-09T00:00:00Z")),
            ])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.first { $0.vm == "e-0" }?.range.start == at("2026-11-08T06:00:00Z"))
        #expect(events.first { $0.vm == "w-0" }?.range.start == at("2026-11-09T00:00:00Z"))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    // MARK: Rule 6

    @Test func aConfiguredRebootDowntimeIsUsedForEveryEvent() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let campaign = try makeCampaign(fleet: fleet, perVMDuration: 1200)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(events.allSatisfy { $0.range.duration == 1200 })
    }

    // MARK: Determinism and ids

    @Test func theSameInputsGiveTheSamePlanAndIds() throws {
        let fleet = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("westus", "eastus")],
            sets: [web, SetSpec(name: "w", region: "westus", vms: 7)], singles: ["westus": 3])
        let campaign = try makeCampaign(fleet: fleet)

        let first = try Planner.plan(campaign, fleet: fleet, existing: [])
        let second = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(first == second)
        #expect(Set(first.map(\.id)).count == first.count)
        let uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        #expect(first.allSatisfy { $0.wave.wholeMatch(of: uuid) != nil && $0.id == "\($0.wave)/\($0.vm)" })
    }

    @Test func waveIdsDependOnEveryPart() {
        let base = StableID.wave(campaign: "c", region: "r", availabilitySet: "s", updateDomain: 1)
        #expect(base == StableID.wave(campaign: "c", region: "r", availabilitySet: "s", updateDomain: 1))
        #expect(base != StableID.wave(campaign: "c2", region: "r", availabilitySet: "s", updateDomain: 1))
        #expect(base != StableID.wave(campaign: "c", region: "r", availabilitySet: "s", updateDomain: 2))
        #expect(StableID.uuid(["ab", "c"]) != StableID.uuid(["a", "bc"]))
    }

    // MARK: Failures

    @Test func aWindowShorterThanOneWaveIsExplained() throws {
        let fleet = try makeFleet(
            regions: ["eastus"], sets: [web], windows: [oneOffWindow("nightly", .availabilitySet("web"), start: "2026-11-09T22:00", seconds: 600)])
        let campaign = try makeCampaign(fleet: fleet)

        let error = #expect(throws: PlanningFailure.self) { try Planner.plan(campaign, fleet: fleet, existing: []) }

        #expect(error?.message == "set web in eastus: a wave needs 15m but the longest occurrence of 'nightly' is 10m")
        #expect(error?.availabilitySet == "web")
    }

    @Test func aBlackoutOverTheWholeHorizonIsExplained() throws {
        let fleet = try makeFleet(
            regions: ["eastus"], sets: [web],
            blackouts: [Blackout(name: "all", region: nil, start: at("2026-11-01T00:00:00Z"), end: at("2027-06-01T00:00:00Z"))])
        let campaign = try makeCampaign(fleet: fleet)

        let error = #expect(throws: PlanningFailure.self) { try Planner.plan(campaign, fleet: fleet, existing: []) }

        #expect(error?.region == "eastus")
        #expect(error?.message.hasPrefix("region eastus: no room for set web in eastus, update domain 0 (15m)") == true)
        #expect(error?.message.contains("90d horizon at 2027-02-06T00:00:00Z") == true)
    }

    @Test func windowsThatRunOutBeforeEveryWaveFitsAreExplained() throws {
        let fleet = try makeFleet(
            regions: ["eastus"], sets: [web], windows: [oneOffWindow("once", .availabilitySet("web"), start: "2026-11-09T22:00", hours: 1)])
        let campaign = try makeCampaign(fleet: fleet)

        let error = #expect(throws: PlanningFailure.self) { try Planner.plan(campaign, fleet: fleet, existing: []) }

        #expect(error?.message == "set web in eastus: no occurrence of its windows ('once') between 2026-11-09T23:30:00Z and the end of the 90d horizon at 2027-02-06T00:00:00Z has room for update domain 2 (15m)")
    }

    @Test func windowsWithoutAnOccurrenceInTheHorizonAreExplained() throws {
        let fleet = try makeFleet(
            regions: ["eastus"], sets: [web], windows: [oneOffWindow("last-year", .region("eastus"), start: "2025-11-09T22:00", hours: 4)])
        let campaign = try makeCampaign(fleet: fleet)

        let error = #expect(throws: PlanningFailure.self) { try Planner.plan(campaign, fleet: fleet, existing: []) }

        #expect(error?.message.contains("its windows ('last-year') have no occurrence between 2026-11-08T00:00:00Z and 2027-02-06T00:00:00Z") == true)
    }

    // MARK: Campaign validation

    @Test func anUnknownRegionIsNamed() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let error = #expect(throws: InputProblem.self) { try makeCampaign(regions: ["eastus", "mars"], fleet: fleet) }
        #expect(error?.message == "unknown region 'mars' (the fleet has: eastus)")
    }

    @Test func aFreezeLongerThan30SecondsIsRefused() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let error = #expect(throws: InputProblem.self) { try makeCampaign(kind: .freeze, fleet: fleet, perVMDuration: 45) }
        #expect(error?.message == "a freeze pauses each VM for at most 30s, not 45s")
    }

    @Test func aDurationThatIsNotPositiveIsRefused() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let error = #expect(throws: InputProblem.self) { try makeCampaign(fleet: fleet, perVMDuration: 0) }
        #expect(error?.message == "the per-VM duration must be positive, not 0s")
    }

    @Test func aStartBeforeTheNoticeRunsSaysTheEarliestAllowed() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web])
        let error = #expect(throws: InputProblem.self) { try makeCampaign(fleet: fleet, notBefore: at("2026-11-02T00:00:00Z")) }
        #expect(error?.message == "notBefore 2026-11-02T00:00:00Z is too early: a reboot needs 7d of notice after planning at 2026-11-01T00:00:00Z, so the earliest allowed start is 2026-11-08T00:00:00Z")
    }

    @Test func regionsWithoutVMsAreNamed() throws {
        let fleet = try makeFleet(regions: ["eastus", "northeurope", "westus"], sets: [SetSpec(name: "n", region: "northeurope", vms: 1)])
        let error = #expect(throws: InputProblem.self) { try makeCampaign(regions: ["westus", "eastus", "northeurope"], fleet: fleet) }
        #expect(error?.message == "campaign over regions with no VMs: eastus, westus")
    }

    @Test func aCampaignWithoutRegionsTargetsEveryRegionWithVMs() throws {
        let fleet = try makeFleet(regions: ["eastus", "westus", "empty"], sets: [web, SetSpec(name: "w", region: "westus", vms: 1)])
        let campaign = try makeCampaign(fleet: fleet)
        #expect(campaign.regions == ["eastus", "westus"])
        #expect(campaign.notBefore == at("2026-11-08T00:00:00Z"))
    }

    // MARK: Fleet snapshot

    @Test func anUpdateDomainOutsideTheSetIsRefusedWithItsPlace() throws {
        let error = #expect(throws: InputProblem.self) {
            try FleetSnapshot(
                regions: [Region(name: "eastus")],
                sets: [AvailabilitySet(name: "web", region: "eastus", subscription: "sub", updateDomains: 5)],
                vms: [
                    VirtualMachine(name: "web-0", region: "eastus", subscription: "sub", availabilitySet: "web"),
                    VirtualMachine(name: "web-1", region: "eastus", subscription: "sub", availabilitySet: "web", updateDomain: 7),
                ])
        }
        #expect(error?.message == "vms[1] web-1: update domain 7 is outside 0..4 for set web")
    }

    @Test func aVMOfAnUnknownSetIsRefused() throws {
        let error = #expect(throws: InputProblem.self) {
            try FleetSnapshot(regions: [Region(name: "eastus")], vms: [VirtualMachine(name: "a", region: "eastus", subscription: "sub", availabilitySet: "nope")])
        }
        #expect(error?.message == "vms[0] a: availability set 'nope' is not in the fleet")
    }

    @Test func vmsWithoutExplicitDomainsArePlacedRoundRobin() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [SetSpec(name: "web", region: "eastus", updateDomains: 3, faultDomains: 2, vms: 5)])
        #expect((0..<5).map { fleet.vm(named: "web-\($0)")!.updateDomain } == [0, 1, 2, 0, 1])
        #expect((0..<5).map { fleet.vm(named: "web-\($0)")!.faultDomain } == [0, 1, 0, 1, 0])
    }

    // MARK: Lower bound and summary

    @Test func theLowerBoundOfOneRegionIsItsLongestSetPlusTheSingleInstanceWave() throws {
        let fleet = try makeFleet(regions: ["eastus"], sets: [web, SetSpec(name: "api", region: "eastus", updateDomains: 2, vms: 2)], singles: ["eastus": 2])
        let campaign = try makeCampaign(fleet: fleet)

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(Planner.lowerBound(campaign, fleet: fleet) == 3 * 900 + 2 * 1800 + 900)
        #expect(PlanSummary(events: events).length == Planner.lowerBound(campaign, fleet: fleet))
    }

    @Test func theSummaryCountsWavesAndVMsPerRegion() throws {
        let fleet = try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [web, SetSpec(name: "w", region: "westus", updateDomains: 2, vms: 3)], singles: ["westus": 2])
        let campaign = try makeCampaign(fleet: fleet)

        let summary = PlanSummary(events: try Planner.plan(campaign, fleet: fleet, existing: []))

        #expect(summary.regions.map(\.region) == ["eastus", "westus"])
        #expect(summary.regions.map(\.waves) == [3, 3])
        #expect(summary.regions.map(\.vms) == [6, 5])
        #expect(summary.waves == 6 && summary.vms == 11)
        #expect(summary.length == (3 * 900 + 2 * 1800) + (2 * 900 + 1800 + 900))
    }

    @Test func aPlannedEventStaysSmall() {
        // A million of them must fit well under a gigabyte, strings included.
        #expect(MemoryLayout<PlannedEvent>.stride <= 200)
    }
}
