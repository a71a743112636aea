// Campaigns and their planned events on PostgreSQL, in the wave layout SQLite keeps
// (Migrations/0007_waves.sql): what is not SQL (folding a wave's lifecycles, the event filters,
// reading a row into an event) is the SQLite repository's, shared through PitstopStore. A plan's
// pairs go in as arrays, tens of thousands a statement, and VM keys are looked up by the set.
import Foundation
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresEventRepository: EventRepository {
    let session: PostgresSession

    // MARK: Campaigns

    func insert(campaign c: Campaign, span: TimeRange) throws {
        try session.execute("""
            INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds,
                horizon_seconds, description, start_utc, end_utc)
            VALUES (\(c.id), \(c.kind.rawValue), \(c.createdAt.iso8601), \(c.notBefore.iso8601), \(CampaignRows.regionsText(c.regions)),
                \(c.perVMDuration), \(c.udGap), \(c.horizon), \(c.description), \(span.start.iso8601), \(span.end.iso8601))
            """)
    }

    private static let campaignColumns = """
        SELECT id, kind, status, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds,
               description, start_utc, end_utc FROM campaigns
        """

    func campaigns() throws -> [CampaignRecord] {
        try session.rows("\(unescaped: Self.campaignColumns) ORDER BY created_at, id").map(campaign(from:))
    }

    func campaign(id: String) throws -> CampaignRecord? {
        try session.row("\(unescaped: Self.campaignColumns) WHERE id = \(id)").map(campaign(from:))
    }

    private func campaign(from row: PostgresRow) throws -> CampaignRecord {
        let (id, kind, status, created, notBefore, regions, perVM, udGap, horizon, description, start, end) = try session.decode(
            row, (String, String, String, String, String, String, Int, Int, Int, String, String, String).self)
        return try CampaignRows.record(id: id, kind: kind, status: status, createdAt: created, notBefore: notBefore, regions: regions,
                                       perVMSeconds: Int64(perVM), udGapSeconds: Int64(udGap), horizonSeconds: Int64(horizon),
                                       description: description, start: start, end: end)
    }

    func campaignTerms() throws -> [String: CampaignTerms] {
        var terms: [String: CampaignTerms] = [:]
        for row in try session.rows("SELECT id, kind, per_vm_seconds, ud_gap_seconds FROM campaigns") {
            let (id, kind, perVM, udGap) = try session.decode(row, (String, String, Int, Int).self)
            guard let kind = MaintenanceKind(rawValue: kind) else { continue }
            terms[id] = CampaignTerms(kind: kind, perVMDuration: Int64(perVM), udGap: Int64(udGap))
        }
        return terms
    }

    func setStatus(ofCampaign id: String, to status: CampaignStatus) throws {
        try session.execute("UPDATE campaigns SET status = \(status.rawValue) WHERE id = \(id)")
    }

    func campaignCount() throws -> Int {
        try session.value("SELECT count(*) FROM campaigns", as: Int.self) ?? 0
    }

    func eventCounts() throws -> [String: (events: Int, active: Int)] {
        var counts: [String: (events: Int, active: Int)] = [:]
        for row in try session.rows("""
            SELECT w.campaign, CAST(sum(m.n) AS bigint),
                   CAST(coalesce(sum(m.n) FILTER (WHERE m.status IN ('scheduled', 'started')), 0) AS bigint)
            FROM (\(unescaped: EventRows.memberStates("SELECT id FROM waves"))) m JOIN waves w ON w.id = m.wave GROUP BY w.campaign
            """) {
            let (campaign, events, active) = try session.decode(row, (String, Int, Int).self)
            counts[campaign] = (events, active)
        }
        return counts
    }

    func cancelScheduledEvents(ofCampaign id: String) throws -> Int {
        let cancelled = try session.value("""
            WITH picked AS (SELECT id FROM waves WHERE campaign = \(id))
            SELECT CAST(sum(n) AS bigint) FROM (\(unescaped: EventRows.memberStates("SELECT id FROM picked"))) m WHERE status = 'scheduled'
            """, as: Int.self) ?? 0
        try session.execute("UPDATE waves SET status = 'cancelled' WHERE campaign = \(id) AND status = 'scheduled'")
        try session.execute("""
            UPDATE vm_departures SET status = 'cancelled' WHERE status = 'scheduled' AND wave IN (SELECT id FROM waves WHERE campaign = \(id))
            """)
        // A departure that now lives as its wave does is no departure.
        try session.execute("""
            DELETE FROM vm_departures WHERE wave IN (SELECT id FROM waves WHERE campaign = \(id)) AND EXISTS (
                SELECT 1 FROM waves w WHERE w.id = vm_departures.wave AND w.status IS NOT DISTINCT FROM vm_departures.status
                AND w.approved_at IS NOT DISTINCT FROM vm_departures.approved_at
                AND w.actual_start IS NOT DISTINCT FROM vm_departures.actual_start
                AND w.actual_end IS NOT DISTINCT FROM vm_departures.actual_end AND w.forced IS NOT DISTINCT FROM vm_departures.forced
                AND w.reason IS NOT DISTINCT FROM vm_departures.reason)
            """)
        return cancelled
    }

    func hasEvents(vm: String) throws -> Bool {
        var sql = PostgresSQL()
        sql.text = "SELECT 1 FROM wave_vms WHERE vm IN \(EventRows.keys(ofVMsNamed: "= \(sql.bind(vm))")) LIMIT 1"
        return try session.row(sql.query) != nil
    }

    func hasEvents(region: String) throws -> Bool {
        try session.row("SELECT 1 FROM waves WHERE region = \(region) LIMIT 1") != nil
    }

    func recordNames(inRegions regions: [String]) throws -> RecordedNames {
        // A VM in the fleet is named by its row in `vms` (postgres/0004): only keys are given.
        try PostgresWaveWriter(session: session).keyVMsWrittenWithoutKey()
        return RecordedNames(regions: Set(regions))
    }

    func insert(events: [PlannedEvent], keys: [VMKey]?, recorded: RecordedNames?, progress: ((Int) -> Void)?) throws {
        precondition(keys.map { $0.count == events.count } ?? true, "one key per event")
        try PostgresWaveWriter(session: session).write(events, keys: keys, recorded: recorded, progress: progress)
    }

    // MARK: Events

    func eventCount(wave id: String) throws -> Int {
        try session.value("SELECT count(*) FROM waves w JOIN wave_vms p ON p.wave = w.id WHERE w.public_id = \(id)", as: Int.self) ?? 0
    }

    /// Reads events in start order, then id.
    func forEachEvent(_ filter: EventFilter, from: Timestamp?, until: Timestamp?, after: EventPosition?,
                      _ body: (EventRecord) throws -> Void) throws {
        var sql = PostgresSQL()
        guard let clauses = EventRows.clauses(filter, from: from, until: until, after: after, bind: { sql.bind($0) }) else { return }
        try PostgresEventRows.forEach(session, &sql, where: clauses, order: EventRows.startOrder, streaming: true) { record, _ in try body(record) }
    }

    /// Per wave, the lifecycle most of its VMs share becomes the wave's, and only the others
    /// keep a departure row (``Lifecycle/common(of:current:)``).
    func update(_ records: [EventRecord]) throws {
        var byWave: [String: [String: EventRecord]] = [:]
        for r in records { byWave[r.event.wave, default: [:]][r.event.vm] = r }
        for (wave, changes) in byWave.sorted(by: { $0.key < $1.key }) {
            try fold(wave: wave, changes)
        }
    }

    private func fold(wave: String, _ changes: [String: EventRecord]) throws {
        // One read gives each member's lifecycle and both keys (the wave's, the VM's).
        var sql = PostgresSQL()
        var waveKey: Int64?, first: Lifecycle?
        var lives: [(vm: Int64, life: Lifecycle)] = []
        try PostgresEventRows.forEach(session, &sql, where: ["w.public_id = \(sql.bind(wave))"], order: "p.vm") { member, keys in
            waveKey = keys.wave
            if first == nil { first = Lifecycle(member) }
            lives.append((keys.vm, Lifecycle(changes[member.event.vm] ?? member)))
        }
        guard let waveKey, let first else { return }
        var current = first
        if let row = try session.row("SELECT status, approved_at, actual_start, actual_end, forced, reason FROM waves WHERE id = \(waveKey)") {
            let (status, approved, start, end, forced, reason) = try session.decode(row, (String, Int64?, Int64?, Int64?, Int, String?).self)
            current = Lifecycle(status: status, approvedAt: approved, actualStart: start, actualEnd: end, forced: Int64(forced), reason: reason) ?? first
        }
        let common = Lifecycle.common(of: lives.map(\.life), current: current).columns
        try session.execute("""
            UPDATE waves SET status = \(common.status), approved_at = \(common.approvedAt), actual_start = \(common.actualStart),
                actual_end = \(common.actualEnd), forced = \(common.forced), reason = \(common.reason) WHERE id = \(waveKey)
            """)
        try session.execute("DELETE FROM vm_departures WHERE wave = \(waveKey)")
        let departing = lives.filter { $0.life.columns != common }
        try PostgresWaveWriter(session: session).depart(departing.map { (waveKey, $0.vm, $0.life) })
    }

    /// Events in `regions`, of any campaign, that actually started and had not ended by
    /// `since` (or have not ended): what guarded execution weighs a start against.
    func startedEvents(regions: [String], endedAfter since: Timestamp) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = ["w.region = ANY(\(sql.bind(regions)))", EventRows.waveMayHaveStarted, EventRows.running(after: sql.bind(since.seconds))]
        return try PostgresEventRows.read(session, &sql, where: clauses)
    }

    /// Events of `vms` that actually started and had not ended by `since` (or have not ended).
    func startedEvents(vms: [String], endedAfter since: Timestamp) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = ["p.vm IN \(EventRows.keys(ofVMsNamed: "= ANY(\(sql.bind(vms)))"))", EventRows.running(after: sql.bind(since.seconds))]
        return try PostgresEventRows.read(session, &sql, where: clauses)
    }

    func activePlan(fleetKeys: [VMKey]?) throws -> PlanColumns {
        // The VMs' own lifecycles first (a handful of rows), then the names of the plan's VMs by key.
        var departed: [Int64: [Int64: EventStatus]] = [:]
        for row in try session.rows("SELECT wave, vm, status FROM vm_departures") {
            let (wave, vm, status) = try session.decode(row, (Int64, Int64, String).self)
            departed[wave, default: [:]][vm] = EventStatus(rawValue: status)
        }
        // Every name by its key, in one scan, when there is an active plan to name: most names
        // are the fleet's (postgres/0004), so a first plan, which has none, would read a million
        // for nothing (a second). Reading only the active VMs' names instead took 2.6 s for a
        // million of them, the keys gathered and hashed, against 0.3 s for the scan.
        var names: [String] = []
        if try session.value("SELECT EXISTS (SELECT 1 FROM waves w WHERE \(unescaped: EventRows.waveMayBeActive))", as: Bool.self) ?? true {
            let maxKey = try session.value("SELECT greatest((SELECT max(key) FROM vms), (SELECT max(key) FROM vm_names))", as: Int.self) ?? 0
            names = [String](repeating: "", count: maxKey + 1)
            // As one row of two arrays: a million names as rows, each a message with its cells
            // decoded, took a second of the client's time.
            let query: PostgresQuery = """
                SELECT array_agg(key), array_agg(name) FROM \(unescaped: EventRows.Names.postgres.rawValue) WHERE key IS NOT NULL
                """
            guard let row = try session.rows(query).first else { throw PostgresSession.unreadable }
            var columns = try PostgresColumnArrays(row)
            while columns.nextRow() {
                guard let key = try columns.integer(), let name = try columns.text() else { throw PostgresSession.unreadable }
                if key >= 0, key <= maxKey { names[Int(key)] = name }
            }
        }
        var plan = PlanAssembler(names: names, fleetKeys: fleetKeys, departed: departed)
        names = []
        // A wave a row, its VMs and their fault domains as two arrays in key order (the order
        // SQLite's scan gives): a million (wave, VM) rows, each repeating its wave's columns,
        // were most of what `check` took on a million events.
        try session.forEachRow("""
            SELECT w.id, w.public_id, w.campaign, w.kind, w.region, w.availability_set, w.update_domain, w.start_at, w.end_at,
                   w.planned_at, w.status, m.vms, m.fault_domains
            FROM waves w CROSS JOIN LATERAL (
                SELECT array_agg(p.vm ORDER BY p.vm) AS vms, array_agg(p.fault_domain ORDER BY p.vm) AS fault_domains
                FROM wave_vms p WHERE p.wave = w.id) AS m
            WHERE \(unescaped: EventRows.waveMayBeActive)
            ORDER BY w.id
            """) { row in
            var cells = PostgresCells(row)
            guard let key = try cells.integer() else { throw PostgresSession.unreadable }
            let id = try cells.requiredText(), campaign = try cells.requiredText(), kind = try cells.text(), region = try cells.requiredText()
            let set = try cells.text(), updateDomain = try cells.integer().map(Int.init)
            let start = try cells.integer(), end = try cells.integer(), planned = try cells.integer(), status = try cells.text()
            let vms = try cells.integers(), faultDomains = try cells.integers()
            guard vms.count == faultDomains.count else { throw PostgresSession.unreadable }
            // A wave without VMs has no event (the join of the rows before gave it none).
            guard !vms.isEmpty else { return }
            let facts = try EventRows.waveFacts(of: id, kind: kind, start: start, end: end, plannedAt: planned)
            plan.begin(wave: key, PlanColumns.Wave(
                id: id, campaign: campaign, kind: facts.kind, region: region, availabilitySet: set,
                updateDomain: updateDomain, range: facts.range, plannedAt: facts.plannedAt), status: status)
            for (vm, faultDomain) in zip(vms, faultDomains) {
                guard let vm else { throw PostgresSession.unreadable }
                try plan.add(vm: Int(vm), faultDomain: faultDomain.map(Int.init))
            }
        }
        return plan.plan
    }

    /// Every event of `campaign` in `regions`, whatever its status.
    func events(campaign: String, regions: [String]) throws -> [EventRecord] {
        var sql = PostgresSQL()
        let clauses = ["w.campaign = \(sql.bind(campaign)) AND w.region = ANY(\(sql.bind(regions)))"]
        return try PostgresEventRows.read(session, &sql, where: clauses)
    }

    // MARK: Waves

    /// One row a wave: its VMs counted by status, their actual extremes. The actual end is null
    /// while any started VM has not ended. `picked` selects wave ids.
    private static func waveSummaries(_ picked: String) -> String {
        func count(_ test: String) -> String { "CAST(sum(m.n) FILTER (WHERE \(test)) AS bigint)" }
        return """
            WITH picked AS (\(picked)),
            m AS (\(EventRows.memberStates("SELECT id FROM picked")))
            SELECT w.public_id, w.campaign, w.kind, w.region, w.availability_set, w.update_domain, w.start_at, w.end_at,
                min(CASE WHEN m.n > 0 THEN m.actual_start END),
                CASE WHEN count(*) FILTER (WHERE m.n > 0 AND m.actual_start IS NOT NULL AND m.actual_end IS NULL) > 0 THEN NULL
                     ELSE max(CASE WHEN m.n > 0 THEN m.actual_end END) END,
                \(count("m.status = 'scheduled'")), \(count("m.status = 'started'")), \(count("m.status = 'completed'")),
                \(count("m.status = 'failed'")), \(count("m.status = 'cancelled'")), \(count("m.approved_at IS NOT NULL")),
                \(count("m.status = 'scheduled' AND m.approved_at IS NULL"))
            FROM m JOIN waves w ON w.id = m.wave
            GROUP BY w.id ORDER BY w.start_at, w.public_id
            """
    }

    func waves(from: Timestamp, until: Timestamp) throws -> [WaveSummary] {
        // A wave planned within the range, or whose VMs actually ran (or still run) within it.
        var sql = PostgresSQL()
        let (f, u) = (sql.bind(from.seconds), sql.bind(until.seconds))
        sql.text = Self.waveSummaries("""
            SELECT id FROM waves w WHERE (w.end_at > \(f) AND w.start_at < \(u))
                OR (w.actual_start < \(u) AND (w.actual_end IS NULL OR w.actual_end > \(f)))
                OR EXISTS (SELECT 1 FROM vm_departures d WHERE d.wave = w.id
                           AND d.actual_start < \(u) AND (d.actual_end IS NULL OR d.actual_end > \(f)))
            """)
        return try readWaves(sql.query)
    }

    func wave(id: String) throws -> WaveSummary? {
        var sql = PostgresSQL()
        sql.text = Self.waveSummaries("SELECT id FROM waves WHERE public_id = \(sql.bind(id))")
        return try readWaves(sql.query).first
    }

    private func readWaves(_ query: PostgresQuery) throws -> [WaveSummary] {
        try session.rows(query).map { row in
            let (id, campaign, kind, region, set, updateDomain, start, end, actualStart, actualEnd) = try session.decode(
                row, (String, String, String, String, String?, Int?, Int64, Int64, Int64?, Int64?).self)
            let counts = try (10..<17).map { try session.decode(row, Int?.self, column: $0) }
            return try EventRows.waveSummary(
                id: id, campaign: campaign, kind: kind, region: region, availabilitySet: set, updateDomain: updateDomain,
                start: start, end: end, actualStart: actualStart, actualEnd: actualEnd, statusCounts: Array(counts[0..<5]),
                approvedEvents: counts[5], unapprovedScheduled: counts[6])
        }
    }
}

