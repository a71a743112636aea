// Tests for the scheduler service: what `plan` writes, what it refuses, what `upcoming`
// lists, and that `check` catches each rule broken behind Pitstop's back with raw SQL.
import Foundation
import PitstopCore
import PitstopStore
import PitstopTestSupport
import Testing
@testable import PitstopService

private let now = Timestamp(iso8601: "2026-11-22T10:00:00Z")!

/// eastus <-> westus paired, northeurope alone with a daily 20-hour window. Set web (3 UDs)
/// and a standalone VM in eastus, set api in westus, set db in northeurope.
private let fleet = """
    {
      "regions": [{"name": "eastus"}, {"name": "westus"}, {"name": "northeurope"}],
      "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
      "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"], "coAdmins": ["oncall@contoso.example"]},
                        {"id": "fabrikam", "admins": ["it@fabrikam.example"]}],
      "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 3},
                           {"name": "api", "region": "westus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 2},
                           {"name": "db", "region": "northeurope", "subscription": "fabrikam", "faultDomains": 2, "updateDomains": 2}],
      "vms": [{"name": "web-0", "availabilitySet": "web"}, {"name": "web-1", "availabilitySet": "web"},
              {"name": "web-2", "availabilitySet": "web"}, {"name": "web-3", "availabilitySet": "web"},
              {"name": "jump", "region": "eastus", "subscription": "contoso"},
              {"name": "api-0", "availabilitySet": "api"}, {"name": "api-1", "availabilitySet": "api"},
              {"name": "db-0", "availabilitySet": "db"}, {"name": "db-1", "availabilitySet": "db"}],
      "maintenanceWindows": [{"name": "ne-day", "region": "northeurope", "start": "2026-11-01T00:00:00",
                              "timeZone": "UTC", "duration": "PT20H", "recurEvery": "Day"}]
    }
    """

/// The fleet on one engine: every test here runs on SQLite and on PostgreSQL.
private struct Fixture {
    let database: any Store
    /// The same data, for SQL written behind Pitstop's back.
    let raw: TestDatabase
    let scheduler: SchedulerService

    init(_ engine: TestEngine) async throws {
        raw = try TestDatabase(engine)
        database = raw.store
        _ = try await InventoryService(store: database, actor: "test", clock: { now }).importDocument(.bytes(Array(fleet.utf8), name: "fleet.json"))
        scheduler = SchedulerService(store: database)
    }

    @discardableResult
    func plan(_ request: CampaignRequest = CampaignRequest(kind: .reboot), dryRun: Bool = false) async throws -> PlanResult {
        try await scheduler.plan(request, now: now, dryRun: dryRun, actor: "test")
    }

    func sql(_ text: String, _ values: [TestDatabase.Value] = []) throws {
        try raw.execute(text, values)
    }

    func count(_ table: String) throws -> Int {
        try raw.integer("SELECT count(*) FROM \(table)") ?? 0
    }

    func event(_ vm: String) async throws -> PlannedEvent {
        try await database.read { tx in try tx.events.events(.vm(vm)).first!.event }
    }

    func rules() async throws -> Set<String> { Set(try await scheduler.check().map(\.rule.rawValue)) }

    /// Where a wave's VM keys find their names on this engine (`key`, `name`).
    var names: String { (raw.engine == .postgres ? EventRows.Names.postgres : .sqlite).rawValue }
}

