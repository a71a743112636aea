// Campaigns and their planned events. Events come by the million, so they
// are written through one prepared statement with raw binds and read with raw column access.
import Foundation
import GRDB
import GRDBSQLite
import PitstopCore

struct SQLiteEventRepository: EventRepository {
    let db: Database

    // MARK: Campaigns

    func insert(campaign c: Campaign, span: TimeRange) throws {
        try db.execute(sql: """
            INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds,
                horizon_seconds, description, start_utc, end_utc)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.id, c.kind.rawValue, c.createdAt.iso8601, c.notBefore.iso8601,
                             JSONText.array(c.regions.map(JSONText.quote)), c.perVMDuration, c.udGap, c.horizon,
                             c.description, span.start.iso8601, span.end.iso8601])
    }

    func campaigns() throws -> [CampaignRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM campaigns ORDER BY created_at, id").map(Self.campaign(from:))
    }

    func campaign(id: String) throws -> CampaignRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [id]).map(Self.campaign(from:))
    }

    private static func campaign(from row: Row) throws -> CampaignRecord {
        let id: String = row["id"]
        guard let kind = MaintenanceKind(rawValue: row["kind"]),
              let created = Timestamp(iso8601: row["created_at"]), let notBefore = Timestamp(iso8601: row["not_before"]),
              let start = Timestamp(iso8601: row["start_utc"]), let end = Timestamp(iso8601: row["end_utc"]) else {
            throw corruptRow(table: "campaigns", key: id, problem: "a kind or time cannot be read")
        }
        let regions = (try? JSONDecoder().decode([String].self, from: Data((row["regions"] as String).utf8))) ?? []
        let campaign = Campaign(id: id, kind: kind, regions: regions, createdAt: created, notBefore: notBefore,
                                perVMDuration: row["per_vm_seconds"], udGap: row["ud_gap_seconds"],
                                description: row["description"], horizon: row["horizon_seconds"])
        guard let status = CampaignStatus(rawValue: row["status"]) else {
            throw corruptRow(table: "campaigns", key: id, problem: "its status cannot be read")
        }
        return CampaignRecord(campaign: campaign, status: status, span: TimeRange(start: start, end: end))
    }

    /// The recovery gap and duration of every campaign, for the planner and the checker.
    func campaignTerms() throws -> [String: CampaignTerms] {
        var terms: [String: CampaignTerms] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, kind, per_vm_seconds, ud_gap_seconds FROM campaigns") {
            guard let kind = MaintenanceKind(rawValue: row[1]) else { continue }
            terms[row[0]] = CampaignTerms(kind: kind, perVMDuration: row[2], udGap: row[3])
        }
        return terms
    }

    func setStatus(ofCampaign id: String, to status: CampaignStatus) throws {
        try db.execute(sql: "UPDATE campaigns SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
    }

    func campaignCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM campaigns") ?? 0
    }

    func eventCounts() throws -> [String: (events: Int, active: Int)] {
        var counts: [String: (events: Int, active: Int)] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT campaign, count(*), sum(status IN ('scheduled', 'started')) FROM events GROUP BY campaign
            """) {
            counts[row[0]] = (row[1], row[2])
        }
        return counts
    }

    func cancelScheduledEvents(ofCampaign id: String) throws -> Int {
        try db.execute(sql: "UPDATE events SET status = 'cancelled' WHERE campaign = ? AND status = 'scheduled'", arguments: [id])
        return db.changesCount
    }

