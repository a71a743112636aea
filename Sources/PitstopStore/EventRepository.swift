// Campaigns and their planned events, stored as waves (Migrations/0007_waves.sql): a wave row
// with its planned facts and the lifecycle most of its VMs share, its VMs as integer pairs, and
// a departure row for each VM whose lifecycle is its own. Callers still see one EventRecord per
// VM: reads join the three, and updates fold per-VM changes back into the wave.
import Foundation
import GRDB
import GRDBSQLite
package import PitstopCore

struct SQLiteEventRepository: EventRepository {
    let db: Database

    // MARK: Campaigns

    func insert(campaign c: Campaign, span: TimeRange) throws {
        try db.execute(sql: """
            INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds,
                horizon_seconds, description, start_utc, end_utc)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.id, c.kind.rawValue, c.createdAt.iso8601, c.notBefore.iso8601,
                             CampaignRows.regionsText(c.regions), c.perVMDuration, c.udGap, c.horizon,
                             c.description, span.start.iso8601, span.end.iso8601])
    }

    func campaigns() throws -> [CampaignRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM campaigns ORDER BY created_at, id").map(Self.campaign(from:))
    }

    func campaign(id: String) throws -> CampaignRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [id]).map(Self.campaign(from:))
    }

    private static func campaign(from row: Row) throws -> CampaignRecord {
        try CampaignRows.record(id: row["id"], kind: row["kind"], status: row["status"], createdAt: row["created_at"],
                                notBefore: row["not_before"], regions: row["regions"], perVMSeconds: row["per_vm_seconds"],
                                udGapSeconds: row["ud_gap_seconds"], horizonSeconds: row["horizon_seconds"],
                                description: row["description"], start: row["start_utc"], end: row["end_utc"])
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
            SELECT w.campaign, sum(m.n), sum(m.n * (m.status IN ('scheduled', 'started')))
            FROM (\(EventRows.memberStates("SELECT id FROM waves"))) m JOIN waves w ON w.id = m.wave GROUP BY w.campaign
            """) {
            counts[row[0]] = (row[1], row[2])
        }
        return counts
    }

    func cancelScheduledEvents(ofCampaign id: String) throws -> Int {
        let cancelled = try Int.fetchOne(db, sql: """
            SELECT sum(n) FROM (\(EventRows.memberStates("SELECT id FROM waves WHERE campaign = ?1"))) WHERE status = 'scheduled'
            """, arguments: [id]) ?? 0
        try db.execute(sql: "UPDATE waves SET status = 'cancelled' WHERE campaign = ? AND status = 'scheduled'", arguments: [id])
        try db.execute(sql: """
            UPDATE vm_departures SET status = 'cancelled' WHERE status = 'scheduled' AND wave IN (SELECT id FROM waves WHERE campaign = ?)
            """, arguments: [id])
        // A departure that now lives as its wave does is no departure.
        try db.execute(sql: """
            DELETE FROM vm_departures WHERE wave IN (SELECT id FROM waves WHERE campaign = ?) AND EXISTS (
                SELECT 1 FROM waves w WHERE w.id = vm_departures.wave AND w.status IS vm_departures.status
                AND w.approved_at IS vm_departures.approved_at AND w.actual_start IS vm_departures.actual_start
                AND w.actual_end IS vm_departures.actual_end AND w.forced IS vm_departures.forced AND w.reason IS vm_departures.reason)
            """, arguments: [id])
        return cancelled
    }

