// The event and history repositories' contract, on both engines: the same plan written and
// read back, folded and counted, gives the same answers, in the same order.
import Foundation
import PitstopCore
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("Event and history repositories on both engines")
struct EventContractTests {
    static let t0 = Timestamp(seconds: 1_796_860_800)
    static let planned = Timestamp(seconds: 1_796_083_200)
    // Wave ids sort in this order; W4 starts with W1.
    static let w1 = "00000000-0000-4000-8000-000000000001", w2 = "00000000-0000-4000-8000-000000000002"
    static let w3 = "00000000-0000-4000-8000-000000000003", w4 = "00000000-0000-4000-8000-000000000004"

    static let campaign = Campaign(id: "c1", kind: .reboot, regions: ["eastus", "westus"], createdAt: Timestamp(seconds: 1_796_000_000),
                                   notBefore: t0, perVMDuration: 900, udGap: 1800, description: "kernel", horizon: 86_400)

    static func event(_ vm: String, wave: String, region: String = "eastus", set: String? = nil, ud: Int? = nil, fd: Int? = nil,
                      at offset: Int64, campaign: String = "c1") -> PlannedEvent {
        PlannedEvent(campaign: campaign, vm: vm, region: region, availabilitySet: set, updateDomain: ud, faultDomain: fd, wave: wave,
                     kind: .reboot, range: TimeRange(start: t0 + offset, end: t0 + offset + 900), plannedAt: planned)
    }

    /// Five events in four waves; `ghost` is in no fleet (a VM removed since).
    static let plan: [PlannedEvent] = [
        event("vm-a1", wave: w1, set: "as1", ud: 0, fd: 0, at: 0),
        event("vm-w1", wave: w4, region: "westus", at: 0),
        event("vm-a2", wave: w2, set: "as1", ud: 1, fd: 1, at: 3600),
        event("vm-s1", wave: w3, at: 1800),
        event("ghost", wave: w3, at: 1800),
    ]

    /// A fleet of two regions, a set of two VMs, two single VMs; the campaign and its plan.
    static func store(engine: TestEngine, withPlan: Bool = true) async throws -> any Store {
        let store = try engine.store()
        try await store.write { repos in
            for region in ["eastus", "westus"] { _ = try repos.fleet.upsert(region: Region(name: region)) }
            for sub in ["sub-a", "sub-b"] { _ = try repos.fleet.upsert(subscription: Subscription(id: sub)) }
            _ = try repos.fleet.upsert(availabilitySet: AvailabilitySet(name: "as1", region: "eastus", subscription: "sub-a",
                                                                        faultDomains: 2, updateDomains: 2))
            let writer = try repos.vms.writer()
            for vm in [VirtualMachine(name: "vm-a1", region: "eastus", subscription: "sub-a", availabilitySet: "as1", updateDomain: 0, faultDomain: 0),
                       VirtualMachine(name: "vm-a2", region: "eastus", subscription: "sub-a", availabilitySet: "as1", updateDomain: 1, faultDomain: 1),
                       VirtualMachine(name: "vm-s1", region: "eastus", subscription: "sub-b"),
                       VirtualMachine(name: "vm-w1", region: "westus", subscription: "sub-b")] {
                _ = try writer.insertIfAbsent(vm)
            }
            if withPlan {
                try repos.events.insert(campaign: campaign, span: TimeRange(start: t0, end: t0 + 4500))
                try repos.events.insert(events: plan, keys: nil, progress: nil)
            }
        }
        return store
    }

    static func ids(_ records: [EventRecord]) -> [String] { records.map(\.event.id) }
    static func id(_ wave: String, _ vm: String) -> String { StableID.event(wave: wave, vm: vm) }

    /// Sets `vm`'s event of `wave` to `status`, with the given times.
    static func change(_ repos: any Repositories, _ wave: String, _ vm: String, to status: EventStatus, approved: Timestamp? = nil,
                       start: Timestamp? = nil, end: Timestamp? = nil, forced: Bool = false, reason: String? = nil) throws {
        guard var record = try repos.events.events(.event(id(wave, vm))).first else { throw PitstopError(.notFound, vm) }
        record.event.status = status
        (record.approvedAt, record.actualStart, record.actualEnd, record.forced, record.reason) = (approved, start, end, forced, reason)
        try repos.events.update([record])
    }