@Suite struct PlanWriteTests {
    /// The plan hands the store each VM's key as read with the fleet: every pair must name the
    /// VM it was planned for, and each notice list its own subscription's VMs only. A VM another
    /// tool wrote without a key gets one from the plan.
    @Test(arguments: TestEngine.all) func everyPairAndNoticeNamesTheVMItWasPlannedFor(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try f.sql("INSERT INTO vms(name, region, subscription) VALUES ('jump-2', 'eastus', 'fabrikam')")
        try await f.plan()
        #expect(try f.count("wave_vms") == 10)
        let matching = try f.raw.integer("""
            SELECT count(*) FROM wave_vms p JOIN vms v ON v.key = p.vm JOIN \(f.names) n ON n.key = p.vm WHERE n.name = v.name
            """)
        let keyless = try f.raw.integer("SELECT count(*) FROM vms WHERE key IS NULL")
        #expect(matching == 10)
        #expect(keyless == 0)
        #expect(try await f.event("jump-2").region == "eastus")
        let notices = try await f.database.read { try $0.notices.notices() }
        let fabrikam = try #require(notices.first { $0.subscription == "fabrikam" }).body
        let contoso = try #require(notices.first { $0.subscription == "contoso" }).body
        #expect(fabrikam.contains("db-0") && fabrikam.contains("jump-2") && !fabrikam.contains("web-0"))
        #expect(contoso.contains("web-0") && contoso.contains("api-1") && !contoso.contains("db-1") && !contoso.contains("jump-2"))
    }

    /// On SQLite, only the VMs a plan names get their name recorded, whether it covers some
    /// regions or all. PostgreSQL records none: a VM in the fleet is named by its row in `vms`
    /// (postgres/0004), and one that leaves it moves its name to `vm_names` if a plan named it.
    @Test(arguments: TestEngine.all) func aPlanRecordsTheNamesOfItsOwnVMs(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let names = { try f.raw.strings("SELECT name FROM vm_names ORDER BY name").compactMap { $0 } }
        let recorded = { (names: [String]) in engine == .postgres ? [] : names }
        try await f.plan(CampaignRequest(kind: .reboot, regions: ["northeurope"]))
        #expect(try names() == recorded(["db-0", "db-1"]))
        try await f.plan(CampaignRequest(kind: .freeze))
        #expect(try names() == recorded(["api-0", "api-1", "db-0", "db-1", "jump", "web-0", "web-1", "web-2", "web-3"]))
        // A planned VM that leaves the fleet keeps its name there, on both engines.
        try f.sql("DELETE FROM vms WHERE name = 'jump'")
        #expect(try f.raw.strings("SELECT name FROM vm_names WHERE retired = 1").compactMap { $0 } == ["jump"])
    }

    @Test(arguments: TestEngine.all) func aPlanWritesTheCampaignItsEventsNoticesAndAudit(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let result = try await f.plan()
        #expect(result.written)
        #expect(try f.count("campaigns") == 1)
        #expect(try f.count("wave_vms") == 9)
        // one notice per subscription, to its admins and co-admins
        let notices = try await f.database.read { try $0.notices.notices() }
        #expect(notices.map(\.subscription) == ["contoso", "fabrikam"])
        #expect(notices[0].recipients == ["ops@contoso.example", "oncall@contoso.example"])
        #expect(notices[0].body.contains("web-0"))
        // Its subscription's notice zone is UTC (the default): the times are given once, in UTC.
        // Foundation names that zone "GMT", which no notice should say.
        #expect(notices[0].body.contains("Times are UTC. Each VM"), "\(notices[0].body)")
        #expect(!notices[0].body.contains("GMT") && !notices[0].body.contains(" UTC)"), "\(notices[0].body)")
        let actions = try f.raw.strings("SELECT action FROM audit_log ORDER BY seq").compactMap { $0 }
        #expect(actions == ["inventory.imported", "campaign.planned", "notice.queued", "notice.queued"])
        #expect(try await f.scheduler.check().isEmpty)
    }

    @Test(arguments: TestEngine.all) func aDryRunWritesNothing(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let auditBefore = try f.count("audit_log")
        let result = try await f.plan(dryRun: true)
        #expect(!result.written)
        #expect(result.events.count == 9)
        #expect(try f.count("campaigns") == 0)
        #expect(try f.count("wave_vms") == 0)
        #expect(try f.count("notices") == 0)
        #expect(try f.count("audit_log") == auditBefore)
    }

    @Test(arguments: TestEngine.all) func aFreezeCampaignQueuesNoNotice(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan(CampaignRequest(kind: .freeze))
        #expect(try f.count("notices") == 0)
        #expect(try await f.event("web-0").range.duration == 30)
    }