    func hasEvents(vm: String) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT 1 FROM wave_vms WHERE vm IN \(EventRows.keys(ofVMsNamed: "= ?1")) LIMIT 1", arguments: [vm]) != nil
    }

    func hasEvents(region: String) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT 1 FROM waves WHERE region = ? LIMIT 1", arguments: [region]) != nil
    }

    /// Page cache while a plan writes its waves, in KiB: a million (wave, VM) pairs and their
    /// VM index fit, so nothing spills to the WAL mid-transaction.
    static let planCacheKiB = 64 * 1024

    func recordNames(inRegions regions: [String]) throws -> RecordedNames {
        try WaveWriter(db).recordNames(inRegions: regions)
        return RecordedNames(regions: Set(regions))
    }

    func insert(events: [PlannedEvent], keys: [VMKey]?, recorded: RecordedNames?, progress: ((Int) -> Void)?) throws {
        precondition(keys.map { $0.count == events.count } ?? true, "one key per event")
        try db.execute(sql: "PRAGMA cache_size = -\(Self.planCacheKiB)")
        defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
        try WaveWriter(db).write(events, keys: keys, recorded: recorded, progress: progress)
    }

    // MARK: Events

    func eventCount(wave id: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM waves w JOIN wave_vms p ON p.wave = w.id WHERE w.public_id = ?", arguments: [id]) ?? 0
    }

    /// Reads events in start order, then id.
    func forEachEvent(_ filter: EventFilter, from: Timestamp?, until: Timestamp?, after: EventPosition?,
                      _ body: (EventRecord) throws -> Void) throws {
        var arguments: [(any DatabaseValueConvertible)?] = []
        guard let clauses = EventRows.clauses(filter, from: from, until: until, after: after, bind: { value in
            switch value {
            case .text(let text): arguments.append(text)
            case .integer(let n): arguments.append(n)
            }
            return "?\(arguments.count)"
        }) else { return }
        try EventRows.forEach(db, where: clauses, StatementArguments(arguments), order: EventRows.startOrder) { record, _ in try body(record) }
    }

    /// Records what happened to events: their status, approval, actual times, and whether their
    /// start was forced, with the reason given. Per wave, the lifecycle most of its VMs share
    /// becomes the wave's, and only the others keep a departure row.
    func update(_ records: [EventRecord]) throws {
        var byWave: [String: [String: EventRecord]] = [:]
        for r in records { byWave[r.event.wave, default: [:]][r.event.vm] = r }
        for (wave, changes) in byWave.sorted(by: { $0.key < $1.key }) {
            try WaveFold(db, wave: wave).apply(changes)
        }
    }

    /// Events in `regions`, of any campaign, that actually started and had not ended by
    /// `since` (or have not ended): what guarded execution weighs a start against.
    func startedEvents(regions: [String], endedAfter since: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: [
            "w.region IN (SELECT value FROM json_each(?))", EventRows.waveMayHaveStarted,
            EventRows.running(after: "?"),
        ], [JSONText.array(regions.map(JSONText.quote)), since.seconds])
    }

    /// Events of `vms` that actually started and had not ended by `since` (or have not ended).
    func startedEvents(vms: [String], endedAfter since: Timestamp) throws -> [EventRecord] {
        try EventRows.read(db, where: [
            "p.vm IN \(EventRows.keys(ofVMsNamed: "IN (SELECT value FROM json_each(?))"))",
            EventRows.running(after: "?"),
        ], [JSONText.array(vms.map(JSONText.quote)), JSONText.array(vms.map(JSONText.quote)), since.seconds])
    }

    func activePlan(fleetKeys: [VMKey]?) throws -> PlanColumns {
        // The VMs' own lifecycles first (a handful of rows): then each pair row needs no lookup
        // of its departure, which cost two index searches a row at a million VMs.
        var departed: [Int64: [Int64: EventStatus]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT wave, vm, status FROM vm_departures") {
            departed[row[0], default: [:]][row[1]] = EventStatus(rawValue: row[2])
        }
        // Every VM name by its key, read in one scan of the name table (keys are rowids, nearly
        // dense: VMWriter claims them in blocks that grow from one),
        // and the plan's rows point into it:
        // looking each pair's name up in the table instead cost half a second at a million VMs,
        // the lookups landing all over it.
        let maxKey = try Int.fetchOne(db, sql: "SELECT max(key) FROM vm_names") ?? 0
        var names = [String](repeating: "", count: maxKey + 1)
        let scan = try db.makeStatement(sql: "SELECT key, name FROM vm_names")
        let keyed = RawRows(statement: scan, db: db)
        while try keyed.next() {
            if let key = keyed.int(0), key >= 0, key <= maxKey { names[key] = keyed.text(1) ?? "" }
        }
        // Waves first (CROSS JOIN keeps that order): their condition is tested once a wave, and
        // each wave's pairs are one range of the pair table. No ORDER BY: sorting a million rows
        // by wave id and VM name cost 3 s of the 4.
        let statement = try db.makeStatement(sql: """
            SELECT w.id, w.public_id, w.campaign, w.kind, w.region, w.availability_set, w.update_domain, w.start_at, w.end_at,
                   w.planned_at, p.vm, p.fault_domain, w.status
            FROM waves w CROSS JOIN wave_vms p ON p.wave = w.id
            WHERE \(EventRows.waveMayBeActive)
            """)
        let rows = RawRows(statement: statement, db: db)
        var plan = PlanAssembler(names: names, fleetKeys: fleetKeys, departed: departed)
        names = []
        while try rows.next() {
            let key = rows.int64(0) ?? -1
            if plan.isNew(wave: key) {
                let id = rows.text(1) ?? ""
                let facts = try rows.waveFacts(of: id, kind: 3, times: 7)
                plan.begin(wave: key, PlanColumns.Wave(
                    id: id, campaign: rows.text(2) ?? "", kind: facts.kind, region: rows.text(4) ?? "", availabilitySet: rows.text(5),
                    updateDomain: rows.int(6), range: facts.range, plannedAt: facts.plannedAt), status: rows.text(12))
            }
            try plan.add(vm: rows.int(10) ?? -1, faultDomain: rows.int(11))
        }
        return plan.plan
    }

    /// Every event of `campaign` in `regions`, whatever its status.
    func events(campaign: String, regions: [String]) throws -> [EventRecord] {
        try EventRows.read(db, where: ["w.campaign = ? AND w.region IN (SELECT value FROM json_each(?))"],
                           [campaign, JSONText.array(regions.map(JSONText.quote))])
    }

    // MARK: Waves

    /// One row a wave: its VMs counted by status, their actual extremes. The actual end is null
    /// while any started VM has not ended. `picked` selects wave ids.
    static func waveSummaries(_ picked: String) -> String {
        """
        WITH picked AS (\(picked)),
        m AS (\(EventRows.memberStates("SELECT id FROM picked")))
        SELECT w.public_id, w.campaign, w.kind, w.region, w.availability_set, w.update_domain, w.start_at, w.end_at,
            MIN(CASE WHEN m.n > 0 THEN m.actual_start END),
            CASE WHEN SUM(m.n > 0 AND m.actual_start IS NOT NULL AND m.actual_end IS NULL) > 0 THEN NULL
                 ELSE MAX(CASE WHEN m.n > 0 THEN m.actual_end END) END,
            SUM(m.n * (m.status = 'scheduled')), SUM(m.n * (m.status = 'started')), SUM(m.n * (m.status = 'completed')),
            SUM(m.n * (m.status = 'failed')), SUM(m.n * (m.status = 'cancelled')), SUM(m.n * (m.approved_at IS NOT NULL)),
            SUM(m.n * (m.status = 'scheduled' AND m.approved_at IS NULL))
        FROM m JOIN waves w ON w.id = m.wave
        GROUP BY m.wave ORDER BY w.start_at, w.public_id
        """
    }

    func waves(from: Timestamp, until: Timestamp) throws -> [WaveSummary] {
        // A wave planned within the range, or whose VMs actually ran (or still run) within it.
        let statement = try db.cachedStatement(sql: Self.waveSummaries("""
            SELECT id FROM waves w WHERE (w.end_at > ?1 AND w.start_at < ?2)
                OR (w.actual_start < ?2 AND (w.actual_end IS NULL OR w.actual_end > ?1))
                OR EXISTS (SELECT 1 FROM vm_departures d WHERE d.wave = w.id
                           AND d.actual_start < ?2 AND (d.actual_end IS NULL OR d.actual_end > ?1))
            """))
        try statement.setArguments([from.seconds, until.seconds])
        return try readWaves(statement)
    }

    func wave(id: String) throws -> WaveSummary? {
        let statement = try db.cachedStatement(sql: Self.waveSummaries("SELECT id FROM waves WHERE public_id = ?"))
        try statement.setArguments([id])
        return try readWaves(statement).first
    }

    private func readWaves(_ statement: Statement) throws -> [WaveSummary] {
        let rows = RawRows(statement: statement, db: db)
        var out: [WaveSummary] = []
        while try rows.next() {
            out.append(try EventRows.waveSummary(
                id: rows.text(0) ?? "", campaign: rows.text(1) ?? "", kind: rows.text(2), region: rows.text(3) ?? "",
                availabilitySet: rows.text(4), updateDomain: rows.int(5), start: rows.int64(6), end: rows.int64(7),
                actualStart: rows.int64(8), actualEnd: rows.int64(9), statusCounts: (10..<15).map { rows.int(Int32($0)) },
                approvedEvents: rows.int(15), unapprovedScheduled: rows.int(16)))
        }
        return out
    }
}