    @Test("events read back in start order, then id, under every filter", arguments: TestEngine.all)
    func eventsByFilter(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        let (w1, w2, w3, w4) = (Self.w1, Self.w2, Self.w3, Self.w4)
        let read = try await store.read { repos in
            let e = repos.events
            return [try e.events(.all), try e.events(.active), try e.events(.campaign("c1")), try e.events(.campaign("nope")),
                    try e.events(.vm("vm-a1")), try e.events(.wave(w3)), try e.events(.event(Self.id(w3, "ghost"))),
                    try e.events(.event("no-slash")), try e.events(.availabilitySet("as1")), try e.events(.region("westus")),
                    try e.events(.subscription("sub-b")), try e.events(.all, from: Self.t0 + 900, until: Self.t0 + 3601),
                    try e.events(.all, from: nil, until: Self.t0 + 1)]
        }
        let all = [Self.id(w1, "vm-a1"), Self.id(w4, "vm-w1"), Self.id(w3, "ghost"), Self.id(w3, "vm-s1"), Self.id(w2, "vm-a2")]
        #expect(Self.ids(read[0]) == all)
        #expect(Self.ids(read[1]) == all)
        #expect(Self.ids(read[2]) == all)
        #expect(read[3].isEmpty)
        #expect(Self.ids(read[4]) == [Self.id(w1, "vm-a1")])
        #expect(Self.ids(read[5]) == [Self.id(w3, "ghost"), Self.id(w3, "vm-s1")])
        #expect(Self.ids(read[6]) == [Self.id(w3, "ghost")])
        #expect(read[7].isEmpty)
        #expect(Self.ids(read[8]) == [Self.id(w1, "vm-a1"), Self.id(w2, "vm-a2")])
        #expect(Self.ids(read[9]) == [Self.id(w4, "vm-w1")])
        #expect(Self.ids(read[10]) == [Self.id(w4, "vm-w1"), Self.id(w3, "vm-s1")])
        // Overlapping [t0 + 900, t0 + 3601): the waves at 1800 and 3600, not those ending at 900.
        #expect(Self.ids(read[11]) == [Self.id(w3, "ghost"), Self.id(w3, "vm-s1"), Self.id(w2, "vm-a2")])
        #expect(Self.ids(read[12]) == [Self.id(w1, "vm-a1"), Self.id(w4, "vm-w1")])
        // Every planned fact comes back as written.
        #expect(read[0].map(\.event) == Self.plan.sorted { ($0.range.start, $0.id) < ($1.range.start, $1.id) })
        #expect(read[0].allSatisfy { $0.approvedAt == nil && $0.actualStart == nil && !$0.forced && $0.reason == nil })

        let counts = try await store.read { repos in
            (try repos.events.eventCount(wave: w3), try repos.events.eventCount(wave: "unknown"),
             try repos.events.hasEvents(vm: "vm-a2"), try repos.events.hasEvents(vm: "ghost"), try repos.events.hasEvents(vm: "vm-zz"),
             try repos.events.hasEvents(region: "westus"), try repos.events.hasEvents(region: "northeu"))
        }
        #expect(counts.0 == 2)
        #expect(counts.1 == 0)
        #expect(counts.2 && counts.3 && !counts.4)
        #expect(counts.5 && !counts.6)

        let byCampaign = try await store.read { repos in
            (try repos.events.events(campaign: "c1", regions: ["westus"]), try repos.events.events(campaign: "c1", regions: []))
        }
        #expect(Self.ids(byCampaign.0) == [Self.id(w4, "vm-w1")])
        #expect(byCampaign.1.isEmpty)
    }