    @Test(arguments: TestEngine.all) func theSamePlanTwiceGivesTheSameTimes(engine: TestEngine) async throws {
        let first = try await Fixture(engine).plan(dryRun: true).events
        let second = try await Fixture(engine).plan(dryRun: true).events
        #expect(first == second)
    }

    @Test(arguments: TestEngine.all) func aSecondCampaignKeepsClearOfTheFirst(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        try await f.plan(CampaignRequest(kind: .freeze, description: "second"))
        #expect(try f.count("campaigns") == 2)
        #expect(try await f.scheduler.check().isEmpty)
    }

    @Test(arguments: TestEngine.all) func withoutNotBeforeAPlanStartsOnAWholeMinuteAfterTheNotice(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let campaign = try await f.plan(CampaignRequest(kind: .freeze), dryRun: true).campaign
        #expect(campaign.notBefore == Timestamp(iso8601: "2026-11-22T10:15:00Z"))
    }

    @Test(arguments: TestEngine.all) func cancellingACampaignCancelsItsScheduledEventsAndKeepsThem(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let id = try await f.plan().campaign.id
        #expect(try await f.scheduler.cancel(id, now: now, actor: "test") == 9)
        let statuses = try await f.database.read { tx in Set(try tx.events.events(.all).map(\.event.status)) }
        #expect(statuses == [.cancelled])
        #expect(try await f.scheduler.upcoming(.all, now: now, within: 90 * 86_400).isEmpty)
    }
}

@Suite struct InventoryWithPlansTests {
    @Test(arguments: TestEngine.all) func aVMWithScheduledMaintenanceCannotBeRemoved(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let id = try await f.plan().campaign.id
        let inventory = InventoryService(store: f.database, actor: "test", clock: { now })
        await #expect(throws: PitstopError.self) { try await inventory.removeVM("web-0") }
        do { try await inventory.removeVM("web-0") } catch let error as PitstopError { #expect(error.message.contains(id)) }
        // once its campaign is cancelled, it can go
        try await f.scheduler.cancel(id, now: now, actor: "test")
        try await inventory.removeVM("web-0")
        await #expect(throws: PitstopError.self) { try await inventory.vm(named: "web-0") }
    }
}

@Suite struct PlanRefusalTests {
    private func refusal(_ request: CampaignRequest, on engine: TestEngine) async throws -> String {
        let f = try await Fixture(engine)
        do {
            try await f.plan(request)
            Issue.record("the plan was accepted")
        } catch let error as PitstopError {
            #expect(try f.count("campaigns") == 0)
            #expect(try f.count("wave_vms") == 0)
            return error.message
        }
        return ""
    }

    @Test(arguments: TestEngine.all) func anUnknownRegionIsNamed(engine: TestEngine) async throws {
        #expect(try await refusal(CampaignRequest(kind: .reboot, regions: ["atlantis"]), on: engine).contains("'atlantis'"))
    }

    @Test(arguments: TestEngine.all) func aFreezeLongerThanThirtySecondsIsRefused(engine: TestEngine) async throws {
        #expect(try await refusal(CampaignRequest(kind: .freeze, perVMDuration: 45), on: engine).contains("at most 30s"))
    }

    @Test(arguments: TestEngine.all) func aStartBeforeTheNoticeAllowsIsRefusedWithTheEarliestInstant(engine: TestEngine) async throws {
        let message = try await refusal(CampaignRequest(kind: .reboot, notBefore: Timestamp(iso8601: "2026-11-25T00:00:00Z")), on: engine)
        #expect(message.contains("2026-11-29T10:00:00Z"))
    }

    @Test(arguments: TestEngine.all) func regionsWithoutVMsAreRefused(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await InventoryService(store: f.database, actor: "test", clock: { now }).addRegion(Region(name: "empty"))
        do {
            try await f.plan(CampaignRequest(kind: .reboot, regions: ["empty"]))
            Issue.record("the plan was accepted")
        } catch let error as PitstopError {
            #expect(error.message.contains("campaign over regions with no VMs: empty"))
        }
    }

