// For the tests that kill or race `pitstop` processes on either engine: a fleet whose plan
// takes a moment, rows counted behind Pitstop's back, and a process stopped part way through
// writing a plan, seen from outside.
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// A fleet in two pairs of linked regions (eastus <-> westus, northeurope <-> westeurope), as
/// big as a test needs (its plan taking a moment): `sets` availability sets over the four regions in
/// turn (set-0 in eastus, set-1 in westus, ...), each with 20 update domains and 2 fault domains
/// and `vmsPerSet` VMs spread over them: an inventory document and a CSV of the VMs to import.
public struct LinkedFleet: Sendable {
    public static let regions = ["eastus", "westus", "northeurope", "westeurope"]
    public static let pairs = [("eastus", "westus"), ("northeurope", "westeurope")]

    public let sets: Int
    public let vmsPerSet: Int

    public init(sets: Int, vmsPerSet: Int) {
        self.sets = sets
        self.vmsPerSet = vmsPerSet
    }

    public var vms: Int { sets * vmsPerSet }
    /// One wave per update domain of each set.
    public var waves: Int { sets * min(vmsPerSet, 20) }

    /// Regions, pairs, four subscriptions and the sets (`pitstop import fleet.json`).
    public var inventory: String {
        let regions = Self.regions
        let sets = (0..<sets).map { s in
            #"{"name": "set-\#(s)", "region": "\#(regions[s % 4])", "subscription": "sub-\#(s % 4)", "faultDomains": 2, "updateDomains": 20}"#
        }
        return """
            {"regions": [\(regions.map { #"{"name": "\#($0)"}"# }.joined(separator: ", "))],
             "regionPairs": [\(Self.pairs.map { #"{"region": "\#($0.0)", "pairedWith": "\#($0.1)"}"# }.joined(separator: ", "))],
             "subscriptions": [\((0..<4).map { #"{"id": "sub-\#($0)", "admins": ["ops\#($0)@example.com"]}"# }.joined(separator: ", "))],
             "availabilitySets": [\(sets.joined(separator: ", "))]}
            """
    }

    /// The VMs (`pitstop import vms.csv`).
    public var csv: String {
        let regions = Self.regions
        var csv = "name,region,subscription,availabilitySet,updateDomain,faultDomain\n"
        csv.reserveCapacity(vms * 48)
        for s in 0..<sets {
            for v in 0..<vmsPerSet { csv += "vm-\(s)-\(v),\(regions[s % 4]),sub-\(s % 4),set-\(s),\(v % 20),\(v % 2)\n" }
        }
        return csv
    }

    /// The pairs whose regions have waves that overlap in time, whatever campaigns they are
    /// in, among `waves` (region, start, end): what rule 3 forbids.
    public static func pairClashes(_ waves: [(region: String, start: Int, end: Int)]) -> [String] {
        pairs.flatMap { a, b in
            let left = waves.filter { $0.region == a }, right = waves.filter { $0.region == b }
            return left.flatMap { l in
                right.filter { r in l.start < r.end && r.start < l.end }.map { r in "\(a) \(l.start)..<\(l.end) with \(b) \(r.start)..<\(r.end)" }
            }
        }
    }
}

/// A database a test's processes use (a SQLite path or a postgres:// URL of the test server),
/// read behind Pitstop's back: SQLite through GRDB, PostgreSQL through psql.
public struct RawDatabase: Sendable {
    public let db: String

    public init(db: String) { self.db = db }

    public var isPostgres: Bool { db.contains("://") }

    /// Every row of the query, each column as text (NULL as "").
    public func rows(_ sql: String) throws -> [[String]] {
        if isPostgres {
            let output = try PostgresServer.psql(database: PostgresServer.databaseName(of: db), sql)
            return output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        }
        let queue = try DatabaseQueue(path: db)
        defer { try? queue.close() }
        return try queue.read { database in
            try Row.fetchAll(database, sql: sql).map { row in
                row.databaseValues.map { value in
                    switch value.storage {
                    case .null: ""
                    case .int64(let n): String(n)
                    case .double(let d): String(d)
                    case .string(let s): s
                    case .blob(let data): String(decoding: data, as: UTF8.self)
                    }
                }
            }
        }
    }

    /// Every wave stored, of every campaign: its region and planned times (Unix seconds).
    public func waves() throws -> [(region: String, start: Int, end: Int)] {
        try rows("SELECT region, start_at, end_at FROM waves").map { (region: $0[0], start: Int($0[1]) ?? 0, end: Int($0[2]) ?? 0) }
    }

    /// The number of rows of each table a plan writes.
    public func planTables() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["campaigns", "waves", "wave_vms", "vm_departures", "notices", "vm_names", "audit_log"] {
            counts[table] = Int(try rows("SELECT count(*) FROM \(table)").first?.first ?? "")
        }
        return counts
    }
}

/// Holds `LOCK TABLE TABLE IN SHARE MODE` on a PostgreSQL database of the test server in a
/// transaction of its own (psql, in the background), so that any write to the table waits:
/// a writer that reaches it stops there, in the middle of its transaction, for as long as the
/// test likes, whatever the machine's load. Reads go on. Released by ``release()`` or when
/// the value goes.
public final class PostgresWriteBlock: @unchecked Sendable {
    let database: String
    let name = "pitstop-test-block-\(UUID().uuidString.prefix(8))"
    let process = Subprocess()

