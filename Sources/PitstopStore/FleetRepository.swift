// The repository for the fleet's tables: reads as core values, writes as upserts that say
// what they changed. Every function runs inside the caller's transaction.
import Foundation
import GRDB
package import PitstopCore

/// Reads and writes regions, pairs, subscriptions, sets, windows and blackouts. VMs, which
/// come by the million, have their own bulk path in `SQLiteVMRepository`.
struct SQLiteFleetRepository: FleetRepository {
    let db: Database

    // MARK: Regions and pairs

    func regions() throws -> [Region] {
        try Row.fetchAll(db, sql: "SELECT name, display_name FROM regions ORDER BY name").map {
            Region(name: $0["name"], displayName: $0["display_name"])
        }
    }

    func region(named name: String) throws -> Region? {
        try Row.fetchOne(db, sql: "SELECT name, display_name FROM regions WHERE name = ?", arguments: [name]).map {
            Region(name: $0["name"], displayName: $0["display_name"])
        }
    }

    func upsert(region: Region) throws -> UpsertOutcome {
        if let existing = try self.region(named: region.name) {
            guard existing != region else { return .unchanged }
            try write(sql: "UPDATE regions SET display_name = ? WHERE name = ?", arguments: [region.displayName, region.name])
            return .updated
        }
        try write(sql: "INSERT INTO regions(name, display_name) VALUES (?, ?)", arguments: [region.name, region.displayName])
        return .added
    }

    func regionPairs() throws -> [RegionPair] {
        try Row.fetchAll(db, sql: "SELECT region, paired_with FROM region_pairs ORDER BY region, paired_with").map {
            RegionPair(region: $0["region"], pairedWith: $0["paired_with"])
        }
    }

    func upsert(pair: RegionPair) throws -> UpsertOutcome {
        try write(sql: "INSERT OR IGNORE INTO region_pairs(region, paired_with) VALUES (?, ?)", arguments: [pair.region, pair.pairedWith])
        return db.changesCount > 0 ? .added : .unchanged
    }

    /// Removes the link in either direction; returns how many links went.
    func removePair(_ a: String, _ b: String) throws -> Int {
        try write(sql: "DELETE FROM region_pairs WHERE (region = ? AND paired_with = ?) OR (region = ? AND paired_with = ?)", arguments: [a, b, b, a])
        return db.changesCount
    }

    // MARK: Subscriptions

    func subscriptions() throws -> [Subscription] {
        try Row.fetchAll(db, sql: "SELECT id, admins, co_admins, notice_time_zone FROM subscriptions ORDER BY id").map(Self.subscription(from:))
    }

    func subscription(id: String) throws -> Subscription? {
        try Row.fetchOne(db, sql: "SELECT id, admins, co_admins, notice_time_zone FROM subscriptions WHERE id = ?", arguments: [id]).map(Self.subscription(from:))
    }

    private static func subscription(from row: Row) -> Subscription {
        StoredFleet.subscription(id: row["id"], admins: row["admins"], coAdmins: row["co_admins"], noticeTimeZone: row["notice_time_zone"])
    }

    func upsert(subscription: Subscription) throws -> UpsertOutcome {
        let admins = StoredFleet.storedList(subscription.admins)
        let coAdmins = StoredFleet.storedList(subscription.coAdmins)
        if let existing = try self.subscription(id: subscription.id) {
            guard existing != subscription else { return .unchanged }
            try write(sql: "UPDATE subscriptions SET admins = ?, co_admins = ?, notice_time_zone = ? WHERE id = ?",
                           arguments: [admins, coAdmins, subscription.noticeTimeZone, subscription.id])
            return .updated
        }
        try write(sql: "INSERT INTO subscriptions(id, admins, co_admins, notice_time_zone) VALUES (?, ?, ?, ?)",
                       arguments: [subscription.id, admins, coAdmins, subscription.noticeTimeZone])
        return .added
    }

    // MARK: Availability sets