    @Test(arguments: TestEngine.all) func aWindowShorterThanAWaveMakesThePlanFailWithTheNumbers(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try f.sql("UPDATE maintenance_windows SET duration = 'PT10M', duration_seconds = 600")
        do {
            try await f.plan(CampaignRequest(kind: .reboot, regions: ["northeurope"]))
            Issue.record("the plan was accepted")
        } catch let error as PitstopError {
            #expect(error.message.contains("db"))
            #expect(error.message.contains("10m"))
            #expect(try f.count("wave_vms") == 0)
            // The names were recorded while the planner ran, and went with the plan.
            #expect(try f.count("vm_names") == 0)
        }
    }
}

@Suite struct UpcomingTests {
    @Test(arguments: TestEngine.all) func upcomingForAVMListsItsEventWithItsWindow(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let events = try await f.scheduler.upcoming(.vm("db-0"), now: now, within: 30 * 86_400)
        #expect(events.map(\.record.event.vm) == ["db-0"])
        #expect(events[0].window == "ne-day")
        let eastus = try await f.scheduler.upcoming(.vm("web-0"), now: now, within: 30 * 86_400)
        #expect(eastus[0].window == nil)  // eastus has no windows: any time
    }

    @Test(arguments: TestEngine.all) func upcomingIsSoonestFirstAndLimitedToTheHorizon(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let all = try await f.scheduler.upcoming(.all, now: now, within: 30 * 86_400)
        #expect(all.count == 9)
        #expect(all.map(\.record.event.range.start) == all.map(\.record.event.range.start).sorted())
        #expect(try await f.scheduler.upcoming(.all, now: now, within: 86_400).isEmpty)  // the notice keeps them a week out
    }

    @Test(arguments: TestEngine.all) func upcomingForASubscriptionListsOnlyItsVMs(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let vms = Set(try await f.scheduler.upcoming(.subscription("fabrikam"), now: now, within: 30 * 86_400).map(\.record.event.vm))
        #expect(vms == ["db-0", "db-1"])
    }

    @Test(arguments: TestEngine.all) func anUnknownScopeIsRefused(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        await #expect(throws: PitstopError.self) { try await f.scheduler.upcoming(.set("nope"), now: now, within: 86_400) }
    }
}

extension SchedulerService.Scope {
    static func set(_ name: String) -> Self { .availabilitySet(name) }
}

/// Each rule broken behind Pitstop's back is caught by `check` under its name.
@Suite struct CheckCatchesSQLTests {
    /// Moves the event's wave (all VMs of a wave share its times).
    private func shifted(_ e: PlannedEvent, to start: Timestamp) -> [TestDatabase.Value] {
        [.integer(start.seconds), .integer((start + e.range.duration).seconds), .text(e.wave)]
    }

    private let move = "UPDATE waves SET start_at = ?, end_at = ? WHERE public_id = ?"

    @Test(arguments: TestEngine.all) func aCleanPlanHasNoViolations(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        #expect(try await f.rules().isEmpty)
    }

    /// The snapshot is built beside the plan's read: a fleet written behind the foreign keys'
    /// back is still refused by name, not crashed on or checked half.
    @Test(arguments: TestEngine.all) func aFleetWrittenBehindTheForeignKeysIsRefusedByName(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        try f.raw.execute("INSERT INTO vms(name, region, subscription) VALUES ('ghost', 'atlantis', 'contoso')", checks: false)
        do {
            _ = try await f.scheduler.check()
            Issue.record("check accepted a VM of an unknown region")
        } catch let error as PitstopError {
            #expect(error.kind == .invalid)
            #expect(error.message.contains("the stored fleet is inconsistent"))
            #expect(error.message.contains("ghost") && error.message.contains("'atlantis' is not in the fleet"))
        }
    }

    @Test(arguments: TestEngine.all) func twoUpdateDomainsOfASetAtOnce(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let ud0 = try await f.event("web-0"), ud1 = try await f.event("web-1")
        try f.sql(move, shifted(ud1, to: ud0.range.start + 60))
        #expect(try await f.rules().contains("update-domain-overlap"))
    }

