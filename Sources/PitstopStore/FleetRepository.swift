// The repository for the fleet's tables: reads as core values, writes as upserts that say
// what they changed. Every function runs inside the caller's transaction.
import Foundation
import GRDB
import PitstopCore

/// What an upsert did to the stored row.
public enum UpsertOutcome: Sendable, Equatable {
    case added, updated, unchanged
}

/// Counts of upsert outcomes for one kind of record.
public struct UpsertCounts: Sendable, Equatable {
    public var added = 0, updated = 0, unchanged = 0
    public init() {}
    public mutating func record(_ outcome: UpsertOutcome) {
        switch outcome {
        case .added: added += 1
        case .updated: updated += 1
        case .unchanged: unchanged += 1
        }
    }
    public var total: Int { added + updated + unchanged }
}

/// Reads and writes regions, pairs, subscriptions, sets, windows and blackouts. VMs, which
/// come by the million, have their own bulk path in `VMRepository`.
public enum FleetRepository {
    // MARK: Regions and pairs

    public static func regions(_ db: Database) throws -> [Region] {
        try Row.fetchAll(db, sql: "SELECT name, display_name FROM regions ORDER BY name").map {
            Region(name: $0["name"], displayName: $0["display_name"])
        }
    }

    public static func region(_ db: Database, named name: String) throws -> Region? {
        try Row.fetchOne(db, sql: "SELECT name, display_name FROM regions WHERE name = ?", arguments: [name]).map {
            Region(name: $0["name"], displayName: $0["display_name"])
        }
    }

    public static func upsert(_ db: Database, region: Region) throws -> UpsertOutcome {
        if let existing = try self.region(db, named: region.name) {
            guard existing != region else { return .unchanged }
            try db.execute(sql: "UPDATE regions SET display_name = ? WHERE name = ?", arguments: [region.displayName, region.name])
            return .updated
        }
        try db.execute(sql: "INSERT INTO regions(name, display_name) VALUES (?, ?)", arguments: [region.name, region.displayName])
        return .added
    }

    public static func regionPairs(_ db: Database) throws -> [RegionPair] {
        try Row.fetchAll(db, sql: "SELECT region, paired_with FROM region_pairs ORDER BY region, paired_with").map {
            RegionPair(region: $0["region"], pairedWith: $0["paired_with"])
        }
    }

    public static func upsert(_ db: Database, pair: RegionPair) throws -> UpsertOutcome {
        try db.execute(sql: "INSERT OR IGNORE INTO region_pairs(region, paired_with) VALUES (?, ?)", arguments: [pair.region, pair.pairedWith])
        return db.changesCount > 0 ? .added : .unchanged
    }

    /// Removes the link in either direction; returns how many links went.
    public static func removePair(_ db: Database, _ a: String, _ b: String) throws -> Int {
        try db.execute(sql: "DELETE FROM region_pairs WHERE (region = ? AND paired_with = ?) OR (region = ? AND paired_with = ?)", arguments: [a, b, b, a])
        return db.changesCount
    }

    // MARK: Subscriptions

    public static func subscriptions(_ db: Database) throws -> [Subscription] {
        try Row.fetchAll(db, sql: "SELECT id, admins, co_admins, notice_time_zone FROM subscriptions ORDER BY id").map(subscription(from:))
    }

    public static func subscription(_ db: Database, id: String) throws -> Subscription? {
        try Row.fetchOne(db, sql: "SELECT id, admins, co_admins, notice_time_zone FROM subscriptions WHERE id = ?", arguments: [id]).map(subscription(from:))
    }

