// `pitstop demo`: the main job on the default database, end to end, on a sample fleet.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopServer
import PitstopService

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Record a sample fleet, plan a reboot campaign, show what is coming, check it against the rules and audit it (safe to run again).",
        discussion: """
            With --serve it then plans a freeze of northeurope that starts in 15 minutes (the notice a freeze \
            needs) and serves the fleet with the simulated executor, printing the curl lines that show a \
            VM's scheduled-events document: its waves appear at once, start, and leave. It also makes an \
            operator token (once) for the API, and the live timeline at / needs no token to read. Ctrl-C stops it.
            """)

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Then serve the fleet with the simulated executor (pitstop serve --simulate --anonymous-read), with an operator token for the API and the timeline page.") var serve = false
    @Option(help: "The port --serve listens on, on 127.0.0.1.") var port: Int = 8080

    func run() async throws {
        try await guarded {
            let inventory = try database.inventory(creating: true)
            print("== database: \(database.path)")
            print("\n== pitstop regions load-defaults")
            let (regions, pairs) = try await inventory.loadDefaultRegions()
            print("regions: \(regions.added) added, \(regions.unchanged) already present; pair links: \(pairs.added) added, \(pairs.unchanged) already present")

            print("\n== pitstop import sample-fleet.json")
            let summary = try await inventory.importDocument(.bytes(Array(SampleFleet.json.utf8), name: "sample-fleet.json"))
            for (kind, counts) in summary.rows where counts.total > 0 {
                print("\(kind): \(counts.added) added, \(counts.updated) updated, \(counts.unchanged) unchanged")
            }

            print("\n== pitstop inventory")
            try await InventoryCommand.parse(["--db", database.path]).run()

            print("\n== pitstop windows --region eastus --within 14d")
            try await WindowsCommand.parse(["--db", database.path, "--region", "eastus", "--within", "14d"]).run()

            // Plan once: a second demo run shows the campaign the first one planned.
            let scheduler = try database.open(creating: true).scheduler
            if let active = try await scheduler.campaigns().first(where: { $0.active > 0 && $0.record.campaign.description == Self.campaignDescription }) {
                print("\n== pitstop plan (already planned by an earlier demo run: campaign \(active.record.campaign.id))")
            } else {
                print("\n== pitstop plan --kind reboot --description '\(Self.campaignDescription)'")
                try await PlanCommand.parse(["--db", database.path, "--kind", "reboot", "--description", Self.campaignDescription]).run()
            }

            print("\n== pitstop upcoming --set web --within 30d")
            try await UpcomingCommand.parse(["--db", database.path, "--set", "web", "--within", "30d"]).run()

            print("\n== pitstop check")
            try await CheckCommand.parse(["--db", database.path]).run()

            print("\n== pitstop audit --set web")
            try await AuditCommand.Query.parse(["--db", database.path, "--set", "web"]).run()

            print("\n== pitstop audit verify")
            try await AuditCommand.Verify.parse(["--db", database.path]).run()

            if serve { try await serveDemo() }
        }
    }

    /// Plans (once) a freeze of northeurope, which has no windows, so it starts as soon as a
    /// freeze's notice allows, and serves the fleet with the simulated executor.
    private func serveDemo() async throws {
        // It serves these services: a pool, as `serve` opens.
        let services = try Services.open(path: database.path, creating: true)
        let scheduler = services.scheduler
        let freeze = try await scheduler.campaigns().first { $0.active > 0 && $0.record.campaign.description == Self.freezeDescription }
        let start: Timestamp
        if let freeze {
            print("\n== pitstop plan --kind freeze (already planned by an earlier demo run: campaign \(freeze.record.campaign.id))")
            start = freeze.record.span.start
        } else {
            print("\n== pitstop plan --kind freeze --regions northeurope --ud-gap 5m --description '\(Self.freezeDescription)'")
            let now = try Invocation.now()
            let request = CampaignRequest(kind: .freeze, regions: ["northeurope"], udGap: 300, description: Self.freezeDescription)
            let result = try await scheduler.plan(request, now: now, dryRun: false, actor: Invocation.actor())
            start = result.summary.span?.start ?? now
            print("campaign \(result.campaign.id): \(result.events.count) VMs in \(result.summary.waves) waves from \(start)")
        }
        let url = "http://127.0.0.1:\(port)/metadata/scheduledevents?api-version=2020-07-01"
        // An operator token for the API and the page's Approve and Cancel, made once: a secret is
        // shown only when it is made.
        let token: String
        if try await services.tokens.list().contains(where: { $0.name == Self.tokenName }) {
            print("\n== pitstop token create \(Self.tokenName) --role operator (made by an earlier demo run; its secret was shown then: "
                + "pitstop token revoke \(Self.tokenName) and run the demo again for a new one)")
            token = "TOKEN"
        } else {
            print("\n== pitstop token create \(Self.tokenName) --role operator")
            token = try await services.tokens.create(name: Self.tokenName, role: .operator, actor: Invocation.actor(), at: try Invocation.now()).secret
            print(token)
        }
        print("""

            == pitstop serve --simulate --anonymous-read --port \(port)   (Ctrl-C stops it)
            The freeze of northeurope starts at \(start): a freeze needs 15 minutes of notice, and a wave
            shows in its VMs' documents 15 minutes before it starts (so the first within a minute). As VM
            db-0 (address 127.0.0.2), watch its wave appear, start (EventStatus Started) and leave, and
            DocumentIncarnation rise:

              curl -s --interface 127.0.0.2 -H 'Metadata: true' '\(url)'

            Approve it as the VM would (it still starts no sooner than the notice allows):

              curl -s --interface 127.0.0.2 -H 'Metadata: true' -d '{"StartRequests": [{"EventId": "<EventId>"}]}' '\(url)'

            Then `pitstop audit --set db` shows the approval as vm:db-0 and each transition as simulator.

            The timeline at http://127.0.0.1:\(port)/ shows every wave live (reads need no token here:
            --anonymous-read); Token (top right) takes the one above, for Approve and Cancel. The API:

              curl -s -H 'Authorization: Bearer \(token)' http://127.0.0.1:\(port)/api/v1/campaigns
              curl -s http://127.0.0.1:\(port)/openapi.json

            """)
        fflush(nil)  // the lines above before the server's log, even when piped
        try await runServer(ServeArguments(hostname: "127.0.0.1", port: port, databasePath: database.path, simulate: true, anonymousRead: true))
    }
}