    @Test(arguments: TestEngine.all) func theRecoveryGapCutShort(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let ud0 = try await f.event("web-0"), ud1 = try await f.event("web-1")
        try f.sql(move, shifted(ud1, to: ud0.range.end + 60))
        #expect(try await f.rules().contains("ud-gap"))
    }

    @Test(arguments: TestEngine.all) func aNewPairLinkBetweenRegionsMaintainedTogether(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        // northeurope runs alongside eastus; linking them makes the plan unsafe
        try f.sql("INSERT INTO region_pairs(region, paired_with) VALUES ('northeurope', 'eastus')")
        #expect(try await f.rules().contains("pair-overlap"))
    }

    @Test(arguments: TestEngine.all) func aStandaloneVMBeforeItsRegionsSets(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let jump = try await f.event("jump"), web = try await f.event("web-0")
        try f.sql(move, shifted(jump, to: web.range.start - jump.range.duration - 3600))
        #expect(try await f.rules().contains("single-before-multi"))
    }

    @Test(arguments: TestEngine.all) func anEventStartingBeforeItsNotice(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let db0 = try await f.event("db-0")
        try f.sql("UPDATE waves SET planned_at = ? WHERE public_id = ?", [.integer((db0.range.start - 3600).seconds), .text(db0.wave)])
        #expect(try await f.rules().contains("short-notice"))
    }

    @Test(arguments: TestEngine.all) func anEventMovedOutOfItsWindow(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let db0 = try await f.event("db-0")
        let day = db0.range.start.seconds / 86_400 * 86_400
        try f.sql(move, shifted(db0, to: Timestamp(seconds: day + 21 * 3600)))  // the window ends at 20:00
        #expect(try await f.rules().contains("outside-window"))
    }

    @Test(arguments: TestEngine.all) func aBlackoutAddedOverPlannedEvents(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let web = try await f.event("web-0")
        try f.sql("INSERT INTO blackouts(name, region, start_utc, end_utc) VALUES ('freeze', NULL, ?, ?)",
                  [.text((web.range.start - 60).iso8601), .text((web.range.end + 60).iso8601)])
        #expect(try await f.rules().contains("in-blackout"))
    }

    @Test(arguments: TestEngine.all) func aFreezeStretchedPastThirtySeconds(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan(CampaignRequest(kind: .freeze))
        let e = try await f.event("web-0")
        try f.sql("UPDATE waves SET end_at = ? WHERE public_id = ?", [.integer((e.range.start + 60).seconds), .text(e.wave)])
        #expect(try await f.rules().contains("freeze-too-long"))
    }

    @Test(arguments: TestEngine.all) func aVMBookedTwice(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        try f.sql("""
            INSERT INTO waves(public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status)
            SELECT public_id || '-copy', campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status
            FROM waves WHERE id = (SELECT p.wave FROM wave_vms p JOIN \(f.names) k ON k.key = p.vm WHERE k.name = 'api-0');
            INSERT INTO wave_vms(wave, vm, fault_domain)
            SELECT w.id, p.vm, p.fault_domain FROM wave_vms p JOIN \(f.names) k ON k.key = p.vm JOIN waves w ON w.public_id LIKE '%-copy'
            WHERE k.name = 'api-0';
            """)
        #expect(try await f.rules().contains("double-booked"))
    }

    @Test(arguments: TestEngine.all) func aRebootWhoseNoticeWasDeleted(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        try f.sql("DELETE FROM notices WHERE subscription = 'fabrikam'")
        #expect(try await f.rules() == ["missing-notice"])
    }

    @Test(arguments: TestEngine.all) func aVMMovedToAnotherUpdateDomainAfterPlanning(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        // web-0 and web-3 share UD 0 and so one wave; moving web-3 to UD 1 puts UD 1 down with UD 0
        try f.sql("UPDATE vms SET update_domain = 1 WHERE name = 'web-3'")
        #expect(try await f.rules().contains("update-domain-overlap"))
    }

