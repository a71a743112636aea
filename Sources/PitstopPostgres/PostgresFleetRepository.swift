// The fleet's tables on PostgreSQL: the same reads, upserts and refusals as
// `SQLiteFleetRepository`, whose row-to-value rules (`StoredFleet`) both engines share.
import PitstopCore
import PitstopStore
import PostgresNIO

/// Reads and writes regions, pairs, subscriptions, sets, windows and blackouts in the caller's
/// transaction. A refused write throws the `PitstopError` the session translated.
struct PostgresFleetRepository: FleetRepository {
    let session: PostgresSession

    // MARK: Regions and pairs

    func regions() throws -> [Region] {
        try session.rows("SELECT name, display_name FROM regions ORDER BY name").map(region(from:))
    }

    func region(named name: String) throws -> Region? {
        try session.row("SELECT name, display_name FROM regions WHERE name = \(name)").map(region(from:))
    }

    private func region(from row: PostgresRow) throws -> Region {
        let (name, displayName) = try session.decode(row, (String, String?).self)
        return Region(name: name, displayName: displayName)
    }

    func upsert(region: Region) throws -> UpsertOutcome {
        if let existing = try self.region(named: region.name) {
            guard existing != region else { return .unchanged }
            try session.execute("UPDATE regions SET display_name = \(region.displayName) WHERE name = \(region.name)")
            return .updated
        }
        try session.execute("INSERT INTO regions(name, display_name) VALUES (\(region.name), \(region.displayName))")
        return .added
    }

    func regionPairs() throws -> [RegionPair] {
        try session.rows("SELECT region, paired_with FROM region_pairs ORDER BY region, paired_with").map {
            let (region, pairedWith) = try session.decode($0, (String, String).self)
            return RegionPair(region: region, pairedWith: pairedWith)
        }
    }

    /// SQLite's `INSERT OR IGNORE` skips a row its CHECK refuses (a region paired with itself)
    /// as well as one that exists: both are left out here, before the insert, and are unchanged.
    func upsert(pair: RegionPair) throws -> UpsertOutcome {
        let added = try session.execute("""
            INSERT INTO region_pairs(region, paired_with) SELECT \(pair.region), \(pair.pairedWith)
            WHERE \(pair.region) <> \(pair.pairedWith) ON CONFLICT DO NOTHING
            """)
        return added > 0 ? .added : .unchanged
    }

    func removePair(_ a: String, _ b: String) throws -> Int {
        try session.execute("""
            DELETE FROM region_pairs WHERE (region = \(a) AND paired_with = \(b)) OR (region = \(b) AND paired_with = \(a))
            """)
    }

    // MARK: Subscriptions

    func subscriptions() throws -> [Subscription] {
        try session.rows("SELECT id, admins, co_admins, notice_time_zone FROM subscriptions ORDER BY id").map(subscription(from:))
    }

    func subscription(id: String) throws -> Subscription? {
        try session.row("SELECT id, admins, co_admins, notice_time_zone FROM subscriptions WHERE id = \(id)").map(subscription(from:))
    }

    private func subscription(from row: PostgresRow) throws -> Subscription {
        let (id, admins, coAdmins, zone) = try session.decode(row, (String, String, String, String).self)
        return StoredFleet.subscription(id: id, admins: admins, coAdmins: coAdmins, noticeTimeZone: zone)
    }

    func upsert(subscription: Subscription) throws -> UpsertOutcome {
        let admins = StoredFleet.storedList(subscription.admins)
        let coAdmins = StoredFleet.storedList(subscription.coAdmins)
        if let existing = try self.subscription(id: subscription.id) {
            guard existing != subscription else { return .unchanged }
            try session.execute("""
                UPDATE subscriptions SET admins = \(admins), co_admins = \(coAdmins), notice_time_zone = \(subscription.noticeTimeZone)
                WHERE id = \(subscription.id)
                """)
            return .updated
        }
        try session.execute("""
            INSERT INTO subscriptions(id, admins, co_admins, notice_time_zone)
            VALUES (\(subscription.id), \(admins), \(coAdmins), \(subscription.noticeTimeZone))
            """)
        return .added
    }