/// SQL text and the values it binds, built piece by piece: a value goes in as a parameter
/// (`$n`), never into the text; the text is fixed SQL of Pitstop's own.
struct PostgresSQL {
    var text = ""
    private(set) var binds = PostgresBindings()

    /// Binds `value` and returns its placeholder, which may appear more than once.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func bind(_ value: EventRows.Parameter) -> String {
        switch value {
        case .text(let text): bind(text)
        case .integer(let n): bind(n)
        }
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}

extension PostgresSession {
    /// Decodes one column of a row.
    func decode<Column: PostgresDecodable>(_ row: PostgresRow, _ type: Column.Type, column: Int) throws -> Column {
        do { return try row.makeRandomAccess()[column].decode(type) } catch { throw Self.unreadable }
    }
}

/// Reads events from ``EventRows/select``'s columns, sharing one copy of each wave's strings
/// among its VMs' records.
enum PostgresEventRows {
    typealias Columns = (String, String, String, String, String?, Int?, Int?, String, Int64, Int64, Int64,
                         String, Int64?, Int64?, Int64?, Int, String?, Int64, Int64)

    /// The events `select` finds under `clauses`, in start order then id.
    static func read(_ session: PostgresSession, _ sql: inout PostgresSQL, where clauses: [String],
                     order: String = EventRows.startOrder) throws -> [EventRecord] {
        var out: [EventRecord] = []
        try forEach(session, &sql, where: clauses, order: order) { record, _ in out.append(record) }
        return out
    }