/// The fleet the demo records: two pairs of regions, sets of several sizes, standalone VMs,
/// windows in two zones and a year-end blackout.
extension Demo {
    static let campaignDescription = "Demo: host OS security update"
    static let freezeDescription = "Demo: live host update"
    static let tokenName = "demo"
}

enum SampleFleet {
    static let json = """
        {
          "regions": [
            {"name": "eastus", "displayName": "East US"},
            {"name": "westus", "displayName": "West US"},
            {"name": "northeurope", "displayName": "North Europe"},
            {"name": "westeurope", "displayName": "West Europe"}
          ],
          "subscriptions": [
            {"id": "contoso", "admins": ["ops@contoso.example"], "coAdmins": ["oncall@contoso.example"], "noticeTimeZone": "America/New_York"},
            {"id": "fabrikam", "admins": ["infra@fabrikam.example"], "coAdmins": [], "noticeTimeZone": "Europe/Berlin"}
          ],
          "availabilitySets": [
            {"name": "web", "region": "eastus", "subscription": "contoso", "faultDomains": 2, "updateDomains": 5},
            {"name": "api", "region": "westus", "subscription": "contoso", "faultDomains": 3, "updateDomains": 3},
            {"name": "db", "region": "northeurope", "subscription": "fabrikam", "faultDomains": 2, "updateDomains": 2},
            {"name": "cache", "region": "westeurope", "subscription": "fabrikam"}
          ],
          "vms": [
            {"name": "web-0", "availabilitySet": "web", "ipAddress": "10.0.0.4"},
            {"name": "web-1", "availabilitySet": "web", "ipAddress": "10.0.0.5"},
            {"name": "web-2", "availabilitySet": "web", "ipAddress": "10.0.0.6"},
            {"name": "web-3", "availabilitySet": "web", "ipAddress": "10.0.0.7"},
            {"name": "web-4", "availabilitySet": "web", "ipAddress": "10.0.0.8"},
            {"name": "web-5", "availabilitySet": "web", "ipAddress": "10.0.0.9"},
            {"name": "jump-east", "region": "eastus", "subscription": "contoso", "ipAddress": "10.0.1.4"},
            {"name": "api-0", "availabilitySet": "api"},
            {"name": "api-1", "availabilitySet": "api"},
            {"name": "api-2", "availabilitySet": "api"},
            {"name": "db-0", "availabilitySet": "db", "updateDomain": 0, "faultDomain": 0, "ipAddress": "127.0.0.2"},
            {"name": "db-1", "availabilitySet": "db", "updateDomain": 1, "faultDomain": 1, "ipAddress": "127.0.0.3"},
            {"name": "cache-0", "availabilitySet": "cache"},
            {"name": "cache-1", "availabilitySet": "cache"},
            {"name": "batch-weu", "region": "westeurope", "subscription": "fabrikam"}
          ],
          "maintenanceWindows": [
            {"name": "us-weekend", "region": "eastus", "start": "2026-11-28T22:00:00", "timeZone": "America/New_York",
             "duration": "PT8H", "recurEvery": "Week Saturday,Sunday"},
            {"name": "us-west-nightly", "region": "westus", "start": "2026-11-23T23:00:00", "timeZone": "America/Los_Angeles",
             "duration": "PT6H", "recurEvery": "Day"},
            {"name": "eu-nightly", "region": "westeurope", "start": "2026-11-23T01:00:00", "timeZone": "Europe/Berlin",
             "duration": "PT4H", "recurEvery": "Day"}
          ],
          "blackouts": [
            {"name": "year-end", "region": null, "start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}
          ]
        }
        """
}
