// `pitstop plan` as processes die and race, on both engines: a plan killed with SIGKILL in the
// middle of its write transaction leaves nothing of itself (no campaign, wave, VM of a wave,
// notice, recorded name or audit entry), the database still checks and verifies, and the next
// plan succeeds; plans over both regions of a pair started at the same instant never put the
// two regions under maintenance at once, whichever of them wins the write lock.
import Foundation
import PitstopTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Imports ``LinkedFleet`` into the sandbox's database.
func importLinkedFleet(into box: Sandbox, sets: Int, vmsPerSet: Int) throws {
    let fleet = LinkedFleet(sets: sets, vmsPerSet: vmsPerSet)
    try box.ok("import", try box.write("fleet.json", fleet.inventory))
    try box.ok("import", try box.write("vms.csv", fleet.csv))
}

extension Sandbox {
    /// Starts `pitstop ARGUMENTS --db <sandbox db>` and returns the running process; its
    /// standard error goes to the returned file.
    func start(_ arguments: [String]) throws -> (process: Subprocess, stderr: URL) {
        let err = directory.appendingPathComponent("err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Subprocess()
        process.executableURL = pitstopBinary
        process.arguments = arguments + ["--db", db]
        process.environment = environment()
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, err)
    }
}

@Suite("pitstop plan: killed mid-write, and two at once", .serialized)
struct PlanUnderFireCLITests {
    /// The promise of a plan: all or nothing, whatever kills it.
    @Test(.hangGuard, arguments: TestEngine.all)
    func aPlanKilledMidWriteLeavesNothingAndTheNextPlanSucceeds(engine: TestEngine) throws {
        // Given a fleet in two pairs of linked regions: on SQLite 60,000 VMs, whose plan holds the
        // write lock for a second or more; on PostgreSQL, where the test stops the plan in the
        // middle of its write, 400 VMs in 400 waves
        let box = try Sandbox(engine: engine)
        let (sets, vmsPerSet) = engine == .postgres ? (20, 20) : (600, 100)
        try importLinkedFleet(into: box, sets: sets, vmsPerSet: vmsPerSet)
        let raw = RawDatabase(db: box.db)
        let before = try raw.planTables()
        #expect(before["campaigns"] == 0 && before["waves"] == 0 && before["vm_names"] == 0, "\(before)")

        // When a reboot plan of every region is killed with SIGKILL part way through its write
        // (on PostgreSQL once its campaign, waves and their VMs are written, as it waits to
        // write its notices, which the test keeps it from)
        let block = engine == .postgres ? try PostgresWriteBlock(db: box.db, table: "notices") : nil
        let (plan, stderr) = try box.start(["plan", "--kind", "reboot", "--description", "killed"])
        defer { plan.signal(SIGKILL); plan.waitUntilExit() }
        do {
            try freezeMidPlanWrite(plan, db: box.db, hold: 0.3)
        } catch {
            plan.waitUntilExit()
            Issue.record("\(error); the plan exited \(plan.terminationStatus): \((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
            return
        }
        plan.signal(SIGKILL)
        plan.waitUntilExit()
        block?.release()
        #expect(plan.terminationReason == .uncaughtSignal && plan.terminationStatus == SIGKILL)

        // Then nothing of it is there: no campaign, wave, VM of a wave, notice, name or audit entry
        #expect(try raw.planTables() == before)
        let campaigns = try box.ok("campaign", "list", "--format", "json").jsonObject()["campaigns"] as? [Any]
        #expect(campaigns?.count == 0)
        let notices = try box.ok("notices", "--format", "json").jsonObject()["notices"] as? [Any]
        #expect(notices?.count == 0)
        #expect(try box.run("upcoming", "--region", "eastus", "--within", "90d").stdout.contains("nothing scheduled"))
        // And the database checks clean and its audit chain verifies
        let check = try box.run("check")
        #expect(check.status == 0, "\(check)")
        let verify = try box.run("audit", "verify")
        #expect(verify.status == 0, "\(verify)")

        // When the same plan is run again, to its end
        let again = try box.run("plan", "--kind", "reboot", "--description", "again", "--format", "json")

        // Then it succeeds, at once (no lock is left behind), and everything it planned is there, once
        #expect(again.status == 0, "\(again)")
        let written = try raw.planTables()
        #expect(written["campaigns"] == 1)
        #expect(written["wave_vms"] == sets * vmsPerSet, "\(written)")
        #expect(written["waves"] == LinkedFleet(sets: sets, vmsPerSet: vmsPerSet).waves, "\(written)")
        #expect(written["notices"] == 4, "\(written)")
        // SQLite copies each planned VM's name to `vm_names`; PostgreSQL names a VM in the fleet
        // by its row in `vms` (postgres/0004).
        #expect(written["vm_names"] == (engine == .postgres ? 0 : sets * vmsPerSet), "\(written)")
        let planned = try box.ok("audit", "--action", "campaign.planned", "--format", "json").jsonObject()["entries"] as? [[String: Any]]
        #expect(planned?.count == 1)
        let afterwards = try box.run("check")
        #expect(afterwards.status == 0, "\(afterwards)")
        let verified = try box.run("audit", "verify")
        #expect(verified.status == 0, "\(verified)")
    }

    /// Four plans at the same instant, one per region of two pairs: without one writer at a time
    /// each would read an empty plan and start its region at the same minute as its partner's.
    @Test(.hangGuard, arguments: TestEngine.all)
    func plansOverLinkedRegionsStartedAtOnceNeverPutAPairUnderMaintenanceTogether(engine: TestEngine) throws {
        // Given 1,000 VMs (20,000 on SQLite) over two pairs of linked regions
        let box = try Sandbox(engine: engine)
        let (sets, vmsPerSet) = engine == .postgres ? (40, 25) : (200, 100)
        try importLinkedFleet(into: box, sets: sets, vmsPerSet: vmsPerSet)

        // When four reboot plans start together, each of one region, from the same earliest start
        let regions = ["eastus", "westus", "northeurope", "westeurope"]
        let started = try regions.map { region in
            try box.start(["plan", "--kind", "reboot", "--regions", region, "--not-before", "2026-12-01T00:00:00Z", "--description", "only \(region)"])
        }
        var outcomes: [(region: String, status: Int32, stderr: String)] = []
        for (region, (process, stderr)) in zip(regions, started) {
            process.waitUntilExit()
            outcomes.append((region, process.terminationStatus, (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""))
        }

        // Then each one planned, or was refused with a clear message (it waited too long for the
        // write lock) having written nothing
        let planned = outcomes.filter { $0.status == 0 }
        #expect(planned.count >= 2, "\(outcomes)")
        for refused in outcomes where refused.status != 0 {
            #expect(refused.stderr.hasPrefix("pitstop: ") && refused.stderr.contains("busy"), "\(refused)")
        }
        let raw = RawDatabase(db: box.db)
        #expect(try raw.planTables()["campaigns"] == planned.count)

        // And no wave of a region overlaps a wave of its partner, whichever campaign each is in
        let waves = try raw.waves()
        #expect(Set(waves.map(\.region)) == Set(planned.map(\.region)))
        let clashes = LinkedFleet.pairClashes(waves)
        #expect(clashes.isEmpty, "linked regions under maintenance together: \(clashes.prefix(3))")
        // And check, which weighs every campaign against the others, agrees
        let check = try box.run("check")
        #expect(check.status == 0, "\(check)")
        let verify = try box.run("audit", "verify")
        #expect(verify.status == 0, "\(verify)")
    }
}