extension RawRows {
    func time(_ i: Int32) -> Timestamp? { text(i).flatMap(Timestamp.init(iso8601:)) }
    /// A time stored as Unix seconds.
    func instant(_ i: Int32) -> Timestamp? { int64(i).map(Timestamp.init(seconds:)) }

    /// The kind (column `kind`) and planned range (columns `range` and `range + 1`) of the wave
    /// `id` on this row. A row that cannot be read is refused as damaged, naming the wave.
    func waveKindAndRange(of id: String, kind: Int32, range: Int32) throws -> (kind: MaintenanceKind, range: TimeRange) {
        try EventRows.waveKindAndRange(of: id, kind: text(kind), start: int64(range), end: int64(range + 1))
    }

    /// ``waveKindAndRange(of:kind:range:)`` and the time the wave was planned (column
    /// `times + 2`, after the range's two).
    func waveFacts(of id: String, kind: Int32, times: Int32) throws -> (kind: MaintenanceKind, range: TimeRange, plannedAt: Timestamp) {
        try EventRows.waveFacts(of: id, kind: text(kind), start: int64(times), end: int64(times + 1), plannedAt: int64(times + 2))
    }
}

/// The one way a VM's event is read from the wave layout: its wave's planned facts, and its own
/// lifecycle where it departs from its wave's.
package enum EventRows {
    /// A VM's lifecycle field: its departure's if it has one, else its wave's.
    private static func own(_ column: String) -> String { "(CASE WHEN d.wave IS NULL THEN w.\(column) ELSE d.\(column) END)" }
    package static let status = own("status"), approvedAt = own("approved_at"), actualStart = own("actual_start"), actualEnd = own("actual_end")

    /// A value a shared condition binds: each engine passes it as a parameter of its own.
    package enum Parameter {
        case text(String)
        case integer(Int64)
    }

    /// The conditions that select `filter`'s events overlapping `[from, until)`; nil when
    /// none can match (an event id that does not split). `bind` takes a value and returns
    /// the placeholder that refers to it, which may appear more than once.
    package static func clauses(_ filter: EventFilter, from: Timestamp?, until: Timestamp?, after: EventPosition? = nil,
                                bind: (Parameter) -> String) -> [String]? {
        var clauses: [String] = []
        switch filter {
        case .all: break
        case .active: clauses.append(waveMayBeActive); clauses.append("\(status) IN ('scheduled', 'started')")
        case .campaign(let id): clauses.append("w.campaign = \(bind(.text(id)))")
        case .vm(let name): clauses.append("p.vm IN \(keys(ofVMsNamed: "= \(bind(.text(name)))"))")
        case .wave(let id): clauses.append("w.public_id = \(bind(.text(id)))")
        case .event(let id):
            guard let (wave, vm) = StableID.split(event: id) else { return nil }
            clauses.append("w.public_id = \(bind(.text(wave))) AND p.vm IN \(keys(ofVMsNamed: "= \(bind(.text(vm)))"))")
        case .availabilitySet(let name): clauses.append("w.availability_set = \(bind(.text(name)))")
        case .region(let name): clauses.append("w.region = \(bind(.text(name)))")
        case .subscription(let id):
            clauses.append("p.vm IN \(keys(ofVMsNamed: "IN (SELECT name FROM vms WHERE subscription = \(bind(.text(id))))"))")
        }
        // An event overlapping [from, until): it ends after `from` and starts before `until`.
        if let from { clauses.append("w.end_at > \(bind(.integer(from.seconds)))") }
        if let until { clauses.append("w.start_at < \(bind(.integer(until.seconds)))") }
        // Past `after` in ``startOrder``: the start's bound stands alone too, so that the index
        // on starts skips what lies before it instead of every row being read and compared.
        if let after {
            let start = bind(.integer(after.start.seconds)), wave = bind(.text(after.wave)), vm = bind(.text(after.vm))
            clauses.append("w.start_at >= \(start)")
            clauses.append("(w.start_at > \(start) OR w.public_id > \(wave) OR (w.public_id = \(wave) AND k.name > \(vm)))")
        }
        return clauses
    }

    /// A VM's event that actually started and had not ended by the time `placeholder` binds
    /// (or has not ended).
    package static func running(after placeholder: String) -> String {
        "\(actualStart) IS NOT NULL AND (\(actualEnd) IS NULL OR \(actualEnd) > \(placeholder))"
    }

    /// The kind and planned range of the wave `id`, as its row holds them; a row that cannot
    /// be read is refused as damaged, naming the wave.
    package static func waveKindAndRange(of id: String, kind: String?, start: Int64?, end: Int64?) throws -> (kind: MaintenanceKind, range: TimeRange) {
        guard let kind = kind.flatMap(MaintenanceKind.init(rawValue:)), let start, let end else { throw damagedWave(id) }
        return (kind, TimeRange(start: Timestamp(seconds: start), end: Timestamp(seconds: end)))
    }

    /// ``waveKindAndRange(of:kind:start:end:)`` and the time the wave was planned.
    package static func waveFacts(of id: String, kind: String?, start: Int64?, end: Int64?,
                                  plannedAt: Int64?) throws -> (kind: MaintenanceKind, range: TimeRange, plannedAt: Timestamp) {
        let (kind, range) = try waveKindAndRange(of: id, kind: kind, start: start, end: end)
        guard let plannedAt else { throw damagedWave(id) }
        return (kind, range, Timestamp(seconds: plannedAt))
    }

    private static func damagedWave(_ id: String) -> PitstopError {
        corruptRow(table: "waves", key: id, problem: "its kind or a time cannot be read")
    }

    /// A wave's facts as its VMs' events share them: read once a wave, not once a VM.
    package struct Wave {
        package var id = "", campaign = "", region = "", set: String?
        package var kind = MaintenanceKind.freeze
        package var range = TimeRange(start: Timestamp(seconds: 0), end: Timestamp(seconds: 0))
        package var plannedAt = Timestamp(seconds: 0)

        package init() {}

        package init(id: String, campaign: String, region: String, set: String?,
                     facts: (kind: MaintenanceKind, range: TimeRange, plannedAt: Timestamp)) {
            (self.id, self.campaign, self.region, self.set) = (id, campaign, region, set)
            (kind, range, plannedAt) = facts
        }
    }

    /// One VM's event of `wave`, from `select`'s per-VM columns.
    package static func record(of wave: Wave, vm: String, updateDomain: Int?, faultDomain: Int?, status: String?, approvedAt: Int64?,
                               actualStart: Int64?, actualEnd: Int64?, forced: Int?, reason: String?) throws -> EventRecord {
        guard let status = status.flatMap(EventStatus.init(rawValue:)) else {
            throw corruptRow(table: "vm_departures", key: StableID.event(wave: wave.id, vm: vm), problem: "its status cannot be read")
        }
        let event = PlannedEvent(campaign: wave.campaign, vm: vm, region: wave.region,
                                 availabilitySet: wave.set, updateDomain: updateDomain, faultDomain: faultDomain, wave: wave.id,
                                 kind: wave.kind, range: wave.range, status: status, plannedAt: wave.plannedAt)
        return EventRecord(event: event, approvedAt: approvedAt.map(Timestamp.init(seconds:)),
                           actualStart: actualStart.map(Timestamp.init(seconds:)), actualEnd: actualEnd.map(Timestamp.init(seconds:)),
                           forced: forced == 1, reason: reason)
    }

    /// A wave summary from the columns `waveSummaries` reads: `statusCounts` in the order
    /// scheduled, started, completed, failed, cancelled.
    package static func waveSummary(id: String, campaign: String, kind: String?, region: String, availabilitySet: String?,
                                    updateDomain: Int?, start: Int64?, end: Int64?, actualStart: Int64?, actualEnd: Int64?,
                                    statusCounts: [Int?], approvedEvents: Int?, unapprovedScheduled: Int?) throws -> WaveSummary {
        let (kind, planned) = try waveKindAndRange(of: id, kind: kind, start: start, end: end)
        var counts: [EventStatus: Int] = [:]
        for (status, n) in zip([EventStatus.scheduled, .started, .completed, .failed, .cancelled], statusCounts) {
            if let n, n > 0 { counts[status] = n }
        }
        return WaveSummary(id: id, campaign: campaign, kind: kind, region: region, availabilitySet: availabilitySet,
                           updateDomain: updateDomain, planned: planned, actualStart: actualStart.map(Timestamp.init(seconds:)),
                           actualEnd: actualEnd.map(Timestamp.init(seconds:)), statusCounts: counts,
                           approvedEvents: approvedEvents ?? 0, unapprovedScheduled: unapprovedScheduled ?? 0)
    }

    /// Conditions on the wave alone, true for every wave that may hold a VM matching the per-VM
    /// condition they come with: SQLite tests them before joining the wave's VMs.
    package static let waveMayBeActive = """
        (w.status IN ('scheduled', 'started') OR EXISTS (SELECT 1 FROM vm_departures x WHERE x.wave = w.id AND x.status IN ('scheduled', 'started')))
        """
    package static let waveMayHaveStarted = """
        (w.actual_start IS NOT NULL OR EXISTS (SELECT 1 FROM vm_departures x WHERE x.wave = w.id AND x.actual_start IS NOT NULL))
        """

    /// How many columns `select` has: a caller may add its own after them.
    package static let columns: Int32 = 19

    /// Where a wave's VM keys find their names (`key`, `name`): SQLite keeps every name a plan
    /// gave in the table `vm_names`; PostgreSQL reads a VM in the fleet by its key in `vms`, and
    /// those that left it in `vm_names`, through the view `vm_known_names` (postgres/0004).
    package enum Names: String, Sendable {
        case sqlite = "vm_names"
        case postgres = "vm_known_names"
    }

    /// Every event's columns, its VM named through `names`.
    package static func select(names: Names) -> String {
        """
        SELECT w.public_id, w.campaign, k.name, w.region, w.availability_set, w.update_domain, p.fault_domain, w.kind,
               w.start_at, w.end_at, w.planned_at, \(status), \(approvedAt), \(actualStart), \(actualEnd),
               \(own("forced")), \(own("reason")), w.id, p.vm
        FROM waves w JOIN wave_vms p ON p.wave = w.id JOIN \(names.rawValue) k ON k.key = p.vm
        LEFT JOIN vm_departures d ON d.wave = p.wave AND d.vm = p.vm
        """
    }

    /// For each wave whose id `waves` selects, the lifecycles of its VMs and how many share each
    /// (`n`): the wave's own, for the VMs without a departure, and one row per departure.
    package static func memberStates(_ waves: String) -> String {
        """
        SELECT w.id AS wave, (SELECT count(*) FROM wave_vms p WHERE p.wave = w.id) - (SELECT count(*) FROM vm_departures d WHERE d.wave = w.id) AS n,
               w.status, w.approved_at, w.actual_start, w.actual_end FROM waves w WHERE w.id IN (\(waves))
        UNION ALL
        SELECT d.wave, 1, d.status, d.approved_at, d.actual_start, d.actual_end FROM vm_departures d WHERE d.wave IN (\(waves))
        """
    }

    /// Every key the VMs whose name passes `test` ever had, as a subquery: the key of the VM in
    /// the fleet, and those of VMs of that name that left it (a VM recorded again after its
    /// removal has a new key). `test` is a condition on `name` ("= ?", "IN (…)"); it appears
    /// twice, so a positional argument in it is passed twice.
    package static func keys(ofVMsNamed test: String) -> String {
        "(SELECT key FROM vms WHERE name \(test) UNION ALL SELECT key FROM vm_names WHERE retired = 1 AND name \(test))"
    }

    /// Start order, then id: the order events are listed in.
    package static let startOrder = "w.start_at, w.public_id, k.name"

    /// The events `select` finds under `clauses`, in start order then id.
    static func read(_ db: Database, where clauses: [String], _ arguments: StatementArguments, extra: String = "",
                     order: String = EventRows.startOrder) throws -> [EventRecord] {
        var out: [EventRecord] = []
        try forEach(db, where: clauses, arguments, extra: extra, order: order) { record, _ in out.append(record) }
        return out
    }

    /// Hands each event `select` finds under `clauses` to `body`, with its row, whose columns
    /// 17 and 18 are its wave's and its VM's integer keys.
    static func forEach(_ db: Database, where clauses: [String], _ arguments: StatementArguments, extra: String = "",
                        order: String, _ body: (EventRecord, RawRows) throws -> Void) throws {
        let sql = select(names: .sqlite) + extra + (clauses.isEmpty ? "" : "\nWHERE " + clauses.joined(separator: " AND ")) + "\nORDER BY " + order
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let rows = RawRows(statement: statement, db: db)
        var reader = Reader(rows)
        while let record = try reader.next() { try body(record, rows) }
    }

    /// Decodes `select`'s columns (and any after them, for the caller), sharing one copy of each
    /// wave's strings among its VMs' records.
    struct Reader {
        let rows: RawRows
        private var waveKey: Int64 = -1
        private var wave = Wave()

        init(_ rows: RawRows) { self.rows = rows }

        mutating func next() throws -> EventRecord? {
            guard try rows.next() else { return nil }
            let key = rows.int64(17) ?? -1
            if key != waveKey {
                let id = rows.text(0) ?? ""
                let facts = try rows.waveFacts(of: id, kind: 7, times: 8)
                wave = Wave(id: id, campaign: rows.text(1) ?? "", region: rows.text(3) ?? "", set: rows.text(4), facts: facts)
                waveKey = key
            }
            return try EventRows.record(of: wave, vm: rows.text(2) ?? "", updateDomain: rows.int(5), faultDomain: rows.int(6),
                                        status: rows.text(11), approvedAt: rows.int64(12), actualStart: rows.int64(13),
                                        actualEnd: rows.int64(14), forced: rows.int(15), reason: rows.text(16))
        }
    }
}