    @Test(arguments: TestEngine.all) func checkOfOneCampaignOnlyReportsViolationsInvolvingIt(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        let first = try await f.plan().campaign.id
        let second = try await f.plan(CampaignRequest(kind: .freeze, description: "second")).campaign.id
        try f.sql("DELETE FROM notices")
        #expect(try await f.scheduler.check(campaign: first).map(\.rule.rawValue) == ["missing-notice", "missing-notice"])
        #expect(try await f.scheduler.check(campaign: second).isEmpty)
    }
}

/// `check` reads the active plan as columns straight from waves, pairs and departures; it must
/// hold exactly the VMs the per-event read calls active, whichever VMs departed from their wave.
@Suite struct ActivePlanTests {
    @Test(arguments: TestEngine.all) func theColumnsHoldExactlyTheActiveEventsWhateverDepartedFromItsWave(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        let lifecycle = LifecycleService(store: f.database)
        let web0 = try await f.event("web-0"), web3 = try await f.event("web-3"), jump = try await f.event("jump"), api0 = try await f.event("api-0")
        #expect(web0.wave == web3.wave)
        func agree(_ step: String) async throws {
            let (columns, records) = try await f.database.read { tx in (try tx.events.activePlan(), try tx.events.events(.active)) }
            let fromColumns = Dictionary(uniqueKeysWithValues: (0..<columns.count).map { (columns.id($0), columns.event($0)) })
            let fromRecords = Dictionary(uniqueKeysWithValues: records.map { ($0.event.id, $0.event) })
            #expect(fromColumns == fromRecords, "\(step)")
        }
        try await agree("as planned")
        try await lifecycle.approve(.event(web0.id), at: now, actor: "test")
        try await agree("one VM approved alone")
        try await lifecycle.start(.wave(web0.wave), at: now + 60, reason: "test", force: true, actor: "test")
        try await lifecycle.fail(.event(web3.id), at: now + 120, actor: "test")
        try await agree("one VM of a started wave failed alone")
        try await lifecycle.complete(.event(web0.id), at: now + 180, actor: "test")
        try await agree("the other completed: the wave is over")
        try await lifecycle.cancel(.event(jump.id), at: now + 240, actor: "test")
        try await lifecycle.start(.event(api0.id), at: now + 300, reason: "test", force: true, actor: "test")
        try await agree("a single-VM wave cancelled, one VM of another started alone")
        let active = try await f.database.read { tx in try tx.events.activePlan() }
        let ids = Set((0..<active.count).map(active.id))
        #expect(!ids.contains(web0.id) && !ids.contains(web3.id) && !ids.contains(jump.id) && ids.contains(api0.id))
    }

    /// `check` finds each VM in the fleet by the position its key gives; the checker alone finds
    /// it by name. Both find the same, for a VM moved and a VM gone since planning.
    @Test(arguments: TestEngine.all) func theFleetPositionsFromKeysFindWhatTheNamesFind(engine: TestEngine) async throws {
        let f = try await Fixture(engine)
        try await f.plan()
        try f.sql("UPDATE vms SET update_domain = 2 WHERE name = 'web-0'")
        try f.raw.execute("DELETE FROM vms WHERE name = 'api-1'")
        let (byKey, byName, positions) = try await f.database.read { tx in
            let rows = try SchedulerService.FleetRows(tx)
            let (fleet, keys) = (try rows.snapshot(), rows.keys)
            let keyed = try tx.events.activePlan(fleetKeys: keys), named = try tx.events.activePlan()
            let check = { (plan: PlanColumns) in
                Checker.check(plan: plan, fleet: fleet, campaigns: try tx.events.campaignTerms(), notices: try tx.notices.noticeKeys())
                    .map { "\($0.rule.rawValue) \($0.events.sorted())" }.sorted()
            }
            let positions = (0..<keyed.count).map { keyed.vm($0) + "@" + String(keyed.fleetPositions![Int(keyed.name[$0])]) }.sorted()
            return (try check(keyed), try check(named), positions)
        }
        #expect(byKey == byName)
        #expect(byKey.count == 1 && byKey[0].hasPrefix("update-domain-overlap") && byKey[0].contains("/web-0"))
        #expect(positions.contains("api-1@-1"))
        #expect(positions.filter { !$0.hasSuffix("@-1") }.count == 8)
    }
}
