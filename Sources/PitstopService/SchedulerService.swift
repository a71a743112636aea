// The scheduler: a campaign becomes planned events that keep every rule, written in one
// transaction with its notices and audit entries; and the queries and checks on them.
import Foundation
public import PitstopCore
public import PitstopStore

/// A planned campaign as `plan` returns it.
public struct PlanResult: Sendable {
    public var campaign: Campaign
    public var events: [PlannedEvent]
    public var summary: PlanSummary
    /// Per group of linked target regions, the turn order kept and the others weighed.
    public var turnOrders: [TurnOrderChoice]
    public var notices: [NoticeRecord]
    /// Whether it was written (false for a dry run).
    public var written: Bool
    /// Things the operator should know that do not stop the plan.
    public var warnings: [String]
}

/// A campaign with its event counts, as `campaign list` shows it.
public struct CampaignSummary: Sendable {
    public var record: CampaignRecord
    public var events: Int
    /// Scheduled or started.
    public var active: Int
}

/// A campaign with its events and notices, as `campaign show` shows it.
public struct CampaignDetail: Sendable {
    public var record: CampaignRecord
    public var events: [EventRecord]
    public var notices: [NoticeRecord]
}

/// An event ahead, with the window it falls in.
public struct UpcomingEvent: Sendable {
    public var record: EventRecord
    public var window: String?
}