/// What happened to one VM in its wave: the part of an event that a wave row or a departure keeps.
package struct Lifecycle: Hashable {
    package var status: EventStatus
    package var approvedAt: Timestamp?
    package var actualStart: Timestamp?
    package var actualEnd: Timestamp?
    package var forced: Bool
    package var reason: String?

    package init(_ r: EventRecord) {
        (status, approvedAt, actualStart, actualEnd, forced, reason) = (r.event.status, r.approvedAt, r.actualStart, r.actualEnd, r.forced, r.reason)
    }

    /// A VM's lifecycle as planned: its status, nothing else yet.
    package init(planned e: PlannedEvent) {
        (status, approvedAt, actualStart, actualEnd, forced, reason) = (e.status, nil, nil, nil, false, nil)
    }

    /// Reads status, approved_at, actual_start, actual_end, forced and reason from `row`'s
    /// columns `i` to `i + 5`, in that order; nil for a status this build does not know.
    init?(_ row: Row, at i: Int) {
        self.init(status: row[i], approvedAt: row[i + 1], actualStart: row[i + 2], actualEnd: row[i + 3], forced: row[i + 4], reason: row[i + 5])
    }

    /// A lifecycle from its columns as a wave or a departure row keeps them; nil for a status
    /// this build does not know.
    package init?(status: String, approvedAt: Int64?, actualStart: Int64?, actualEnd: Int64?, forced: Int64, reason: String?) {
        guard let status = EventStatus(rawValue: status) else { return nil }
        (self.status, self.forced, self.reason) = (status, forced == 1, reason)
        (self.approvedAt, self.actualStart, self.actualEnd) = (approvedAt.map(Timestamp.init(seconds:)),
                                                               actualStart.map(Timestamp.init(seconds:)), actualEnd.map(Timestamp.init(seconds:)))
    }

    /// The lifecycle a wave keeps for `lives`, its VMs' lifecycles in key order: the one most
    /// of them share, `current` (the wave's now) on a tie, else the first in that order.
    package static func common(of lives: [Lifecycle], current: Lifecycle) -> Lifecycle {
        var tally: [Lifecycle: Int] = [:]
        for life in lives { tally[life, default: 0] += 1 }
        let best = tally.values.max() ?? 0
        return tally[current] == best ? current : lives.first(where: { tally[$0] == best })!
    }

    /// The columns after the keys, in the order the wave and departure tables list them.
    package var columns: (status: String, approvedAt: Int64?, actualStart: Int64?, actualEnd: Int64?, forced: Int, reason: String?) {
        (status.rawValue, approvedAt?.seconds, actualStart?.seconds, actualEnd?.seconds, forced ? 1 : 0, reason)
    }

    var arguments: [(any DatabaseValueConvertible)?] {
        let c = columns
        return [c.status, c.approvedAt, c.actualStart, c.actualEnd, c.forced, c.reason]
    }
}