    @Test("events after a position: exactly those past it in start, wave, VM order, under a filter and a range too", arguments: TestEngine.all)
    func eventsAfterAPosition(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        let (w1, w2, w3, w4, t0) = (Self.w1, Self.w2, Self.w3, Self.w4, Self.t0)
        func after(_ filter: EventFilter, _ position: EventPosition, from: Timestamp? = nil, until: Timestamp? = nil) async throws -> [String] {
            try await store.read { repos in
                var ids: [String] = []
                try repos.events.forEachEvent(filter, from: from, until: until, after: position) { ids.append($0.event.id) }
                return ids
            }
        }
        // After each event in turn, the ones after it (the removed VM `ghost` too, by its name).
        let all = try await store.read { repos in try repos.events.events(.all) }
        for (i, record) in all.enumerated() {
            #expect(try await after(.all, EventPosition(of: record.event)) == Self.ids(Array(all[(i + 1)...])))
        }
        // Positions no event holds fall between their neighbours: a later VM name in the same
        // wave, a later wave at the same start, a start between two waves.
        #expect(try await after(.all, EventPosition(start: t0 + 1800, wave: w3, vm: "ghost0"))
                == [Self.id(w3, "vm-s1"), Self.id(w2, "vm-a2")])
        #expect(try await after(.all, EventPosition(start: t0, wave: w2, vm: "a")) == [Self.id(w4, "vm-w1"), Self.id(w3, "ghost"),
                                                                                       Self.id(w3, "vm-s1"), Self.id(w2, "vm-a2")])
        #expect(try await after(.all, EventPosition(start: t0 + 900, wave: w4, vm: "zz")) == [Self.id(w3, "ghost"), Self.id(w3, "vm-s1"), Self.id(w2, "vm-a2")])
        #expect(try await after(.all, EventPosition(start: t0 - 1, wave: w4, vm: "zz")).count == all.count)
        #expect(try await after(.all, EventPosition(start: t0 + 3600, wave: w2, vm: "vm-a2")).isEmpty)
        // With a filter and a range, both apply as well.
        #expect(try await after(.subscription("sub-b"), EventPosition(start: t0, wave: w1, vm: "vm-a1")) == [Self.id(w4, "vm-w1"), Self.id(w3, "vm-s1")])
        #expect(try await after(.active, EventPosition(start: t0, wave: w4, vm: "vm-w1"), from: t0 + 900, until: t0 + 3600)
                == [Self.id(w3, "ghost"), Self.id(w3, "vm-s1")])
    }

    @Test("campaigns: stored, listed, counted, their terms, their status; a second one of an id is refused", arguments: TestEngine.all)
    func campaigns(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        var second = Self.campaign
        second.id = "b0"
        second.kind = .freeze
        second.perVMDuration = 30
        second.createdAt = Self.campaign.createdAt + 10
        let other = second
        try await store.write { repos in try repos.events.insert(campaign: other, span: TimeRange(start: Self.t0, end: Self.t0)) }
        let read = try await store.read { repos in
            (try repos.events.campaigns(), try repos.events.campaign(id: "c1"), try repos.events.campaign(id: "zz"),
             try repos.events.campaignCount(), try repos.events.campaignTerms(), try repos.events.eventCounts())
        }
        // Creation order, not id order.
        #expect(read.0.map(\.campaign.id) == ["c1", "b0"])
        #expect(read.0.first == CampaignRecord(campaign: Self.campaign, status: .scheduled, span: TimeRange(start: Self.t0, end: Self.t0 + 4500)))
        #expect(read.0.last?.campaign == other)
        #expect(read.1?.campaign == Self.campaign)
        #expect(read.2 == nil)
        #expect(read.3 == 2)
        #expect(read.4 == ["c1": CampaignTerms(kind: .reboot, perVMDuration: 900, udGap: 1800),
                           "b0": CampaignTerms(kind: .freeze, perVMDuration: 30, udGap: 1800)])
        #expect(read.5.count == 1)
        #expect(read.5["c1"]?.events == 5)
        #expect(read.5["c1"]?.active == 5)

        let refused = await #expect(throws: PitstopError.self) {
            try await store.write { repos in try repos.events.insert(campaign: other, span: TimeRange(start: Self.t0, end: Self.t0)) }
        }
        #expect(refused?.kind == .conflict)
        try await store.write { repos in try repos.events.setStatus(ofCampaign: "b0", to: .cancelled) }
        let status = try await store.read { repos in try repos.events.campaign(id: "b0")?.status }
        #expect(status == .cancelled)
    }

    @Test("a VM departing from its wave keeps its own lifecycle; its wave keeps the one most share", arguments: TestEngine.all)
    func updateFolds(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        let (w1, w2, w3) = (Self.w1, Self.w2, Self.w3)
        // vm-s1 starts alone (forced, with a reason); ghost is approved.
        try await store.write { repos in
            try Self.change(repos, w3, "vm-s1", to: .started, start: Self.t0 + 1700, forced: true, reason: "urgent")
            try Self.change(repos, w3, "ghost", to: .scheduled, approved: Self.t0 - 60)
        }
        let wave3 = try await store.read { repos in try repos.events.events(.wave(w3)) }
        #expect(wave3.map(\.event.status) == [.scheduled, .started])
        #expect(wave3[0].approvedAt == Self.t0 - 60 && wave3[0].actualStart == nil && !wave3[0].forced)
        #expect(wave3[1].actualStart == Self.t0 + 1700 && wave3[1].forced && wave3[1].reason == "urgent" && wave3[1].approvedAt == nil)
        // The other waves are untouched.
        let others = try await store.read { repos in try repos.events.events(.all).filter { $0.event.wave != w3 } }
        #expect(others.allSatisfy { $0.event.status == .scheduled && $0.actualStart == nil })

        let summary = try await store.read { repos in try repos.events.wave(id: w3) }
        #expect(summary?.statusCounts == [.scheduled: 1, .started: 1])
        #expect(summary?.actualStart == Self.t0 + 1700)
        #expect(summary?.actualEnd == nil)
        #expect(summary?.approvedEvents == 1)
        #expect(summary?.unapprovedScheduled == 0)
        #expect(summary?.vms == 2)
        #expect(summary?.availabilitySet == nil && summary?.updateDomain == nil)

        // Both end: the wave's actual end is the later one.
        try await store.write { repos in
            try Self.change(repos, w3, "vm-s1", to: .completed, start: Self.t0 + 1700, end: Self.t0 + 2000)
            try Self.change(repos, w3, "ghost", to: .failed, approved: Self.t0 - 60, start: Self.t0 + 1750, end: Self.t0 + 2100)
        }
        let ended = try await store.read { repos in (try repos.events.wave(id: w3), try repos.events.eventCounts()) }
        #expect(ended.0?.statusCounts == [.completed: 1, .failed: 1])
        #expect(ended.0?.actualStart == Self.t0 + 1700)
        #expect(ended.0?.actualEnd == Self.t0 + 2100)
        #expect(ended.1["c1"]?.events == 5)
        #expect(ended.1["c1"]?.active == 3)

        // The whole of wave 1 and 2 (one VM each) moves with its VM.
        try await store.write { repos in try Self.change(repos, w2, "vm-a2", to: .started, start: Self.t0 + 500) }
        let w2Summary = try await store.read { repos in try repos.events.wave(id: w2) }
        #expect(w2Summary?.statusCounts == [.started: 1])
        #expect(w2Summary?.kind == .reboot && w2Summary?.availabilitySet == "as1" && w2Summary?.updateDomain == 1)
        #expect(w2Summary?.planned == TimeRange(start: Self.t0 + 3600, end: Self.t0 + 4500))
        let none = try await store.read { repos in try repos.events.wave(id: "unknown") }
        #expect(none == nil)
        _ = w1
    }

    @Test("waves in a range: planned in it, or actually running in it, by wave or by one VM", arguments: TestEngine.all)
    func wavesInRange(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        let (w1, w2, w3, w4) = (Self.w1, Self.w2, Self.w3, Self.w4)
        let before = try await store.read { repos in try repos.events.waves(from: Self.t0, until: Self.t0 + 1000) }
        #expect(before.map(\.id) == [w1, w4])
        #expect(before.map(\.vms) == [1, 1])
        #expect(before.first?.statusCounts == [.scheduled: 1])
        #expect(before.first?.unapprovedScheduled == 1)
        // vm-a2 (all of wave 2) ran early; vm-s1 alone of wave 3 still runs from t0 + 600.
        try await store.write { repos in
            try Self.change(repos, w2, "vm-a2", to: .started, start: Self.t0 + 500)
            try Self.change(repos, w3, "vm-s1", to: .started, start: Self.t0 + 600)
        }
        let after = try await store.read { repos in try repos.events.waves(from: Self.t0, until: Self.t0 + 1000) }
        // Planned start order, then id.
        #expect(after.map(\.id) == [w1, w4, w3, w2])
        #expect(after[2].statusCounts == [.scheduled: 1, .started: 1])
        #expect(after[2].actualStart == Self.t0 + 600)
        let late = try await store.read { repos in try repos.events.waves(from: Self.t0 + 10_000, until: Self.t0 + 20_000) }
        // Still running: both started waves overlap any later range.
        #expect(late.map(\.id) == [w3, w2])
    }

    @Test("cancelling a campaign's scheduled events counts them and leaves the started ones", arguments: TestEngine.all)
    func cancel(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        try await store.write { repos in try Self.change(repos, Self.w3, "vm-s1", to: .started, start: Self.t0 + 1700) }
        let cancelled = try await store.write { repos in try repos.events.cancelScheduledEvents(ofCampaign: "c1") }
        #expect(cancelled == 4)
        let after = try await store.read { repos in
            (try repos.events.events(.all), try repos.events.events(.active), try repos.events.eventCounts(),
             try repos.events.wave(id: Self.w3))
        }
        let again = try await store.write { repos in try repos.events.cancelScheduledEvents(ofCampaign: "c1") }
        #expect(after.0.map(\.event.status) == [.cancelled, .cancelled, .cancelled, .started, .cancelled])
        #expect(Self.ids(after.1) == [Self.id(Self.w3, "vm-s1")])
        #expect(after.2["c1"]?.events == 5)
        #expect(after.2["c1"]?.active == 1)
        #expect(after.3?.statusCounts == [.cancelled: 1, .started: 1])
        #expect(again == 0)
        let unknown = try await store.write { repos in try repos.events.cancelScheduledEvents(ofCampaign: "nope") }
        #expect(unknown == 0)
    }

    @Test("started events by region and by VM: started, and not ended by the time given", arguments: TestEngine.all)
    func startedEvents(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        try await store.write { repos in
            try Self.change(repos, Self.w3, "vm-s1", to: .started, start: Self.t0 + 1700)
            try Self.change(repos, Self.w1, "vm-a1", to: .completed, start: Self.t0 + 10, end: Self.t0 + 800)
            try Self.change(repos, Self.w4, "vm-w1", to: .completed, start: Self.t0 + 20, end: Self.t0 + 900)
        }
        let read = try await store.read { repos in
            [try repos.events.startedEvents(regions: ["eastus"], endedAfter: Self.t0 + 700),
             try repos.events.startedEvents(regions: ["eastus"], endedAfter: Self.t0 + 800),
             try repos.events.startedEvents(regions: ["eastus", "westus"], endedAfter: Self.t0 + 850),
             try repos.events.startedEvents(vms: ["vm-s1", "vm-a1", "ghost"], endedAfter: Self.t0),
             try repos.events.startedEvents(vms: ["vm-w1"], endedAfter: Self.t0 + 900),
             try repos.events.startedEvents(vms: [], endedAfter: Self.t0)]
        }
        #expect(Self.ids(read[0]) == [Self.id(Self.w1, "vm-a1"), Self.id(Self.w3, "vm-s1")])
        #expect(Self.ids(read[1]) == [Self.id(Self.w3, "vm-s1")])
        #expect(Self.ids(read[2]) == [Self.id(Self.w4, "vm-w1"), Self.id(Self.w3, "vm-s1")])
        #expect(Self.ids(read[3]) == [Self.id(Self.w1, "vm-a1"), Self.id(Self.w3, "vm-s1")])
        #expect(read[4].isEmpty)
        #expect(read[5].isEmpty)
    }

    /// The active plan as (wave, VM, fault domain, status) rows, sorted.
    static func rows(_ plan: PlanColumns) -> [String] {
        plan.name.indices.map { i in
            "\(plan.waves[Int(plan.wave[i])].id) \(plan.names[Int(plan.name[i])]) \(plan.faultDomain[i]) \(plan.status[i].rawValue)"
        }.sorted()
    }

    @Test("the active plan as columns: active events only, each VM's own status, fleet positions", arguments: TestEngine.all)
    func activePlan(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        try await store.write { repos in
            try Self.change(repos, Self.w3, "vm-s1", to: .started, start: Self.t0 + 1700)
            try Self.change(repos, Self.w1, "vm-a1", to: .completed, start: Self.t0 + 10, end: Self.t0 + 800)
        }
        let (plan, fleet) = try await store.read { repos in
            var fleet: [(String, VMKey)] = []
            try repos.vms.forEachKeyed(in: .all) { vm, key in fleet.append((vm.name, key)) }
            return (try repos.events.activePlan(fleetKeys: fleet.map(\.1)), fleet.map(\.0))
        }
        let noFD = Int16(-1)
        _ = noFD
        let rows = Self.rows(plan)
        #expect(rows.count == 4)
        #expect(rows.contains { $0.hasPrefix("\(Self.w3) vm-s1 ") && $0.hasSuffix(" started") })
        #expect(rows.contains { $0.hasPrefix("\(Self.w3) ghost ") && $0.hasSuffix(" scheduled") })
        #expect(rows.contains { $0.hasPrefix("\(Self.w2) vm-a2 1 ") })
        #expect(!rows.contains { $0.contains("vm-a1") })
        // The wave facts come along.
        let wave2 = plan.waves.first { $0.id == Self.w2 }
        #expect(wave2?.availabilitySet == "as1" && wave2?.updateDomain == 1 && wave2?.range.start == Self.t0 + 3600)
        #expect(wave2?.plannedAt == Self.planned && wave2?.campaign == "c1" && wave2?.region == "eastus")
        // Each fleet VM's position points back to its name; the removed VM has none.
        let positions = try #require(plan.fleetPositions)
        for i in plan.name.indices {
            let name = plan.names[Int(plan.name[i])]
            let position = Int(positions[Int(plan.name[i])])
            #expect(name == "ghost" ? position == -1 : fleet[position] == name)
        }
        let byName = try await store.read { repos in try repos.events.activePlan() }
        #expect(Self.rows(byName) == rows)
        #expect(byName.fleetPositions == nil)
    }

    @Test("a plan after another finds the fleet named, and names the VMs that joined since", arguments: TestEngine.all)
    func laterPlansNameNewcomers(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine, withPlan: false)
        func plan(_ events: [PlannedEvent]) async throws {
            try await store.write { repos in
                let recorded = try repos.events.recordNames(inRegions: ["eastus", "westus"])
                var keys: [String: VMKey] = [:]
                try repos.vms.forEachKeyed(in: .all) { vm, key in keys[vm.name] = key }
                if try repos.events.campaign(id: Self.campaign.id) == nil {
                    try repos.events.insert(campaign: Self.campaign, span: TimeRange(start: Self.t0, end: Self.t0 + 90_000))
                }
                try repos.events.insert(events: events, keys: events.map { keys[$0.vm] ?? 0 }, recorded: recorded, progress: nil)
            }
        }
        // The first plan names every VM; the second finds them named.
        try await plan([Self.event("vm-s1", wave: Self.w1, at: 0)])
        try await plan([Self.event("vm-a1", wave: Self.w2, set: "as1", ud: 0, fd: 0, at: 3600)])
        // Then a VM leaves and another joins: as many VMs named and in the fleet as before the
        // change, one more with a key. The next plan names the newcomer.
        let late = VirtualMachine(name: "vm-late", region: "westus", subscription: "sub-b")
        try await store.write { repos in
            #expect(try repos.fleet.delete(.vm, key: "vm-w1"))
            _ = try repos.vms.writer().insertIfAbsent(late)
        }
        try await plan([Self.event("vm-late", wave: Self.w3, region: "westus", at: 7200), Self.event("vm-a2", wave: Self.w4, set: "as1", ud: 1, fd: 1, at: 10_800)])
        let read = try await store.read { repos in (try repos.events.events(.vm("vm-late")), try repos.events.events(.all)) }
        #expect(Self.ids(read.0) == [Self.id(Self.w3, "vm-late")])
        #expect(Set(read.1.map(\.event.vm)) == ["vm-s1", "vm-a1", "vm-late", "vm-a2"])
    }

    @Test("names recorded first, then a plan written with the fleet's keys, and one added to a history", arguments: TestEngine.all)
    func recordedNames(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine, withPlan: false)
        try await store.write { repos in
            let recorded = try repos.events.recordNames(inRegions: ["eastus", "westus"])
            var keys: [String: VMKey] = [:]
            try repos.vms.forEachKeyed(in: .all) { vm, key in keys[vm.name] = key }
            try repos.events.insert(campaign: Self.campaign, span: TimeRange(start: Self.t0, end: Self.t0 + 4500))
            var progress: [Int] = []
            try repos.events.insert(events: Self.plan, keys: Self.plan.map { keys[$0.vm] ?? 0 }, recorded: recorded) { progress.append($0) }
            #expect(progress.last == Self.plan.count)
        }
        let read = try await store.read { repos in (try repos.events.events(.all), try repos.events.events(.vm("ghost"))) }
        #expect(read.0.map(\.event) == Self.plan.sorted { ($0.range.start, $0.id) < ($1.range.start, $1.id) })
        #expect(Self.ids(read.1) == [Self.id(Self.w3, "ghost")])

        // A later write names a wave written before: it joins it if its facts agree...
        let more = Self.event("vm-a2", wave: Self.w3, at: 1800)
        try await store.write { repos in try repos.events.insert(events: [more], keys: nil, progress: nil) }
        let wave3 = try await store.read { repos in try repos.events.events(.wave(Self.w3)) }
        #expect(Self.ids(wave3) == [Self.id(Self.w3, "ghost"), Self.id(Self.w3, "vm-a2"), Self.id(Self.w3, "vm-s1")])
        // ...and is refused, leaving nothing, if they do not.
        let wrong = Self.event("vm-w1", wave: Self.w3, at: 1801)
        let refused = await #expect(throws: PitstopError.self) {
            try await store.write { repos in try repos.events.insert(events: [wrong], keys: nil, progress: nil) }
        }
        #expect(refused == PitstopError(.conflict, "event \(wrong.id) does not match its wave \(Self.w3) as written: a wave's VMs share its campaign, place and times"))
        let count = try await store.read { repos in try repos.events.eventCount(wave: Self.w3) }
        #expect(count == 3)
    }

    @Test("thirty thousand pairs arrive whole (several COPY chunks on PostgreSQL); one repeated pair leaves nothing of the plan", arguments: TestEngine.all)
    func manyPairs(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine, withPlan: false)
        try await store.write { repos in try repos.events.insert(campaign: Self.campaign, span: TimeRange(start: Self.t0, end: Self.t0 + 4500)) }
        // VMs in no fleet, in two waves, every third with a fault domain.
        let count = 30_000
        let plan = (0..<count).map { i in
            Self.event("gone-\(i)", wave: i < 20_000 ? Self.w1 : Self.w2, fd: i % 3 == 0 ? i % 2 : nil, at: i < 20_000 ? 0 : 3600)
        }
        var broken = plan
        broken[25_000] = plan[24_000]
        let repeated = broken
        await #expect(throws: (any Error).self) {
            try await store.write { repos in try repos.events.insert(events: repeated, keys: nil, progress: nil) }
        }
        let left = try await store.read { repos in try repos.events.events(.all).count }
        #expect(left == 0, "a failed plan left events behind")

        try await store.write { repos in try repos.events.insert(events: plan, keys: nil, progress: nil) }
        let read = try await store.read { repos in (try repos.events.eventCount(wave: Self.w1), try repos.events.eventCount(wave: Self.w2),
                                                    try repos.events.events(.all)) }
        #expect(read.0 == 20_000)
        #expect(read.1 == 10_000)
        let byVM = Dictionary(uniqueKeysWithValues: read.2.map { ($0.event.vm, $0.event) })
        #expect(byVM.count == count)
        let mismatched = plan.filter { byVM[$0.vm] != $0 }.map(\.vm)
        #expect(mismatched.isEmpty, "read back differently: \(mismatched.prefix(5))")
    }

    @Test("a VM removed from the fleet keeps its history under its name, and a new one of that name is told apart", arguments: TestEngine.all)
    func retiredNames(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        // The removed VM keeps its key: a second plan naming it again finds it.
        let again = Self.event("ghost", wave: "00000000-0000-4000-8000-000000000009", at: 7200)
        try await store.write { repos in try repos.events.insert(events: [again], keys: nil, progress: nil) }
        let ghost = try await store.read { repos in try repos.events.events(.vm("ghost")) }
        #expect(Self.ids(ghost) == [Self.id(Self.w3, "ghost"), again.id])
        // A planned event whose status differs from its wave's first VM departs from it.
        var departing = Self.event("vm-w1", wave: "00000000-0000-4000-8000-000000000010", region: "westus", at: 9000)
        departing.status = .cancelled
        let cancelled = departing
        let first = Self.event("vm-s1", wave: cancelled.wave, region: "westus", at: 9000)
        let pair = [first, cancelled]
        try await store.write { repos in try repos.events.insert(events: pair, keys: nil, progress: nil) }
        let wave = try await store.read { repos in try repos.events.wave(id: cancelled.wave) }
        #expect(wave?.statusCounts == [.scheduled: 1, .cancelled: 1])
    }

    @Test("history: started events in actual start order, planned events by range and region, with subscriptions", arguments: TestEngine.all)
    func history(engine: TestEngine) async throws {
        let store = try await Self.store(engine: engine)
        try await store.write { repos in
            try Self.change(repos, Self.w3, "vm-s1", to: .started, start: Self.t0 + 1700)
            try Self.change(repos, Self.w2, "vm-a2", to: .completed, start: Self.t0 + 100, end: Self.t0 + 400)
            try Self.change(repos, Self.w3, "ghost", to: .failed, start: Self.t0 + 1600, end: Self.t0 + 1650)
        }
        let read = try await store.read { repos in
            [try repos.history.startedEvents(), try repos.history.events(plannedFrom: nil, until: nil, region: nil),
             try repos.history.events(plannedFrom: Self.t0 + 1, until: Self.t0 + 3600, region: nil),
             try repos.history.events(plannedFrom: Self.t0, until: nil, region: "westus")]
        }
        #expect(Self.ids(read[0]) == [Self.id(Self.w2, "vm-a2"), Self.id(Self.w3, "ghost"), Self.id(Self.w3, "vm-s1")])
        #expect(read[0].map(\.event.status) == [.completed, .failed, .started])
        #expect(read[0].map(\.subscription) == ["sub-a", nil, "sub-b"])
        #expect(Self.ids(read[1]) == [Self.id(Self.w1, "vm-a1"), Self.id(Self.w4, "vm-w1"), Self.id(Self.w3, "ghost"),
                                      Self.id(Self.w3, "vm-s1"), Self.id(Self.w2, "vm-a2")])
        #expect(read[1].map(\.subscription) == ["sub-a", "sub-b", nil, "sub-b", "sub-a"])
        #expect(Self.ids(read[2]) == [Self.id(Self.w3, "ghost"), Self.id(Self.w3, "vm-s1")])
        #expect(Self.ids(read[3]) == [Self.id(Self.w4, "vm-w1")])
        #expect(read[0][1].actualEnd == Self.t0 + 1650)

        let sent = try await store.read { repos in try repos.history.noticesSent() }
        #expect(sent.isEmpty)
    }
}
