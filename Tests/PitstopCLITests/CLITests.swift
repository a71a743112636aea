// End-to-end tests of the built `pitstop` binary: each runs it as a subprocess on a temporary
// database and checks output, exit status and what was stored.
import Foundation
@testable import PitstopStore
import GRDB
import PitstopTestSupport
import Testing

@Suite struct CLIBinaryTests {
    @Test func theBinaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: pitstopBinary.path), "no pitstop at \(pitstopBinary.path): run swift build first")
    }

    @Test func helpListsTheCommands() throws {
        let run = try Sandbox().runRaw(["--help"])
        #expect(run.status == 0)
        for command in ["import", "export", "inventory", "region", "regions", "subscription", "set", "vm", "window", "blackout", "windows", "demo"] {
            #expect(run.stdout.contains(command))
        }
    }
}

// MARK: Regions and subscriptions

@Suite struct CLIRegionTests {
    @Test func regionsCanBeAddedPairedUnpairedAndRemoved() throws {
        let box = try Sandbox()
        // Given two regions
        #expect(try box.ok("region", "add", "eastus", "--display-name", "East US").stdout == "added region eastus\n")
        try box.ok("region", "add", "westus")

        // when they are paired, the list shows the link from eastus and, in brackets, to westus
        #expect(try box.ok("region", "pair", "eastus", "westus").stdout == "paired eastus -> westus\n")
        #expect(try box.ok("region", "pair", "eastus", "westus").stdout.contains("already recorded"))
        let table = try box.ok("region", "list").stdout
        #expect(table.contains("eastus  East US       westus"))
        #expect(table.contains("(eastus)"))
        let listed = try box.ok("region", "list", "--format", "json").jsonObject()["regions"] as? [[String: Any]]
        #expect(listed?.map { $0["name"] as? String } == ["eastus", "westus"])
        #expect(listed?.first?["pairedWith"] as? [String] == ["westus"])
        #expect(listed?.first?["displayName"] as? String == "East US")

        // when they are unpaired (named in either order), no link is left
        #expect(try box.ok("region", "unpair", "westus", "eastus").stdout == "unpaired westus and eastus\n")
        let unpaired = try box.ok("region", "list", "--format", "json").jsonObject()["regions"] as? [[String: Any]]
        #expect(unpaired?.allSatisfy { ($0["pairedWith"] as? [String])?.isEmpty == true } == true)

        // when one is removed, only the other is left
        #expect(try box.ok("region", "remove", "westus").stdout == "removed region westus\n")
        let remaining = try box.ok("region", "list", "--format", "json").jsonObject()["regions"] as? [[String: Any]]
        #expect(remaining?.map { $0["name"] as? String } == ["eastus"])
    }

    @Test func loadDefaultsRecordsTheTenPublishedLinksOnce() throws {
        let box = try Sandbox()
        // When the defaults are loaded twice
        let first = try box.ok("regions", "load-defaults").stdout
        let second = try box.ok("regions", "load-defaults").stdout

        // then 19 regions and 10 links are added once, and the second run adds nothing
        #expect(first == "regions: 19 added, 0 already present; pair links: 10 added, 0 already present\n")
        #expect(second == "regions: 0 added, 19 already present; pair links: 0 added, 10 already present\n")
        let pairs = try #require(try Run(status: 0, stdout: box.export(), stderr: "").jsonObject()["regionPairs"] as? [[String: String]])
        #expect(pairs.count == 10)
        #expect(pairs.contains { $0 == ["region": "brazilsouth", "pairedWith": "southcentralus"] })
        #expect(pairs.contains { $0 == ["region": "northcentralus", "pairedWith": "southcentralus"] })
    }

    @Test func subscriptionsCanBeAddedAndListed() throws {
        let box = try Sandbox()
        let added = try box.ok("subscription", "add", "contoso", "--admin", "ops@contoso.example", "--admin", "lead@contoso.example",
                               "--co-admin", "oncall@contoso.example", "--notice-time-zone", "Europe/Berlin")
        #expect(added.stdout == "added subscription contoso\n")
        try box.ok("subscription", "add", "fabrikam")

        let listed = try box.ok("subscription", "list", "--format", "json").jsonObject()["subscriptions"] as? [[String: Any]]
        #expect(listed?.map { $0["id"] as? String } == ["contoso", "fabrikam"])
        #expect(listed?.first?["admins"] as? [String] == ["ops@contoso.example", "lead@contoso.example"])
        #expect(listed?.first?["coAdmins"] as? [String] == ["oncall@contoso.example"])
        #expect(listed?.first?["noticeTimeZone"] as? String == "Europe/Berlin")
        let table = try box.ok("subscription", "list").stdout
        #expect(table.contains("ops@contoso.example, lead@contoso.example"))
        #expect(table.contains("Europe/Berlin"))
    }
}