    public init(db: String, table: String) throws {
        database = PostgresServer.databaseName(of: db)
        guard let psql = PostgresServer.program("psql"), let host = db.components(separatedBy: "host=").last?.components(separatedBy: "&").first else {
            throw ProbeError("no psql, or no host= in \(db)")
        }
        process.executableURL = URL(fileURLWithPath: psql)
        process.arguments = ["-X", "-q", "-h", host, "-U", PostgresServer.user, "-d", database,
                             "-c", "BEGIN; LOCK TABLE \(table) IN SHARE MODE; SELECT pg_sleep(600); COMMIT;"]
        var environment = ProcessInfo.processInfo.environment
        environment["PGAPPNAME"] = name
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let held = try PostgresServer.psql(database: database, """
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE a.application_name = '\(name)' AND l.locktype = 'relation' AND l.granted AND l.mode = 'ShareLock'
                  AND l.relation = '\(table)'::regclass
                """)
            if held.trimmingCharacters(in: .whitespacesAndNewlines) == "1" { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        release()
        throw ProbeError("could not lock \(table) on \(database)")
    }

    /// Ends the blocking transaction (its connection), and waits for psql to exit.
    public func release() {
        guard process.isRunning else { return }
        _ = try? PostgresServer.psql(database: database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(name)'")
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        process.signal(SIGKILL)  // nothing once it has exited and been reaped
        process.waitUntilExit()
    }

    deinit { release() }
}

public struct ProbeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Stops the process `pid` (SIGSTOP) part way through writing a plan, inside its write
/// transaction, and returns once it is certain it stopped there; the caller kills it. Throws if
/// the process ends first, or after a minute.
///
/// On PostgreSQL the caller holds a ``PostgresWriteBlock`` on `notices`, which a plan writes
/// after its campaign, its waves and their VMs: the process is stopped once its connection
/// (named `pitstop pid PID@HOST`) holds the locks inserting into `waves` and `wave_vms` takes,
/// to its commit, and waits to insert into `notices`. (A writer that commits waves before the
/// whole plan is written, which it must not, is stopped as soon as they appear.) The wait runs
/// inside the server, every 2 ms.
///
/// On SQLite, where a transaction's rows stay in its connection until the commit, the process
/// is stopped once it has held the database's write lock (the WAL write lock, byte 120 of the
/// `-shm` file, in /proc/locks) for `hold` seconds, and /proc/locks then shows it still holding
/// it: stopped before its commit.
public func freezeMidPlanWrite(_ process: Subprocess, db: String, hold: Double) throws {
    let pid = process.processIdentifier
    if db.contains("://") {
        try PostgresServer.psql(database: PostgresServer.databaseName(of: db), """
            DO $$
            DECLARE
                deadline timestamptz := clock_timestamp() + interval '60 seconds';
                seen boolean := false;
                stored bigint := (SELECT count(*) FROM waves);
            BEGIN
                LOOP
                    PERFORM pg_stat_clear_snapshot();
                    EXIT WHEN (SELECT count(DISTINCT l.relation::regclass::text) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                               WHERE a.application_name LIKE 'pitstop pid \(pid)@%' AND l.locktype = 'relation'
                                 AND ((l.granted AND l.mode = 'RowExclusiveLock' AND l.relation IN ('waves'::regclass, 'wave_vms'::regclass))
                                      OR (NOT l.granted AND l.relation = 'notices'::regclass))) = 3;
                    EXIT WHEN (SELECT count(*) FROM waves) > stored;
                    IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'pitstop pid \(pid)@%') THEN
                        seen := true;
                    ELSIF seen THEN
                        RAISE EXCEPTION 'pitstop pid % left the database before it wrote its waves', \(pid);
                    END IF;
                    IF clock_timestamp() > deadline THEN
                        RAISE EXCEPTION 'pitstop pid % wrote no waves within a minute', \(pid);
                    END IF;
                    PERFORM pg_sleep(0.002);
                END LOOP;
            END $$
            """)
        process.signal(SIGSTOP)
        return
    }
    func holdsWriteLock() -> Bool {
        guard let inode = (try? FileManager.default.attributesOfItem(atPath: db + "-shm"))?[.systemFileNumber] as? Int,
              // Read whole: String(contentsOfFile:) reads one page of /proc/locks, too little on a busy machine.
              let data = try? FileHandle(forReadingAtPath: "/proc/locks")?.readToEnd() else { return false }
        let locks = String(decoding: data, as: UTF8.self)
        // "1: POSIX  ADVISORY  WRITE 4242 00:2d:1234 120 120"
        return locks.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count >= 8 && f[1] == "POSIX" && f[3] == "WRITE" && f[4] == "\(pid)" && f[5].hasSuffix(":\(inode)") && f[6] == "120"
        }
    }
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        guard process.signal(0) else { throw ProbeError("pitstop pid \(pid) ended before it was seen holding the write lock") }
        if holdsWriteLock() {
            usleep(UInt32(hold * 1_000_000))
            process.signal(SIGSTOP)
            // Stopped: what it holds now, it holds until it is killed.
            usleep(50_000)
            guard holdsWriteLock() else {
                process.signal(SIGCONT)
                throw ProbeError("pitstop pid \(pid) had let the write lock go within \(hold) s: it committed before it was stopped")
            }
            return
        }
        usleep(1000)
    }
    throw ProbeError("pitstop pid \(pid) did not take the write lock within a minute")
}
