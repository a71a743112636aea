// The scheduler commands as operators run them: the built binary on a scratch database.
import Foundation
import PitstopTestSupport
import Testing

@Suite struct SchedulerCLITests {
    @Test func planAsJSONHasTheDocumentedShape() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.ok("plan", "--kind", "reboot", "--format", "json")
        let document = try run.jsonObject()
        let campaign = try #require(document["campaign"] as? [String: Any])
        for key in ["id", "kind", "status", "createdAt", "notBefore", "regions", "start", "end", "description"] {
            #expect(campaign[key] != nil, "campaign lacks \(key)")
        }
        #expect(campaign["kind"] as? String == "reboot")
        #expect(campaign["status"] as? String == "scheduled")
        #expect(campaign["createdAt"] as? String == "2026-11-22T10:00:00Z")
        #expect(campaign["notBefore"] as? String == "2026-11-29T10:00:00Z")
        let events = try #require(document["events"] as? [[String: Any]])
        #expect(!events.isEmpty)
        for event in events {
            for key in ["id", "campaign", "vm", "region", "availabilitySet", "updateDomain", "faultDomain", "wave", "kind", "start", "end", "status"] {
                #expect(event.keys.contains(key), "event lacks \(key)")
            }
            #expect((event["start"] as? String)?.hasSuffix("Z") == true)
        }
        let standalone = try #require(events.first { $0["availabilitySet"] is NSNull })
        #expect(standalone["updateDomain"] is NSNull && standalone["faultDomain"] is NSNull)
    }

    @Test func aDryRunPrintsThePlanAndStoresNothing() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.ok("plan", "--kind", "freeze", "--dry-run")
        #expect(run.stdout.contains("dry run: nothing written"))
        #expect(run.stdout.contains("total:"))
        let list = try box.ok("campaign", "list", "--format", "json").jsonObject()
        #expect((list["campaigns"] as? [Any])?.isEmpty == true)
    }

    /// Issue 12's freeze case: eastus's only window is Saturday night in New York, westus has
    /// one every night in Los Angeles, so westus goes first and eastus-first would end 3h later.
    static let pairWithWindows = """
        {"regions": [{"name": "eastus"}, {"name": "westus"}], "regionPairs": [{"region": "eastus", "pairedWith": "westus"}],
         "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"]}],
         "availabilitySets": [{"name": "east", "region": "eastus", "subscription": "contoso", "updateDomains": 2},
                              {"name": "west", "region": "westus", "subscription": "contoso", "updateDomains": 2}],
         "vms": [{"name": "east-0", "availabilitySet": "east"}, {"name": "east-1", "availabilitySet": "east"},
                 {"name": "west-0", "availabilitySet": "west"}, {"name": "west-1", "availabilitySet": "west"}],
         "maintenanceWindows": [
           {"name": "east-weekend", "region": "eastus", "start": "2026-11-28T22:00:00", "timeZone": "America/New_York", "duration": "PT4H", "recurEvery": "Week Saturday"},
           {"name": "west-nightly", "region": "westus", "start": "2026-11-23T22:00:00", "timeZone": "America/Los_Angeles", "duration": "PT4H", "recurEvery": "Day"}]}
        """

    @Test func aDryRunShowsTheTurnOrderKeptAndHowMuchLaterTheOtherWouldEnd() throws {
        let box = try Sandbox()
        try box.ok("import", try box.write("fleet.json", Self.pairWithWindows))

        let run = try box.ok("plan", "--kind", "freeze", "--not-before", "2026-11-23T12:00:00Z", "--dry-run")

        let lines = run.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("turn orders of linked regions") })
        #expect(lines[header + 1].split(separator: " ", omittingEmptySubsequences: true).prefix(3) == ["group", "order", "kept"])
        let row = lines[header + 3]
        #expect(row.hasPrefix("eastus, westus"))
        #expect(row.contains("westus > eastus"))
        #expect(row.contains("2026-11-29T03:31:00Z"))
        #expect(row.hasSuffix("eastus > westus ends 3h later"))
    }

    @Test func planAsJSONListsTheTurnOrdersWeighed() throws {
        let box = try Sandbox()
        try box.ok("import", try box.write("fleet.json", Self.pairWithWindows))

        let document = try box.ok("plan", "--kind", "freeze", "--not-before", "2026-11-23T12:00:00Z", "--format", "json").jsonObject()

        let orders = try #require(document["turnOrders"] as? [[String: Any]])
        #expect(orders.count == 1)
        #expect(orders[0]["regions"] as? [String] == ["eastus", "westus"])
        #expect(orders[0]["exhaustive"] as? Bool == true)
        let chosen = try #require(orders[0]["chosen"] as? [String: Any])
        #expect(chosen["turns"] as? [[String]] == [["westus"], ["eastus"]])
        #expect(chosen["end"] as? String == "2026-11-29T03:31:00Z")
        let others = try #require(orders[0]["others"] as? [[String: Any]])
        #expect(others.count == 1)
        #expect(others.first?["turns"] as? [[String]] == [["eastus"], ["westus"]])
        #expect(others.first?["end"] as? String == "2026-11-29T06:31:00Z")
        #expect(others.first?["laterSeconds"] as? Int == 10_800)
        #expect((document["events"] as? [Any])?.count == 4)
    }

    @Test func upcomingCheckAndCancelWorkOnAStoredPlan() throws {
        let box = try Sandbox()
        try box.seed()
        let plan = try box.ok("plan", "--kind", "reboot", "--format", "json").jsonObject()
        let id = try #require((plan["campaign"] as? [String: Any])?["id"] as? String)

        let upcoming = try box.ok("upcoming", "--vm", "web-0", "--within", "30d", "--format", "json").jsonObject()
        let events = try #require(upcoming["events"] as? [[String: Any]])
        #expect(events.map { $0["vm"] as? String } == ["web-0"])

        let ics = try box.ok("upcoming", "--set", "web", "--within", "30d", "--format", "ics")
        #expect(ics.stdout.hasPrefix("BEGIN:VCALENDAR\r\n"))
        let waves = Set(try #require(try box.ok("upcoming", "--set", "web", "--within", "30d", "--format", "json").jsonObject()["events"] as? [[String: Any]]).compactMap { $0["wave"] as? String })
        #expect(ics.stdout.components(separatedBy: "BEGIN:VEVENT").count - 1 == waves.count)

        let check = try box.ok("check", "--format", "json").jsonObject()
        #expect(check["ok"] as? Bool == true)
        #expect((check["violations"] as? [Any])?.isEmpty == true)

        let cancel = try box.ok("campaign", "cancel", id)
        #expect(cancel.stdout.contains("cancelled campaign \(id)"))
        let after = try box.ok("upcoming", "--within", "30d", "--format", "json").jsonObject()
        #expect((after["events"] as? [Any])?.isEmpty == true)
    }

    /// The JSON listing is written as the events are read: the same events, in the same order,
    /// as the table, on both engines; a scope that names nothing prints its error alone.
    @Test(arguments: TestEngine.all)
    func upcomingAsJSONListsTheTablesEventsAndAnUnknownScopePrintsOnlyItsError(engine: TestEngine) throws {
        let box = try Sandbox(engine: engine)
        try box.seed()
        try box.ok("plan", "--kind", "reboot")
        try box.ok("plan", "--kind", "freeze")
        let json = try #require(try box.ok("upcoming", "--within", "60d", "--format", "json").jsonObject()["events"] as? [[String: Any]])
        let rows = try box.ok("upcoming", "--within", "60d").stdout.split(separator: "\n").dropFirst(2)
            .map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(!json.isEmpty && json.count == rows.count)
        #expect(json.map { "\($0["start"] as? String ?? "") \($0["kind"] as? String ?? "") \($0["vm"] as? String ?? "")" }
                == rows.map { "\($0[0]) \($0[2]) \($0[3])" })
        for scope in [["--vm", "nobody"], ["--set", "nope"], ["--region", "nowhere"], ["--subscription", "nobody"]] {
            let run = try box.runRaw(["upcoming", "--format", "json", "--db", box.db] + scope)
            #expect(run.status == 2 && run.stdout.isEmpty && run.stderr.contains("unknown"), "\(scope): \(run)")
        }
    }

    @Test func checkExitsOneWithNamedViolations() throws {
        let box = try Sandbox()
        try box.seed()
        try box.ok("plan", "--kind", "reboot")
        // A pair link recorded after planning between regions maintained at the same time.
        try box.ok("region", "pair", "northeurope", "eastus")
        let run = try box.run("check", "--format", "json")
        #expect(run.status == 1, "\(run)")
        let violations = try #require(try run.jsonObject()["violations"] as? [[String: Any]])
        #expect(violations.contains { $0["rule"] as? String == "pair-overlap" })
        for v in violations { #expect(Set(v.keys) == ["rule", "message", "events", "regions", "at"]) }
    }

    @Test(arguments: [
        (["plan", "--kind", "reboot", "--regions", "atlantis"], "unknown region 'atlantis'"),
        (["plan", "--kind", "freeze", "--duration", "45s"], "at most 30s"),
        (["plan", "--kind", "reboot", "--not-before", "2026-11-23T00:00:00Z"], "2026-11-29T10:00:00Z"),
        (["plan", "--kind", "reboot", "--duration", "soon"], "--duration"),
        (["plan", "--kind", "reboot", "--not-before", "tomorrow"], "--not-before"),
        (["upcoming", "--vm", "ghost"], "unknown VM 'ghost'"),
        (["campaign", "show", "nope"], "unknown campaign 'nope'"),
    ])
    func badSchedulerInputExitsTwoAndWritesNothing(_ arguments: [String], _ expected: String) throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.runRaw(arguments + ["--db", box.db])
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains(expected), "\(run)")
        let list = try box.ok("campaign", "list", "--format", "json").jsonObject()
        #expect((list["campaigns"] as? [Any])?.isEmpty == true)
    }

    @Test func regionsWithNoVMsAreRefused() throws {
        let box = try Sandbox()
        try box.seed()
        try box.ok("region", "add", "empty")
        let run = try box.run("plan", "--kind", "reboot", "--regions", "empty")
        #expect(run.status == 2)
        #expect(run.stderr.contains("campaign over regions with no VMs: empty"))
    }
}