    /// Hands each event `select` finds under `clauses` to `body` with its wave's and VM's keys.
    /// `streaming` reads them through a cursor, a batch at a time, for a read that may be large
    /// (three statements more); otherwise they come in one answer, held until all arrived.
    static func forEach(_ session: PostgresSession, _ sql: inout PostgresSQL, where clauses: [String], order: String,
                        streaming: Bool = false, _ body: (EventRecord, (wave: Int64, vm: Int64)) throws -> Void) throws {
        sql.text = EventRows.select(names: .postgres) + (clauses.isEmpty ? "" : "\nWHERE " + clauses.joined(separator: " AND ")) + "\nORDER BY " + order
        var reader = Reader()
        func take(_ row: PostgresRow) throws {
            let c = try columns(of: row)
            try body(try reader.record(c), (c.17, c.18))
        }
        if streaming {
            try session.forEachRow(sql.query, take)
        } else {
            for row in try session.rows(sql.query) { try take(row) }
        }
    }

    /// `select`'s columns of one row, read cell by cell (``PostgresCells``): the generic decoder
    /// of nineteen columns was most of the time a large read took.
    static func columns(of row: PostgresRow) throws -> Columns {
        var cells = PostgresCells(row)
        func number() throws -> Int64 {
            guard let value = try cells.integer() else { throw PostgresSession.unreadable }
            return value
        }
        return (try cells.requiredText(), try cells.requiredText(), try cells.requiredText(), try cells.requiredText(), try cells.text(),
                try cells.integer().map(Int.init), try cells.integer().map(Int.init), try cells.requiredText(),
                try number(), try number(), try number(), try cells.requiredText(),
                try cells.integer(), try cells.integer(), try cells.integer(), Int(try number()), try cells.text(), try number(), try number())
    }