// MARK: Sets and VMs

@Suite struct CLISetAndVMTests {
    /// Regions eastus and westus and subscription contoso.
    private func basics() throws -> Sandbox {
        let box = try Sandbox()
        try box.ok("region", "add", "eastus")
        try box.ok("region", "add", "westus")
        try box.ok("subscription", "add", "contoso")
        return box
    }

    @Test func setsCanBeAddedListedShownAndRemoved() throws {
        let box = try basics()
        // Given a set with defaults and one with 3 FDs and 3 UDs
        #expect(try box.ok("set", "add", "web", "--region", "eastus", "--subscription", "contoso").stdout
            == "added availability set web in eastus (5 update domains, 2 fault domains)\n")
        try box.ok("set", "add", "api", "--region", "westus", "--subscription", "contoso", "--fault-domains", "3", "--update-domains", "3")
        try box.ok("vm", "add", "web-0", "--set", "web")
        try box.ok("vm", "add", "web-1", "--set", "web")

        // then the list has both with their VM counts
        let sets = try box.ok("set", "list", "--format", "json").jsonObject()["availabilitySets"] as? [[String: Any]]
        #expect(sets?.map { $0["name"] as? String } == ["api", "web"])
        #expect(sets?.first?["faultDomains"] as? Int == 3)
        #expect((try box.ok("set", "list", "--region", "westus", "--format", "json").jsonObject()["availabilitySets"] as? [Any])?.count == 1)
        let table = try box.ok("set", "list").stdout
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("web ") && $0.hasSuffix(" 5    2    2") })

        // and show draws the UD x FD grid and the VMs
        let shown = try box.ok("set", "show", "web").stdout
        #expect(shown.hasPrefix("set web: region eastus, subscription contoso, 5 update domains, 2 fault domains, 2 VMs\n"))
        #expect(shown.contains("UD 0        1     0"))
        #expect(shown.contains("UD 1        0     1"))
        let json = try box.ok("set", "show", "web", "--format", "json").jsonObject()
        #expect((json["vms"] as? [[String: Any]])?.map { $0["name"] as? String } == ["web-0", "web-1"])

        // and an empty set can be removed
        #expect(try box.ok("set", "remove", "api").stdout == "removed availability set api\n")
        #expect((try box.ok("set", "list", "--format", "json").jsonObject()["availabilitySets"] as? [Any])?.count == 1)
    }

    @Test func vmsCanBeAddedListedShownMovedAndRemoved() throws {
        let box = try basics()
        try box.ok("set", "add", "web", "--region", "eastus", "--subscription", "contoso", "--update-domains", "3")
        try box.ok("set", "add", "api", "--region", "westus", "--subscription", "contoso")

        // Given VMs placed round-robin, one with explicit domains, and a standalone one
        #expect(try box.ok("vm", "add", "web-0", "--set", "web", "--ip", "10.0.0.4").stdout == "added VM web-0 in eastus, set web, UD 0, FD 0\n")
        #expect(try box.ok("vm", "add", "web-1", "--set", "web", "--ud", "2", "--fd", "0").stdout == "added VM web-1 in eastus, set web, UD 2, FD 0\n")
        #expect(try box.ok("vm", "add", "web-2", "--set", "web").stdout == "added VM web-2 in eastus, set web, UD 2, FD 0\n")
        #expect(try box.ok("vm", "add", "jump", "--region", "westus", "--subscription", "contoso").stdout == "added VM jump in westus (single-instance)\n")

        // then list and show report them
        let all = try box.ok("vm", "list", "--format", "json").jsonObject()["vms"] as? [[String: Any]]
        #expect(all?.map { $0["name"] as? String } == ["jump", "web-0", "web-1", "web-2"])
        let inSet = try box.ok("vm", "list", "--set", "web", "--format", "json").jsonObject()["vms"] as? [[String: Any]]
        #expect(inSet?.count == 3)
        let inWest = try box.ok("vm", "list", "--region", "westus", "--format", "json").jsonObject()["vms"] as? [[String: Any]]
        #expect(inWest?.map { $0["name"] as? String } == ["jump"])
        let shown = try box.ok("vm", "show", "web-0").stdout
        #expect(shown.contains("set           web\n"))
        #expect(shown.contains("ip address    10.0.0.4\n"))
        let json = try box.ok("vm", "show", "jump", "--format", "json").jsonObject()
        #expect(json["availabilitySet"] is NSNull)
        #expect(json["region"] as? String == "westus")

        // when VMs move: to another UD, into another set (and its region), out of any set
        #expect(try box.ok("vm", "move", "web-0", "--ud", "1").stdout == "moved VM web-0: set web, UD 1, FD 0\n")
        #expect(try box.ok("vm", "move", "web-2", "--set", "api").stdout == "moved VM web-2: set api, UD 0, FD 0\n")
        #expect(try box.ok("vm", "move", "web-1", "--no-set").stdout == "moved VM web-1: single-instance in eastus\n")
        #expect(try box.ok("vm", "move", "jump", "--set", "api").stdout == "moved VM jump: set api, UD 1, FD 1\n")

        // then the stored VMs say so
        let moved = try box.ok("vm", "show", "web-2", "--format", "json").jsonObject()
        #expect(moved["region"] as? String == "westus")
        #expect(moved["availabilitySet"] as? String == "api")
        #expect(try box.ok("vm", "show", "web-1", "--format", "json").jsonObject()["updateDomain"] is NSNull)

        // when one is removed, it is gone
        #expect(try box.ok("vm", "remove", "web-1").stdout == "removed VM web-1\n")
        let show = try box.run("vm", "show", "web-1")
        #expect(show.status == 2)
        #expect(show.stderr == "pitstop: unknown VM 'web-1'\n")
    }

    @Test func vmListTableIsAligned() throws {
        let box = try basics()
        try box.ok("set", "add", "web", "--region", "eastus", "--subscription", "contoso")
        try box.ok("vm", "add", "a-rather-long-vm-name", "--set", "web")
        try box.ok("vm", "add", "b", "--region", "westus", "--subscription", "contoso")
        let lines = try box.ok("vm", "list").stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        // Every row's region starts under the header's "region".
        let column = try #require(lines[0].range(of: "region")).lowerBound.utf16Offset(in: lines[0])
        for (line, region) in zip(lines[2...], ["eastus", "westus"]) {
            #expect(line.range(of: region)?.lowerBound.utf16Offset(in: line) == column, "\(lines)")
        }
    }
}

