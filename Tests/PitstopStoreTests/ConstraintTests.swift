// Tests that the schema itself keeps the fleet consistent: raw SQL that bypasses Pitstop and
// would store an impossible fleet fails, and leaves the table as it was.
import Foundation
import GRDB
import PitstopCore
import Testing
@testable import PitstopStore

/// A raw write that the schema must refuse, and the table whose row count must not move.
struct ForbiddenWrite: Sendable, CustomTestStringConvertible {
    var what: String
    var table: String
    var sql: String
    var testDescription: String { what }
}

/// A small valid fleet written with raw SQL: two paired regions, one subscription, a set `web`
/// in eastus (2 FDs, 5 UDs) with VMs in UD 0 and UD 4, a standalone VM, a window and a blackout.
private func seededDatabase() throws -> AppDatabase {
    let database = try AppDatabase.inMemory()
    try database.writer.write { db in
        try db.execute(sql: """
            INSERT INTO regions(name) VALUES ('eastus'), ('westus');
            INSERT INTO region_pairs(region, paired_with) VALUES ('eastus', 'westus');
            INSERT INTO subscriptions(id) VALUES ('contoso');
            INSERT INTO availability_sets(name, region, subscription, fault_domains, update_domains) VALUES ('web', 'eastus', 'contoso', 2, 5);
            INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain, ip_address)
                VALUES ('web-0', 'eastus', 'contoso', 'web', 0, 0, '10.0.0.4'),
                       ('web-4', 'eastus', 'contoso', 'web', 4, 1, NULL),
                       ('jump', 'westus', 'contoso', NULL, NULL, NULL, NULL);
            INSERT INTO maintenance_windows(name, region, start_local, time_zone, duration, duration_seconds)
                VALUES ('nightly', 'eastus', '2026-12-05T22:00:00', 'America/New_York', 'PT8H', 28800);
            INSERT INTO blackouts(name, region, start_utc, end_utc) VALUES ('year-end', NULL, '2026-12-20T00:00:00Z', '2027-01-04T00:00:00Z');
            """)
    }
    return database
}

private func vm(_ name: String, region: String = "eastus", set: String? = "'web'", ud: String = "0", fd: String = "0", ip: String = "NULL") -> String {
    "INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain, ip_address) VALUES ('\(name)', '\(region)', 'contoso', \(set ?? "NULL"), \(ud), \(fd), \(ip))"
}

private func set(_ name: String, faultDomains: Int, updateDomains: Int) -> String {
    "INSERT INTO availability_sets(name, region, subscription, fault_domains, update_domains) VALUES ('\(name)', 'eastus', 'contoso', \(faultDomains), \(updateDomains))"
}