    struct Reader {
        private var waveKey: Int64 = -1
        private var wave = EventRows.Wave()

        mutating func record(_ c: Columns) throws -> EventRecord {
            if c.17 != waveKey {
                let facts = try EventRows.waveFacts(of: c.0, kind: c.7, start: c.8, end: c.9, plannedAt: c.10)
                wave = EventRows.Wave(id: c.0, campaign: c.1, region: c.3, set: c.4, facts: facts)
                waveKey = c.17
            }
            return try EventRows.record(of: wave, vm: c.2, updateDomain: c.5, faultDomain: c.6, status: c.11, approvedAt: c.12,
                                        actualStart: c.13, actualEnd: c.14, forced: c.15, reason: c.16)
        }
    }
}

/// Writes a plan: one row per wave, each VM by its integer key (named by the fleet's row, or by
/// `vm_names` once its VM left the fleet),
/// and one (wave, VM) pair per event, as arrays of ``pairsPerStatement``.
struct PostgresWaveWriter {
    let session: PostgresSession

    /// Waves are inserted this many to a statement.
    static let pairsPerStatement = 50_000
    /// Progress is told every this many pairs.
    static let progressEvery = 50_000
    static let pairColumns = ["wave", "vm", "fault_domain"]

    func write(_ events: [PlannedEvent], keys: [VMKey]?, recorded: RecordedNames?, progress: ((Int) -> Void)?) throws {
        guard !events.isEmpty else { return }
        let vmKeys = try self.keys(of: events, given: keys, recorded: recorded)
        // A new plan's campaign has no waves yet: then no wave is looked up.
        let extending = try session.value(
            "SELECT EXISTS (SELECT 1 FROM waves WHERE campaign = ANY(\(WaveWriter.campaigns(of: events))))", as: Bool.self) ?? true
        let written = extending ? try existingWaves(of: events) : [:]
        // Each wave once, in the order the plan first names it: the ones written before, the new ones.
        var waves: [String: (key: Int64, life: Lifecycle)] = [:]
        var fresh: [PlannedEvent] = []
        var last: String?
        for e in events where e.wave != last {
            last = e.wave
            guard waves[e.wave] == nil else { continue }
            if let existing = written[e.wave] {
                waves[e.wave] = (existing.key, try WaveWriter.check(e, against: existing.wave, life: existing.life))
            } else {
                waves[e.wave] = (-1, Lifecycle(planned: e))
                fresh.append(e)
            }
        }
        for (id, key) in try insertWaves(fresh) { waves[id]?.key = key }
        // The pairs, in the plan's order, through one COPY, and the VMs whose planned lifecycle
        // is not their wave's.
        var departures: [(wave: Int64, vm: Int64, life: Lifecycle)] = []
        for i in events.indices {
            let e = events[i], wave = waves[e.wave]!, vm = vmKeys[i]
            try session.copyRow(into: "wave_vms", columns: Self.pairColumns, [String(wave.key), String(vm), e.faultDomain.map { String($0) }])
            let life = Lifecycle(planned: e)
            if life != wave.life { departures.append((wave.key, vm, life)) }
            if (i + 1) % Self.progressEvery == 0 || i + 1 == events.count { progress?(i + 1) }
        }
        try depart(departures)
    }