/// Applies per-VM lifecycle changes to one wave and folds them: the lifecycle most of its VMs
/// share is the wave's (the current one on a tie), and only the VMs living otherwise keep a
/// departure row. A wave-wide transition is one row written, not one per VM.
struct WaveFold {
    let db: Database
    let wave: String

    init(_ db: Database, wave: String) {
        self.db = db
        self.wave = wave
    }

    func apply(_ changes: [String: EventRecord]) throws {
        // One read gives each member's lifecycle and both keys (the wave's, the VM's).
        var waveKey: Int64?, first: Lifecycle?
        var lives: [(vm: Int64, life: Lifecycle)] = []
        try EventRows.forEach(db, where: ["w.public_id = ?"], [wave], order: "p.vm") { member, row in
            guard let wave = row.int64(17), let vm = row.int64(18) else { return }
            waveKey = wave
            if first == nil { first = Lifecycle(member) }
            lives.append((vm, Lifecycle(changes[member.event.vm] ?? member)))
        }
        guard let waveKey, let first else { return }
        let current = try currentWaveLifecycle(waveKey, fallback: first)
        let common = Lifecycle.common(of: lives.map(\.life), current: current)

        try db.execute(sql: """
            UPDATE waves SET status = ?, approved_at = ?, actual_start = ?, actual_end = ?, forced = ?, reason = ? WHERE id = ?
            """, arguments: StatementArguments(common.arguments + [waveKey]))
        try db.execute(sql: "DELETE FROM vm_departures WHERE wave = ?", arguments: [waveKey])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO vm_departures(wave, vm, status, approved_at, actual_start, actual_end, forced, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for entry in lives where entry.life != common {
            try insert.execute(arguments: StatementArguments([waveKey, entry.vm] + entry.life.arguments))
        }
    }

    private func currentWaveLifecycle(_ key: Int64, fallback: Lifecycle) throws -> Lifecycle {
        try Row.fetchOne(db, sql: "SELECT status, approved_at, actual_start, actual_end, forced, reason FROM waves WHERE id = ?",
                         arguments: [key]).flatMap { Lifecycle($0, at: 0) } ?? fallback
    }
}

/// Writes (wave, VM) pairs a statement of ``rows`` at a time. One row a statement, SQLite
/// opens and closes the table's and the index's cursors and seeks both from the root for every
/// pair; a statement of many rows keeps them open. The statement says OR FAIL: under SQLite's
/// default (ABORT) a statement that writes several rows keeps a journal of every page it
/// touches, to undo itself half way, which tripled the system time of a million pairs; under
/// FAIL it keeps none, and a failure leaves the statement's earlier rows to the transaction,
/// which the plan then rolls back whole. Measured on a million pairs in the plan's order:
/// about half the time of one row a statement.
final class PairInserter {
    typealias Pair = (wave: Int64, vm: Int64, faultDomain: Int?)
    static let rows = 64
    private let db: Database
    private let full: Statement
    private let single: Statement
    private var pending: [Pair] = []