    func availabilitySets(region: String?) throws -> [AvailabilitySet] {
        let rows = if let region {
            try Row.fetchAll(db, sql: "SELECT * FROM availability_sets WHERE region = ? ORDER BY name", arguments: [region])
        } else {
            try Row.fetchAll(db, sql: "SELECT * FROM availability_sets ORDER BY name")
        }
        return rows.map(Self.availabilitySet(from:))
    }

    func availabilitySet(named name: String) throws -> AvailabilitySet? {
        try Row.fetchOne(db, sql: "SELECT * FROM availability_sets WHERE name = ?", arguments: [name]).map(Self.availabilitySet(from:))
    }

    static func availabilitySet(from row: Row) -> AvailabilitySet {
        AvailabilitySet(name: row["name"], region: row["region"], subscription: row["subscription"],
                        faultDomains: row["fault_domains"], updateDomains: row["update_domains"])
    }

    /// How many VMs have joined each set: the n of round-robin placement.
    func placedCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, placed_count FROM availability_sets") {
            counts[row["name"]] = row["placed_count"]
        }
        return counts
    }

    func setPlacedCounts(_ counts: [(set: String, placed: Int)]) throws {
        for (set, placed) in counts {
            try write(sql: "UPDATE availability_sets SET placed_count = ? WHERE name = ?", arguments: [placed, set])
        }
    }

    func upsert(availabilitySet set: AvailabilitySet) throws -> UpsertOutcome {
        if let existing = try availabilitySet(named: set.name) {
            guard existing != set else { return .unchanged }
            try write(sql: """
                UPDATE availability_sets SET region = ?, subscription = ?, fault_domains = ?, update_domains = ?
                WHERE name = ?
                """, arguments: [set.region, set.subscription, set.faultDomains, set.updateDomains, set.name])
            return .updated
        }
        try write(sql: """
            INSERT INTO availability_sets(name, region, subscription, fault_domains, update_domains)
            VALUES (?, ?, ?, ?, ?)
            """, arguments: [set.name, set.region, set.subscription, set.faultDomains, set.updateDomains])
        return .added
    }

    /// What a VM is checked against: region and subscription names and the sets.
    func fleetIndex() throws -> FleetIndex {
        FleetIndex(
            regions: Set(try String.fetchAll(db, sql: "SELECT name FROM regions")),
            subscriptions: Set(try String.fetchAll(db, sql: "SELECT id FROM subscriptions")),
            sets: try availabilitySets())
    }

    // MARK: Maintenance windows

    func maintenanceWindows() throws -> [MaintenanceWindow] {
        try Row.fetchAll(db, sql: "SELECT * FROM maintenance_windows ORDER BY name").map(Self.window(from:))
    }

    func maintenanceWindow(named name: String) throws -> MaintenanceWindow? {
        try Row.fetchOne(db, sql: "SELECT * FROM maintenance_windows WHERE name = ?", arguments: [name]).map(Self.window(from:))
    }

    /// Rows are checked on the way in, so a row that no longer parses was written behind
    /// Pitstop's back; it is reported rather than skipped.
    private static func window(from row: Row) throws -> MaintenanceWindow {
        try StoredFleet.window(name: row["name"], region: row["region"], availabilitySet: row["availability_set"], start: row["start_local"],
                               timeZone: row["time_zone"], duration: row["duration"], recurEvery: row["recur_every"], expires: row["expires_local"])
    }

    func upsert(window: MaintenanceWindow) throws -> UpsertOutcome {
        let c = StoredFleet.storedColumns(of: window)
        let arguments: StatementArguments = [
            c.region, c.availabilitySet, c.start, c.timeZone, c.duration, c.durationSeconds, c.recurEvery, c.expires, window.name,
        ]
        if let existing = try maintenanceWindow(named: window.name) {
            guard existing != window else { return .unchanged }
            try write(sql: """
                UPDATE maintenance_windows SET region = ?, availability_set = ?, start_local = ?, time_zone = ?,
                    duration = ?, duration_seconds = ?, recur_every = ?, expires_local = ?
                WHERE name = ?
                """, arguments: arguments)
            return .updated
        }
        try write(sql: """
            INSERT INTO maintenance_windows(region, availability_set, start_local, time_zone, duration,
                duration_seconds, recur_every, expires_local, name)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: arguments)
        return .added
    }

    // MARK: Blackouts

    func blackouts() throws -> [Blackout] {
        try Row.fetchAll(db, sql: "SELECT * FROM blackouts ORDER BY name").map(Self.blackout(from:))
    }

    func blackout(named name: String) throws -> Blackout? {
        try Row.fetchOne(db, sql: "SELECT * FROM blackouts WHERE name = ?", arguments: [name]).map(Self.blackout(from:))
    }

    private static func blackout(from row: Row) throws -> Blackout {
        try StoredFleet.blackout(name: row["name"], region: row["region"], start: row["start_utc"], end: row["end_utc"])
    }

    func upsert(blackout: Blackout) throws -> UpsertOutcome {
        let arguments: StatementArguments = [blackout.region, blackout.start.iso8601, blackout.end.iso8601, blackout.name]
        if let existing = try self.blackout(named: blackout.name) {
            guard existing != blackout else { return .unchanged }
            try write(sql: "UPDATE blackouts SET region = ?, start_utc = ?, end_utc = ? WHERE name = ?", arguments: arguments)
            return .updated
        }
        try write(sql: "INSERT INTO blackouts(region, start_utc, end_utc, name) VALUES (?, ?, ?, ?)", arguments: arguments)
        return .added
    }

    /// Runs one statement, a refused constraint becoming a conflict an operator can read.
    private func write(sql: String, arguments: StatementArguments = []) throws {
        try constrained { try db.execute(sql: sql, arguments: arguments) }
    }

    // MARK: Removal

    /// Deletes one row by key; returns whether it existed.
    func delete(_ kind: FleetRecordKind, key: String) throws -> Bool {
        let (table, column) = StoredFleet.table(of: kind)
        try write(sql: "DELETE FROM \(table) WHERE \(column) = ?", arguments: [key])
        return db.changesCount > 0
    }

    func dependants(of kind: FleetRecordKind, key: String, limit: Int) throws -> [(kind: String, names: [String])] {
        // Its events would be planned for a VM that no longer exists.
        let queries = StoredFleet.dependantQueries(of: kind, key: "?1", campaignsOfVM: """
             SELECT DISTINCT w.campaign FROM wave_vms p JOIN waves w ON w.id = p.wave
             LEFT JOIN vm_departures d ON d.wave = p.wave AND d.vm = p.vm
             WHERE p.vm IN \(EventRows.keys(ofVMsNamed: "= ?1")) AND \(EventRows.status) IN ('scheduled', 'started') ORDER BY 1
             """)
        return try queries.compactMap { query in
            let names = try String.fetchAll(db, sql: query.sql + " LIMIT ?2", arguments: [key, limit])
            return names.isEmpty ? nil : (query.kind, names)
        }
    }
}

/// A row that Pitstop cannot read back: it was written behind its back.
package func corruptRow(table: String, key: String, problem: String) -> PitstopError {
    PitstopError(.internal, "\(table) row '\(key)' cannot be read: \(problem); the database was changed outside Pitstop")
}

/// The fleet's rows as values and values as rows, beside any SQL: what every engine's fleet
/// repository reads and writes the same way.
package enum StoredFleet {
    /// A subscription from its stored columns: its admin lists are JSON arrays of strings.
    package static func subscription(id: String, admins: String, coAdmins: String, noticeTimeZone: String) -> Subscription {
        func list(_ text: String) -> [String] { (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? [] }
        return Subscription(id: id, admins: list(admins), coAdmins: list(coAdmins), noticeTimeZone: noticeTimeZone)
    }

    /// An admin list as it is stored: a JSON array of strings.
    package static func storedList(_ list: [String]) -> String { JSONText.array(list.map(JSONText.quote)) }

    /// A window from its stored columns, checked as on the way in.
    package static func window(name: String, region: String?, availabilitySet set: String?, start: String?, timeZone: String?,
                               duration: String?, recurEvery: String?, expires: String?) throws -> MaintenanceWindow {
        var problems: [FieldProblem] = []
        var fields = WindowFields()
        fields.parse(start: start, zone: timeZone, duration: duration,
                     recurEvery: recurEvery, expires: expires, stored: true, problems: &problems)
        let scope: WindowScope = set.map { .availabilitySet($0) } ?? .region(region ?? "")
        guard problems.isEmpty, let window = fields.window(name: name, scope: scope) else {
            throw corruptRow(table: "maintenance_windows", key: name, problem: problems.map(\.description).joined(separator: "; "))
        }
        return window
    }

    /// A window's stored columns but its name, in the order of `maintenance_windows`.
    package static func storedColumns(of window: MaintenanceWindow) -> (region: String?, availabilitySet: String?, start: String,
                                                                        timeZone: String, duration: String, durationSeconds: Int64,
                                                                        recurEvery: String?, expires: String?) {
        let (region, set): (String?, String?) = switch window.scope {
        case .region(let r): (r, nil)
        case .availabilitySet(let s): (nil, s)
        }
        return (region, set, window.start.description, MaintenanceWindow.name(of: window.timeZone), window.duration.text,
                window.duration.seconds, window.recurrence?.text, window.expires?.description)
    }

    /// A blackout from its stored columns: its bounds are UTC instants.
    package static func blackout(name: String, region: String?, start startText: String, end endText: String) throws -> Blackout {
        guard let start = Timestamp(iso8601: startText), let end = Timestamp(iso8601: endText) else {
            throw corruptRow(table: "blackouts", key: name, problem: "start or end is not a UTC instant")
        }
        return Blackout(name: name, region: region, start: start, end: end)
    }

    /// What ``FleetRepository/dependants(of:key:limit:)`` asks, per kind of dependant: a query of names in
    /// order, `key` standing for the record's key (the engine's placeholder). `campaignsOfVM`
    /// is the engine's query of the campaigns with a scheduled or started event of the VM.
    package static func dependantQueries(of kind: FleetRecordKind, key k: String,
                                         campaignsOfVM: @autoclosure () -> String) -> [(kind: String, sql: String)] {
        switch kind {
        case .region: [
            ("availability sets", "SELECT name FROM availability_sets WHERE region = \(k) ORDER BY name"),
            ("VMs", "SELECT name FROM vms WHERE region = \(k) ORDER BY name"),
            ("maintenance windows", "SELECT name FROM maintenance_windows WHERE region = \(k) ORDER BY name"),
            ("blackouts", "SELECT name FROM blackouts WHERE region = \(k) ORDER BY name"),
            ("pair links", "SELECT region || ' -> ' || paired_with FROM region_pairs WHERE region = \(k) OR paired_with = \(k) ORDER BY 1"),
        ]
        case .subscription: [
            ("availability sets", "SELECT name FROM availability_sets WHERE subscription = \(k) ORDER BY name"),
            ("VMs", "SELECT name FROM vms WHERE subscription = \(k) ORDER BY name"),
        ]
        case .availabilitySet: [
            ("VMs", "SELECT name FROM vms WHERE availability_set = \(k) ORDER BY name"),
            ("maintenance windows", "SELECT name FROM maintenance_windows WHERE availability_set = \(k) ORDER BY name"),
        ]
        case .vm: [("scheduled or started events of campaigns", campaignsOfVM())]
        case .maintenanceWindow, .blackout: []
        }
    }

    /// The table and key column of a kind of record.
    package static func table(of kind: FleetRecordKind) -> (table: String, key: String) {
        switch kind {
        case .region: ("regions", "name")
        case .subscription: ("subscriptions", "id")
        case .availabilitySet: ("availability_sets", "name")
        case .vm: ("vms", "name")
        case .maintenanceWindow: ("maintenance_windows", "name")
        case .blackout: ("blackouts", "name")
        }
    }
}