    /// Writes departure rows, all in one statement.
    func depart(_ departures: [(wave: Int64, vm: Int64, life: Lifecycle)]) throws {
        guard !departures.isEmpty else { return }
        let columns = departures.map(\.life.columns)
        // Arrays bind no NULL: each nullable column goes with whether each value is null.
        let approved = columns.map(\.approvedAt), started = columns.map(\.actualStart), ended = columns.map(\.actualEnd)
        let reasons = columns.map(\.reason)
        try session.execute("""
            INSERT INTO vm_departures(wave, vm, status, approved_at, actual_start, actual_end, forced, reason)
            SELECT wave, vm, status, CASE WHEN a_null THEN NULL ELSE a END, CASE WHEN s_null THEN NULL ELSE s END,
                   CASE WHEN e_null THEN NULL ELSE e END, forced, CASE WHEN r_null THEN NULL ELSE r END
            FROM unnest(\(departures.map(\.wave))::bigint[], \(departures.map(\.vm))::bigint[], \(columns.map(\.status))::text[],
                \(approved.map { $0 ?? 0 })::bigint[], \(approved.map { $0 == nil })::boolean[],
                \(started.map { $0 ?? 0 })::bigint[], \(started.map { $0 == nil })::boolean[],
                \(ended.map { $0 ?? 0 })::bigint[], \(ended.map { $0 == nil })::boolean[],
                \(columns.map { Int64($0.forced) })::int[], \(reasons.map { $0 ?? "" })::text[], \(reasons.map { $0 == nil })::boolean[])
                AS t(wave, vm, status, a, a_null, s, s_null, e, e_null, forced, r, r_null)
            """)
    }

