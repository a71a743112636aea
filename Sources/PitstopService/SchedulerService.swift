// The scheduler: a campaign becomes planned events that keep every rule, written in one
// transaction with its notices and audit entries; and the queries and checks on them.
import Foundation
import GRDB
import PitstopCore
import PitstopStore

/// A planned campaign as `plan` returns it.
public struct PlanResult: Sendable {
    public var campaign: Campaign
    public var events: [PlannedEvent]
    public var summary: PlanSummary
    public var notices: [NoticeRecord]
    /// Whether it was written (false for a dry run).
    public var written: Bool
    /// Things the operator should know that do not stop the plan.
    public var warnings: [String]
}

/// An event ahead, with the window it falls in.
public struct UpcomingEvent: Sendable {
    public var record: EventRecord
    public var window: String?
}

public struct SchedulerService: Sendable {
    public let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    /// The whole fleet as the planner and checker see it.
    static func snapshot(_ db: Database) throws -> FleetSnapshot {
        var vms: [VirtualMachine] = []
        vms.reserveCapacity(try VMRepository.count(db, in: .all))
        try VMRepository.forEach(db, in: .all) { vms.append($0) }
        let (regions, pairs, subscriptions) = (try FleetRepository.regions(db), try FleetRepository.regionPairs(db), try FleetRepository.subscriptions(db))
        let (sets, windows, blackouts) = (try FleetRepository.availabilitySets(db), try FleetRepository.maintenanceWindows(db), try FleetRepository.blackouts(db))
        do throws(InputProblem) {
            return try FleetSnapshot(
                regions: regions, pairs: pairs, subscriptions: subscriptions, sets: sets,
                vms: vms, windows: windows, blackouts: blackouts)
        } catch {
            throw ServiceError(.invalid, "the stored fleet is inconsistent: \(error.message)")
        }
    }

    // MARK: Planning

    /// Plans a campaign. Unless `dryRun`, writes the campaign, its events, one notice per
    /// subscription (reboot) and audit entries in one transaction. All or nothing.
    public func plan(_ request: CampaignRequest, now: Timestamp, dryRun: Bool, actor: String = AuditLog.actor(),
                     progress: ProgressHandler? = nil) throws -> PlanResult {
        // Planning happens inside the write transaction so that no other plan slips in
        // between reading the existing events and writing the new ones.
        let work: (Database) throws -> PlanResult = { db in
            // The fleet snapshot and the existing events are dropped before the events are
            // written, so that their memory can serve as page cache.
            let planned = try Self.planCampaign(request, now: now, in: db)
            let (campaign, events, summary, notices) = (planned.campaign, planned.events, planned.summary, planned.notices)
            let id = campaign.id
            guard !dryRun else { return planned }

            // A million events do not fit SQLite's default 2 MB page cache; spilling it
            // mid-transaction made writing a plan several times slower.
            try db.execute(sql: "PRAGMA cache_size = -\(Self.planCacheKiB)")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            try EventRepository.insert(db, campaign: campaign, span: summary.span ?? TimeRange(start: campaign.notBefore, end: campaign.notBefore))
            let writer = try EventWriter(db)
            var reported = 0
            try writer.insert(contentsOf: events) { written in
                guard written - reported >= 20_000 || written == events.count, events.count >= 20_000 else { return }
                reported = written
                progress?(written, events.count)
            }
            for notice in notices { try EventRepository.insert(db, notice: notice) }
            let sets = Set(events.compactMap(\.availabilitySet))
            try AuditLog.append(db, at: now, actor: actor, action: "campaign.planned",
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
                try AuditLog.append(db, at: now, actor: actor, action: "notice.queued",
                                    subjects: [AuditSubject(.campaign, id), AuditSubject(.subscription, notice.subscription)],
                                    details: JSONText.object([("recipients", JSONText.array(notice.recipients.map(JSONText.quote))),
                                                              ("firstStart", JSONText.quote(notice.firstStart.iso8601))]))
            }
            var result = planned
            result.written = true
            return result
        }
        return dryRun ? try database.writer.read(work) : try database.writer.write(work)
    }

    /// Page cache while a plan writes its events, in KiB. More did not help (measured up to
    /// 2 GB at a million events): past this the writes are SQLite's own work, not spills.
    static let planCacheKiB = 160 * 1024

    /// Validates and plans the campaign against the fleet and the active events; writes nothing.
    private static func planCampaign(_ request: CampaignRequest, now: Timestamp, in db: Database) throws -> PlanResult {
        let fleet = try snapshot(db)
        let existing = try EventRepository.events(db, .active).map(\.event)
        let terms = try EventRepository.campaignTerms(db)
        let campaignCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM campaigns") ?? 0
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
        let campaign: Campaign
        do throws(InputProblem) { campaign = try Campaign(id: id, request: request, createdAt: now, fleet: fleet) } catch {
            throw ServiceError(.invalid, error.message)
        }
        let events: [PlannedEvent]
        do throws(PlanningFailure) { events = try Planner.plan(campaign, fleet: fleet, existing: existing, existingCampaigns: terms) } catch {
            throw ServiceError(.conflict, "no valid plan: \(error.message)")
        }
        let (notices, warnings) = Self.notices(for: campaign, events: events, fleet: fleet, now: now)
        return PlanResult(campaign: campaign, events: events, summary: PlanSummary(events: events), notices: notices, written: false, warnings: warnings)
    }