    // MARK: Availability sets

    private static let setColumns = "name, region, subscription, fault_domains, update_domains"

    func availabilitySets(region: String?) throws -> [AvailabilitySet] {
        let rows = if let region {
            try session.rows("SELECT \(unescaped: Self.setColumns) FROM availability_sets WHERE region = \(region) ORDER BY name")
        } else {
            try session.rows("SELECT \(unescaped: Self.setColumns) FROM availability_sets ORDER BY name")
        }
        return try rows.map(availabilitySet(from:))
    }

    func availabilitySet(named name: String) throws -> AvailabilitySet? {
        try session.row("SELECT \(unescaped: Self.setColumns) FROM availability_sets WHERE name = \(name)").map(availabilitySet(from:))
    }

    private func availabilitySet(from row: PostgresRow) throws -> AvailabilitySet {
        let (name, region, subscription, faultDomains, updateDomains) = try session.decode(row, (String, String, String, Int, Int).self)
        return AvailabilitySet(name: name, region: region, subscription: subscription, faultDomains: faultDomains, updateDomains: updateDomains)
    }

    func placedCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try session.rows("SELECT name, placed_count FROM availability_sets") {
            let (name, count) = try session.decode(row, (String, Int).self)
            counts[name] = count
        }
        return counts
    }

    /// One statement: an import into a fleet of 2,000 sets spent half a second on a statement each.
    func setPlacedCounts(_ counts: [(set: String, placed: Int)]) throws {
        guard !counts.isEmpty else { return }
        try session.execute("""
            UPDATE availability_sets s SET placed_count = c.placed
            FROM unnest(\(counts.map(\.set))::text[], \(counts.map { Int64($0.placed) })::bigint[]) AS c(name, placed)
            WHERE s.name = c.name
            """)
    }

    func upsert(availabilitySet set: AvailabilitySet) throws -> UpsertOutcome {
        if let existing = try availabilitySet(named: set.name) {
            guard existing != set else { return .unchanged }
            try session.execute("""
                UPDATE availability_sets SET region = \(set.region), subscription = \(set.subscription),
                    fault_domains = \(set.faultDomains), update_domains = \(set.updateDomains)
                WHERE name = \(set.name)
                """)
            return .updated
        }
        try session.execute("""
            INSERT INTO availability_sets(name, region, subscription, fault_domains, update_domains)
            VALUES (\(set.name), \(set.region), \(set.subscription), \(set.faultDomains), \(set.updateDomains))
            """)
        return .added
    }

    func fleetIndex() throws -> FleetIndex {
        FleetIndex(
            regions: Set(try session.rows("SELECT name FROM regions").map { try session.decode($0, String.self) }),
            subscriptions: Set(try session.rows("SELECT id FROM subscriptions").map { try session.decode($0, String.self) }),
            sets: try availabilitySets())
    }

    // MARK: Maintenance windows

    private static let windowColumns = "name, region, availability_set, start_local, time_zone, duration, recur_every, expires_local"

    func maintenanceWindows() throws -> [MaintenanceWindow] {
        try session.rows("SELECT \(unescaped: Self.windowColumns) FROM maintenance_windows ORDER BY name").map(window(from:))
    }

    func maintenanceWindow(named name: String) throws -> MaintenanceWindow? {
        try session.row("SELECT \(unescaped: Self.windowColumns) FROM maintenance_windows WHERE name = \(name)").map(window(from:))
    }

    /// A row that no longer parses was written behind Pitstop's back: reported, not skipped.
    private func window(from row: PostgresRow) throws -> MaintenanceWindow {
        let (name, region, set, start, zone, duration, recurEvery, expires) =
            try session.decode(row, (String, String?, String?, String, String, String, String?, String?).self)
        return try StoredFleet.window(name: name, region: region, availabilitySet: set, start: start, timeZone: zone,
                                      duration: duration, recurEvery: recurEvery, expires: expires)
    }

    func upsert(window: MaintenanceWindow) throws -> UpsertOutcome {
        let c = StoredFleet.storedColumns(of: window)
        if let existing = try maintenanceWindow(named: window.name) {
            guard existing != window else { return .unchanged }
            try session.execute("""
                UPDATE maintenance_windows SET region = \(c.region), availability_set = \(c.availabilitySet), start_local = \(c.start),
                    time_zone = \(c.timeZone), duration = \(c.duration), duration_seconds = \(c.durationSeconds),
                    recur_every = \(c.recurEvery), expires_local = \(c.expires)
                WHERE name = \(window.name)
                """)
            return .updated
        }
        try session.execute("""
            INSERT INTO maintenance_windows(region, availability_set, start_local, time_zone, duration,
                duration_seconds, recur_every, expires_local, name)
            VALUES (\(c.region), \(c.availabilitySet), \(c.start), \(c.timeZone), \(c.duration),
                \(c.durationSeconds), \(c.recurEvery), \(c.expires), \(window.name))
            """)
        return .added
    }

    // MARK: Blackouts

    func blackouts() throws -> [Blackout] {
        try session.rows("SELECT name, region, start_utc, end_utc FROM blackouts ORDER BY name").map(blackout(from:))
    }

    func blackout(named name: String) throws -> Blackout? {
        try session.row("SELECT name, region, start_utc, end_utc FROM blackouts WHERE name = \(name)").map(blackout(from:))
    }

    private func blackout(from row: PostgresRow) throws -> Blackout {
        let (name, region, start, end) = try session.decode(row, (String, String?, String, String).self)
        return try StoredFleet.blackout(name: name, region: region, start: start, end: end)
    }

    func upsert(blackout: Blackout) throws -> UpsertOutcome {
        let (start, end) = (blackout.start.iso8601, blackout.end.iso8601)
        if let existing = try self.blackout(named: blackout.name) {
            guard existing != blackout else { return .unchanged }
            try session.execute("""
                UPDATE blackouts SET region = \(blackout.region), start_utc = \(start), end_utc = \(end) WHERE name = \(blackout.name)
                """)
            return .updated
        }
        try session.execute("""
            INSERT INTO blackouts(region, start_utc, end_utc, name) VALUES (\(blackout.region), \(start), \(end), \(blackout.name))
            """)
        return .added
    }

    // MARK: Removal

    func delete(_ kind: FleetRecordKind, key: String) throws -> Bool {
        let (table, column) = StoredFleet.table(of: kind)
        return try session.execute("DELETE FROM \(unescaped: table) WHERE \(unescaped: column) = \(key)") > 0
    }

    func dependants(of kind: FleetRecordKind, key: String, limit: Int) throws -> [(kind: String, names: [String])] {
        // Every key the VM named `$1` ever had (`EventRows.keys(ofVMsNamed:)`) and each event's
        // own status (`EventRows.status`): to share one fragment with the event repository's
        // port once it exists.
        let queries = StoredFleet.dependantQueries(of: kind, key: "$1", campaignsOfVM: """
            SELECT DISTINCT w.campaign FROM wave_vms p JOIN waves w ON w.id = p.wave
            LEFT JOIN vm_departures d ON d.wave = p.wave AND d.vm = p.vm
            WHERE p.vm IN (SELECT key FROM vms WHERE name = $1 UNION ALL SELECT key FROM vm_names WHERE retired = 1 AND name = $1)
              AND (CASE WHEN d.wave IS NULL THEN w.status ELSE d.status END) IN ('scheduled', 'started')
            ORDER BY 1
            """)
        return try queries.compactMap { query in
            var binds = PostgresBindings()
            binds.append(key)
            binds.append(limit)
            let names = try session.rows(PostgresQuery(unsafeSQL: query.sql + " LIMIT $2", binds: binds)).map { try session.decode($0, String.self) }
            return names.isEmpty ? nil : (query.kind, names)
        }
    }
}
