// The fleet through /api/v1: each kind of record added, read, listed and removed with the
// store checked through the use cases; imports streamed as JSON and CSV, refused whole with
// every place; roles; VM pages; window occurrences as JSON and iCalendar.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitstopCore
import PitstopServer
import PitstopService
import Testing

/// One API request with the role's token and, when given, a body and its media type.
private func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, as role: TokenRole = .operator,
                  _ body: String? = nil, type: String = "application/json", headers extra: [(String, String)] = []) async throws -> TestResponse {
    try await client.execute(uri: uri, method: method, headers: bearer(role, (body == nil ? [] : [("Content-Type", type)]) + extra),
                             body: body.map { ByteBuffer(string: $0) })
}

/// The fleet's use cases, to check the store.
private func inventory(_ fixture: Fixture) -> InventoryService {
    fixture.services.inventory(actor: "test", clock: { Fixture.planned })
}

/// The names of a list's page and its next cursor.
private func page(_ response: TestResponse, _ key: String) throws -> (names: [String], next: String?) {
    let body = try jsonObject(response)
    let items = try #require(body[key] as? [[String: Any]], "\(key) in \(String(buffer: response.body))")
    return (items.compactMap { ($0["name"] ?? $0["id"]) as? String }, body["next"] as? String)
}

private func problems(_ response: TestResponse) throws -> [[String: Any]] {
    try #require(try jsonObject(response)["problems"] as? [[String: Any]])
}

@Suite struct InventoryAPITests {
    @Test func regionsAndPairsAreAddedReadListedAndRemoved() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let added = try await call(client, .post, "/api/v1/regions", #"{"name": "northeu", "displayName": "North Europe"}"#)
            #expect(added.status == .created)
            #expect(try jsonObject(added)["displayName"] as? String == "North Europe")
            #expect(try await inventory(fixture).region(named: "northeu").displayName == "North Europe")
            #expect(try await call(client, .post, "/api/v1/regions", #"{"name": "northeu"}"#).status == .conflict)

            let pair = try await call(client, .post, "/api/v1/region-pairs", #"{"region": "northeu", "pairedWith": "westus"}"#)
            #expect(pair.status == .created)
            #expect(try await call(client, .post, "/api/v1/region-pairs", #"{"region": "northeu", "pairedWith": "westus"}"#).status == .ok)
            let shown = try jsonObject(try await call(client, .get, "/api/v1/regions/northeu", as: .viewer))
            #expect(shown["pairedWith"] as? [String] == ["westus"])
            let pairs = try jsonObject(try await call(client, .get, "/api/v1/region-pairs", as: .viewer))["regionPairs"] as? [[String: String]]
            #expect(pairs == [["region": "eastus", "pairedWith": "westus"], ["region": "northeu", "pairedWith": "westus"]])
            #expect(try page(try await call(client, .get, "/api/v1/regions", as: .viewer), "regions").names == ["eastus", "northeu", "westus"])

            // A region still paired is refused with what depends on it; unpaired, it goes.
            #expect(try await call(client, .delete, "/api/v1/regions/northeu").status == .conflict)
            #expect(try await call(client, .delete, "/api/v1/region-pairs/westus/northeu").status == .noContent)
            #expect(try await call(client, .delete, "/api/v1/regions/northeu").status == .noContent)
            #expect(try await inventory(fixture).regions().map(\.name) == ["eastus", "westus"])
            let gone = try await call(client, .get, "/api/v1/regions/northeu", as: .viewer)
            #expect(gone.status == .notFound)
            #expect(try jsonObject(gone)["message"] as? String == "unknown region 'northeu'")
        }
    }