// MARK: Windows and blackouts

@Suite struct CLIWindowTests {
    private func basics() throws -> Sandbox {
        let box = try Sandbox()
        try box.ok("region", "add", "eastus")
        try box.ok("subscription", "add", "contoso")
        try box.ok("set", "add", "web", "--region", "eastus", "--subscription", "contoso")
        return box
    }

    @Test func windowsCanBeAddedListedAndRemoved() throws {
        let box = try basics()
        #expect(try box.ok("window", "add", "weekend", "--region", "eastus", "--start", "2026-12-05T22:00:00", "--time-zone", "America/New_York",
                           "--duration", "PT8H", "--recur-every", "Week Saturday,Sunday").stdout == "added maintenance window weekend\n")
        try box.ok("window", "add", "web-monthly", "--set", "web", "--start", "2026-12-01T01:00:00", "--time-zone", "UTC",
                   "--duration", "PT2H", "--recur-every", "Month Last Sunday", "--expires", "2027-12-31T00:00:00")

        let listed = try box.ok("window", "list", "--format", "json").jsonObject()["maintenanceWindows"] as? [[String: Any]]
        #expect(listed?.map { $0["name"] as? String } == ["web-monthly", "weekend"])
        #expect(listed?.last?["recurEvery"] as? String == "Week Saturday,Sunday")
        #expect(listed?.first?["availabilitySet"] as? String == "web")
        #expect(listed?.first?["expires"] as? String == "2027-12-31T00:00:00")
        let table = try box.ok("window", "list").stdout
        #expect(table.contains("region eastus"))
        #expect(table.contains("set web"))
        // A window in UTC is shown and exported as UTC, as it was given: Foundation calls that
        // zone "GMT", which the operator never typed.
        #expect(listed?.first?["timeZone"] as? String == "UTC")
        #expect(!table.contains("GMT"))
        #expect(try box.export().contains(#""timeZone": "UTC""#))
        let occurrences = try box.ok("windows", "--within", "60d", "--format", "json").stdout
        #expect(occurrences.contains(#""timeZone": "UTC""#) && !occurrences.contains("GMT"), "\(occurrences)")

        #expect(try box.ok("window", "remove", "weekend").stdout == "removed maintenance window weekend\n")
        #expect((try box.ok("window", "list", "--format", "json").jsonObject()["maintenanceWindows"] as? [Any])?.count == 1)
    }

    @Test func blackoutsCanBeAddedListedAndRemoved() throws {
        let box = try basics()
        #expect(try box.ok("blackout", "add", "year-end", "--start", "2026-12-20T00:00:00Z", "--end", "2027-01-04T00:00:00Z").stdout
            == "added blackout year-end: 2026-12-20T00:00:00Z to 2027-01-04T00:00:00Z for the whole fleet\n")
        // An offset is stored as the UTC instant it names.
        try box.ok("blackout", "add", "east-dc-move", "--region", "eastus", "--start", "2026-12-01T09:00:00+01:00", "--end", "2026-12-01T17:00:00+01:00")

        let listed = try box.ok("blackout", "list", "--format", "json").jsonObject()["blackouts"] as? [[String: Any]]
        #expect(listed?.map { $0["name"] as? String } == ["east-dc-move", "year-end"])
        #expect(listed?.first?["start"] as? String == "2026-12-01T08:00:00Z")
        #expect(listed?.last?["region"] is NSNull)
        #expect(try box.ok("blackout", "list").stdout.contains("(fleet)"))

        #expect(try box.ok("blackout", "remove", "year-end").stdout == "removed blackout year-end\n")
        #expect((try box.ok("blackout", "list", "--format", "json").jsonObject()["blackouts"] as? [Any])?.count == 1)
    }
}

