// VMs come by the million, so their writes bind straight to prepared SQLite statements
// (STYLE.md: raw binds avoid per-row argument boxing) and their reads stream.
import Foundation
import GRDB
import GRDBSQLite
package import PitstopCore

/// Reads of the `vms` table.
struct SQLiteVMRepository: VMRepository {
    let db: Database

    static let columns = StoredVMs.columns

    func vm(named name: String) throws -> VirtualMachine? {
        try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM vms WHERE name = ?", arguments: [name]).map(Self.vm(from:))
    }

    func vm(ipAddress: String) throws -> VirtualMachine? {
        try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM vms WHERE ip_address = ?", arguments: [ipAddress]).map(Self.vm(from:))
    }

    static func vm(from row: Row) -> VirtualMachine {
        VirtualMachine(name: row[0], region: row[1], subscription: row[2], availabilitySet: row[3],
                       updateDomain: row[4], faultDomain: row[5], ipAddress: row[6])
    }

    /// Calls `body` for each VM in scope after `after`, in name order, without holding them
    /// all. Columns are read raw: the planner reads a million VMs, and GRDB's `Row` cost more
    /// than SQLite.
    func forEach(in scope: VMScope, after: String?, _ body: (VirtualMachine) throws -> Void) throws {
        try read(scope, after: after, keyed: false) { vm, _ in try body(vm) }
    }

    func forEachKeyed(in scope: VMScope, _ body: (VirtualMachine, VMKey) throws -> Void) throws {
        try read(scope, after: nil, keyed: true, body)
    }

    private func read(_ scope: VMScope, after: String?, keyed: Bool, _ body: (VirtualMachine, VMKey) throws -> Void) throws {
        // Names compare as bytes (SQLite's BINARY collation), as on PostgreSQL.
        var conditions: [String] = [], arguments: [String] = []
        if let test = StoredVMs.filter(scope) { conditions.append("\(test.column) = ?"); arguments.append(test.value) }
        if let after { conditions.append("name > ?"); arguments.append(after) }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let statement = try db.makeStatement(sql: "SELECT \(Self.columns)\(keyed ? ", key" : "") FROM vms\(filter) ORDER BY name")
        if !arguments.isEmpty { try statement.setArguments(StatementArguments(arguments)) }
        let rows = RawRows(statement: statement, db: db)
        while try rows.next() {
            try body(VirtualMachine(name: rows.text(0) ?? "", region: rows.text(1) ?? "", subscription: rows.text(2) ?? "",
                                    availabilitySet: rows.text(3), updateDomain: rows.int(4), faultDomain: rows.int(5), ipAddress: rows.text(6)),
                     keyed ? rows.int64(7) ?? 0 : 0)
        }
    }

    func count(in scope: VMScope) throws -> Int {
        switch scope {
        case .all: try Int.fetchOne(db, sql: "SELECT count(*) FROM vms") ?? 0
        case .region(let r): try Int.fetchOne(db, sql: "SELECT count(*) FROM vms WHERE region = ?", arguments: [r]) ?? 0
        case .availabilitySet(let s): try Int.fetchOne(db, sql: "SELECT count(*) FROM vms WHERE availability_set = ?", arguments: [s]) ?? 0
        case .subscription(let s): try Int.fetchOne(db, sql: "SELECT count(*) FROM vms WHERE subscription = ?", arguments: [s]) ?? 0
        }
    }