    /// Inserts the new waves, in order; returns each one's key by its id.
    private func insertWaves(_ waves: [PlannedEvent]) throws -> [(String, Int64)] {
        var keys: [(String, Int64)] = []
        for start in stride(from: 0, to: waves.count, by: Self.pairsPerStatement) {
            let chunk = waves[start..<min(start + Self.pairsPerStatement, waves.count)]
            for row in try session.rows("""
                INSERT INTO waves(public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status)
                SELECT id, campaign, kind, region, NULLIF(availability_set, ''), NULLIF(update_domain, -1), start_at, end_at, planned_at, status
                FROM unnest(\(chunk.map(\.wave))::text[], \(chunk.map(\.campaign))::text[], \(chunk.map(\.kind.rawValue))::text[],
                            \(chunk.map(\.region))::text[], \(chunk.map { $0.availabilitySet ?? "" })::text[],
                            \(chunk.map { Nulls.domain($0.updateDomain) })::int[], \(chunk.map(\.range.start.seconds))::bigint[],
                            \(chunk.map(\.range.end.seconds))::bigint[], \(chunk.map(\.plannedAt.seconds))::bigint[],
                            \(chunk.map(\.status.rawValue))::text[])
                     WITH ORDINALITY AS t(id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status, n)
                ORDER BY n
                RETURNING public_id, id
                """) {
                keys.append(try session.decode(row, (String, Int64).self))
            }
        }
        return keys
    }