    func hasEvents(vm: String) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT 1 FROM events WHERE vm = ? LIMIT 1", arguments: [vm]) != nil
    }

    func hasEvents(region: String) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT 1 FROM events WHERE region = ? LIMIT 1", arguments: [region]) != nil
    }

    /// Page cache while a plan writes its events, in KiB. A million events do not fit SQLite's
    /// default 2 MB cache, and spilling it mid-transaction made writing a plan several times
    /// slower; more did not help (measured up to 2 GB): past this the writes are SQLite's own work.
    static let planCacheKiB = 160 * 1024

    func insert(events: [PlannedEvent], progress: ((Int) -> Void)?) throws {
        try db.execute(sql: "PRAGMA cache_size = -\(Self.planCacheKiB)")
        defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
        let writer = try EventWriter(db)
        for (i, event) in events.enumerated() {
            try writer.insert(event)
            progress?(i + 1)
        }
    }

    // MARK: Events

    static let eventColumns = """
        id, campaign, vm, region, availability_set, update_domain, fault_domain, wave, kind, start_utc, end_utc,
        status, planned_at, approved_at, actual_start, actual_end, forced, reason
        """

    /// Reads events in start order, then id.
    func events(_ filter: EventFilter, from: Timestamp?, until: Timestamp?) throws -> [EventRecord] {
        var clauses: [String] = [], arguments: [(any DatabaseValueConvertible)?] = []
        switch filter {
        case .all: break
        case .active: clauses.append("status IN ('scheduled', 'started')")
        case .campaign(let id): clauses.append("campaign = ?"); arguments.append(id)
        case .vm(let name): clauses.append("vm = ?"); arguments.append(name)
        case .wave(let id): clauses.append("wave = ?"); arguments.append(id)
        case .event(let id): clauses.append("id = ?"); arguments.append(id)
        case .availabilitySet(let name): clauses.append("availability_set = ?"); arguments.append(name)
        case .region(let name): clauses.append("region = ?"); arguments.append(name)
        case .subscription(let id): clauses.append("vm IN (SELECT name FROM vms WHERE subscription = ?)"); arguments.append(id)
        }
        // An event overlapping [from, until): it ends after `from` and starts before `until`.
        if let from { clauses.append("end_utc > ?"); arguments.append(from.iso8601) }
        if let until { clauses.append("start_utc < ?"); arguments.append(until.iso8601) }
        let sql = "SELECT \(Self.eventColumns) FROM events" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY start_utc, id"
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(StatementArguments(arguments))
        return try Self.readEvents(statement, in: db)
    }

    /// Raw column reads: a million events decode in about a second instead of several.
    static func readEvents(_ statement: Statement, in db: Database) throws -> [EventRecord] {
        let rows = RawRows(statement: statement, db: db)
        var out: [EventRecord] = []
        while try rows.next() {
            out.append(EventRecord(event: try rows.plannedEvent(), approvedAt: rows.time(13), actualStart: rows.time(14),
                                   actualEnd: rows.time(15), forced: rows.int(16) == 1, reason: rows.text(17)))
        }
        return out
    }

    /// Records what happened to an event: its status, approval, actual times and whether its
    /// start was forced, with the reason given.
    func update(_ r: EventRecord) throws {
        try db.execute(sql: """
            UPDATE events SET status = ?, approved_at = ?, actual_start = ?, actual_end = ?, forced = ?, reason = ?
            WHERE id = ?
            """, arguments: [r.event.status.rawValue, r.approvedAt?.iso8601, r.actualStart?.iso8601, r.actualEnd?.iso8601,
                             r.forced ? 1 : 0, r.reason, r.event.id])
    }

    /// Events in `regions`, of any campaign, that actually started and had not ended by
    /// `since` (or have not ended): what guarded execution weighs a start against.
    func startedEvents(regions: [String], endedAfter since: Timestamp) throws -> [EventRecord] {
        // `campaign IN campaigns` lets the (campaign, region) index serve a query by region.
        try read(where: """
            campaign IN (SELECT id FROM campaigns) AND region IN (SELECT value FROM json_each(?))
            AND actual_start IS NOT NULL AND (actual_end IS NULL OR actual_end > ?)
            """, [JSONText.array(regions.map(JSONText.quote)), since.iso8601])
    }

    /// Events of `vms` that actually started and had not ended by `since` (or have not ended).
    func startedEvents(vms: [String], endedAfter since: Timestamp) throws -> [EventRecord] {
        try read(where: """
            vm IN (SELECT value FROM json_each(?)) AND actual_start IS NOT NULL AND (actual_end IS NULL OR actual_end > ?)
            """, [JSONText.array(vms.map(JSONText.quote)), since.iso8601])
    }

    /// Every event of `campaign` in `regions`, whatever its status.
    func events(campaign: String, regions: [String]) throws -> [EventRecord] {
        try read(where: "campaign = ? AND region IN (SELECT value FROM json_each(?))",
                 [campaign, JSONText.array(regions.map(JSONText.quote))])
    }

    // MARK: Waves

    /// One row a wave: its events counted by status, their planned and actual extremes. The
    /// actual end is null while any started event has not ended.
    private static let waveColumns = """
        SELECT wave, MIN(campaign), MIN(kind), MIN(region), MIN(availability_set), MIN(update_domain),
            MIN(start_utc), MAX(end_utc), MIN(actual_start),
            CASE WHEN SUM(actual_start IS NOT NULL AND actual_end IS NULL) > 0 THEN NULL ELSE MAX(actual_end) END,
            SUM(status = 'scheduled'), SUM(status = 'started'), SUM(status = 'completed'), SUM(status = 'failed'),
            SUM(status = 'cancelled'), SUM(approved_at IS NOT NULL), SUM(status = 'scheduled' AND approved_at IS NULL)
        FROM events
        """

    func waves(from: Timestamp, until: Timestamp) throws -> [WaveSummary] {
        // The inner query picks the waves in range; the outer one aggregates all their events
        // (through the wave index), so a wave is never cut in two by the range.
        let statement = try db.cachedStatement(sql: Self.waveColumns + "\n" + """
            WHERE wave IN (SELECT wave FROM events
                WHERE (end_utc > ?1 AND start_utc < ?2) OR (actual_start < ?2 AND (actual_end IS NULL OR actual_end > ?1)))
            GROUP BY wave ORDER BY MIN(start_utc), wave
            """)
        try statement.setArguments([from.iso8601, until.iso8601])
        return try readWaves(statement)
    }

    func wave(id: String) throws -> WaveSummary? {
        let statement = try db.cachedStatement(sql: Self.waveColumns + " WHERE wave = ? GROUP BY wave")
        try statement.setArguments([id])
        return try readWaves(statement).first
    }

    private func readWaves(_ statement: Statement) throws -> [WaveSummary] {
        let rows = RawRows(statement: statement, db: db)
        var out: [WaveSummary] = []
        while try rows.next() {
            let id = rows.text(0) ?? ""
            guard let kind = rows.text(2).flatMap(MaintenanceKind.init(rawValue:)), let start = rows.time(6), let end = rows.time(7) else {
                throw corruptRow(table: "events", key: id, problem: "a kind or time of the wave cannot be read")
            }
            var counts: [EventStatus: Int] = [:]
            for (i, status) in [EventStatus.scheduled, .started, .completed, .failed, .cancelled].enumerated() {
                if let n = rows.int(Int32(10 + i)), n > 0 { counts[status] = n }
            }
            out.append(WaveSummary(id: id, campaign: rows.text(1) ?? "", kind: kind, region: rows.text(3) ?? "",
                                   availabilitySet: rows.text(4), updateDomain: rows.int(5), planned: TimeRange(start: start, end: end),
                                   actualStart: rows.time(8), actualEnd: rows.time(9), statusCounts: counts,
                                   approvedEvents: rows.int(15) ?? 0, unapprovedScheduled: rows.int(16) ?? 0))
        }
        return out
    }

    private func read(where clause: String, _ arguments: StatementArguments) throws -> [EventRecord] {
        let statement = try db.makeStatement(sql: "SELECT \(Self.eventColumns) FROM events WHERE \(clause) ORDER BY start_utc, id")
        try statement.setArguments(arguments)
        return try Self.readEvents(statement, in: db)
    }
}

