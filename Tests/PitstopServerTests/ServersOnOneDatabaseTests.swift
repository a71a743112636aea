// Several `pitstop serve` processes on one database, as on several machines sharing one
// PostgreSQL (and, on one machine, one SQLite file): each VM gets the same document, with the
// same DocumentIncarnation and ETag, from whichever server it asks, before and after a third
// process changes its wave; plans posted to two servers at the same instant over linked regions
// keep the pair rule; a server killed in the middle of writing a plan leaves nothing of it, and
// the other plans it; and when the server executing plans (`--simulate`) is killed, the one
// standing by takes the executor's lease over within seconds and nothing runs twice.
import Foundation
import PitstopTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension ServeProcess {
    /// Waits until its log holds `text`, at most `seconds`; whether it does.
    func waitForLog(_ text: String, seconds: Int = 30) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline && process.isRunning {
            if logText.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return logText.contains(text)
    }

    /// The waves its log says it started, or completed (`wave started` / `wave completed`).
    func loggedWaves(_ what: String) -> [String] {
        logText.split(separator: "\n").filter { $0.contains("msg=\"wave \(what)\"") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("wave=") }.map { String($0.dropFirst(5)) }
        }
    }

    /// When its log says it first did `text`: the line's own `time=`, written as it happened,
    /// so a measure from it does not include how late a busy test machine read the log.
    func loggedAt(_ text: String) -> Date? {
        guard let line = logText.split(separator: "\n").first(where: { $0.contains(text) }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("time=") }) else { return nil }
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return format.date(from: String(field.dropFirst(5)))
    }

    /// SIGTERM, and its exit status.
    func stop() async throws -> Int32 {
        process.signal(SIGTERM)
        return try await exitStatus()
    }
}

/// The entries of `pitstop audit --action ACTION --format json`.
func auditEntries(_ action: String, db: String) async throws -> [[String: Any]] {
    let run = try await pitstopCLI(["audit", "--action", action, "--format", "json"], db: db)
    try #require(run.status == 0, "\(run)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    return try #require(document["entries"] as? [[String: Any]])
}

/// A fresh database on `engine` in a scratch directory (the caller removes it) holding
/// ``LinkedFleet``, and an operator token for the API on it.
func linkedFleetWithToken(_ fleet: LinkedFleet, engine: TestEngine) async throws -> (directory: URL, db: String, token: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-servers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let db = try freshDatabase(engine, in: directory)
    let inventory = directory.appendingPathComponent("fleet.json"), csv = directory.appendingPathComponent("vms.csv")
    try Data(fleet.inventory.utf8).write(to: inventory)
    try Data(fleet.csv.utf8).write(to: csv)
    for file in [inventory, csv] {
        let imported = try await pitstopCLI(["import", file.path], db: db)
        try #require(imported.status == 0, "\(imported)")
    }
    let created = try await pitstopCLI(["token", "create", "planner", "--role", "operator"], db: db)
    try #require(created.status == 0, "\(created)")
    let token = try #require(created.stdout.split(separator: "\n").last.map(String.init))
    return (directory, db, token)
}