// MARK: Import, export, inventory, windows

@Suite struct CLIDocumentTests {
    @Test func importPrintsCountsAndIsIdempotent() throws {
        let box = try Sandbox()
        // When the seed fleet is imported twice
        let file = try box.write("fleet.json", seedFleet)
        let first = importCounts(try box.ok("import", file).stdout)
        let second = importCounts(try box.ok("import", file).stdout)

        // then the first adds everything and the second changes nothing
        #expect(first["regions"] == [3, 0, 0])
        #expect(first["availabilitySets"] == [3, 0, 0])
        #expect(first["vms"] == [7, 0, 0])
        #expect(first["maintenanceWindows"] == [1, 0, 0])
        #expect(second["regions"] == [0, 0, 3])
        #expect(second["vms"] == [0, 0, 7])
        #expect(second["blackouts"] == [0, 0, 1])
    }

    @Test func importReadsCSVByExtensionOrByFormat() throws {
        let box = try Sandbox()
        try box.seed()
        let csv = "name,region,subscription,availabilitySet,updateDomain,faultDomain\nweb-3,,,web,,\nbatch,westus,contoso,,,\n"
        let byExtension = importCounts(try box.ok("import", try box.write("more.CSV", csv)).stdout)
        #expect(byExtension["vms"] == [2, 0, 0])
        let byFormat = importCounts(try box.ok("import", try box.write("more.txt", csv), "--format", "csv").stdout)
        #expect(byFormat["vms"] == [0, 0, 2])
        let web3 = try box.ok("vm", "show", "web-3", "--format", "json").jsonObject()
        #expect(web3["updateDomain"] as? Int == 3)
        #expect(web3["faultDomain"] as? Int == 1)
    }

    @Test func anExportImportedIntoAFreshDatabaseExportsTheSameBytes() throws {
        let box = try Sandbox()
        try box.seed()
        let first = try box.export()
        _ = try JSONSerialization.jsonObject(with: Data(first.utf8))

        let copy = try Sandbox()
        try copy.ok("import", try copy.write("export.json", first))
        #expect(try copy.export() == first)
    }

