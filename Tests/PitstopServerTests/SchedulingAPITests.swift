// `/api/v1` for maintenance: plans, campaigns, upcoming, check, the lifecycle of events and
// waves, the audit, reports and notices, each through the use case the CLI calls.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitstopCore
import PitstopServer
import PitstopService
import PitstopTestSupport
import Testing

@Suite struct SchedulingAPITests {
    func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func anOperatorPlansAndTheTokenNameIsTheActor() async throws {
        let fixture = try await Fixture()
        fixture.clock.advance(to: at("2026-11-02T00:00:00Z"))
        try await apiApp(fixture).test(.router) { client in
            let dry = try await client.execute(uri: "/api/v1/campaigns?dryRun=true", method: .post, headers: bearer(.operator),
                                               body: body(#"{"kind": "freeze", "regions": ["eastus"], "notBefore": "2026-11-20T00:00:00Z"}"#))
            #expect(dry.status == .ok)
            let planned = try jsonObject(dry)
            #expect((planned["campaign"] as? [String: Any])?["status"] as? String == "dry-run")
            #expect((planned["events"] as? [Any])?.count == 7)
            #expect(try await fixture.services.scheduler.campaigns().count == 1)

            let real = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: bearer(.operator),
                                                body: body(#"{"kind": "freeze", "regions": ["eastus"], "notBefore": "2026-11-20T00:00:00Z", "description": "BIOS"}"#))
            #expect(real.status == .created)
            let id = try #require((try jsonObject(real)["campaign"] as? [String: Any])?["id"] as? String)
            let entries = try await fixture.services.audit.entries(AuditFilter(subject: AuditSubject(.campaign, id)))
            #expect(entries.map(\.actor) == ["alice"])

            let shown = try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)", method: .get, headers: bearer(.viewer)))
            #expect((shown["events"] as? [Any])?.count == 7)
            let list = try jsonObject(try await client.execute(uri: "/api/v1/campaigns?limit=1", method: .get, headers: bearer(.viewer)))
            #expect((list["campaigns"] as? [[String: Any]])?.first?["id"] as? String == fixture.campaign)
            let next = try #require(list["next"] as? String)
            let second = try jsonObject(try await client.execute(uri: "/api/v1/campaigns?limit=1&cursor=\(next)", method: .get, headers: bearer(.viewer)))
            #expect((second["campaigns"] as? [[String: Any]])?.first?["id"] as? String == id)
        }
    }

    @Test func aBadPlanNamesEachFieldAndWritesNothing() async throws {
        let fixture = try await Fixture()
        let before = try await fixture.services.audit.entries(AuditFilter()).count
        try await apiApp(fixture).test(.router) { client in
            try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: bearer(.operator),
                                     body: body("{\n\"kind\": \"reboots\", \"duration\": \"soon\", \"colour\": 3}")) { response in
                #expect(response.status == .badRequest)
                let error = try jsonObject(response)
                #expect(error["place"] as? String == "body:1: kind")
                let problems = try #require(error["problems"] as? [[String: Any]])
                #expect(problems.map { $0["field"] as? String } == ["kind", "duration", "colour"])
                #expect((problems.first?["message"] as? String)?.contains("'reboots' is not reboot or freeze") == true)
            }
            try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: bearer(.operator), body: body("{\"kind\": ")) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(try await fixture.services.audit.entries(AuditFilter()).count == before)
    }

    @Test func aBodyOverOneMebibyteIs413AndWritesNothing() async throws {
        let fixture = try await Fixture()
        let before = try await fixture.services.audit.entries(AuditFilter()).count
        try await apiApp(fixture).test(.router) { client in
            let padding = String(repeating: " ", count: 1 << 20)
            try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: bearer(.operator),
                                     body: body(#"{"kind": "freeze"}"# + padding)) { response in
                #expect(response.status == .contentTooLarge)
                let error = try jsonObject(response)
                #expect((error["message"] as? String)?.hasPrefix("the body is larger than 1 MiB") == true)
            }
        }
        #expect(try await fixture.services.audit.entries(AuditFilter()).count == before)
    }

    @Test func rolesDecideWhoPlansAndWhoMovesEvents() async throws {
        let fixture = try await Fixture()
        let before = try await fixture.services.audit.entries(AuditFilter()).count
        let auth = TestAuthenticator()
        try await apiApp(fixture, authenticator: auth).test(.router) { client in
            for role in [TokenRole.viewer, .executor] {
                try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: bearer(role), body: body(#"{"kind": "freeze"}"#)) { response in
                    #expect(response.status == .forbidden)
                    let error = try jsonObject(response)
                    #expect(error["error"] as? String == "forbidden")
                }
            }
            try await client.execute(uri: "/api/v1/waves/\(fixture.webUD0)/approve", method: .post, headers: bearer(.viewer)) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/campaigns/\(fixture.campaign)/cancel", method: .post, headers: bearer(.executor)) { response in
                #expect(response.status == .forbidden)
            }
        }
        #expect(auth.used.isEmpty)
        #expect(try await fixture.services.audit.entries(AuditFilter()).count == before)
        #expect(try await fixture.stored(fixture.webUD0).allSatisfy { $0.approvedAt == nil })
    }