    private static func subscription(from row: Row) -> Subscription {
        func list(_ text: String) -> [String] { (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? [] }
        return Subscription(id: row["id"], admins: list(row["admins"]), coAdmins: list(row["co_admins"]), noticeTimeZone: row["notice_time_zone"])
    }

    public static func upsert(_ db: Database, subscription: Subscription) throws -> UpsertOutcome {
        let admins = JSONText.array(subscription.admins.map(JSONText.quote))
        let coAdmins = JSONText.array(subscription.coAdmins.map(JSONText.quote))
        if let existing = try self.subscription(db, id: subscription.id) {
            guard existing != subscription else { return .unchanged }
            try db.execute(sql: "UPDATE subscriptions SET admins = ?, co_admins = ?, notice_time_zone = ? WHERE id = ?",
                           arguments: [admins, coAdmins, subscription.noticeTimeZone, subscription.id])
            return .updated
        }
        try db.execute(sql: "INSERT INTO subscriptions(id, admins, co_admins, notice_time_zone) VALUES (?, ?, ?, ?)",
                       arguments: [subscription.id, admins, coAdmins, subscription.noticeTimeZone])
        return .added
    }

    // MARK: Availability sets

    public static func availabilitySets(_ db: Database, region: String? = nil) throws -> [AvailabilitySet] {
        let rows = if let region {
            try Row.fetchAll(db, sql: "SELECT * FROM availability_sets WHERE region = ? ORDER BY name", arguments: [region])
        } else {
            try Row.fetchAll(db, sql: "SELECT * FROM availability_sets ORDER BY name")
        }
        return rows.map(availabilitySet(from:))
    }

    public static func availabilitySet(_ db: Database, named name: String) throws -> AvailabilitySet? {
        try Row.fetchOne(db, sql: "SELECT * FROM availability_sets WHERE name = ?", arguments: [name]).map(availabilitySet(from:))
    }

    static func availabilitySet(from row: Row) -> AvailabilitySet {
        AvailabilitySet(name: row["name"], region: row["region"], subscription: row["subscription"],
                        faultDomains: row["fault_domains"], updateDomains: row["update_domains"])
    }

    /// How many VMs have joined each set: the n of round-robin placement.
    public static func placedCounts(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, placed_count FROM availability_sets") {
            counts[row["name"]] = row["placed_count"]
        }
        return counts
    }

    public static func setPlacedCount(_ db: Database, set: String, to n: Int) throws {
        try db.execute(sql: "UPDATE availability_sets SET placed_count = ? WHERE name = ?", arguments: [n, set])
    }

    public static func upsert(_ db: Database, availabilitySet set: AvailabilitySet) throws -> UpsertOutcome {
        if let existing = try availabilitySet(db, named: set.name) {
            guard existing != set else { return .unchanged }
            try db.execute(sql: """
                UPDATE availability_sets SET region = ?, subscription = ?, fault_domains = ?, update_domains = ?
                WHERE name = ?
                """, arguments: [set.region, set.subscription, set.faultDomains, set.updateDomains, set.name])
            return .updated
        }
        try db.execute(sql: """
            INSERT INTO availability_sets(name, region, subscription, fault_domains, update_domains)
            VALUES (?, ?, ?, ?, ?)
            """, arguments: [set.name, set.region, set.subscription, set.faultDomains, set.updateDomains])
        return .added
    }

    /// What a VM is checked against: region and subscription names and the sets.
    public static func fleetIndex(_ db: Database) throws -> FleetIndex {
        FleetIndex(
            regions: Set(try String.fetchAll(db, sql: "SELECT name FROM regions")),
            subscriptions: Set(try String.fetchAll(db, sql: "SELECT id FROM subscriptions")),
            sets: Dictionary(uniqueKeysWithValues: try availabilitySets(db).map { ($0.name, $0) }))
    }

    // MARK: Maintenance windows

    public static func maintenanceWindows(_ db: Database) throws -> [MaintenanceWindow] {
        try Row.fetchAll(db, sql: "SELECT * FROM maintenance_windows ORDER BY name").map(window(from:))
    }

    public static func maintenanceWindow(_ db: Database, named name: String) throws -> MaintenanceWindow? {
        try Row.fetchOne(db, sql: "SELECT * FROM maintenance_windows WHERE name = ?", arguments: [name]).map(window(from:))
    }