    @Test func aRefusedImportPrintsEveryProblemAndStoresNothing() throws {
        let box = try Sandbox()
        try box.seed()
        let before = try box.export()
        let bad = try box.write("bad.json", """
            {"vms": [
              {"name": "web-9", "availabilitySet": "web", "updateDomain": 7},
              {"name": "lost", "region": "nowhere", "subscription": "contoso"}
            ]}
            """)

        let run = try box.run("import", bad)

        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == """
            \(bad):2: vms[0].updateDomain: 7 is outside 0..4 for set web
            \(bad):3: vms[1].region: unknown region 'nowhere'
            pitstop: import refused: 2 problems; nothing was written

            """)
        #expect(try box.export() == before)
    }

    @Test func aRefusedCSVImportNamesFileAndLine() throws {
        let box = try Sandbox()
        try box.seed()
        let before = try box.export()
        let bad = try box.write("bad.csv", "name,region,subscription,availabilitySet,updateDomain,faultDomain\nweb-3,,,web,,\nweb-4,eastus\n")

        let run = try box.run("import", bad)

        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("\(bad):3: record: has 2 field"))
        #expect(try box.export() == before)
    }

    @Test func inventoryWarnsAboutLoneVMsSharedFaultDomainsAndMissingPartners() throws {
        let box = try Sandbox()
        try box.seed()

        let table = try box.ok("inventory").stdout
        #expect(table.contains("warnings:"))
        #expect(table.contains("westus: set solo has a single VM"))
        #expect(table.contains("northeurope: set stacked: all 2 VMs share fault domain 0"))
        #expect(table.contains("northeurope: no pair partner is recorded"))
        #expect(!table.contains("eastus: no pair partner"))
        #expect(!table.contains("set web"))

        let regions = try #require(try box.ok("inventory", "--format", "json").jsonObject()["regions"] as? [[String: Any]])
        let east = try #require(regions.first { $0["region"] as? String == "eastus" })
        #expect(east["vms"] as? Int == 4)
        #expect(east["singleInstanceVMs"] as? Int == 1)
        #expect(east["vmsByUpdateDomain"] as? [Int] == [1, 1, 1])
        #expect(east["vmsByFaultDomain"] as? [Int] == [2, 1])
        #expect(east["pairedWith"] as? [String] == ["westus"])
        #expect((east["warnings"] as? [String])?.isEmpty == true)
        let west = try #require(regions.first { $0["region"] as? String == "westus" })
        #expect(west["pairedWith"] as? [String] == ["eastus"])
    }

    @Test func windowsAsJSONListTheNextOccurrencesInUTCAndLocalTimeWithBlackoutsCut() throws {
        let box = try Sandbox()
        try box.seed()
        let json = try box.ok("windows", "--within", "30d", "--format", "json").jsonObject()
        let occurrences = try #require(json["occurrences"] as? [[String: Any]])

        // Saturdays and Sundays 22:00 New York (03:00 UTC the next day) from 28 Nov to 20 Dec
        #expect(occurrences.compactMap { $0["start"] as? String } == [
            "2026-11-29T03:00:00Z", "2026-11-30T03:00:00Z", "2026-12-06T03:00:00Z", "2026-12-07T03:00:00Z",
            "2026-12-13T03:00:00Z", "2026-12-14T03:00:00Z", "2026-12-20T03:00:00Z", "2026-12-21T03:00:00Z",
        ])
        #expect(occurrences.first?["localStart"] as? String == "2026-11-28T22:00:00")
        #expect(occurrences.first?["end"] as? String == "2026-11-29T11:00:00Z")
        #expect(occurrences.first?["timeZone"] as? String == "America/New_York")
        // The year-end blackout swallows the last two.
        #expect((occurrences.last?["usable"] as? [Any])?.isEmpty == true)
        #expect(occurrences.last?["blackouts"] as? [String] == ["year-end"])
        #expect((occurrences.first?["usable"] as? [Any])?.count == 1)
    }

    @Test func windowsAsICSAreACalendarOfTheUsableParts() throws {
        let box = try Sandbox()
        try box.seed()
        let ics = try box.ok("windows", "--within", "30d", "--format", "ics").stdout
        #expect(ics.hasPrefix("BEGIN:VCALENDAR\r\n"))
        #expect(ics.hasSuffix("END:VCALENDAR\r\n"))
        #expect(ics.components(separatedBy: "BEGIN:VEVENT").count - 1 == 6)
        #expect(ics.contains("DTSTART:20261129T030000Z"))
        #expect(!ics.contains("DTSTART:20261220T030000Z"))
    }

    @Test func windowsAsATableShowLocalTimeAndBlackouts() throws {
        let box = try Sandbox()
        try box.seed()
        let table = try box.ok("windows", "--within", "30d").stdout
        let lines = table.split(separator: "\n")
        #expect(lines.count == 2 + 8)
        #expect(lines[2].contains("2026-11-29T03:00:00Z"))
        #expect(lines[2].contains("2026-11-28 22:00–06:00 America/New_York"))
        #expect(lines[2].hasSuffix("all"))
        #expect(lines.last?.hasSuffix("none (blackout year-end)") == true)

        let none = try box.ok("windows", "--within", "12h").stdout
        #expect(none.hasSuffix("no window occurs within 12h\n"))
    }

    @Test func windowsCanBeNarrowedToARegionOrASet() throws {
        let box = try Sandbox()
        try box.seed()
        let west = try box.ok("windows", "--region", "westus", "--format", "json").jsonObject()["occurrences"] as? [Any]
        #expect(west?.isEmpty == true)
        // A set without windows of its own uses its region's.
        let web = try box.ok("windows", "--set", "web", "--format", "json").jsonObject()["occurrences"] as? [Any]
        #expect(web?.count == 8)
    }

    @Test func demoRunsTwiceAndTheSecondRunChangesNothing() throws {
        let box = try Sandbox()
        let first = try box.ok("demo")
        let afterFirst = try box.export()
        let second = try box.ok("demo")

        #expect(first.stdout.contains("== pitstop inventory"))
        #expect(first.stdout.contains("== pitstop windows"))
        #expect(first.stdout.contains("vms: 15 added, 0 updated, 0 unchanged"))
        #expect(second.stdout.contains("vms: 0 added, 0 updated, 15 unchanged"))
        #expect(second.stdout.contains("pair links: 0 added, 10 already present"))
        #expect(try box.export() == afterFirst)
    }
}

// MARK: Refusals

/// A command that must be refused with exit status 2, a message, and nothing stored.
struct RefusedCommand: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    /// Words the message on stderr must contain.
    var message: String
    var testDescription: String { arguments.joined(separator: " ") }

    init(_ arguments: String..., says message: String) {
        self.arguments = arguments
        self.message = message
    }
}

