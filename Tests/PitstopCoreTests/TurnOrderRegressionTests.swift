// The two cases of issue 12 rebuilt on a small fleet: with windows, the turn order of two
// linked regions decides when a campaign ends, and eastus-before-westus (the first order found,
// which the planner used to keep whenever it fitted) is the wrong one in both.
import Foundation
import Testing
@testable import PitstopCore

@Suite struct TurnOrderRegressionTests {
    /// A window in a named zone, recurring.
    static func window(_ name: String, _ region: String, start: String, zone: String, hours: Int64, every: String) throws -> MaintenanceWindow {
        MaintenanceWindow(
            name: name, scope: .region(region), start: LocalDateTime(start)!, timeZone: TimeZone(identifier: zone)!,
            duration: DurationText(seconds: hours * 3600), recurrence: try Recurrence(parsing: every))
    }

    /// eastus and westus, paired, with one set each of `east` and `west` update domains (one VM each).
    static func eastWestFleet(east: Int, west: Int, windows: [MaintenanceWindow]) throws -> FleetSnapshot {
        try makeFleet(
            regions: ["eastus", "westus"], pairs: [("eastus", "westus")],
            sets: [SetSpec(name: "east", region: "eastus", updateDomains: east, vms: east), SetSpec(name: "west", region: "westus", updateDomains: west, vms: west)],
            windows: windows)
    }

    /// The reboot case: eastus (4 update domains, an hour each, 30 min apart) has a 4-hour
    /// Monday-evening window and a weekend window; westus (8 update domains) a 12-hour Monday
    /// night and a later weekend window, each in its own zone. eastus first fits 3 waves on
    /// Monday, stretches to Saturday for its 4th, and westus waits for it and then for its own
    /// weekend window: the campaign ends on Sunday 05:30Z. westus first is done on Monday night
    /// and eastus, whose Monday window is gone by then, ends on Saturday 18:30Z: 11 hours sooner.
    static func rebootCase() throws -> (fleet: FleetSnapshot, campaign: Campaign) {
        let fleet = try eastWestFleet(
            east: 4, west: 8,
            windows: [
                try window("east-monday", "eastus", start: "2026-11-09T20:00", zone: "America/New_York", hours: 4, every: "Week Monday"),
                try window("east-weekend", "eastus", start: "2026-11-14T08:00", zone: "America/New_York", hours: 10, every: "Week Saturday,Sunday"),
                try window("west-monday", "westus", start: "2026-11-09T20:00", zone: "America/Los_Angeles", hours: 12, every: "Week Monday"),
                try window("west-weekend", "westus", start: "2026-11-14T10:00", zone: "America/Los_Angeles", hours: 12, every: "Week Saturday,Sunday"),
            ])
        let campaign = try makeCampaign(fleet: fleet, notBefore: at("2026-11-09T00:00:00Z"), perVMDuration: 3600, udGap: 1800)
        return (fleet, campaign)
    }

    @Test func aRebootCampaignLetsWestusGoFirstAndEndsElevenHoursSooner() throws {
        let (fleet, campaign) = try Self.rebootCase()

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(span(events, region: "westus") == TimeRange(start: at("2026-11-10T04:00:00Z"), end: at("2026-11-10T15:30:00Z")))
        #expect(span(events, region: "eastus") == TimeRange(start: at("2026-11-14T13:00:00Z"), end: at("2026-11-14T18:30:00Z")))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }

    /// The freeze case: eastus's only window is Saturday night in New York, westus has one
    /// every night in Los Angeles. eastus first made westus wait from Monday to Sunday morning
    /// (UTC) for eastus's weekend; westus first is done the first night.
    static func freezeCase() throws -> (fleet: FleetSnapshot, campaign: Campaign) {
        let fleet = try eastWestFleet(
            east: 5, west: 5,
            windows: [
                try window("east-weekend", "eastus", start: "2026-11-14T22:00", zone: "America/New_York", hours: 4, every: "Week Saturday"),
                try window("west-nightly", "westus", start: "2026-11-09T22:00", zone: "America/Los_Angeles", hours: 4, every: "Day"),
            ])
        let campaign = try makeCampaign(kind: .freeze, fleet: fleet, notBefore: at("2026-11-09T12:00:00Z"), perVMDuration: 30, udGap: 1800)
        return (fleet, campaign)
    }

    @Test func aFreezeCampaignDoesNotKeepWestusWaitingSixDaysForEastusWeekend() throws {
        let (fleet, campaign) = try Self.freezeCase()

        let events = try Planner.plan(campaign, fleet: fleet, existing: [])

        #expect(span(events, region: "westus") == TimeRange(start: at("2026-11-10T06:00:00Z"), end: at("2026-11-10T08:02:30Z")))
        #expect(span(events, region: "eastus") == TimeRange(start: at("2026-11-15T03:00:00Z"), end: at("2026-11-15T05:02:30Z")))
        #expect(violations(events, fleet: fleet, campaigns: [campaign]).isEmpty)
    }
}