    /// One notice per subscription for a reboot campaign: its VMs, waves and times, in UTC
    /// and in the subscription's zone.
    static func notices(for campaign: Campaign, events: [PlannedEvent], fleet: FleetSnapshot, now: Timestamp) -> ([NoticeRecord], [String]) {
        guard Rules.needsNotice(campaign.kind), !events.isEmpty else { return ([], []) }
        var bySubscription: [String: [PlannedEvent]] = [:]
        for event in events {
            guard let subscription = fleet.vm(named: event.vm)?.subscription else { continue }
            bySubscription[subscription, default: []].append(event)
        }
        let subscriptions = Dictionary(uniqueKeysWithValues: fleet.subscriptions.map { ($0.id, $0) })
        var notices: [NoticeRecord] = [], warnings: [String] = []
        for (id, events) in bySubscription.sorted(by: { $0.key < $1.key }) {
            let subscription = subscriptions[id] ?? Subscription(id: id)
            let recipients = subscription.admins + subscription.coAdmins
            if recipients.isEmpty { warnings.append("subscription \(id) has no admins or co-admins: its notice has nobody to go to") }
            let zone = TimeZone(identifier: subscription.noticeTimeZone) ?? TimeZone(identifier: "UTC")!
            var waves: [(wave: String, events: [PlannedEvent])] = []
            for event in events {
                if waves.last?.wave == event.wave { waves[waves.count - 1].events.append(event) } else { waves.append((event.wave, [event])) }
            }
            let first = events.map(\.range.start).min()!, last = events.map(\.range.end).max()!
            var body = """
                Planned maintenance (\(campaign.kind.rawValue)) for subscription \(id).
                Campaign \(campaign.id)\(campaign.description.isEmpty ? "" : ": \(campaign.description)")
                \(events.count) VM\(events.count == 1 ? "" : "s") in \(waves.count) wave\(waves.count == 1 ? "" : "s"), from \(first.iso8601) to \(last.iso8601) (UTC).
                Times are UTC, then \(zone.identifier). Each VM is \(campaign.kind == .reboot ? "rebooted" : "paused") for up to \(DurationText.short(campaign.perVMDuration)).

                """
            for (wave, members) in waves {
                let e = members[0]
                let local = "\(LocalDateTime(e.range.start, in: zone)) to \(LocalDateTime(e.range.end, in: zone)) \(zone.identifier)"
                let place = e.availabilitySet.map { "set \($0), update domain \(e.updateDomain ?? 0)" } ?? "single-instance VMs"
                body += "\nWave \(wave): \(e.region), \(place)\n  \(e.range.start.iso8601) to \(e.range.end.iso8601) (\(local))\n  VMs: \(members.map(\.vm).joined(separator: ", "))\n"
            }
            notices.append(NoticeRecord(
                id: 0, campaign: campaign.id, subscription: id, recipients: recipients,
                subject: "Planned \(campaign.kind.rawValue) maintenance of \(events.count) VM\(events.count == 1 ? "" : "s") from \(first.iso8601)",
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
    public func upcoming(_ scope: Scope, now: Timestamp, within: Int64) throws -> [UpcomingEvent] {
        try database.writer.read { db in
            let filter: EventRepository.Filter
            switch scope {
            case .all: filter = .active
            case .vm(let name):
                guard try VMRepository.vm(db, named: name) != nil || (try Int.fetchOne(db, sql: "SELECT 1 FROM events WHERE vm = ? LIMIT 1", arguments: [name])) != nil
                else { throw ServiceError(.notFound, "unknown VM '\(name)'") }
                filter = .vm(name)
            case .availabilitySet(let name):
                guard try FleetRepository.availabilitySet(db, named: name) != nil else { throw ServiceError(.notFound, "unknown availability set '\(name)'") }
                filter = .availabilitySet(name)
            case .region(let name):
                guard try FleetRepository.region(db, named: name) != nil else { throw ServiceError(.notFound, "unknown region '\(name)'") }
                filter = .region(name)
            case .subscription(let id):
                guard try FleetRepository.subscription(db, id: id) != nil else { throw ServiceError(.notFound, "unknown subscription '\(id)'") }
                filter = .subscription(id)
            }
            let records = try EventRepository.events(db, filter, from: now, until: now + within).filter { $0.event.status.isActive }
            let windows = try FleetRepository.maintenanceWindows(db)
            // Events of one wave share their window: look it up once per wave.
            var windowOfWave: [String: String?] = [:]
            return records.map { record in
                let e = record.event
                if windowOfWave[e.wave] == nil {
                    let applicable = Rules.applicableWindows(set: e.availabilitySet, region: e.region, among: windows)
                    windowOfWave[e.wave] = .some(Rules.window(containing: e.range, among: applicable)?.name)
                }
                return UpcomingEvent(record: record, window: windowOfWave[e.wave]!)
            }
        }
    }

    /// Checks every active event (or one campaign's) against rules 1-7 and the fleet as it
    /// is now, trusting nothing the planner did.
    public func check(campaign: String? = nil) throws -> [Violation] {
        try database.writer.read { db in
            if let campaign, try EventRepository.campaign(db, id: campaign) == nil {
                throw ServiceError(.notFound, "unknown campaign '\(campaign)'")
            }
            let fleet = try Self.snapshot(db)
            // A campaign's events are checked against everything active, so that a clash with
            // another campaign is found from either side.
            let events = try EventRepository.events(db, .active).map(\.event)
            let violations = Checker.check(events: events, fleet: fleet, campaigns: try EventRepository.campaignTerms(db),
                                           notices: try EventRepository.noticeKeys(db))
            guard let campaign else { return violations }
            let ids = Set(events.filter { $0.campaign == campaign }.map(\.id))
            return violations.filter { $0.events.contains(where: ids.contains) }
        }
    }

    // MARK: Campaigns

    public func campaigns() throws -> [(record: CampaignRecord, events: Int, active: Int)] {
        try database.writer.read { db in
            var counts: [String: (Int, Int)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT campaign, count(*), sum(status IN ('scheduled', 'started')) FROM events GROUP BY campaign
                """) {
                counts[row[0]] = (row[1], row[2])
            }
            return try EventRepository.campaigns(db).map { ($0, counts[$0.campaign.id]?.0 ?? 0, counts[$0.campaign.id]?.1 ?? 0) }
        }
    }

    public func campaign(_ id: String) throws -> (record: CampaignRecord, events: [EventRecord], notices: [NoticeRecord]) {
        try database.writer.read { db in
            guard let record = try EventRepository.campaign(db, id: id) else { throw ServiceError(.notFound, "unknown campaign '\(id)'") }
            return (record, try EventRepository.events(db, .campaign(id)), try EventRepository.notices(db, campaign: id))
        }
    }

    /// Cancels a campaign's scheduled events; started and finished ones keep their history.
    @discardableResult
    public func cancel(_ id: String, now: Timestamp, actor: String = AuditLog.actor()) throws -> Int {
        try database.writer.write { db in
            guard let record = try EventRepository.campaign(db, id: id) else { throw ServiceError(.notFound, "unknown campaign '\(id)'") }
            guard record.status != "cancelled" else { throw ServiceError(.conflict, "campaign \(id) is already cancelled") }
            try db.execute(sql: "UPDATE events SET status = 'cancelled' WHERE campaign = ? AND status = 'scheduled'", arguments: [id])
            let cancelled = db.changesCount
            try EventRepository.setCampaignStatus(db, id: id, status: "cancelled")
            try AuditLog.append(db, at: now, actor: actor, action: "campaign.cancelled", subjects: [AuditSubject(.campaign, id)],
                                details: JSONText.object([("eventsCancelled", "\(cancelled)")]))
            return cancelled
        }
    }
}

// MARK: JSON shapes shared by the CLI and the server

extension SchedulerService {
    /// The event shape of `plan --format json` and `upcoming --format json`.
    public static func json(_ e: PlannedEvent, extra: [(String, String)] = []) -> String {
        JSONText.object([
            ("id", JSONText.quote(e.id)), ("campaign", JSONText.quote(e.campaign)), ("vm", JSONText.quote(e.vm)),
            ("region", JSONText.quote(e.region)), ("availabilitySet", JSONText.quote(e.availabilitySet)),
            ("updateDomain", JSONText.number(e.updateDomain)), ("faultDomain", JSONText.number(e.faultDomain)),
            ("wave", JSONText.quote(e.wave)), ("kind", JSONText.quote(e.kind.rawValue)),
            ("start", JSONText.quote(e.range.start.iso8601)), ("end", JSONText.quote(e.range.end.iso8601)),
            ("status", JSONText.quote(e.status.rawValue)),
        ] + extra)
    }

    /// The campaign shape of `plan --format json`.
    public static func json(_ c: Campaign, status: String, span: TimeRange?, extra: [(String, String)] = []) -> String {
        JSONText.object([
            ("id", JSONText.quote(c.id)), ("kind", JSONText.quote(c.kind.rawValue)), ("status", JSONText.quote(status)),
            ("createdAt", JSONText.quote(c.createdAt.iso8601)), ("notBefore", JSONText.quote(c.notBefore.iso8601)),
            ("regions", JSONText.array(c.regions.map(JSONText.quote))),
            ("start", JSONText.quote(span?.start.iso8601)), ("end", JSONText.quote(span?.end.iso8601)),
            ("description", JSONText.quote(c.description)),
            ("perVMSeconds", "\(c.perVMDuration)"), ("udGapSeconds", "\(c.udGap)"),
        ] + extra)
    }
}