@Suite struct CLIRefusalTests {
    static let refused: [RefusedCommand] = [
        RefusedCommand("region", "add", "eastus", says: "region eastus already exists"),
        RefusedCommand("region", "add", "", says: "name: must not be empty"),
        RefusedCommand("region", "pair", "eastus", "eastus", says: "a region cannot be paired with itself"),
        RefusedCommand("region", "pair", "eastus", "nowhere", says: "unknown region 'nowhere'"),
        RefusedCommand("region", "unpair", "eastus", "northeurope", says: "eastus and northeurope are not paired"),
        RefusedCommand("region", "remove", "nowhere", says: "unknown region 'nowhere'"),
        RefusedCommand("subscription", "add", "fabrikam", "--admin", "not-an-address", says: "'not-an-address' is not an e-mail address"),
        RefusedCommand("subscription", "add", "fabrikam", "--notice-time-zone", "Mars/Base", says: "'Mars/Base' is not an IANA time zone"),
        RefusedCommand("subscription", "add", "contoso", says: "subscription contoso already exists"),
        RefusedCommand("set", "add", "api", "--region", "eastus", "--subscription", "contoso", "--update-domains", "21", says: "21 is outside 1..20"),
        RefusedCommand("set", "add", "api", "--region", "eastus", "--subscription", "contoso", "--fault-domains", "4", says: "4 is outside 1..3"),
        RefusedCommand("set", "add", "api", "--region", "nowhere", "--subscription", "contoso", says: "unknown region 'nowhere'"),
        RefusedCommand("set", "add", "api", "--region", "eastus", "--subscription", "nobody", says: "unknown subscription 'nobody'"),
        RefusedCommand("set", "show", "nope", says: "unknown availability set 'nope'"),
        RefusedCommand("vm", "add", "web-9", "--set", "web", "--ud", "9", says: "updateDomain: 9 is outside 0..4 for set web"),
        RefusedCommand("vm", "add", "web-9", "--set", "web", "--fd", "2", says: "faultDomain: 2 is outside 0..1 for set web"),
        RefusedCommand("vm", "add", "web-9", "--set", "web", "--region", "westus", says: "'westus' is not the region of set web (eastus)"),
        RefusedCommand("vm", "add", "web-9", "--set", "nope", says: "unknown availability set 'nope'"),
        RefusedCommand("vm", "add", "lost", "--region", "nowhere", "--subscription", "contoso", says: "unknown region 'nowhere'"),
        RefusedCommand("vm", "add", "lost", "--region", "eastus", "--subscription", "nobody", says: "unknown subscription 'nobody'"),
        RefusedCommand("vm", "add", "lost", "--region", "eastus", "--subscription", "contoso", "--ud", "1", says: "given for a single-instance VM"),
        RefusedCommand("vm", "add", "web-9", "--set", "web", "--ip", "10.0.0.300", says: "'10.0.0.300' is not an IPv4 or IPv6 address"),
        RefusedCommand("vm", "add", "web-9", "--set", "web", "--ip", "10.0.0.4", says: "ipAddress 10.0.0.4 is already used by VM web-0"),
        RefusedCommand("vm", "add", "web-0", "--set", "web", says: "VM web-0 already exists"),
        RefusedCommand("vm", "move", "web-0", "--ud", "5", says: "5 is outside 0..4 for set web"),
        RefusedCommand("vm", "move", "web-0", "--set", "nope", says: "unknown availability set 'nope'"),
        RefusedCommand("vm", "move", "jump", "--ud", "1", says: "VM jump is single-instance"),
        RefusedCommand("vm", "remove", "nope", says: "unknown VM 'nope'"),
        RefusedCommand("window", "add", "w", "--region", "eastus", "--start", "2026-12-05T22:00:00", "--time-zone", "Mars/Base", "--duration", "PT1H",
                       says: "--time-zone: 'Mars/Base' is not an IANA time zone"),
        RefusedCommand("window", "add", "w", "--region", "eastus", "--start", "2026-12-05T22:00:00", "--time-zone", "UTC", "--duration", "forever",
                       says: "--duration: 'forever' is not a duration"),
        RefusedCommand("window", "add", "w", "--region", "eastus", "--start", "2026-12-05T22:00:00", "--time-zone", "UTC", "--duration", "PT1H",
                       "--recur-every", "Fortnight", says: "--recur-every: 'Fortnight'"),
        RefusedCommand("window", "add", "w", "--region", "eastus", "--start", "5 Dec 2026", "--time-zone", "UTC", "--duration", "PT1H",
                       says: "--start: '5 Dec 2026' is not a local date and time"),
        RefusedCommand("window", "add", "w", "--region", "nowhere", "--start", "2026-12-05T22:00:00", "--time-zone", "UTC", "--duration", "PT1H",
                       says: "unknown region 'nowhere'"),
        RefusedCommand("window", "add", "us-weekend", "--region", "eastus", "--start", "2026-12-05T22:00:00", "--time-zone", "UTC", "--duration", "PT1H",
                       says: "maintenance window us-weekend already exists"),
        RefusedCommand("window", "remove", "nope", says: "unknown maintenance window 'nope'"),
        RefusedCommand("blackout", "add", "b", "--start", "2026-12-20T00:00:00Z", "--end", "2026-12-19T00:00:00Z", says: "is not after its start"),
        RefusedCommand("blackout", "add", "b", "--start", "2026-12-20", "--end", "2026-12-21T00:00:00Z", says: "--start: '2026-12-20' is not an ISO 8601 instant"),
        RefusedCommand("blackout", "add", "b", "--region", "nowhere", "--start", "2026-12-20T00:00:00Z", "--end", "2026-12-21T00:00:00Z",
                       says: "unknown region 'nowhere'"),
        RefusedCommand("blackout", "remove", "nope", says: "unknown blackout 'nope'"),
        RefusedCommand("windows", "--within", "forever", says: "--within: 'forever' is not a duration"),
        RefusedCommand("windows", "--region", "nowhere", says: "unknown region 'nowhere'"),
        RefusedCommand("import", "/nonexistent/fleet.json", says: "/nonexistent/fleet.json"),
        RefusedCommand("import", "/nonexistent/fleet.csv", says: "/nonexistent/fleet.csv"),
    ]