extension RawRows {
    func time(_ i: Int32) -> Timestamp? { text(i).flatMap(Timestamp.init(iso8601:)) }

    /// The planned event in columns 0 to 12, in the order of `SQLiteEventRepository.eventColumns`.
    func plannedEvent() throws -> PlannedEvent {
        let id = text(0) ?? ""
        guard let kind = text(8).flatMap(MaintenanceKind.init(rawValue:)), let start = time(9), let end = time(10),
              let status = text(11).flatMap(EventStatus.init(rawValue:)), let planned = time(12) else {
            throw corruptRow(table: "events", key: id, problem: "a kind, status or time cannot be read")
        }
        return PlannedEvent(id: id, campaign: text(1) ?? "", vm: text(2) ?? "", region: text(3) ?? "",
                            availabilitySet: text(4), updateDomain: int(5), faultDomain: int(6), wave: text(7) ?? "",
                            kind: kind, range: TimeRange(start: start, end: end), status: status, plannedAt: planned)
    }
}

/// Inserts planned events through one prepared statement.
final class EventWriter {
    private let db: Database
    private let insert: Statement
    private let arena = BindArena()

    init(_ db: Database) throws {
        self.db = db
        // One row a statement, on purpose: SQLite journals every page a multi-row insert
        // touches (it may abort half way), and measured on a million events that journal cost
        // more than the per-statement overhead it saves.
        insert = try db.makeStatement(sql: """
            INSERT INTO events(id, campaign, vm, region, availability_set, update_domain, fault_domain, wave, kind,
                start_utc, end_utc, status, planned_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    func insert(_ e: PlannedEvent) throws {
        let handle = insert.sqliteStatement
        sqlite3_reset(handle)
        arena.reset()
        arena.bind(handle, 1, e.id)
        arena.bind(handle, 2, e.campaign)
        arena.bind(handle, 3, e.vm)
        arena.bind(handle, 4, e.region)
        arena.bind(handle, 5, e.availabilitySet)
        bind(handle, 6, e.updateDomain)
        bind(handle, 7, e.faultDomain)
        arena.bind(handle, 8, e.wave)
        arena.bind(handle, 9, e.kind.rawValue)
        arena.bind(handle, 10, e.range.start.iso8601)
        arena.bind(handle, 11, e.range.end.iso8601)
        arena.bind(handle, 12, e.status.rawValue)
        arena.bind(handle, 13, e.plannedAt.iso8601)
        try stepToDone(insert, in: db)
    }
}