    init(_ db: Database) throws {
        self.db = db
        let head = "INSERT OR FAIL INTO wave_vms(wave, vm, fault_domain) VALUES "
        full = try db.makeStatement(sql: head + Array(repeating: "(?, ?, ?)", count: Self.rows).joined(separator: ", "))
        single = try db.makeStatement(sql: head + "(?, ?, ?)")
        pending.reserveCapacity(Self.rows)
    }

    func add(wave: Int64, vm: Int64, faultDomain: Int?) throws {
        pending.append((wave, vm, faultDomain))
        guard pending.count == Self.rows else { return }
        try write(pending, with: full)
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes what is pending, one row a statement.
    func flush() throws {
        for p in pending { try write([p], with: single) }
        pending.removeAll(keepingCapacity: true)
    }

    private func write(_ rows: [Pair], with statement: Statement) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        for (i, p) in rows.enumerated() {
            let n = Int32(3 * i)
            sqlite3_bind_int64(handle, n + 1, p.wave)
            sqlite3_bind_int64(handle, n + 2, p.vm)
            bind(handle, n + 3, p.faultDomain)
        }
        try stepToDone(statement, in: db)
    }
}

/// Writes a plan: one row per wave, each VM by its integer key (its name kept in `vm_names`), and one
/// (wave, VM) pair per event, in the plan's order (measured on a million pairs: sorting them by
/// VM first saved nothing), through ``PairInserter``.
package struct WaveWriter {
    let db: Database

    init(_ db: Database) { self.db = db }

    func write(_ events: [PlannedEvent], keys: [VMKey]?, recorded: RecordedNames?, progress: ((Int) -> Void)?) throws {
        guard !events.isEmpty else { return }
        var vmKeys = try names(of: events, lookUp: keys == nil, recorded: recorded)
        var waveKeys: [String: (key: Int64, life: Lifecycle)] = [:]
        let arena = BindArena()
        let campaigns = Self.campaigns(of: events)
        // A new plan's campaign has no waves yet: then no wave is looked up one by one.
        let extending = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM waves WHERE campaign IN (SELECT value FROM json_each(?)))",
                                          arguments: [JSONText.array(campaigns.map(JSONText.quote))]) ?? true
        let insertWave = try db.makeStatement(sql: """
            INSERT INTO waves(public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let pairs = try PairInserter(db)
        var written = 0
        func pair(_ vm: Int64, _ wave: Int64, _ faultDomain: Int?) throws {
            try pairs.add(wave: wave, vm: vm, faultDomain: faultDomain)
            written += 1
            if written % 4096 == 0 { progress?(written) }
        }
        var departures: [(wave: Int64, vm: Int64, life: Lifecycle)] = []
        var last: (id: String, key: Int64, life: Lifecycle)?
        for i in events.indices {
            let life = Lifecycle(planned: events[i])
            if let last, last.id == events[i].wave, life == last.life {
                // The common case, read in place: the same wave as the VM before, nothing of its own.
                try pair(try key(of: i, events[i].vm, given: keys, known: &vmKeys), last.key, events[i].faultDomain)
                continue
            }
            let e = events[i]
            let wave: (key: Int64, life: Lifecycle)
            // A plan lists each wave's VMs together: compare with the last wave before hashing.
            if let last, last.id == e.wave {
                wave = (last.key, last.life)
            } else if let known = waveKeys[e.wave] {
                wave = known
            } else if extending, let existing = try existingWave(e) {
                wave = existing
                waveKeys[e.wave] = existing
            } else {
                let handle = insertWave.sqliteStatement
                sqlite3_reset(handle)
                arena.reset()
                for (k, text) in [e.wave, e.campaign, e.kind.rawValue, e.region, e.availabilitySet].enumerated() { arena.bind(handle, Int32(k + 1), text) }
                bind(handle, 6, e.updateDomain)
                for (k, seconds) in [e.range.start.seconds, e.range.end.seconds, e.plannedAt.seconds].enumerated() {
                    sqlite3_bind_int64(handle, Int32(k + 7), seconds)
                }
                arena.bind(handle, 10, e.status.rawValue)
                try stepToDone(insertWave, in: db)
                wave = (db.lastInsertedRowID, life)
                waveKeys[e.wave] = wave
            }
            last = (e.wave, wave.key, wave.life)
            let vm = try key(of: i, e.vm, given: keys, known: &vmKeys)
            try pair(vm, wave.key, e.faultDomain)
            if life != wave.life { departures.append((wave.key, vm, life)) }
        }
        try pairs.flush()
        progress?(written)
        for d in departures {
            try db.execute(sql: """
                INSERT INTO vm_departures(wave, vm, status, approved_at, actual_start, actual_end, forced, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: StatementArguments([d.wave, d.vm] + d.life.arguments))
        }
    }

    /// The wave `e` names when it was written before, by an earlier call: a plan is written
    /// whole, but a history can be added to. Its planned facts must be the event's.
    private func existingWave(_ e: PlannedEvent) throws -> (key: Int64, life: Lifecycle)? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status, approved_at,
                   actual_start, actual_end, forced, reason FROM waves WHERE public_id = ?
            """, arguments: [e.wave]) else { return nil }
        let life = try Self.check(e, against: (row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8]), life: Lifecycle(row, at: 9))
        return (row[0], life)
    }

    /// A wave as written: campaign, kind, region, set, update domain, start, end, planned at.
    package typealias WrittenWave = (campaign: String, kind: String, region: String, set: String?, updateDomain: Int?,
                                     start: Int64, end: Int64, plannedAt: Int64)

    /// The lifecycle of the wave `e` names, written before as `wave` with `life`; refused when
    /// its planned facts are not the event's.
    package static func check(_ e: PlannedEvent, against wave: WrittenWave, life: Lifecycle?) throws -> Lifecycle {
        let same = wave.campaign == e.campaign && wave.kind == e.kind.rawValue && wave.region == e.region
            && wave.set == e.availabilitySet && wave.updateDomain == e.updateDomain && wave.start == e.range.start.seconds
            && wave.end == e.range.end.seconds && wave.plannedAt == e.plannedAt.seconds
        guard same, let life else {
            throw PitstopError(.conflict, "event \(e.id) does not match its wave \(e.wave) as written: a wave's VMs share its campaign, place and times")
        }
        return life
    }

    /// The regions of `events`, each once, in the order they first appear.
    package static func regions(of events: [PlannedEvent]) -> [String] {
        var regions: [String] = []
        // A plan lists a region's events together: compare with the last before hashing.
        var seen = Set<String>(), last: String?
        for e in events where e.region != last {
            last = e.region
            if seen.insert(e.region).inserted { regions.append(e.region) }
        }
        return regions
    }

    /// The campaigns of `events`, each once, in the order they first appear.
    package static func campaigns(of events: [PlannedEvent]) -> [String] {
        var campaigns: [String] = []
        for e in events where campaigns.last != e.campaign && !campaigns.contains(e.campaign) { campaigns.append(e.campaign) }
        return campaigns
    }

    /// The key of event `i`'s VM: the one the caller read with the fleet, else the one looked
    /// up by name.
    private func key(of i: Int, _ name: String, given keys: [VMKey]?, known: inout [String: VMKey]) throws -> VMKey {
        if let keys, keys[i] > 0 { return keys[i] }
        return try known[name] ?? intern(name, into: &known)
    }

    /// Records the names of the events' VMs, but for the regions `recorded` covers. With
    /// `lookUp`, returns the keys of the fleet's VMs in those regions by name; a VM no longer
    /// in the fleet is left to ``intern(_:into:)``.
    private func names(of events: [PlannedEvent], lookUp: Bool, recorded: RecordedNames?) throws -> [String: VMKey] {
        let regions = Self.regions(of: events)
        let unrecorded = regions.filter { recorded?.regions.contains($0) != true }
        if !unrecorded.isEmpty { try recordNames(inRegions: unrecorded) }
        var keys: [String: VMKey] = [:]
        guard lookUp else { return keys }
        keys.reserveCapacity(events.count)
        let (inRegions, arguments) = try filter(toRegions: regions)
        let statement = try db.makeStatement(sql: "SELECT v.key, v.name FROM vms v WHERE \(inRegions)v.key IS NOT NULL")
        try statement.setArguments(arguments)
        let rows = RawRows(statement: statement, db: db)
        while try rows.next() { keys[rows.text(1) ?? ""] = rows.int64(0) }
        return keys
    }

    /// Keys the VMs written without one, and adds to `vm_names` the fleet's VMs in `regions`
    /// that no plan named before (one statement).
    func recordNames(inRegions regions: [String]) throws {
        let (inRegions, arguments) = try filter(toRegions: regions)
        try keyVMsWrittenWithoutKey()
        // OR IGNORE: a rowid insert finds its place anyway, so a name already there costs no
        // extra search (NOT EXISTS searched once more per VM: 0.52 s against 0.38 s for a
        // million in the sqlite3 shell).
        try db.execute(sql: """
            INSERT OR IGNORE INTO vm_names(key, name) SELECT v.key, v.name FROM vms v WHERE \(inRegions)v.key IS NOT NULL
            """, arguments: arguments)
    }

    /// A condition on `vms v` that keeps the VMs of `regions`, to put before another. A plan
    /// over every region (the usual campaign) reads the fleet unfiltered: testing a million
    /// VMs' regions against the list cost 0.3 s, half of recording their names.
    private func filter(toRegions regions: [String]) throws -> (String, StatementArguments) {
        let everyRegion = try Int.fetchOne(db, sql: "SELECT count(*) FROM regions") == Set(regions).count
        return everyRegion ? ("", []) : ("v.region IN (SELECT value FROM json_each(?)) AND ", [JSONText.array(regions.map(JSONText.quote))])
    }

    /// Gives the VMs another tool wrote without a key (Pitstop's writers always give one) the
    /// next keys, in name order. Found by the partial index `vms_without_key`, empty otherwise.
    private func keyVMsWrittenWithoutKey() throws {
        let keyless = try Int64.fetchOne(db, sql: "SELECT count(*) FROM vms WHERE key IS NULL") ?? 0
        guard keyless > 0 else { return }
        let first = try claimVMKeys(keyless, in: db)
        try db.execute(sql: """
            WITH fresh AS (SELECT name, row_number() OVER (ORDER BY name) - 1 AS n FROM vms WHERE key IS NULL)
            UPDATE vms SET key = ? + fresh.n FROM fresh WHERE vms.name = fresh.name
            """, arguments: [first])
    }

    /// The key of a VM outside the regions read: its key in the fleet, else the last key its
    /// name had when its VM left the fleet, else a new key for the name alone (retired: no VM
    /// in the fleet has it).
    private func intern(_ name: String, into keys: inout [String: Int64]) throws -> Int64 {
        let key: Int64
        if let inFleet = try Int64.fetchOne(db, sql: "SELECT key FROM vms WHERE name = ? AND key IS NOT NULL", arguments: [name]) {
            key = inFleet
            try db.execute(sql: "INSERT OR IGNORE INTO vm_names(key, name) VALUES (?, ?)", arguments: [key, name])
        } else if let retired = try Int64.fetchOne(db, sql: "SELECT max(key) FROM vm_names WHERE retired = 1 AND name = ?", arguments: [name]) {
            key = retired
        } else {
            key = try claimVMKeys(1, in: db)
            try db.execute(sql: "INSERT INTO vm_names(key, name, retired) VALUES (?, ?, 1)", arguments: [key, name])
        }
        keys[name] = key
        return key
    }
}

/// Builds the active plan's columns from its waves' rows, each wave's VMs together: a VM's
/// status is its departure's if it has one, else its wave's; only active events are kept.
package struct PlanAssembler {
    package private(set) var plan: PlanColumns
    private let departed: [Int64: [Int64: EventStatus]]
    private var last: (key: Int64, index: Int32, status: EventStatus?, departed: [Int64: EventStatus]?) = (-1, -1, nil, nil)

    /// `names` holds every VM name by its key; `departed`, by wave key then VM key, the
    /// status of each VM that departs from its wave.
    package init(names: [String], fleetKeys: [VMKey]?, departed: [Int64: [Int64: EventStatus]]) {
        plan = PlanColumns(names: names)
        self.departed = departed
        // Names are indexed by key: a fleet VM's position is one store away.
        if let fleetKeys {
            var positions = [Int32](repeating: -1, count: plan.names.count)
            for (position, key) in fleetKeys.enumerated() where key > 0 && key < positions.count { positions[Int(key)] = Int32(position) }
            plan.fleetPositions = positions
        }
    }

    /// Whether the row of the wave `key` starts another wave than the row before.
    package func isNew(wave key: Int64) -> Bool { key != last.key }

    /// Starts the wave `key`, whose stored status is `status`.
    package mutating func begin(wave key: Int64, _ wave: PlanColumns.Wave, status: String?) {
        let w = plan.append(wave: wave)
        last = (key, w, status.flatMap(EventStatus.init(rawValue:)), departed[key])
    }

    /// Adds the current wave's VM `vm` (its key) if its event is active.
    package mutating func add(vm: Int, faultDomain: Int?) throws {
        guard let status = last.departed.flatMap({ $0[Int64(vm)] }) ?? last.status else {
            throw corruptRow(table: "waves", key: plan.waves[Int(last.index)].id, problem: "a status cannot be read")
        }
        guard status.isActive else { return }
        guard plan.names.indices.contains(vm) else {
            throw corruptRow(table: "wave_vms", key: plan.waves[Int(last.index)].id, problem: "VM key \(vm) has no name")
        }
        plan.append(name: Int32(vm), wave: last.index, faultDomain: faultDomain, status: status)
    }
}

/// A campaign's row as both engines keep it.
package enum CampaignRows {
    /// The `regions` column: a JSON array of names.
    package static func regionsText(_ regions: [String]) -> String { JSONText.array(regions.map(JSONText.quote)) }

    package static func record(id: String, kind: String, status: String, createdAt: String, notBefore: String, regions: String,
                               perVMSeconds: Int64, udGapSeconds: Int64, horizonSeconds: Int64, description: String,
                               start: String, end: String) throws -> CampaignRecord {
        guard let kind = MaintenanceKind(rawValue: kind),
              let created = Timestamp(iso8601: createdAt), let notBefore = Timestamp(iso8601: notBefore),
              let start = Timestamp(iso8601: start), let end = Timestamp(iso8601: end) else {
            throw corruptRow(table: "campaigns", key: id, problem: "a kind or time cannot be read")
        }
        let regions = (try? JSONDecoder().decode([String].self, from: Data(regions.utf8))) ?? []
        let campaign = Campaign(id: id, kind: kind, regions: regions, createdAt: created, notBefore: notBefore,
                                perVMDuration: perVMSeconds, udGap: udGapSeconds, description: description, horizon: horizonSeconds)
        guard let status = CampaignStatus(rawValue: status) else {
            throw corruptRow(table: "campaigns", key: id, problem: "its status cannot be read")
        }
        return CampaignRecord(campaign: campaign, status: status, span: TimeRange(start: start, end: end))
    }
}