    /// The waves of `events` written before, by an earlier call: a plan is written whole, but
    /// a history can be added to.
    private func existingWaves(of events: [PlannedEvent]) throws -> [String: (key: Int64, wave: WaveWriter.WrittenWave, life: Lifecycle?)] {
        var ids: [String] = [], last: String?
        for e in events where e.wave != last { last = e.wave; ids.append(e.wave) }
        var out: [String: (key: Int64, wave: WaveWriter.WrittenWave, life: Lifecycle?)] = [:]
        for row in try session.rows("""
            SELECT id, public_id, campaign, kind, region, availability_set, update_domain, start_at, end_at, planned_at, status, approved_at,
                   actual_start, actual_end, forced, reason FROM waves WHERE public_id = ANY(\(Array(Set(ids))))
            """) {
            let c = try session.decode(row, (Int64, String, String, String, String, String?, Int?, Int64, Int64, Int64,
                                             String, Int64?, Int64?, Int64?, Int, String?).self)
            out[c.1] = (c.0, (c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9),
                        Lifecycle(status: c.10, approvedAt: c.11, actualStart: c.12, actualEnd: c.13, forced: Int64(c.14), reason: c.15))
        }
        return out
    }

    /// Each event's VM key: the one the caller read with the fleet, else the fleet's by name
    /// (read for the plan's regions at once), else ``intern(_:)``'s. First keys the VMs written
    /// without one, unless `recorded` says this unit of work did for the plan's regions.
    private func keys(of events: [PlannedEvent], given keys: [VMKey]?, recorded: RecordedNames?) throws -> [VMKey] {
        let regions = WaveWriter.regions(of: events)
        let unrecorded = regions.filter { recorded?.regions.contains($0) != true }
        if !unrecorded.isEmpty { try keyVMsWrittenWithoutKey() }
        var known: [String: VMKey] = [:]
        if keys == nil {
            known.reserveCapacity(events.count)
            var sql = PostgresSQL()
            sql.text = "SELECT v.key, v.name FROM vms v WHERE \(try filter(toRegions: regions, &sql))v.key IS NOT NULL"
            try session.forEachRow(sql.query) { row in
                let (key, name) = try session.decode(row, (Int64, String).self)
                known[name] = key
            }
        }
        var out = [VMKey](repeating: 0, count: events.count)
        var missing: [String] = [], wanted = Set<String>()
        for i in events.indices {
            if let keys, keys[i] > 0 { out[i] = keys[i]; continue }
            if let key = known[events[i].vm] { out[i] = key; continue }
            if wanted.insert(events[i].vm).inserted { missing.append(events[i].vm) }
        }
        guard !missing.isEmpty else { return out }
        try intern(missing, into: &known)
        for i in events.indices where out[i] == 0 { out[i] = known[events[i].vm]! }
        return out
    }