    @Test func subscriptionsAreAddedReadListedAndRemoved() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let body = #"{"id": "fabrikam", "admins": ["ops@fabrikam.example"], "noticeTimeZone": "Europe/Paris"}"#
            let added = try await call(client, .post, "/api/v1/subscriptions", body)
            #expect(added.status == .created)
            #expect(try jsonObject(added)["coAdmins"] as? [String] == [])
            #expect(try await inventory(fixture).subscription(id: "fabrikam").admins == ["ops@fabrikam.example"])
            let shown = try jsonObject(try await call(client, .get, "/api/v1/subscriptions/fabrikam", as: .viewer))
            #expect(shown["noticeTimeZone"] as? String == "Europe/Paris")
            #expect(try page(try await call(client, .get, "/api/v1/subscriptions", as: .viewer), "subscriptions").names == ["contoso", "fabrikam"])
            #expect(try await call(client, .delete, "/api/v1/subscriptions/contoso").status == .conflict, "its sets and VMs use it")
            #expect(try await call(client, .delete, "/api/v1/subscriptions/fabrikam").status == .noContent)
            #expect(try await inventory(fixture).subscriptions().map(\.id) == ["contoso"])
            #expect(try await call(client, .get, "/api/v1/subscriptions/fabrikam", as: .viewer).status == .notFound)
        }
    }

    @Test func availabilitySetsAreAddedShownListedAndRemoved() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let added = try await call(client, .post, "/api/v1/availability-sets",
                                       #"{"name": "db", "region": "eastus", "subscription": "contoso", "updateDomains": 3}"#)
            #expect(added.status == .created)
            #expect(try jsonObject(added)["faultDomains"] as? Int == AvailabilitySet.defaultFaultDomains)
            #expect(try await inventory(fixture).availabilitySet(named: "db").set.updateDomains == 3)
            #expect(try page(try await call(client, .get, "/api/v1/availability-sets?region=eastus", as: .viewer), "availabilitySets").names == ["db", "web"])
            let web = try jsonObject(try await call(client, .get, "/api/v1/availability-sets/web", as: .viewer))
            #expect((web["vms"] as? [[String: Any]])?.count == 4)
            #expect((web["availabilitySet"] as? [String: Any])?["name"] as? String == "web")
            #expect(try await call(client, .delete, "/api/v1/availability-sets/web").status == .conflict)
            #expect(try await call(client, .delete, "/api/v1/availability-sets/db").status == .noContent)
            #expect(try await inventory(fixture).availabilitySets().map(\.set.name) == ["api", "web"])
        }
    }

    @Test func vmsAreAddedMovedListedAndRemoved() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let added = try await call(client, .post, "/api/v1/vms", #"{"name": "web-4", "availabilitySet": "web", "ipAddress": "127.0.0.20"}"#)
            #expect(added.status == .created)
            let vm = try jsonObject(added)
            #expect(vm["region"] as? String == "eastus" && vm["updateDomain"] is Int)
            #expect(try await inventory(fixture).vm(named: "web-4").ipAddress == "127.0.0.20")

            let moved = try await call(client, .patch, "/api/v1/vms/web-4", #"{"updateDomain": 1, "faultDomain": 0}"#)
            #expect(moved.status == .ok)
            #expect(try await inventory(fixture).vm(named: "web-4").updateDomain == 1)
            let out = try jsonObject(try await call(client, .patch, "/api/v1/vms/web-4", #"{"availabilitySet": null}"#))
            #expect(out["availabilitySet"] is NSNull && out["updateDomain"] is NSNull)
            let nowhere = try await call(client, .patch, "/api/v1/vms/web-4", "{}")
            #expect(nowhere.status == .badRequest)
            #expect(try jsonObject(try await call(client, .get, "/api/v1/vms/web-4", as: .viewer))["availabilitySet"] is NSNull)
            #expect(try page(try await call(client, .get, "/api/v1/vms?set=web", as: .viewer), "vms").names == ["web-0", "web-1", "web-2", "web-3"])
            #expect(try await call(client, .get, "/api/v1/vms?set=web&region=eastus", as: .viewer).status == .badRequest)

            // web-0 has maintenance scheduled: refused, naming the campaign.
            let busy = try await call(client, .delete, "/api/v1/vms/web-0")
            #expect(busy.status == .conflict)
            #expect((try jsonObject(busy)["message"] as? String)?.contains(fixture.campaign) == true)
            #expect(try await call(client, .delete, "/api/v1/vms/web-4").status == .noContent)
            #expect(try await call(client, .get, "/api/v1/vms/web-4", as: .viewer).status == .notFound)
        }
    }

    @Test func windowsAndBlackoutsAreAddedListedAndRemoved() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let window = #"{"name": "sat", "region": "eastus", "start": "2026-11-14T22:00:00", "timeZone": "America/New_York", "duration": "PT4H", "recurEvery": "Week Saturday"}"#
            let added = try await call(client, .post, "/api/v1/windows", window)
            #expect(added.status == .created)
            #expect(try jsonObject(added)["availabilitySet"] is NSNull)
            #expect(try await inventory(fixture).maintenanceWindow(named: "sat").duration.seconds == 4 * 3600)
            #expect(try jsonObject(try await call(client, .get, "/api/v1/windows/sat", as: .viewer))["recurEvery"] as? String == "Week Saturday")
            #expect(try page(try await call(client, .get, "/api/v1/windows", as: .viewer), "maintenanceWindows").names == ["sat"])

            let blackout = try await call(client, .post, "/api/v1/blackouts", #"{"name": "holidays", "start": "2026-12-20T00:00:00Z", "end": "2027-01-02T00:00:00Z"}"#)
            #expect(blackout.status == .created)
            #expect(try jsonObject(blackout)["region"] is NSNull)
            #expect(try page(try await call(client, .get, "/api/v1/blackouts", as: .viewer), "blackouts").names == ["holidays"])
            #expect(try await inventory(fixture).blackouts().map(\.name) == ["holidays"])

            #expect(try await call(client, .delete, "/api/v1/windows/sat").status == .noContent)
            #expect(try await call(client, .delete, "/api/v1/blackouts/holidays").status == .noContent)
            #expect(try await inventory(fixture).maintenanceWindows().isEmpty)
            #expect(try await inventory(fixture).blackouts().isEmpty)
            #expect(try await call(client, .delete, "/api/v1/blackouts/holidays").status == .notFound)
        }
    }

    @Test func eachChangeIsAuditedAsTheTokenAtTheRequestsInstant() async throws {
        let fixture = try await Fixture()
        let when = at("2026-11-05T09:30:00Z")
        fixture.clock.now = when
        try await apiApp(fixture).test(.router) { client in
            let statuses = [
                try await call(client, .post, "/api/v1/vms", #"{"name": "web-4", "availabilitySet": "web"}"#).status,
                try await call(client, .patch, "/api/v1/vms/web-4", #"{"availabilitySet": "api"}"#).status,
                try await call(client, .delete, "/api/v1/vms/web-4").status,
                try await call(client, .post, "/api/v1/inventory/import", #"{"regions": [{"name": "northeu"}]}"#).status,
            ]
            #expect(statuses == [.created, .ok, .noContent, .ok])
        }
        let entries = try await fixture.services.audit.entries(AuditFilter(since: when))
        #expect(entries.map(\.action) == ["vm.added", "vm.moved", "vm.removed", "inventory.imported"])
        #expect(entries.allSatisfy { $0.actor == "alice" && $0.at == when })
    }

    @Test func aBadRecordIsRefusedNamingEachFieldAndNothingChanges() async throws {
        let fixture = try await Fixture()
        let before = try await exported(fixture)
        try await apiApp(fixture).test(.router) { client in
            let bad = try await call(client, .post, "/api/v1/vms", "{\"name\": \"db-0\",\n \"colour\": \"red\",\n \"updateDomain\": \"one\"}")
            #expect(bad.status == .badRequest)
            let found = try problems(bad)
            #expect(found.map { $0["field"] as? String } == ["updateDomain", "colour"])
            #expect(found.map { $0["line"] as? Int } == [1, 1])
            #expect(found.map { $0["file"] as? String } == ["body", "body"])
            #expect((found.first?["message"] as? String)?.contains("must be a whole number") == true)
            let window = try await call(client, .post, "/api/v1/windows", #"{"name": "w", "region": "eastus", "start": "soon", "timeZone": "Mars/Olympus", "duration": "PT1H"}"#)
            #expect(window.status == .badRequest)
            #expect(Set(try problems(window).compactMap { $0["field"] as? String }) == ["start", "timeZone"])
            #expect(try await call(client, .post, "/api/v1/regions", "[1]").status == .badRequest)
            #expect(try await call(client, .post, "/api/v1/regions", "{\"name\": ").status == .badRequest)
            let duplicate = try await call(client, .post, "/api/v1/availability-sets", #"{"name": "web", "region": "eastus", "subscription": "contoso"}"#)
            #expect(duplicate.status == .conflict)
            #expect(try jsonObject(duplicate)["message"] as? String == "availability set web already exists")
        }
        #expect(try await exported(fixture) == before)
    }

    @Test func aViewerMayNotWriteAndNothingChanges() async throws {
        let fixture = try await Fixture()
        let before = try await exported(fixture)
        try await apiApp(fixture).test(.router) { client in
            for (uri, body) in [("/api/v1/regions", #"{"name": "northeu"}"#), ("/api/v1/inventory/import", #"{"regions": [{"name": "northeu"}]}"#)] {
                let refused = try await call(client, .post, uri, as: .viewer, body)
                #expect(refused.status == .forbidden)
                #expect(try jsonObject(refused)["error"] as? String == "forbidden")
            }
            #expect(try await call(client, .delete, "/api/v1/vms/quiet", as: .executor).status == .forbidden)
        }
        #expect(try await exported(fixture) == before)
    }

    @Test func anImportOfJSONAndOfCSVAnswersWhatItDid() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let document = #"{"regions": [{"name": "northeu"}, {"name": "eastus"}], "vms": [{"name": "n-0", "region": "northeu", "subscription": "contoso"}]}"#
            let json = try await call(client, .post, "/api/v1/inventory/import", document)
            #expect(json.status == .ok)
            let summary = try jsonObject(json)
            #expect(summary["regions"] as? [String: Int] == ["added": 1, "updated": 0, "unchanged": 1])
            #expect(summary["vms"] as? [String: Int] == ["added": 1, "updated": 0, "unchanged": 0])
            #expect(summary["blackouts"] as? [String: Int] == ["added": 0, "updated": 0, "unchanged": 0])

            let csv = "name,region,subscription,availabilitySet,updateDomain,faultDomain\nn-1,northeu,contoso,,,\nweb-9,,,web,1,1\n"
            let rows = try await call(client, .post, "/api/v1/inventory/import", csv, type: "text/csv; charset=utf-8")
            #expect(rows.status == .ok)
            #expect(try jsonObject(rows)["vms"] as? [String: Int] == ["added": 2, "updated": 0, "unchanged": 0])
            #expect(try await inventory(fixture).vm(named: "web-9").updateDomain == 1)

            let other = try await call(client, .post, "/api/v1/inventory/import", "name\n", type: "text/plain")
            #expect(other.status == .unsupportedMediaType)
            #expect(try jsonObject(other)["error"] as? String == "unsupported-media-type")
        }
    }

    @Test func aRefusedImportListsEachPlaceAndLeavesTheDatabaseAsItWas() async throws {
        let fixture = try await Fixture()
        let before = try await exported(fixture)
        try await apiApp(fixture).test(.router) { client in
            let document = "{\"regions\": [{\"name\": \"northeu\"}],\n \"vms\": [\n  {\"name\": \"n-0\", \"region\": \"northeu\", \"subscription\": \"contoso\"},\n  {\"name\": \"n-1\", \"availabilitySet\": \"web\", \"updateDomain\": 7}\n]}"
            let refused = try await call(client, .post, "/api/v1/inventory/import", document)
            #expect(refused.status == .badRequest)
            let body = try jsonObject(refused)
            #expect(body["place"] as? String == "body:4: vms[1].updateDomain")
            #expect(try problems(refused).map { "\($0["file"]!):\($0["line"]!): \($0["field"]!)" } == ["body:4: vms[1].updateDomain"])

            let csv = "name,region,subscription,availabilitySet,updateDomain,faultDomain\nn-1,northeu,contoso,,,\nn-2,nowhere,contoso,,,\n"
            let named = try await call(client, .post, "/api/v1/inventory/import?name=fleet.csv", csv, type: "text/csv")
            #expect(named.status == .badRequest)
            #expect(try problems(named).map { "\($0["file"]!):\($0["line"]!)" } == ["fleet.csv:2", "fleet.csv:3"])
        }
        #expect(try await exported(fixture) == before)
    }

    @Test func aLargeImportStreamsOverARealSocketPastTheBodyLimit() async throws {
        let fixture = try await Fixture()
        // Past the 1 MiB limit of a body read whole, so it arrives in many chunks.
        let csv = "name,region,subscription,availabilitySet,updateDomain,faultDomain\n"
            + (0..<40_000).map { "bulk-\(String(format: "%05d", $0)),eastus,contoso,,,\n" }.joined()
        #expect(csv.utf8.count > 1 << 20)
        // The server `pitstop serve` builds, on a real socket (withLiveServer), with a real token.
        let (_, secret) = try await fixture.services.tokens.create(name: "importer", role: .operator, actor: "test", at: Fixture.planned)
        let response = try await withLiveServer(fixture) { port in
            try await rawRequest(port: port, from: "127.0.0.1", method: "POST", path: "/api/v1/inventory/import",
                                 headers: [("Authorization", "Bearer \(secret)"), ("Content-Type", "text/csv")], body: csv)
        }
        #expect(response.status == 200, "\(response.body)")
        #expect(try response.json()["vms"] as? [String: Int] == ["added": 40_000, "updated": 0, "unchanged": 0])
        #expect(try await inventory(fixture).vm(named: "bulk-39999").region == "eastus")
    }

    @Test func vmPagesFollowTheCursorAcrossTheFleet() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            var names: [String] = [], cursor: String?, pages = 0
            repeat {
                let uri = "/api/v1/vms?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let (page, next) = try page(try await call(client, .get, uri, as: .viewer), "vms")
                #expect(page.count <= 3)
                names += page
                cursor = next
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(names == ["api-0", "quiet", "solo-a", "solo-b", "web-0", "web-1", "web-2", "web-3"])
            #expect(try page(try await call(client, .get, "/api/v1/vms?region=westus", as: .viewer), "vms").names == ["api-0"])
            #expect(try page(try await call(client, .get, "/api/v1/vms?subscription=nobody", as: .viewer), "vms").names == [])
        }
    }

    @Test func windowOccurrencesAnswerJSONOrICalendarByAccept() async throws {
        let fixture = try await Fixture()
        let window = #"{"name": "sat", "region": "eastus", "start": "2026-11-14T22:00:00", "timeZone": "UTC", "duration": "PT4H", "recurEvery": "Week Saturday"}"#
        let range = "from=2026-11-01T00:00:00Z&to=2026-11-29T00:00:00Z"
        try await apiApp(fixture).test(.router) { client in
            #expect(try await call(client, .post, "/api/v1/windows", window).status == .created)
            let json = try await call(client, .get, "/api/v1/window-occurrences?\(range)&region=eastus", as: .viewer)
            #expect(json.status == .ok)
            let occurrences = try #require(try jsonObject(json)["occurrences"] as? [[String: Any]])
            #expect(occurrences.map { $0["start"] as? String } == ["2026-11-14T22:00:00Z", "2026-11-21T22:00:00Z", "2026-11-28T22:00:00Z"])

            let ics = try await call(client, .get, "/api/v1/window-occurrences?\(range)", as: .viewer,
                                     headers: [("Accept", "application/json;q=0.5, text/calendar")])
            #expect(ics.headers[.contentType] == "text/calendar; charset=utf-8")
            let expected = try await inventory(fixture).windowOccurrences(
                .all, in: TimeRange(start: at("2026-11-01T00:00:00Z"), end: at("2026-11-29T00:00:00Z")))
            #expect(String(buffer: ics.body) == WindowOccurrence.iCalendar(expected))
            #expect(String(buffer: ics.body).components(separatedBy: "BEGIN:VEVENT").count == 4)

            let preferJSON = try await call(client, .get, "/api/v1/window-occurrences?\(range)", as: .viewer,
                                            headers: [("Accept", "text/calendar;q=0.2, application/json")])
            #expect(preferJSON.headers[.contentType] == "application/json; charset=utf-8")
            let tooLong = try await call(client, .get, "/api/v1/window-occurrences?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z", as: .viewer)
            #expect(tooLong.status == .badRequest)
            #expect(try await call(client, .get, "/api/v1/window-occurrences?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", as: .viewer).status == .badRequest)
            #expect(try await call(client, .get, "/api/v1/window-occurrences?set=nothing", as: .viewer).status == .notFound)
        }
    }

    @Test func theInventoryIsTheExportAndTheSummaryIsPerRegion() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let document = try await call(client, .get, "/api/v1/inventory", as: .viewer)
            #expect(document.status == .ok)
            #expect(String(buffer: document.body) == (try await exported(fixture)))
            let summary = try jsonObject(try await call(client, .get, "/api/v1/inventory/summary", as: .viewer))
            let regions = try #require(summary["regions"] as? [[String: Any]])
            #expect(regions.map { $0["region"] as? String } == ["eastus", "westus"])
            #expect(regions.first?["vms"] as? Int == 7)
        }
    }
}

/// The whole inventory as `pitstop export` writes it: equal before and after means nothing changed.
private func exported(_ fixture: Fixture) async throws -> String {
    let out = ExportText()
    try await inventory(fixture).export(to: out.append)
    return out.text
}

private final class ExportText: @unchecked Sendable {
    private let lock = NSLock()
    private var pieces: [String] = []
    func append(_ piece: String) { lock.withLock { pieces.append(piece) } }
    var text: String { lock.withLock { pieces.joined() } }
}