@Suite struct ConstraintTests {
    static let forbiddenWrites: [ForbiddenWrite] = [
        ForbiddenWrite(what: "a VM whose UD equals its set's update_domains", table: "vms", sql: vm("x", ud: "5")),
        ForbiddenWrite(what: "a VM whose UD is above its set's update_domains", table: "vms", sql: vm("x", ud: "17")),
        ForbiddenWrite(what: "a VM with a negative UD", table: "vms", sql: vm("x", ud: "-1")),
        ForbiddenWrite(what: "a VM whose FD equals its set's fault_domains", table: "vms", sql: vm("x", fd: "2")),
        ForbiddenWrite(what: "a VM with a negative FD", table: "vms", sql: vm("x", fd: "-1")),
        ForbiddenWrite(what: "moving a VM to a UD outside its set", table: "vms", sql: "UPDATE vms SET update_domain = 5 WHERE name = 'web-0'"),
        ForbiddenWrite(what: "moving a VM to an FD outside its set", table: "vms", sql: "UPDATE vms SET fault_domain = 3 WHERE name = 'web-0'"),
        ForbiddenWrite(what: "a set VM in another region than its set", table: "vms", sql: vm("x", region: "westus")),
        ForbiddenWrite(what: "moving a set VM to another region", table: "vms", sql: "UPDATE vms SET region = 'westus' WHERE name = 'web-0'"),
        ForbiddenWrite(what: "a set VM without a UD", table: "vms", sql: vm("x", ud: "NULL")),
        ForbiddenWrite(what: "a set VM without an FD", table: "vms", sql: vm("x", fd: "NULL")),
        ForbiddenWrite(what: "a set VM without UD and FD", table: "vms", sql: vm("x", ud: "NULL", fd: "NULL")),
        ForbiddenWrite(what: "dropping the UD of a set VM", table: "vms", sql: "UPDATE vms SET update_domain = NULL WHERE name = 'web-0'"),
        ForbiddenWrite(what: "a single-instance VM with a UD", table: "vms", sql: vm("x", set: nil, ud: "1", fd: "NULL")),
        ForbiddenWrite(what: "a single-instance VM with an FD", table: "vms", sql: vm("x", set: nil, ud: "NULL", fd: "0")),
        ForbiddenWrite(what: "a VM in an unknown set", table: "vms", sql: vm("x", set: "'nope'")),
        ForbiddenWrite(what: "a VM in an unknown region", table: "vms", sql: vm("x", region: "nowhere", set: nil, ud: "NULL", fd: "NULL")),
        ForbiddenWrite(what: "a duplicate IP address", table: "vms", sql: vm("x", ud: "1", fd: "1", ip: "'10.0.0.4'")),
        ForbiddenWrite(what: "a duplicate VM name", table: "vms", sql: vm("web-0", ud: "1", fd: "1")),
        ForbiddenWrite(what: "a region paired with itself", table: "region_pairs", sql: "INSERT INTO region_pairs(region, paired_with) VALUES ('eastus', 'eastus')"),
        ForbiddenWrite(what: "a pair link to an unknown region", table: "region_pairs", sql: "INSERT INTO region_pairs(region, paired_with) VALUES ('eastus', 'nowhere')"),
        ForbiddenWrite(what: "a set with 0 update domains", table: "availability_sets", sql: set("s", faultDomains: 2, updateDomains: 0)),
        ForbiddenWrite(what: "a set with 21 update domains", table: "availability_sets", sql: set("s", faultDomains: 2, updateDomains: 21)),
        ForbiddenWrite(what: "a set with 0 fault domains", table: "availability_sets", sql: set("s", faultDomains: 0, updateDomains: 5)),
        ForbiddenWrite(what: "a set with 4 fault domains", table: "availability_sets", sql: set("s", faultDomains: 4, updateDomains: 5)),
        ForbiddenWrite(what: "a set in an unknown region", table: "availability_sets",
                       sql: "INSERT INTO availability_sets(name, region, subscription) VALUES ('s', 'nowhere', 'contoso')"),
        ForbiddenWrite(what: "shrinking a set's update domains below its VMs' UDs", table: "availability_sets",
                       sql: "UPDATE availability_sets SET update_domains = 3 WHERE name = 'web'"),
        ForbiddenWrite(what: "shrinking a set's fault domains below its VMs' FDs", table: "availability_sets",
                       sql: "UPDATE availability_sets SET fault_domains = 1 WHERE name = 'web'"),
        ForbiddenWrite(what: "moving a set with VMs to another region", table: "availability_sets",
                       sql: "UPDATE availability_sets SET region = 'westus' WHERE name = 'web'"),
        ForbiddenWrite(what: "a blackout whose end equals its start", table: "blackouts",
                       sql: "INSERT INTO blackouts(name, start_utc, end_utc) VALUES ('b', '2026-12-20T00:00:00Z', '2026-12-20T00:00:00Z')"),
        ForbiddenWrite(what: "a blackout whose end is before its start", table: "blackouts",
                       sql: "INSERT INTO blackouts(name, start_utc, end_utc) VALUES ('b', '2026-12-20T00:00:00Z', '2026-12-19T00:00:00Z')"),
        ForbiddenWrite(what: "a blackout with a non-UTC time", table: "blackouts",
                       sql: "INSERT INTO blackouts(name, start_utc, end_utc) VALUES ('b', '2026-12-20T00:00:00+01:00', '2026-12-21T00:00:00Z')"),
        ForbiddenWrite(what: "a window with both a region and a set", table: "maintenance_windows", sql: """
            INSERT INTO maintenance_windows(name, region, availability_set, start_local, time_zone, duration, duration_seconds)
            VALUES ('w', 'eastus', 'web', '2026-12-05T22:00:00', 'UTC', 'PT1H', 3600)
            """),
        ForbiddenWrite(what: "a window with neither a region nor a set", table: "maintenance_windows", sql: """
            INSERT INTO maintenance_windows(name, start_local, time_zone, duration, duration_seconds)
            VALUES ('w', '2026-12-05T22:00:00', 'UTC', 'PT1H', 3600)
            """),
        ForbiddenWrite(what: "a window of zero length", table: "maintenance_windows", sql: """
            INSERT INTO maintenance_windows(name, region, start_local, time_zone, duration, duration_seconds)
            VALUES ('w', 'eastus', '2026-12-05T22:00:00', 'UTC', 'PT0S', 0)
            """),
        ForbiddenWrite(what: "a window that expires before it starts", table: "maintenance_windows", sql: """
            INSERT INTO maintenance_windows(name, region, start_local, time_zone, duration, duration_seconds, expires_local)
            VALUES ('w', 'eastus', '2026-12-05T22:00:00', 'UTC', 'PT1H', 3600, '2026-12-01T00:00:00')
            """),
        ForbiddenWrite(what: "removing a region that sets use", table: "regions", sql: "DELETE FROM regions WHERE name = 'eastus'"),
        ForbiddenWrite(what: "removing a set that VMs use", table: "availability_sets", sql: "DELETE FROM availability_sets WHERE name = 'web'"),
        ForbiddenWrite(what: "an empty region name", table: "regions", sql: "INSERT INTO regions(name) VALUES ('')"),
        ForbiddenWrite(what: "admins that are not a JSON array", table: "subscriptions",
                       sql: "INSERT INTO subscriptions(id, admins) VALUES ('s', '\"ops@contoso.example\"')"),
    ]