public struct SchedulerService: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// The fleet as read in a unit of work, before it becomes a snapshot: building that is pure
    /// work (a fifth of a second on a million VMs), which a unit of work can leave to a
    /// ``SideThread`` while it reads on.
    struct FleetRows: Sendable {
        let vms: [VirtualMachine], keys: [VMKey]
        let regions: [Region], pairs: [RegionPair], subscriptions: [Subscription]
        let sets: [AvailabilitySet], windows: [MaintenanceWindow], blackouts: [Blackout]

        init(_ tx: any Repositories) throws {
            var vms: [VirtualMachine] = [], keys: [VMKey] = []
            let count = try tx.vms.count(in: .all)
            vms.reserveCapacity(count)
            keys.reserveCapacity(count)
            try tx.vms.forEachKeyed(in: .all) { vm, key in
                vms.append(vm)
                keys.append(key)
            }
            (self.vms, self.keys) = (vms, keys)
            (regions, pairs, subscriptions) = (try tx.fleet.regions(), try tx.fleet.regionPairs(), try tx.fleet.subscriptions())
            (sets, windows, blackouts) = (try tx.fleet.availabilitySets(), try tx.fleet.maintenanceWindows(), try tx.fleet.blackouts())
        }

        func snapshot() throws -> FleetSnapshot {
            do throws(InputProblem) {
                return try FleetSnapshot(regions: regions, pairs: pairs, subscriptions: subscriptions, sets: sets,
                                         vms: vms, windows: windows, blackouts: blackouts)
            } catch {
                throw PitstopError(.invalid, "the stored fleet is inconsistent: \(error.message)")
            }
        }
    }

    // MARK: Planning

    /// Plans a campaign. Unless `dryRun`, writes the campaign, its events, one notice per
    /// subscription (reboot) and audit entries in one transaction. All or nothing.
    public func plan(_ request: CampaignRequest, now: Timestamp, dryRun: Bool, actor: String,
                     progress: ProgressHandler? = nil) async throws -> PlanResult {
        // Planning happens inside the write transaction so that no other plan slips in
        // between reading the existing events and writing the new ones.
        let work: @Sendable (any Repositories) throws -> PlanResult = { tx in
            // The fleet snapshot and the existing events are dropped before the events are
            // written, so that their memory can serve as page cache.
            let (planned, keys, recorded) = try Self.planCampaign(request, now: now, in: tx, recordingNames: !dryRun)
            let (campaign, events, summary, notices) = (planned.campaign, planned.events, planned.summary, planned.notices)
            let id = campaign.id
            guard !dryRun else { return planned }

            try tx.events.insert(campaign: campaign, span: summary.span ?? TimeRange(start: campaign.notBefore, end: campaign.notBefore))
            var reported = 0
            try tx.events.insert(events: events, keys: keys, recorded: recorded) { written in
                guard written - reported >= 20_000 || written == events.count, events.count >= 20_000 else { return }
                reported = written
                progress?(written, events.count)
            }
            for notice in notices { try tx.notices.insert(notice: notice) }
            // A wave's events share its set: one look-up a run, not one an event (a million).
            var sets = Set<String>(), last: String?
            for e in events where e.availabilitySet != last {
                last = e.availabilitySet
                if let set = last { sets.insert(set) }
            }
            try tx.audit.append(at: now, actor: actor, action: "campaign.planned",
                                subjects: [AuditSubject(.campaign, id)] + campaign.regions.map { AuditSubject(.region, $0) } + sets.map { AuditSubject(.set, $0) },
                                details: JSONText.object([
                                    ("kind", JSONText.quote(campaign.kind.rawValue)), ("regions", JSONText.array(campaign.regions.map(JSONText.quote))),
                                    ("notBefore", JSONText.quote(campaign.notBefore.iso8601)),
                                    ("start", JSONText.quote(summary.span?.start.iso8601)), ("end", JSONText.quote(summary.span?.end.iso8601)),
                                    ("events", "\(summary.vms)"), ("waves", "\(summary.waves)"),
                                    ("perVMSeconds", "\(campaign.perVMDuration)"), ("udGapSeconds", "\(campaign.udGap)"),
                                    ("description", JSONText.quote(campaign.description)),
                                ]))
            for notice in notices {
                try tx.audit.append(at: now, actor: actor, action: "notice.queued",
                                    subjects: [AuditSubject(.campaign, id), AuditSubject(.subscription, notice.subscription)],
                                    details: JSONText.object([("recipients", JSONText.array(notice.recipients.map(JSONText.quote))),
                                                              ("firstStart", JSONText.quote(notice.firstStart.iso8601))]))
            }
            var result = planned
            result.written = true
            return result
        }
        return dryRun ? try await store.read(work) : try await store.write(work)
    }

    /// Validates and plans the campaign against the fleet and the active events; writes nothing.
    /// Returns with it each event's VM key, as read with the fleet.
    /// With `recordingNames`, the target regions' VM names are recorded (for the write that
    /// follows) while the fleet becomes a snapshot and the planner runs: those are pure and run
    /// on a thread of their own, the names are SQL on this one, the connection's, and neither
    /// needs the other (on a million VMs SQLite copies a million names, while the snapshot takes
    /// 0.2 s and the plan 0.6 s; PostgreSQL reads a fleet VM's name from the fleet and only keys
    /// VMs written without a key). The names wait for the active plan's read, which reads them.
    private static func planCampaign(_ request: CampaignRequest, now: Timestamp, in tx: any Repositories,
                                     recordingNames: Bool = false) throws -> (PlanResult, [VMKey], RecordedNames?) {
        let rows = try FleetRows(tx)
        let snapshot = SideThread { try rows.snapshot() }
        // The active plan as columns, unsorted: the planner weighs it in any order.
        let existing = try tx.events.activePlan().events
        let terms = try tx.events.campaignTerms()
        let campaignCount = try tx.events.campaignCount()
        // Deterministic: the same request at the same instant on the same database gives
        // the same ids; the campaign count keeps two identical requests apart.
        let id = StableID.uuid(["campaign", now.iso8601, request.kind.rawValue, (request.regions ?? []).sorted().joined(separator: ","),
                                request.notBefore?.iso8601 ?? "", request.description, String(campaignCount)])
        // Without --not-before the plan starts at the first whole minute the notice allows:
        // operators read 10:01:00 more easily than 10:00:16.
        var request = request
        if request.notBefore == nil {
            let earliest = Rules.earliestStart(plannedAt: now, kind: request.kind)
            request.notBefore = Timestamp(seconds: (earliest.seconds + 59) / 60 * 60)
        }
        let planning = { @Sendable [request] () throws -> (PlanResult, [Int32]) in
            let fleet = try snapshot.value()
            let campaign: Campaign
            do throws(InputProblem) { campaign = try Campaign(id: id, request: request, createdAt: now, fleet: fleet) } catch {
                throw PitstopError(.invalid, error.message)
            }
            let outcome: PlanOutcome
            do throws(PlanningFailure) { outcome = try Planner.planWithTurnOrders(campaign, fleet: fleet, existing: existing, existingCampaigns: terms) } catch {
                throw PitstopError(.conflict, "no valid plan: \(error.message)")
            }
            let events = outcome.events
            let (notices, warnings) = Self.notices(for: campaign, events: events, vmPositions: outcome.vmPositions, fleet: fleet, now: now)
            return (PlanResult(campaign: campaign, events: events, summary: PlanSummary(events: events), turnOrders: outcome.turnOrders,
                               notices: notices, written: false, warnings: warnings), outcome.vmPositions)
        }
        var recorded: RecordedNames?
        let (planned, positions): (PlanResult, [Int32])
        if recordingNames {
            // The campaign's regions before it is validated: every region when it names none (a
            // region without VMs has no name to record); a refused campaign writes nothing.
            let regions = request.regions ?? rows.regions.map(\.name)
            ((planned, positions), recorded) = try concurrently(planning) { try tx.events.recordNames(inRegions: regions) }
        } else {
            (planned, positions) = try planning()
        }
        return (planned, positions.map { rows.keys[Int($0)] }, recorded)
    }

    /// One notice per subscription for a reboot campaign: its VMs, waves and times, in UTC
    /// and in the subscription's zone.
    /// `vmPositions` holds each event's VM's position in `fleet.vms`.
    static func notices(for campaign: Campaign, events: [PlannedEvent], vmPositions: [Int32], fleet: FleetSnapshot,
                        now: Timestamp) -> ([NoticeRecord], [String]) {
        guard Rules.needsNotice(campaign.kind), !events.isEmpty else { return ([], []) }
        // Positions in `events`, not copies: a million events each copied twice (per
        // subscription, per wave) cost most of a second. A run of VMs of one subscription (a
        // wave's, mostly) is gathered before it is filed: one hash a run, not one a VM.
        var bySubscription: [String: [Int]] = [:]
        var run: (subscription: String, positions: [Int])?
        for i in events.indices {
            let subscription = fleet.vms[Int(vmPositions[i])].subscription
            if run?.subscription == subscription {
                run!.positions.append(i)
                continue
            }
            if let run { bySubscription[run.subscription, default: []].append(contentsOf: run.positions) }
            run = (subscription, [i])
        }
        if let run { bySubscription[run.subscription, default: []].append(contentsOf: run.positions) }
        let subscriptions = Dictionary(uniqueKeysWithValues: fleet.subscriptions.map { ($0.id, $0) })
        var notices: [NoticeRecord] = [], warnings: [String] = []
        for (id, positions) in bySubscription.sorted(by: { $0.key < $1.key }) {
            let subscription = subscriptions[id] ?? Subscription(id: id)
            let recipients = subscription.admins + subscription.coAdmins
            if recipients.isEmpty { warnings.append("subscription \(id) has no admins or co-admins: its notice has nobody to go to") }
            let zone = TimeZone(identifier: subscription.noticeTimeZone) ?? TimeZone(identifier: "UTC")!
            // In UTC itself (the default), the times are given once.
            let zoneName = MaintenanceWindow.name(of: zone), inUTC = zoneName == "UTC"
            // Each wave's run of positions (a plan lists a wave's VMs together).
            var waves: [ArraySlice<Int>] = []
            var from = 0
            for k in positions.indices where k + 1 == positions.count || events[positions[k + 1]].wave != events[positions[k]].wave {
                waves.append(positions[from...k])
                from = k + 1
            }
            let first = positions.lazy.map { events[$0].range.start }.min()!, last = positions.lazy.map { events[$0].range.end }.max()!
            let count = positions.count
            var body = """
                Planned maintenance (\(campaign.kind.rawValue)) for subscription \(id).
                Campaign \(campaign.id)\(campaign.description.isEmpty ? "" : ": \(campaign.description)")
                \(count) VM\(count == 1 ? "" : "s") in \(waves.count) wave\(waves.count == 1 ? "" : "s"), from \(first.iso8601) to \(last.iso8601) (UTC).
                Times are UTC\(inUTC ? "" : ", then \(zoneName)"). Each VM is \(campaign.kind == .reboot ? "rebooted" : "paused") for up to \(DurationText.short(campaign.perVMDuration)).

                """
            for members in waves {
                let e = events[members.first!], wave = e.wave
                let local = inUTC ? "" : " (\(LocalDateTime(e.range.start, in: zone)) to \(LocalDateTime(e.range.end, in: zone)) \(zoneName))"
                let place = e.availabilitySet.map { "set \($0), update domain \(e.updateDomain ?? 0)" } ?? "single-instance VMs"
                body += "\nWave \(wave): \(e.region), \(place)\n  \(e.range.start.iso8601) to \(e.range.end.iso8601)\(local)\n  VMs: \(members.map { events[$0].vm }.joined(separator: ", "))\n"
            }
            notices.append(NoticeRecord(
                id: 0, campaign: campaign.id, subscription: id, recipients: recipients,
                subject: "Planned \(campaign.kind.rawValue) maintenance of \(count) VM\(count == 1 ? "" : "s") from \(first.iso8601)",
                body: body, queuedAt: now, firstStart: first, sentAt: nil, attempts: 0, lastError: nil))
        }
        return (notices, warnings)
    }

    // MARK: Queries

    /// Which events `upcoming` lists.
    public enum Scope: Sendable {
        case all, vm(String), availabilitySet(String), region(String), subscription(String)
    }

    /// Scheduled or started events that end after `now` and start before `now + within`,
    /// soonest first, each with the window it falls in.
    /// A `within` longer than ``InputLimits/maximumRangeSeconds`` is refused before anything is read.
    public func upcoming(_ scope: Scope, now: Timestamp, within: Int64) async throws -> [UpcomingEvent] {
        try PitstopError.validating("within") { () throws(InputProblem) in try InputLimits.checkRange(within) }
        return try await store.read { tx in
            var events: [UpcomingEvent] = []
            try Self.eachUpcoming(tx, scope, now: now, within: within) { events.append($0) }
            return events
        }
    }

    /// ``upcoming(_:now:within:)``, each event handed to `body` as it is read, in the same order:
    /// for a listing too long to hold at once. With `after`, only the events past that position
    /// in the order (a page's start), found without reading those before it.
    public func forEachUpcoming(_ scope: Scope, now: Timestamp, within: Int64, after: EventPosition? = nil,
                                _ body: @escaping @Sendable (UpcomingEvent) throws -> Void) async throws {
        try PitstopError.validating("within") { () throws(InputProblem) in try InputLimits.checkRange(within) }
        try await store.read { tx in try Self.eachUpcoming(tx, scope, now: now, within: within, after: after, body) }
    }

    private static func eachUpcoming(_ tx: any Repositories, _ scope: Scope, now: Timestamp, within: Int64, after: EventPosition? = nil,
                                     _ body: (UpcomingEvent) throws -> Void) throws {
        let filter: EventFilter
        switch scope {
        case .all: filter = .active
        case .vm(let name):
            guard try tx.vms.vm(named: name) != nil || (try tx.events.hasEvents(vm: name))
            else { throw PitstopError(.notFound, "unknown VM '\(name.escapingControlCharacters)'") }
            filter = .vm(name)
        case .availabilitySet(let name):
            guard try tx.fleet.availabilitySet(named: name) != nil else { throw PitstopError(.notFound, "unknown availability set '\(name.escapingControlCharacters)'") }
            filter = .availabilitySet(name)
        case .region(let name):
            guard try tx.fleet.region(named: name) != nil else { throw PitstopError(.notFound, "unknown region '\(name.escapingControlCharacters)'") }
            filter = .region(name)
        case .subscription(let id):
            guard try tx.fleet.subscription(id: id) != nil else { throw PitstopError(.notFound, "unknown subscription '\(id.escapingControlCharacters)'") }
            filter = .subscription(id)
        }
        let windows = try tx.fleet.maintenanceWindows()
        // Events of one wave share their window: look it up once per wave.
        var windowOfWave: [String: String?] = [:]
        try tx.events.forEachEvent(filter, from: now, until: now + within, after: after) { record in
            guard record.event.status.isActive else { return }
            let e = record.event
            if windowOfWave[e.wave] == nil {
                let applicable = Rules.applicableWindows(set: e.availabilitySet, region: e.region, among: windows)
                windowOfWave[e.wave] = .some(Rules.window(containing: e.range, among: applicable)?.name)
            }
            try body(UpcomingEvent(record: record, window: windowOfWave[e.wave]!))
        }
    }

    /// Checks every active event (or one campaign's) against rules 1-7 and the fleet as it
    /// is now, trusting nothing the planner did.
    public func check(campaign: String? = nil) async throws -> [Finding] {
        try await store.read { tx in
            if let campaign, try tx.events.campaign(id: campaign) == nil {
                throw PitstopError(.notFound, "unknown campaign '\(campaign.escapingControlCharacters)'")
            }
            // The snapshot is built on a thread of its own while this one reads the plan.
            let rows = try FleetRows(tx)
            // A campaign's events are checked against everything active, so that a clash with
            // another campaign is found from either side.
            let (fleet, (plan, terms, notices)) = try concurrently({ try rows.snapshot() }) {
                (try tx.events.activePlan(fleetKeys: rows.keys), try tx.events.campaignTerms(), try tx.notices.noticeKeys())
            }
            let violations = Checker.check(plan: plan, fleet: fleet, campaigns: terms, notices: notices)
            guard let campaign else { return violations }
            let ids = Set(plan.wave.indices.lazy.filter { plan.waves[Int(plan.wave[$0])].campaign == campaign }.map(plan.id))
            return violations.filter { $0.events.contains(where: ids.contains) }
        }
    }

    // MARK: Campaigns

    public func campaigns() async throws -> [CampaignSummary] {
        try await store.read { tx in
            let counts = try tx.events.eventCounts()
            return try tx.events.campaigns().map { CampaignSummary(record: $0, events: counts[$0.campaign.id]?.events ?? 0, active: counts[$0.campaign.id]?.active ?? 0) }
        }
    }

    public func campaign(_ id: String) async throws -> CampaignDetail {
        try await store.read { tx in
            guard let record = try tx.events.campaign(id: id) else { throw PitstopError(.notFound, "unknown campaign '\(id.escapingControlCharacters)'") }
            return CampaignDetail(record: record, events: try tx.events.events(.campaign(id)), notices: try tx.notices.notices(campaign: id))
        }
    }

    /// Cancels a campaign's scheduled events; started and finished ones keep their history.
    @discardableResult
    public func cancel(_ id: String, now: Timestamp, actor: String) async throws -> Int {
        try await store.write { tx in
            guard let record = try tx.events.campaign(id: id) else { throw PitstopError(.notFound, "unknown campaign '\(id.escapingControlCharacters)'") }
            guard record.status != .cancelled else { throw PitstopError(.conflict, "campaign \(id) is already cancelled") }
            let cancelled = try tx.events.cancelScheduledEvents(ofCampaign: id)
            try tx.events.setStatus(ofCampaign: id, to: .cancelled)
            try tx.audit.append(at: now, actor: actor, action: "campaign.cancelled", subjects: [AuditSubject(.campaign, id)],
                                details: JSONText.object([("eventsCancelled", "\(cancelled)")]))
            return cancelled
        }
    }
}