    func countsBySet() throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
            SELECT availability_set, count(*) FROM vms WHERE availability_set IS NOT NULL GROUP BY availability_set
            """).map { ($0[0] as String, $0[1] as Int) })
    }

    func domainCounts() throws -> [DomainCount] {
        try Row.fetchAll(db, sql: """
            SELECT region, availability_set, update_domain, fault_domain, count(*) FROM vms
            GROUP BY region, availability_set, update_domain, fault_domain
            """).map { DomainCount(region: $0[0], availabilitySet: $0[1], updateDomain: $0[2], faultDomain: $0[3], vms: $0[4]) }
    }

    func writer(expectedVMs: Int) throws -> any VMWriting { try VMWriter(db) }
}

/// Upserts VMs one at a time inside a caller's transaction, through statements prepared once.
/// A VM added gets its integer key (`vms.key`, migration 0008) from a block of keys the writer
/// claims from `vm_key_counter` in the same transaction: one counter write per block, not per VM.
/// Blocks double from one key up to ``StoredVMs/KeyBlocks/largest``, so keys stay nearly dense:
/// a command that adds one VM takes one key, an import at most twice as many keys as VMs (the
/// checker sizes an array by the largest key).
final class VMWriter: VMWriting {
    private let db: Database
    private let insert: Statement
    private let update: Statement
    private let select: Statement
    private let arena = BindArena()
    private var keys = StoredVMs.KeyBlocks()

    init(_ db: Database) throws {
        self.db = db
        insert = try db.makeStatement(sql: """
            INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain, ip_address, key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING
            """)
        update = try db.makeStatement(sql: """
            UPDATE vms SET region = ?2, subscription = ?3, availability_set = ?4, update_domain = ?5,
                fault_domain = ?6, ip_address = ?7
            WHERE name = ?1
            """)
        select = try db.makeStatement(sql: "SELECT \(SQLiteVMRepository.columns) FROM vms WHERE name = ?")
    }

    /// Inserts `vm` unless a VM of that name exists; returns whether it was inserted.
    func insertIfAbsent(_ vm: VirtualMachine) throws -> Bool {
        let key = try keys.next { try claimVMKeys($0, in: db) }
        sqlite3_reset(insert.sqliteStatement)
        sqlite3_bind_int64(insert.sqliteStatement, 8, key)
        try run(insert, vm)
        guard sqlite3_changes(db.sqliteConnection) > 0 else { return false }
        keys.take()
        return true
    }

    /// Overwrites the stored VM of the same name.
    func overwrite(_ vm: VirtualMachine) throws {
        try run(update, vm)
    }

    func existing(named name: String) throws -> VirtualMachine? {
        try Row.fetchOne(select, arguments: [name]).map(SQLiteVMRepository.vm(from:))
    }

    private func run(_ statement: Statement, _ vm: VirtualMachine) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        arena.reset()
        arena.bind(handle, 1, vm.name)
        arena.bind(handle, 2, vm.region)
        arena.bind(handle, 3, vm.subscription)
        arena.bind(handle, 4, vm.availabilitySet)
        bind(handle, 5, vm.updateDomain)
        bind(handle, 6, vm.faultDomain)
        arena.bind(handle, 7, vm.ipAddress)
        do {
            try stepToDone(statement, in: db)
        } catch let refusal as PitstopError where StoredVMs.refusesAddress(refusal) {
            // SQLite undid the statement alone: the transaction can still say who has the address.
            guard let address = vm.ipAddress, let holder = try StoredVMs.holder(of: address, other: vm.name, in: db) else { throw refusal }
            throw StoredVMs.addressHeld(address, by: holder)
        }
    }
}

/// What every engine's VM repository shares beside its SQL.
package enum StoredVMs {
    /// The columns a `VirtualMachine` is read from, in its initializer's order.
    package static let columns = "name, region, subscription, availability_set, update_domain, fault_domain, ip_address"

    /// The column and value a scope selects VMs by; nil for the whole fleet.
    package static func filter(_ scope: VMScope) -> (column: String, value: String)? {
        switch scope {
        case .all: nil
        case .region(let r): ("region", r)
        case .availabilitySet(let s): ("availability_set", s)
        case .subscription(let s): ("subscription", s)
        }
    }

    /// Keys claimed from `vm_key_counter` and not yet given, claimed in blocks that double
    /// from `initial` keys (one by default) up to `largest`: keys given stay at least half of
    /// those claimed.
    package struct KeyBlocks {
        /// Keys claimed and not yet given: `first..<end`.
        private var first: VMKey = 0, end: VMKey = 0
        /// The next block's size.
        private var block: Int64
        private let largest: Int64
        /// The largest block by default: a million-VM import claims about 250.
        package static let largest: Int64 = 4096

        package init(largest: Int64 = KeyBlocks.largest, initial: Int64 = 1) {
            self.largest = largest
            block = min(initial, largest)
        }

        /// The keys claimed and not given (yet).
        package var unused: Range<VMKey> { first..<end }

        /// The key the next VM added gets; when none is left, `claim(n)` claims a block of
        /// `n` keys and returns the first. The key stays next until ``take()``.
        package mutating func next(claim: (Int64) throws -> VMKey) rethrows -> VMKey {
            if first == end {
                let claimed = try claim(block)
                (first, end) = (claimed, claimed + block)
                block = min(2 * block, largest)
            }
            return first
        }

        /// The key ``next(claim:)`` gave went to a VM.
        package mutating func take() { first += 1 }
    }

    /// Whether `error` is the unique index on VMs' addresses refusing a write.
    package static func refusesAddress(_ error: PitstopError) -> Bool {
        error.kind == .conflict && error.message == ConstraintRefusal.ipAddressTaken.message
    }

    /// The refusal of a write that gives a VM `address`, which the VM `holder` has.
    package static func addressHeld(_ address: String, by holder: String) -> PitstopError {
        PitstopError(.conflict, ConstraintRefusal.addressHeld(address, by: holder).message)
    }

    /// The VM other than `name` that has `address`, if any.
    static func holder(of address: String, other name: String, in db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT name FROM vms WHERE ip_address = ? AND name <> ?", arguments: [address, name])
    }

    /// `vm_key_counter` has lost its one row.
    package static var counterMissing: PitstopError { corruptRow(table: "vm_key_counter", key: "1", problem: "it is missing") }
}

/// Takes `count` keys no VM has had from `vm_key_counter`, in the caller's transaction; returns
/// the first of them. Every key Pitstop gives a VM comes from here.
func claimVMKeys(_ count: Int64, in db: Database) throws -> VMKey {
    guard let first = try Int64.fetchOne(db.cachedStatement(sql: "UPDATE vm_key_counter SET next = next + ?1 RETURNING next - ?1"),
                                         arguments: [count]) else {
        throw StoredVMs.counterMissing
    }
    return first
}

/// Runs a statement whose arguments were bound raw; throws SQLite's error as GRDB does.
func stepToDone(_ statement: Statement, in db: Database) throws {
    let handle = statement.sqliteStatement
    let code = sqlite3_step(handle)
    guard code == SQLITE_DONE else {
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        // The extended code tells a foreign key from a unique index.
        let extended = sqlite3_extended_errcode(db.sqliteConnection)
        sqlite3_reset(handle)
        let error = DatabaseError(resultCode: ResultCode(rawValue: code == SQLITE_CONSTRAINT ? extended : code), message: message, sql: statement.sql)
        try constrained { throw error }
        return
    }
}

/// Steps through a statement's rows and reads their Self.columns without GRDB's `Row`: the
/// planner and the checker read a million VMs or events, and `Row` cost more than SQLite.
struct RawRows {
    let statement: Statement
    let db: Database
    private var handle: SQLiteStatement { statement.sqliteStatement }

    /// Advances to the next row; false at the end.
    func next() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
    }

    func text(_ i: Int32) -> String? {
        guard sqlite3_column_type(handle, i) != SQLITE_NULL, let p = sqlite3_column_text(handle, i) else { return nil }
        // With its length from SQLite, not strlen: read a million times a query.
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, i))), as: UTF8.self)
    }

    func int(_ i: Int32) -> Int? {
        sqlite3_column_type(handle, i) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(handle, i))
    }

    func int64(_ i: Int32) -> Int64? {
        sqlite3_column_type(handle, i) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, i)
    }
}

/// SQLite copies the bytes before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
/// SQLite uses the bytes where they are until the statement is reset or rebound.
private let persistent = unsafeBitCast(0, to: sqlite3_destructor_type.self)

/// Holds one row's text arguments while its statement runs, so SQLite can bind them in place
/// instead of allocating and copying each value (seven allocations a row, a million rows).
final class BindArena {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity = 1 << 16
    private var used = 0

    init() { base = .allocate(capacity: capacity) }
    deinit { base.deallocate() }

    /// Starts a new row: call after the previous step finished and the statement was reset.
    func reset() { used = 0 }

    func bind(_ handle: SQLiteStatement, _ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            // A value that does not fit falls back to a copy; names are at most 256 characters.
            guard bytes.count > 0 else {
                _ = sqlite3_bind_text(handle, index, "", 0, transient)
                return
            }
            guard used + bytes.count <= capacity else {
                _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
                return
            }
            let target = base + used
            target.update(from: bytes.baseAddress!, count: bytes.count)
            used += bytes.count
            _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(target).assumingMemoryBound(to: CChar.self), Int32(bytes.count), persistent)
        }
    }
}

func bind(_ handle: SQLiteStatement, _ index: Int32, _ value: Int?) {
    if let value { sqlite3_bind_int64(handle, index, Int64(value)) } else { sqlite3_bind_null(handle, index) }
}


/// Loading VMs by the hundred thousand. Running the domain trigger and the foreign-key
/// checks row by row costs more than the rows themselves (measured at a million VMs), so a
/// bulk load suspends both inside its transaction and then checks every invariant they guard
/// in one set-based pass. A failure rolls the whole transaction back, schema included.
enum VMBulkLoad {
    /// The trigger suspended during the load; its SQL comes from the schema itself, so the
    /// migrations stay the only definition.
    static let suspended = "vms_domains_in_range_on_insert"

    /// Page cache for bulk loads, in KiB: room for the VM table and its set index at a
    /// million VMs. With SQLite's default 2 MB a million-row transaction spills pages to the
    /// WAL again and again (measured: 2.6x slower with names in random order).
    static let cacheKiB = 160 * 1024

    /// Runs `body` in one transaction with foreign keys off and the insert trigger dropped,
    /// then restores and verifies. `body` must itself check references (the importer does,
    /// against the fleet it loaded in the same transaction). `db` must not be in a transaction.
    static func run<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.execute(sql: "PRAGMA foreign_keys = OFF")
        defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
        try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
        defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
        var result: T?
        try db.inTransaction {
            let trigger = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", arguments: [suspended])
            if trigger != nil { try db.execute(sql: "DROP TRIGGER \(suspended.quotedDatabaseIdentifier)") }
            result = try body()
            if let trigger { try db.execute(sql: trigger) }
            try verify(db)
            return .commit
        }
        return result!
    }

    /// What the foreign keys and the trigger would have refused, row by row, in one scan. A VM
    /// in a set must share its set's region, and a set's region and subscription exist (the
    /// sets' own foreign keys, never suspended): so a set VM has only its set looked up, and
    /// its subscription too only when it is not its set's. A VM without a set has its region
    /// and subscription looked up. On a million VMs, each lookup saved is a tenth of a second.
    static func verify(_ db: Database) throws {
        if let row = try Row.fetchOne(db, sql: """
            SELECT v.name, v.region, v.subscription, v.availability_set FROM vms v
            LEFT JOIN availability_sets s ON s.name = v.availability_set
            WHERE (v.availability_set IS NULL AND (v.region NOT IN (SELECT name FROM regions)
                   OR v.subscription NOT IN (SELECT id FROM subscriptions)))
               OR (v.availability_set IS NOT NULL AND (s.name IS NULL OR s.region <> v.region
                   OR v.update_domain >= s.update_domains OR v.fault_domain >= s.fault_domains
                   OR (v.subscription <> s.subscription AND v.subscription NOT IN (SELECT id FROM subscriptions))))
            LIMIT 1
            """) {
            throw PitstopError(.conflict, "VM \(row[0] as String) breaks a constraint of the fleet (region \(row[1] as String), subscription \(row[2] as String), set \(row[3] as String? ?? "none"))")
        }
    }
}