    @Test(arguments: refused)
    func aRefusedCommandExitsWith2AndStoresNothing(_ command: RefusedCommand) throws {
        // Given the seed fleet
        let box = try Sandbox()
        try box.seed()
        let before = try box.export()

        // when a command with bad input runs
        let run = try box.runRaw(command.arguments + ["--db", box.db])

        // then it exits 2 with a message on stderr, prints nothing else, and stores nothing
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains(command.message), "\(run)")
        #expect(run.stdout.isEmpty, "\(run)")
        #expect(try box.export() == before)
    }

    @Test func removingARegionWithDependantsNamesThem() throws {
        let box = try Sandbox()
        try box.seed()
        let before = try box.export()

        let run = try box.run("region", "remove", "eastus")

        #expect(run.status == 2)
        #expect(run.stderr == "pitstop: region eastus is still used by availability sets: web; VMs: jump, web-0, web-1, web-2; "
            + "maintenance windows: us-weekend; pair links: eastus -> westus; remove or move those first\n")
        #expect(try box.export() == before)
    }

    @Test func removingARegionThatIsOnlyAPairPartnerIsRefused() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.run("region", "remove", "westus")
        #expect(run.status == 2)
        #expect(run.stderr.contains("pair links: eastus -> westus"))
    }

    @Test func removingASetWithVMsNamesThem() throws {
        let box = try Sandbox()
        try box.seed()
        try box.ok("window", "add", "web-only", "--set", "web", "--start", "2026-12-01T01:00:00", "--time-zone", "UTC", "--duration", "PT1H")
        let before = try box.export()

        let run = try box.run("set", "remove", "web")

        #expect(run.status == 2)
        #expect(run.stderr == "pitstop: availability set web is still used by VMs: web-0, web-1, web-2; maintenance windows: web-only; remove or move those first\n")
        #expect(try box.export() == before)
    }

    @Test func aLongListOfDependantsIsCut() throws {
        let box = try Sandbox()
        try box.seed()
        for i in 3..<9 { try box.ok("vm", "add", "web-\(i)", "--set", "web") }
        let run = try box.run("set", "remove", "web")
        #expect(run.stderr.contains("VMs: web-0, web-1, web-2, web-3, web-4, …;"))
    }
}

// MARK: JSON output

@Suite struct CLIJSONOutputTests {
    static let commands: [[String]] = [
        ["region", "list", "--format", "json"],
        ["subscription", "list", "--format", "json"],
        ["set", "list", "--format", "json"],
        ["set", "show", "web", "--format", "json"],
        ["vm", "list", "--format", "json"],
        ["vm", "list", "--subscription", "contoso", "--format", "json"],
        ["vm", "show", "web-0", "--format", "json"],
        ["window", "list", "--format", "json"],
        ["blackout", "list", "--format", "json"],
        ["inventory", "--format", "json"],
        ["windows", "--format", "json"],
        ["export"],
        ["export", "--format", "json"],
    ]

    @Test(arguments: commands)
    func jsonOutputParsesAndStderrStaysEmpty(_ arguments: [String]) throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.runRaw(arguments + ["--db", box.db])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) }
    }

    static let listsOfNothing: [[String]] = [
        ["region", "list", "--format", "json"], ["subscription", "list", "--format", "json"], ["set", "list", "--format", "json"],
        ["vm", "list", "--format", "json"], ["window", "list", "--format", "json"], ["blackout", "list", "--format", "json"],
        ["inventory", "--format", "json"], ["windows", "--format", "json"], ["export"],
    ]

    @Test(arguments: listsOfNothing)
    func jsonOutputOfAnEmptyDatabaseParses(_ arguments: [String]) throws {
        // Given an empty database (a read-only command no longer creates one)
        let box = try Sandbox()
        try AppDatabase.open(path: box.db, creating: true).writer.close()
        let run = try box.runRaw(arguments + ["--db", box.db])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) }
    }
}