    /// Rows are checked on the way in, so a row that no longer parses was written behind
    /// Pitstop's back; it is reported rather than skipped.
    private static func window(from row: Row) throws -> MaintenanceWindow {
        let name: String = row["name"]
        var problems: [FieldProblem] = []
        var fields = WindowFields()
        fields.parse(start: row["start_local"], zone: row["time_zone"], duration: row["duration"],
                     recurEvery: row["recur_every"], expires: row["expires_local"], problems: &problems)
        let region: String? = row["region"], set: String? = row["availability_set"]
        let scope: WindowScope = set.map { .availabilitySet($0) } ?? .region(region ?? "")
        guard problems.isEmpty, let window = fields.window(name: name, scope: scope) else {
            throw StoreError.corruptRow(table: "maintenance_windows", key: name, problem: problems.map(\.description).joined(separator: "; "))
        }
        return window
    }

    public static func upsert(_ db: Database, window: MaintenanceWindow) throws -> UpsertOutcome {
        let (region, set): (String?, String?) = switch window.scope {
        case .region(let r): (r, nil)
        case .availabilitySet(let s): (nil, s)
        }
        let arguments: StatementArguments = [
            region, set, window.start.description, window.timeZone.identifier, window.duration.text,
            window.duration.seconds, window.recurrence?.text, window.expires?.description, window.name,
        ]
        if let existing = try maintenanceWindow(db, named: window.name) {
            guard existing != window else { return .unchanged }
            try db.execute(sql: """
                UPDATE maintenance_windows SET region = ?, availability_set = ?, start_local = ?, time_zone = ?,
                    duration = ?, duration_seconds = ?, recur_every = ?, expires_local = ?
                WHERE name = ?
                """, arguments: arguments)
            return .updated
        }
        try db.execute(sql: """
            INSERT INTO maintenance_windows(region, availability_set, start_local, time_zone, duration,
                duration_seconds, recur_every, expires_local, name)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: arguments)
        return .added
    }

    // MARK: Blackouts

    public static func blackouts(_ db: Database) throws -> [Blackout] {
        try Row.fetchAll(db, sql: "SELECT * FROM blackouts ORDER BY name").map(blackout(from:))
    }

    public static func blackout(_ db: Database, named name: String) throws -> Blackout? {
        try Row.fetchOne(db, sql: "SELECT * FROM blackouts WHERE name = ?", arguments: [name]).map(blackout(from:))
    }

    private static func blackout(from row: Row) throws -> Blackout {
        let name: String = row["name"]
        guard let start = Timestamp(iso8601: row["start_utc"]), let end = Timestamp(iso8601: row["end_utc"]) else {
            throw StoreError.corruptRow(table: "blackouts", key: name, problem: "start or end is not a UTC instant")
        }
        return Blackout(name: name, region: row["region"], start: start, end: end)
    }

    public static func upsert(_ db: Database, blackout: Blackout) throws -> UpsertOutcome {
        let arguments: StatementArguments = [blackout.region, blackout.start.iso8601, blackout.end.iso8601, blackout.name]
        if let existing = try self.blackout(db, named: blackout.name) {
            guard existing != blackout else { return .unchanged }
            try db.execute(sql: "UPDATE blackouts SET region = ?, start_utc = ?, end_utc = ? WHERE name = ?", arguments: arguments)
            return .updated
        }
        try db.execute(sql: "INSERT INTO blackouts(region, start_utc, end_utc, name) VALUES (?, ?, ?, ?)", arguments: arguments)
        return .added
    }

    // MARK: Removal

    /// Deletes one row by key; returns whether it existed.
    public static func delete(_ db: Database, from table: FleetTable, key: String) throws -> Bool {
        try db.execute(sql: "DELETE FROM \(table.rawValue) WHERE \(table.keyColumn) = ?", arguments: [key])
        return db.changesCount > 0
    }
}

/// The fleet tables whose rows are removed by key.
public enum FleetTable: String, Sendable {
    case regions, subscriptions, availabilitySets = "availability_sets", vms
    case maintenanceWindows = "maintenance_windows", blackouts

    var keyColumn: String { self == .subscriptions ? "id" : "name" }
}

/// A row that Pitstop cannot read back: it was written behind its back.
public enum StoreError: Error, CustomStringConvertible {
    case corruptRow(table: String, key: String, problem: String)

    public var description: String {
        switch self {
        case let .corruptRow(table, key, problem): "\(table) row '\(key)' cannot be read: \(problem)"
        }
    }
}