    @Test func anExecutorMovesAWaveAndARefusedStartNamesTheConflicts() async throws {
        let fixture = try await Fixture()
        fixture.clock.advance(to: fixture.start(fixture.webUD0))
        try await apiApp(fixture).test(.router) { client in
            let started = try await client.execute(uri: "/api/v1/waves/\(fixture.webUD0)/start", method: .post, headers: bearer(.executor))
            #expect(started.status == .ok)
            let result = try jsonObject(started)
            #expect((result["changed"] as? [[String: Any]])?.compactMap { $0["vm"] as? String }.sorted() == fixture.vms(fixture.webUD0))
            #expect((try await fixture.stored(fixture.webUD0)).allSatisfy { $0.event.status == .started })

            // The set's next update domain while this one runs: refused, 409, naming the running events.
            let refused = try await client.execute(uri: "/api/v1/waves/\(fixture.webUD1)/start", method: .post, headers: bearer(.executor),
                                                   body: body(#"{"reason": "try"}"#))
            #expect(refused.status == .conflict)
            let error = try jsonObject(refused)
            #expect(error["error"] as? String == "refused")
            let conflicts = try #require(error["conflicts"] as? [String])
            #expect(Set(conflicts).isSuperset(of: fixture.events.filter { $0.event.wave == fixture.webUD0 }.map(\.event.id)))

            let forced = try await client.execute(uri: "/api/v1/waves/\(fixture.webUD1)/start", method: .post, headers: bearer(.executor),
                                                  body: body(#"{"force": true, "reason": "hotfix"}"#))
            #expect(forced.status == .ok)
            #expect(try jsonObject(forced)["forced"] as? Bool == true)
            let audit = try await fixture.services.audit.entries(AuditFilter(subject: AuditSubject(.wave, fixture.webUD1)))
            #expect(audit.last?.actor == "runner")

            let vm = fixture.vms(fixture.webUD0)[0]
            let event = try jsonObject(try await client.execute(uri: "/api/v1/events/\(fixture.webUD0)/\(vm)", method: .get, headers: bearer(.viewer)))
            #expect(event["status"] as? String == "started")
            #expect(event["waveEvents"] as? Int == 2)
            try await client.execute(uri: "/api/v1/events/\(fixture.webUD0)/nosuchvm", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .notFound)
            }
            let completed = try await client.execute(uri: "/api/v1/events/\(fixture.webUD0)/\(vm)/complete", method: .post, headers: bearer(.executor))
            #expect(completed.status == .ok)
            // Completing twice is a transition from the wrong state.
            try await client.execute(uri: "/api/v1/events/\(fixture.webUD0)/\(vm)/complete", method: .post, headers: bearer(.executor)) { response in
                #expect(response.status == .conflict)
            }
        }
    }

    @Test func upcomingAnswersJSONOrACalendar() async throws {
        let fixture = try await Fixture()
        fixture.clock.advance(to: at("2026-11-09T00:00:00Z"))
        try await apiApp(fixture).test(.router) { client in
            let events = try jsonObject(try await client.execute(uri: "/api/v1/upcoming?vm=web-0&within=30d", method: .get, headers: bearer(.viewer)))
            #expect((events["events"] as? [[String: Any]])?.map { $0["vm"] as? String } == ["web-0"])
            let calendar = try await client.execute(uri: "/api/v1/upcoming?set=web&within=30d", method: .get,
                                                    headers: bearer(.viewer, [("Accept", "text/calendar")]))
            #expect(calendar.headers[.contentType]?.hasPrefix("text/calendar") == true)
            let text = String(buffer: calendar.body)
            #expect(text.hasPrefix("BEGIN:VCALENDAR"))
            #expect(text.components(separatedBy: "BEGIN:VEVENT").count - 1 == 2)
            // Paged soonest first: following `next` one at a time gives every event of the set once.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try jsonObject(try await client.execute(uri: "/api/v1/upcoming?set=web&within=30d&limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""),
                                                                   method: .get, headers: bearer(.viewer)))
                seen += (page["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["next"] as? String
            } while cursor != nil
            let web = fixture.events.filter { $0.event.availabilitySet == "web" }
            #expect(seen == web.sorted { ($0.event.range.start, $0.event.id) < ($1.event.range.start, $1.event.id) }.map(\.event.id))
            try await client.execute(uri: "/api/v1/upcoming?vm=web-0&set=web", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/upcoming?within=400d", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .badRequest)
                let error = try jsonObject(response)
                #expect((error["message"] as? String)?.hasPrefix("query parameter within:") == true)
            }
        }
    }

    /// The JSON list is read a page at a time, the read stopped once the page is full: a walk
    /// by `next` still gives every event ahead once, soonest first, on both engines, whatever
    /// the page size.
    @Test(arguments: TestEngine.all)
    func everyUpcomingEventComesOnceAcrossPages(engine: TestEngine) async throws {
        let fixture = try await Fixture(services: Services(store: try engine.store()))
        fixture.clock.advance(to: at("2026-11-09T00:00:00Z"))
        let expected = fixture.events.sorted {
            ($0.event.range.start.iso8601 + " " + $0.event.id).utf8.lexicographicallyPrecedes(($1.event.range.start.iso8601 + " " + $1.event.id).utf8)
        }.map(\.event.id)
        try await apiApp(fixture).test(.router) { client in
            for limit in [1, 2, 3, expected.count - 1, expected.count, 1000] {
                var seen: [String] = [], cursor: String?, pages = 0
                repeat {
                    let page = try jsonObject(try await client.execute(uri: "/api/v1/upcoming?within=30d&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""),
                                                                       method: .get, headers: bearer(.viewer)))
                    let ids = (page["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                    #expect(ids.count <= limit)
                    seen += ids
                    cursor = page["next"] as? String
                    pages += 1
                } while cursor != nil && pages <= expected.count
                #expect(seen == expected, "limit \(limit)")
                // A full last page says so without a next page to fetch for nothing.
                #expect(pages == (expected.count + limit - 1) / limit, "limit \(limit)")
            }
            // A cursor of another list (base64url of a name, not of an event's position) is
            // refused as one this list did not give.
            try await client.execute(uri: "/api/v1/upcoming?cursor=\(Base64URL.encode(Array("web-0".utf8)))", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .badRequest)
                let message = try jsonObject(response)["message"] as? String
                #expect(message == "query parameter cursor: '\(Base64URL.encode(Array("web-0".utf8)))' is not a cursor this server gave; start again without one")
            }
        }
    }

    @Test func checkAuditReportsAndNoticesRead() async throws {
        let fixture = try await Fixture()
        try await apiApp(fixture).test(.router) { client in
            let check = try jsonObject(try await client.execute(uri: "/api/v1/check", method: .get, headers: bearer(.viewer)))
            #expect(check["ok"] as? Bool == true)

            let all = try await fixture.services.audit.entries(AuditFilter())
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let uri = "/api/v1/audit?limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try jsonObject(try await client.execute(uri: uri, method: .get, headers: bearer(.viewer)))
                seen += (page["entries"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
                cursor = page["next"] as? String
            } while cursor != nil
            #expect(seen == all.map { Int($0.seq) })
            // A VM list's cursor is not the audit's: refused naming the cursor, as every list does.
            let foreign = Base64URL.encode(Array("web-0".utf8))
            try await client.execute(uri: "/api/v1/audit?cursor=\(foreign)", method: .get, headers: bearer(.viewer)) { response in
                #expect(response.status == .badRequest)
                let message = try jsonObject(response)["message"] as? String
                #expect(message == "query parameter cursor: '\(foreign)' is not a cursor this server gave; start again without one")
            }
            let aboutWeb = try jsonObject(try await client.execute(uri: "/api/v1/audit?set=web", method: .get, headers: bearer(.viewer)))
            #expect(!(aboutWeb["entries"] as? [Any] ?? []).isEmpty)

            let verify = try jsonObject(try await client.execute(uri: "/api/v1/audit/verify", method: .get, headers: bearer(.viewer)))
            #expect((verify["chain"] as? [String: Any])?["ok"] as? Bool == true)
            let report = try jsonObject(try await client.execute(uri: "/api/v1/reports?region=eastus", method: .get, headers: bearer(.viewer)))
            #expect((report["total"] as? [String: Any])?["events"] as? Int == 7)
            let notices = try jsonObject(try await client.execute(uri: "/api/v1/notices", method: .get, headers: bearer(.viewer)))
            #expect((notices["notices"] as? [[String: Any]])?.first?["subscription"] as? String == "contoso")
        }
    }
}