    /// A condition on `vms v` that keeps the VMs of `regions`, to put before another; none
    /// when `regions` are all of them.
    private func filter(toRegions regions: [String], _ sql: inout PostgresSQL) throws -> String {
        let everyRegion = try session.value("SELECT count(*) FROM regions", as: Int.self) == Set(regions).count
        return everyRegion ? "" : "v.region = ANY(\(sql.bind(regions))) AND "
    }

    /// Gives the VMs another tool wrote without a key the next keys, in name order, so that a
    /// plan can name them. Their names need no copy: a VM in the fleet is named by its row in
    /// `vms` (postgres/0004); SQLite copies them to `vm_names` instead.
    func keyVMsWrittenWithoutKey() throws {
        let keyless = try session.value("SELECT count(*) FROM vms WHERE key IS NULL", as: Int64.self) ?? 0
        guard keyless > 0 else { return }
        let first = try PostgresVMWriter.claimKeys(keyless, in: session)
        try session.execute("""
            WITH fresh AS (SELECT name, row_number() OVER (ORDER BY name) - 1 AS n FROM vms WHERE key IS NULL)
            UPDATE vms SET key = \(first) + fresh.n FROM fresh WHERE vms.name = fresh.name
            """)
    }

    /// The keys of VMs outside the regions read, by the set, in the order the plan names them:
    /// a VM's key in the fleet, else the last key its name had when its VM left the fleet, else
    /// a new key for the name alone (retired: no VM in the fleet has it).
    private func intern(_ names: [String], into keys: inout [String: VMKey]) throws {
        for row in try session.rows("SELECT key, name FROM vms WHERE name = ANY(\(names)) AND key IS NOT NULL") {
            let (key, name) = try session.decode(row, (Int64, String).self)
            keys[name] = key
        }
        let left = names.filter { keys[$0] == nil }
        guard !left.isEmpty else { return }
        for row in try session.rows("SELECT name, max(key) FROM vm_names WHERE retired = 1 AND name = ANY(\(left)) GROUP BY name") {
            let (name, key) = try session.decode(row, (String, Int64).self)
            keys[name] = key
        }
        let new = left.filter { keys[$0] == nil }
        guard !new.isEmpty else { return }
        let first = try PostgresVMWriter.claimKeys(Int64(new.count), in: session)
        let newKeys = new.indices.map { first + Int64($0) }
        for (name, key) in zip(new, newKeys) { keys[name] = key }
        try session.execute("""
            INSERT INTO vm_names(key, name, retired) SELECT k, n, 1 FROM unnest(\(newKeys)::bigint[], \(new)::text[]) AS t(k, n)
            """)
    }

}

/// Arrays bind no NULL: a domain (never negative) goes in as -1 for none, read back with
/// NULLIF; a set's name (never empty) as ''.
enum Nulls {
    static func domain(_ value: Int?) -> Int64 { value.map(Int64.init) ?? -1 }
}