    @Test(arguments: forbiddenWrites)
    func aRawWriteThatBreaksAnInvariantFailsAndChangesNothing(_ write: ForbiddenWrite) throws {
        // Given a valid fleet
        let database = try seededDatabase()
        let count = "SELECT count(*) FROM \(write.table)"
        let before = try database.writer.read { db in try Int.fetchOne(db, sql: count) }
        let snapshot = try database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(write.table) ORDER BY 1") }

        // when SQL that bypasses Pitstop tries to store something impossible
        #expect(throws: DatabaseError.self) {
            try database.writer.write { db in try db.execute(sql: write.sql) }
        }

        // then the table holds exactly what it held
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: count) } == before)
        #expect(try database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(write.table) ORDER BY 1") } == snapshot)
    }

    /// A bulk load suspends the foreign keys and the domain trigger, and answers for them with
    /// one scan at the end: each VM those would have refused is refused there, and the whole
    /// load is rolled back, the trigger with it.
    static let bulkLoadRefusals: [ForbiddenWrite] = [
        ForbiddenWrite(what: "a VM in an unknown set", table: "vms", sql: vm("x", set: "'nope'")),
        ForbiddenWrite(what: "a VM without a set in an unknown region", table: "vms", sql: vm("x", region: "nowhere", set: nil, ud: "NULL", fd: "NULL")),
        ForbiddenWrite(what: "a set VM in an unknown region", table: "vms", sql: vm("x", region: "nowhere")),
        ForbiddenWrite(what: "a set VM in another region than its set", table: "vms", sql: vm("x", region: "westus")),
        ForbiddenWrite(what: "a VM of an unknown subscription", table: "vms",
                       sql: "INSERT INTO vms(name, region, subscription) VALUES ('x', 'westus', 'nobody')"),
        ForbiddenWrite(what: "a set VM of an unknown subscription, not its set's", table: "vms",
                       sql: "INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain) VALUES ('x', 'eastus', 'nobody', 'web', 1, 1)"),
        ForbiddenWrite(what: "a VM whose UD equals its set's update_domains", table: "vms", sql: vm("x", ud: "5")),
        ForbiddenWrite(what: "a VM whose FD equals its set's fault_domains", table: "vms", sql: vm("x", fd: "2")),
    ]

    @Test(arguments: bulkLoadRefusals)
    func aBulkLoadRefusesWhatTheSuspendedChecksWouldHave(_ write: ForbiddenWrite) throws {
        let database = try seededDatabase()
        let snapshot = try database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM vms ORDER BY 1") }

        let error = #expect(throws: PitstopError.self) {
            try database.writer.writeWithoutTransaction { db in
                try VMBulkLoad.run(db) {
                    try db.execute(sql: vm("fine", ud: "1", fd: "1"))
                    try db.execute(sql: write.sql)
                }
            }
        }

        #expect(error?.message.hasPrefix("VM x breaks a constraint of the fleet") == true, "\(String(describing: error))")
        #expect(try database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM vms ORDER BY 1") } == snapshot)
        let trigger = try database.writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?)", arguments: [VMBulkLoad.suspended])
        }
        #expect(trigger == true)
    }

    @Test func aBulkLoadOfValidVMsIsKept() throws {
        let database = try seededDatabase()
        try database.writer.writeWithoutTransaction { db in
            try VMBulkLoad.run(db) {
                try db.execute(sql: vm("web-1", ud: "1", fd: "1"))
                try db.execute(sql: vm("lone", region: "westus", set: nil, ud: "NULL", fd: "NULL"))
                // A set VM may be owned by another subscription than its set, if that one exists.
                try db.execute(sql: "INSERT INTO subscriptions(id) VALUES ('fabrikam')")
                try db.execute(sql: "INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain) VALUES ('web-2', 'eastus', 'fabrikam', 'web', 2, 0)")
            }
        }
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM vms") } == 6)
    }

    @Test func theSeedFleetItselfIsAccepted() throws {
        // The forbidden writes above fail for their own reason, not because the seed is broken.
        let database = try seededDatabase()
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM vms") } == 3)
    }

    @Test func growingASetAndUsingTheNewDomainsIsAllowed() throws {
        // Given a set with 5 UDs, when it grows to 7 and a VM takes UD 6, then both writes succeed.
        let database = try seededDatabase()
        try database.writer.write { db in
            try db.execute(sql: "UPDATE availability_sets SET update_domains = 7, fault_domains = 3 WHERE name = 'web'")
            try db.execute(sql: vm("x", ud: "6", fd: "2"))
        }
        #expect(try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT update_domain FROM vms WHERE name = 'x'") } == 6)
    }
}