// MARK: Where the database lives

@Suite struct CLIDatabaseLocationTests {
    @Test func pitstopDBNamesTheDatabaseWhenDbIsNotGiven() throws {
        let box = try Sandbox()
        let path = box.path("elsewhere/fleet.sqlite")
        let env = ["PITSTOP_DB": path, "XDG_DATA_HOME": box.path("xdg")]

        #expect(try box.runRaw(["region", "add", "eastus"], env: env).status == 0)

        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: box.path("xdg/pitstop/pitstop.sqlite")))
        #expect(try box.runRaw(["region", "list"], env: env).stdout.contains("eastus"))
    }

    @Test func xdgDataHomeIsTheDefaultPlace() throws {
        let box = try Sandbox()
        let env = ["XDG_DATA_HOME": box.path("xdg")]
        #expect(try box.runRaw(["region", "add", "eastus"], env: env).status == 0)
        #expect(FileManager.default.fileExists(atPath: box.path("xdg/pitstop/pitstop.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: box.path("home/.local/share/pitstop/pitstop.sqlite")))
    }

    @Test func withoutXdgDataHomeTheDatabaseIsUnderHome() throws {
        let box = try Sandbox()
        #expect(try box.runRaw(["region", "add", "eastus"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: box.path("home/.local/share/pitstop/pitstop.sqlite")))
    }

    @Test func dbWinsOverTheEnvironment() throws {
        let box = try Sandbox()
        let env = ["PITSTOP_DB": box.path("env.sqlite"), "XDG_DATA_HOME": box.path("xdg")]
        #expect(try box.runRaw(["region", "add", "eastus", "--db", box.db], env: env).status == 0)
        #expect(FileManager.default.fileExists(atPath: box.db))
        #expect(!FileManager.default.fileExists(atPath: box.path("env.sqlite")))
    }

    @Test func theDatabaseIsCreatedAndMigratedByTheFirstCommandThatRecords() throws {
        let box = try Sandbox()
        try box.ok("region", "add", "eastus")
        let run = try box.ok("export")
        #expect(run.stdout.contains("{\"name\": \"eastus\", \"displayName\": null}"), "\(run)")
        #expect(FileManager.default.fileExists(atPath: box.db))
    }

    @Test func aFileThatIsNotAPitstopDatabaseIsRefused() throws {
        let box = try Sandbox()
        let notADatabase = try box.write("notes.sqlite", "shopping list: eggs, milk\n")
        let run = try box.runRaw(["region", "list", "--db", notADatabase])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("pitstop: \(notADatabase): "))
        #expect(try Data(contentsOf: URL(fileURLWithPath: notADatabase)) == Data("shopping list: eggs, milk\n".utf8))
    }

    @Test func aDatabaseWithAChangedMigrationIsRefusedAndLeftAsItWas() throws {
        // Given a database whose recorded migration was changed behind Pitstop's back
        let box = try Sandbox()
        try box.seed()
        let queue = try DatabaseQueue(path: box.db)
        try queue.write { db in try db.execute(sql: "UPDATE pitstop_migrations SET sha256 = 'forged'") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: box.db))

        // when any command opens it
        let run = try box.run("region", "add", "japaneast")

        // then it is refused with exit 2 and a message, and the file is the same bytes
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("pitstop: \(box.db): migration 0001_inventory.sql recorded in the database (sha256 forged"), "\(run)")
        #expect(run.stderr.hasSuffix("refusing to open\n"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: box.db)) == before)
    }

    @Test func aBinaryCopiedAloneStillCarriesItsMigrations() throws {
        // Given the binary copied by itself into an empty directory, run from another one
        let box = try Sandbox()
        let bin = box.directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let copy = bin.appendingPathComponent("pitstop")
        try ChildProcess.copyExecutable(from: pitstopBinary.path, to: copy.path)
        let elsewhere = box.directory.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)

        // when it creates a database and records a fleet
        let added = try box.runRaw(["regions", "load-defaults", "--db", box.db], binary: copy, in: elsewhere)
        let listed = try box.runRaw(["region", "list", "--format", "json", "--db", box.db], binary: copy, in: elsewhere)

        // then it works as the original does
        #expect(added.status == 0, "\(added)")
        #expect(listed.status == 0, "\(listed)")
        let regions = try listed.jsonObject()["regions"] as? [Any]
        #expect(regions?.count == 19)
    }
}