/// `POST /api/v1/campaigns` with `body` to the server on `port`, as the bearer of `token`; the
/// answer may take up to a minute (a big plan, waiting for another's write lock, on a busy machine).
func postPlan(port: Int, token: String, _ body: String) async throws -> RawResponse {
    try await onThread {
        let fd = try connectedSocket(port: port)
        defer { close(fd) }
        try sendAll(fd, requestText(method: "POST", path: "/api/v1/campaigns",
                                    headers: [("Connection", "close"), ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                    body: body))
        return try responseUntilClosed(fd)
    }
}

@Suite("Several servers on one database", .serialized)
struct ServersOnOneDatabaseTests {
    /// DocumentIncarnation is the database's, not a server's count: two servers asked at the
    /// same instant agree, both follow a change a third process commits, and a server started
    /// after the changes numbers each document as the others do (counting on its own, it would
    /// start again at 1).
    @Test(.hangGuard, arguments: TestEngine.all)
    func everyVMGetsTheSameIncarnationAndETagFromEveryServerBeforeAndAfterAChange(engine: TestEngine) async throws {
        // Given set web over 3 UDs with six VMs, a freeze's first wave in their documents, and two
        // servers (with no limit on GETs: the test asks each VM's document often)
        let vms = (0..<6).map { (name: "web-\($0)", address: "127.0.0.\(60 + $0)") }
        let (directory, db) = try await freezePlannedAMinuteAgo(vms, updateDomains: 3, engine: engine)
        defer { try? FileManager.default.removeItem(at: directory) }
        var servers = [try ServeProcess(db: db, options: ["--no-throttle"]), try ServeProcess(db: db, options: ["--no-throttle"])]
        var ports = [try await servers[0].port(), try await servers[1].port()]
        #expect(ports[0] != ports[1])

        /// Each VM's answers from the servers on `ports`, all asked at once, in the order of `ports`.
        func answers(_ ports: [Int]) async throws -> [String: [RawResponse]] {
            try await withThrowingTaskGroup(of: (String, Int, RawResponse).self) { group in
                for vm in vms {
                    for (i, port) in ports.enumerated() {
                        group.addTask { (vm.address, i, try await rawRequest(port: port, from: vm.address, path: eventsPath)) }
                    }
                }
                var byVM: [String: [Int: RawResponse]] = [:]
                for try await (address, i, response) in group { byVM[address, default: [:]][i] = response }
                return byVM.mapValues { answers in answers.sorted { $0.key < $1.key }.map(\.value) }
            }
        }
        /// Checks that every VM's answers agree: all 200, one incarnation, one ETag, one body.
        /// Returns each VM's incarnation.
        func agreeing(_ byVM: [String: [RawResponse]]) throws -> [String: Int] {
            var incarnations: [String: Int] = [:]
            for (address, answers) in byVM {
                #expect(answers.allSatisfy { $0.status == 200 }, "\(address): \(answers.map(\.status))")
                let numbers = try answers.map { try #require(try $0.json()["DocumentIncarnation"] as? Int) }
                let etags = answers.map { $0.headers["etag"] ?? "none" }
                #expect(Set(numbers).count == 1, "\(address): incarnations \(numbers) from the servers")
                #expect(Set(etags).count == 1 && etags[0] != "none", "\(address): ETags \(etags) from the servers")
                #expect(Set(answers.map(\.body)).count == 1, "\(address): \(answers.map(\.body))")
                incarnations[address] = numbers[0]
            }
            return incarnations
        }
        func allStarted(_ byVM: [String: [RawResponse]]) -> Bool {
            byVM.values.allSatisfy { $0.allSatisfy { $0.body.contains(#""EventStatus": "Started""#) } }
        }

        // When every VM asks both servers at the same instant, the first time either is asked
        let first = try await answers(ports)

        // Then each VM has one incarnation and one ETag, whichever server answered
        let before = try agreeing(first)
        #expect(before.count == vms.count)
        // And an ETag one server gave is current at the other
        let vm0 = try #require(first[vms[0].address]?[0])
        let etag = try #require(vm0.headers["etag"])
        #expect(try await rawRequest(port: ports[1], from: vms[0].address, path: eventsPath,
                                     headers: [("Metadata", "true"), ("If-None-Match", etag)]).status == 304)

        // When a VM of the first wave approves it through one server and a third process starts it
        let event = try #require((try vm0.json()["Events"] as? [[String: Any]])?.first)
        let wave = try #require(event["EventId"] as? String)
        let member = try #require((event["Resources"] as? [String])?.first)
        let memberAddress = try #require(vms.first { $0.name == member }?.address)
        let approval = try await rawRequest(port: ports[0], from: memberAddress, method: "POST", path: eventsPath,
                                            headers: [("Metadata", "true")], body: #"{"StartRequests": [{"EventId": "\#(wave)"}]}"#)
        #expect(approval.status == 200, "\(approval)")
        // (forced: the freeze's 15 min of notice have not run yet)
        let started = try await pitstopCLI(["event", "start", "--wave", wave, "--force", "--reason", "two servers test"], db: db)
        try #require(started.status == 0, "\(started)")

        // Then both servers soon answer every VM with the wave started, under a new incarnation they agree on
        var after = try await answers(ports)
        _ = try await eventually(every: .milliseconds(200)) {
            if !allStarted(after) { after = try await answers(ports) }
            return allStarted(after)
        }
        #expect(allStarted(after), "\(after.mapValues { $0.map(\.body) })")
        let changed = try agreeing(after)
        for vm in vms { #expect((changed[vm.address] ?? 0) > (before[vm.address] ?? 0), "\(vm.name): \(before) then \(changed)") }
        // And the old ETag is stale at both
        for port in ports {
            #expect(try await rawRequest(port: port, from: vms[0].address, path: eventsPath,
                                         headers: [("Metadata", "true"), ("If-None-Match", etag)]).status == 200)
        }

        // When a third server starts now, after the changes, and every VM asks all three at once
        servers.append(try ServeProcess(db: db, options: ["--no-throttle"]))
        ports.append(try await servers[2].port())
        let late = try await answers(ports)

        // Then the newcomer gives every VM the number and ETag the others give, not a count of its own
        #expect(try agreeing(late) == changed)
        let current = try #require(late[vms[0].address]?[0].headers["etag"])
        #expect(try await rawRequest(port: ports[2], from: vms[0].address, path: eventsPath,
                                     headers: [("Metadata", "true"), ("If-None-Match", current)]).status == 304)
        for server in servers { #expect(try await server.stop() == 0, "\(server.logText)") }
    }

    /// Four plans posted at the same instant, two to each server, one per region of two pairs:
    /// without one writer at a time each would read an empty plan and start its region at the
    /// same minute as its partner's.
    @Test(.hangGuard, arguments: TestEngine.all)
    func plansPostedToTwoServersAtOnceOverLinkedRegionsKeepThePairRule(engine: TestEngine) async throws {
        // Given 480 VMs over two pairs of linked regions, and two servers on them
        let fleet = LinkedFleet(sets: 24, vmsPerSet: 20)
        let (directory, db, token) = try await linkedFleetWithToken(fleet, engine: engine)
        defer { try? FileManager.default.removeItem(at: directory) }
        let servers = [try ServeProcess(db: db), try ServeProcess(db: db)]
        let ports = [try await servers[0].port(), try await servers[1].port()]

        // When eastus and northeurope are posted to one, westus and westeurope to the other, at once
        let notBefore = ISO8601DateFormatter().string(from: Date() + 8 * 86_400)
        let results = try await withThrowingTaskGroup(of: (String, RawResponse).self) { group in
            for (i, region) in LinkedFleet.regions.enumerated() {
                let body = #"{"kind": "reboot", "regions": ["\#(region)"], "notBefore": "\#(notBefore)", "description": "only \#(region)"}"#
                group.addTask { (region, try await postPlan(port: ports[i % 2], token: token, body)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }

        // Then each was planned, or refused as busy (it waited too long for the write lock)
        let planned = results.filter { $0.value.status == 201 }.map(\.key)
        #expect(planned.count >= 2, "\(results.mapValues { "\($0.status) \($0.body.prefix(300))" })")
        for (region, refused) in results where refused.status != 201 {
            #expect(refused.status == 503 && refused.body.contains("busy"), "\(region): \(refused.status) \(refused.body.prefix(300))")
        }
        // And no wave of a region overlaps a wave of its partner, and check agrees
        let raw = RawDatabase(db: db)
        let waves = try raw.waves()
        #expect(Set(waves.map(\.region)) == Set(planned))
        let clashes = LinkedFleet.pairClashes(waves)
        #expect(clashes.isEmpty, "linked regions under maintenance together: \(clashes.prefix(3))")
        let check = try await pitstopCLI(["check"], db: db)
        #expect(check.status == 0, "\(check)")
        // And the audit log is one chain, with one entry per plan, by the token's name
        let entries = try await auditEntries("campaign.planned", db: db)
        #expect(entries.count == planned.count && entries.allSatisfy { $0["actor"] as? String == "planner" })
        let verify = try await pitstopCLI(["audit", "verify"], db: db)
        #expect(verify.status == 0, "\(verify)")
        for server in servers { #expect(try await server.stop() == 0, "\(server.logText)") }
    }

    /// A server dies with SIGKILL in the middle of writing a plan posted to it: nothing of the
    /// plan is there, the other server keeps answering, and the same plan posted to it succeeds.
    /// (On SQLite, where servers share a file on one machine, `pitstop plan` killed the same way
    /// is PlanUnderFireCLITests'.)
    @Test(.enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason), .hangGuard)
    func aServerKilledMidPlanLeavesNothingAndTheOtherServerPlansIt() async throws {
        // Given 400 VMs in 400 waves over two pairs of linked regions, and two servers on them
        let engine = TestEngine.postgres
        let fleet = LinkedFleet(sets: 20, vmsPerSet: 20)
        let (directory, db, token) = try await linkedFleetWithToken(fleet, engine: engine)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (doomed, survivor) = (try ServeProcess(db: db), try ServeProcess(db: db))
        let (doomedPort, survivorPort) = (try await doomed.port(), try await survivor.port())
        let raw = RawDatabase(db: db)
        let before = try raw.planTables()
        let body = #"{"kind": "reboot", "description": "every region"}"#

        // When a plan of every region is posted to one, and it is killed part way through writing
        // it: once its campaign, waves and their VMs are written, as it waits to write its
        // notices, which the test keeps it from
        let block = try PostgresWriteBlock(db: db, table: "notices")
        let posting = Task { try await postPlan(port: doomedPort, token: token, body) }
        let process = doomed.process
        try await onThread { try freezeMidPlanWrite(process, db: db, hold: 0) }
        process.signal(SIGKILL)
        doomed.process.waitUntilExit()
        block.release()
        #expect(doomed.process.terminationReason == .uncaughtSignal)
        let answer = try? await posting.value
        #expect(answer == nil, "the plan was answered before the kill: \(answer.map { "\($0.status) \($0.body.prefix(200))" } ?? "")")

        // Then nothing of it is there, and the database checks and verifies
        #expect(try raw.planTables() == before)
        let check = try await pitstopCLI(["check"], db: db)
        #expect(check.status == 0, "\(check)")
        let verify = try await pitstopCLI(["audit", "verify"], db: db)
        #expect(verify.status == 0, "\(verify)")

        // When the same plan is posted to the other server
        #expect(try await rawRequest(port: survivorPort, from: "127.0.0.1", path: "/healthz", headers: []).status == 200)
        let planned = try await postPlan(port: survivorPort, token: token, body)

        // Then it is written, whole, once
        #expect(planned.status == 201, "\(planned.status) \(planned.body.prefix(300))")
        let written = try raw.planTables()
        #expect(written["campaigns"] == 1 && written["waves"] == fleet.waves && written["wave_vms"] == fleet.vms, "\(written)")
        #expect(try await auditEntries("campaign.planned", db: db).count == 1)
        let checked = try await pitstopCLI(["check"], db: db)
        #expect(checked.status == 0, "\(checked)")
        let verified = try await pitstopCLI(["audit", "verify"], db: db)
        #expect(verified.status == 0, "\(verified)")
        #expect(try await survivor.stop() == 0, "\(survivor.logText)")
    }

    /// The executor's lease across processes: the server carrying plans out dies by SIGKILL in
    /// the middle of a wave; the one standing by takes over on its next tick, finishes that wave
    /// at its planned end, runs the rest, and no wave is started or completed twice.
    @Test(.hangGuard, arguments: TestEngine.all)
    func aKilledExecutorIsTakenOverWithinSecondsAndNothingRunsTwice(engine: TestEngine) async throws {
        // Given set web over 4 UDs, one VM each, and a freeze of 4 s a wave with no gap, planned
        // 16 min ago: its waves are due now, by the real clock the servers read
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-takeover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = try freshDatabase(engine, in: directory)
        let fleet = directory.appendingPathComponent("fleet.json")
        try Data("""
            {"regions": [{"name": "eastus"}], "subscriptions": [{"id": "contoso", "admins": ["ops@contoso.example"]}],
             "availabilitySets": [{"name": "web", "region": "eastus", "subscription": "contoso", "updateDomains": 4, "faultDomains": 1}],
             "vms": [{"name": "web-0", "availabilitySet": "web"}, {"name": "web-1", "availabilitySet": "web"},
                     {"name": "web-2", "availabilitySet": "web"}, {"name": "web-3", "availabilitySet": "web"}]}
            """.utf8).write(to: fleet)
        let plannedAt = Date() - 16 * 60
        let imported = try await pitstopCLI(["import", fleet.path], db: db, now: plannedAt)
        try #require(imported.status == 0, "\(imported)")
        let planned = try await pitstopCLI(["plan", "--kind", "freeze", "--duration", "4s", "--ud-gap", "0s", "--description", "takeover"], db: db, now: plannedAt)
        try #require(planned.status == 0, "\(planned)")

        // When one server executes, and a second stands by
        let executor = try ServeProcess(db: db, options: ["--simulate"])
        _ = try await executor.port()
        try #require(try await executor.waitForLog("msg=\"wave started\""), "\(executor.logText)")
        let standby = try ServeProcess(db: db, options: ["--simulate"])
        _ = try await standby.port()
        try #require(try await standby.waitForLog("simulator standing by"), "\(standby.logText)")

        // And the executor is killed with SIGKILL just after it starts its next wave (4 s before
        // that wave's end: the kill falls in the middle of it, not between two steps)
        let startsSoFar = executor.loggedWaves("started").count
        let deadline = ContinuousClock.now + .seconds(30)
        while executor.loggedWaves("started").count == startsSoFar && executor.process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let killedAt = Date()  // just before: the measure can only come out longer
        executor.process.signal(SIGKILL)
        executor.process.waitUntilExit()
        #expect(executor.process.terminationReason == .uncaughtSignal)
        let startedByFirst = executor.loggedWaves("started")
        try #require(startedByFirst.count > startsSoFar, "the executor started no wave after the standby came: \(executor.logText)")
        let running: Set = [startedByFirst.last!]

        // Then the second takes over within seconds
        #expect(try await standby.waitForLog("simulator took over executing"), "\(standby.logText)")
        let takenOver = try #require(standby.loggedAt("simulator took over executing"), "\(standby.logText)")
        let takeover = takenOver.timeIntervalSince(killedAt)
        #expect(takeover < 15, "the standby took \(takeover) s to take over")

        // And carries every wave to its end
        var completed: [[String: Any]] = []
        for _ in 0..<120 {
            completed = try await auditEntries("event.completed", db: db)
            if completed.count >= 4 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let started = try await auditEntries("event.started", db: db)
        func waves(_ entries: [[String: Any]]) -> [String] { entries.compactMap { ($0["details"] as? [String: Any])?["wave"] as? String } }
        // And no wave was started or completed twice, and none by anyone but the simulator
        #expect(started.count == 4 && Set(waves(started)).count == 4, "\(waves(started))")
        #expect(completed.count == 4 && Set(waves(completed)).count == 4, "\(waves(completed))")
        #expect((started + completed).allSatisfy { $0["actor"] as? String == "simulator" })
        #expect(Set(standby.loggedWaves("started")).isDisjoint(with: startedByFirst), "\(standby.logText)")
        // And the wave running at the kill was ended by the second, after its planned 4 s, as every other
        #expect(running.isSubset(of: standby.loggedWaves("completed")), "\(standby.logText)")
        for entry in completed {
            let durations = (entry["details"] as? [String: Any])?["durations"] as? [[String: Any]] ?? []
            #expect(!durations.isEmpty && durations.allSatisfy { $0["seconds"] as? Int == 4 && $0["tooLong"] as? Bool == false }, "\(entry)")
        }
        let check = try await pitstopCLI(["check"], db: db)
        #expect(check.status == 0, "\(check)")
        let verify = try await pitstopCLI(["audit", "verify"], db: db)
        #expect(verify.status == 0, "\(verify)")
        #expect(try await standby.stop() == 0, "\(standby.logText)")
    }
}
