// VMs on PostgreSQL: reads come a batch of VMs to a statement, as column arrays, and a VM added
// gets its key from a block claimed from `vm_key_counter`, as on SQLite (`StoredVMs`).
import Foundation
import PitstopCore
import PitstopStore
import PostgresNIO

/// Reads of the `vms` table, in the caller's transaction.
package struct PostgresVMRepository: VMRepository {
    let session: PostgresSession
    /// In a bulk write, VMs added are streamed through `COPY` (``PostgresVMCopyWriter``).
    var bulk = false

    func vm(named name: String) throws -> VirtualMachine? {
        try session.row("SELECT \(unescaped: StoredVMs.columns) FROM vms WHERE name = \(name)").map { try Self.vm(from: $0) }
    }

    func vm(ipAddress: String) throws -> VirtualMachine? {
        try session.row("SELECT \(unescaped: StoredVMs.columns) FROM vms WHERE ip_address = \(ipAddress)").map { try Self.vm(from: $0) }
    }

    /// A VM from the first columns of a row that selects `StoredVMs.columns`.
    static func vm(from row: PostgresRow) throws -> VirtualMachine {
        var cells = PostgresCells(row)
        return try vm(from: &cells)
    }

    /// A VM from the next columns, `StoredVMs.columns`: read by hand, since a plan reads a
    /// million of them.
    static func vm(from cells: inout some PostgresColumnReader) throws -> VirtualMachine {
        VirtualMachine(name: try cells.requiredText(), region: try cells.requiredText(), subscription: try cells.requiredText(),
                       availabilitySet: try cells.text(), updateDomain: try cells.integer().map { Int($0) },
                       faultDomain: try cells.integer().map { Int($0) }, ipAddress: try cells.text())
    }

    func forEach(in scope: VMScope, after: String?, _ body: (VirtualMachine) throws -> Void) throws {
        try read(scope, after: after, keyed: false) { vm, _ in try body(vm) }
    }

    func forEachKeyed(in scope: VMScope, _ body: (VirtualMachine, VMKey) throws -> Void) throws {
        try read(scope, after: nil, keyed: true, body)
    }

    /// VMs are read this many to a statement.
    package static let batch = 20_000

    /// Streams the VMs in scope in name order (byte order: the columns are COLLATE "C").
    /// A batch of VMs comes as one row of arrays, a column each, the next batch after the last
    /// name read: a million rows, each its own message with its own cells, took most of a
    /// plan's read. The arrays are filled from the batch in name order (each aggregate reads
    /// the ordered subquery's rows as they come); the names are checked to rise all the same.
    /// The next batch is asked for as soon as a batch arrives, before its VMs are taken apart,
    /// so that the server reads it meanwhile (on a million VMs the two took 1.0 s and 0.9 s).
    /// In a write transaction (READ COMMITTED) each batch is read at its statement's start;
    /// Pitstop's other writers wait for the write lock, so only another tool's commit could
    /// fall between two batches.
    private func read(_ scope: VMScope, after first: String?, keyed: Bool, _ body: (VirtualMachine, VMKey) throws -> Void) throws {
        let columns = StoredVMs.columns + (keyed ? ", key" : "")
        let arrays = columns.split(separator: ",").map { "array_agg(\($0.trimmingCharacters(in: .whitespaces)))" }.joined(separator: ", ")
        func batch(after: String) throws -> PostgresSession.PendingRows {
            var sql = PostgresSQL()
            let inScope = StoredVMs.filter(scope).map { "\($0.column) = \(sql.bind($0.value)) AND " } ?? ""
            sql.text = """
                SELECT \(arrays)
                FROM (SELECT \(columns) FROM vms WHERE \(inScope)name > \(sql.bind(after)) ORDER BY name LIMIT \(Self.batch)) AS batch
                """
            return try session.send(sql.query)
        }
        var after = first ?? ""  // every name sorts after "": names are never empty
        var pending: PostgresSession.PendingRows? = try batch(after: after)
        while let answer = pending {
            guard let row = try answer.rows().first else { throw PostgresSession.unreadable }
            var rows = try PostgresColumnArrays(row)
            // A full batch may have more after it: asked for now, read below.
            pending = nil
            if rows.remaining == Self.batch {
                guard let last = try rows.lastText(ofColumn: 0) else { throw PostgresSession.unreadable }
                pending = try batch(after: last)
            }
            do {
                while rows.nextRow() {
                    let vm = try Self.vm(from: &rows)
                    guard after.utf8.lexicographicallyPrecedes(vm.name.utf8) else { throw PostgresSession.unreadable }
                    after = vm.name
                    // The key: 0 for a VM another tool wrote without one.
                    try body(vm, keyed ? try rows.integer() ?? 0 : 0)
                }
            } catch {
                // The batch asked for is answered before anything else is sent.
                _ = try? pending?.rows()
                throw error
            }
        }
    }

    func count(in scope: VMScope) throws -> Int {
        let query: PostgresQuery = if let test = StoredVMs.filter(scope) {
            "SELECT count(*) FROM vms WHERE \(unescaped: test.column) = \(test.value)"
        } else {
            "SELECT count(*) FROM vms"
        }
        return try session.value(query, as: Int.self) ?? 0
    }

    func countsBySet() throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try session.rows("""
            SELECT availability_set, count(*) FROM vms WHERE availability_set IS NOT NULL GROUP BY availability_set
            """).map { try session.decode($0, (String, Int).self) })
    }

    func domainCounts() throws -> [DomainCount] {
        try session.rows("""
            SELECT region, availability_set, update_domain, fault_domain, count(*) FROM vms
            GROUP BY region, availability_set, update_domain, fault_domain
            """).map {
            let (region, set, updateDomain, faultDomain, vms) = try session.decode($0, (String, String?, Int?, Int?, Int).self)
            return DomainCount(region: region, availabilitySet: set, updateDomain: updateDomain, faultDomain: faultDomain, vms: vms)
        }
    }

    func writer(expectedVMs: Int) throws -> any VMWriting {
        bulk ? try PostgresVMCopyWriter(session: session, expectedVMs: expectedVMs) : PostgresVMWriter(session: session)
    }
}

/// Upserts VMs one at a time inside the caller's transaction. A VM added gets its key from a
/// block the writer claims from `vm_key_counter`: one counter write per block, not per VM, the
/// blocks growing as on SQLite (`StoredVMs.KeyBlocks`). A VM keeps its key: an overwrite never
/// names the column (and the schema's `vms_key_kept` trigger refuses a change).
final class PostgresVMWriter: VMWriting {
    private let session: PostgresSession
    private var keys = StoredVMs.KeyBlocks()

    init(session: PostgresSession) {
        self.session = session
    }

    func insertIfAbsent(_ vm: VirtualMachine) throws -> Bool {
        try refuseAddressHeld(by: vm)
        let key = try keys.next { try Self.claimKeys($0, in: session) }
        // Only a name taken is skipped: a refused IP address or reference still throws, as on SQLite.
        let inserted = try session.execute("""
            INSERT INTO vms(name, region, subscription, availability_set, update_domain, fault_domain, ip_address, key)
            VALUES (\(vm.name), \(vm.region), \(vm.subscription), \(vm.availabilitySet), \(vm.updateDomain), \(vm.faultDomain),
                    \(vm.ipAddress), \(key))
            ON CONFLICT (name) DO NOTHING
            """)
        guard inserted > 0 else { return false }
        keys.take()
        return true
    }

    func overwrite(_ vm: VirtualMachine) throws { try overwrite(vm, checkingAddress: true) }

    /// Overwrites the stored VM of the same name; `checkingAddress: false` when the caller
    /// has checked that no other VM has its address.
    func overwrite(_ vm: VirtualMachine, checkingAddress: Bool) throws {
        if checkingAddress { try refuseAddressHeld(by: vm) }
        try session.execute("""
            UPDATE vms SET region = \(vm.region), subscription = \(vm.subscription), availability_set = \(vm.availabilitySet),
                update_domain = \(vm.updateDomain), fault_domain = \(vm.faultDomain), ip_address = \(vm.ipAddress)
            WHERE name = \(vm.name)
            """)
    }

    func existing(named name: String) throws -> VirtualMachine? {
        try PostgresVMRepository(session: session).vm(named: name)
    }

    /// Refuses `vm`'s address if another VM has it, naming that VM. PostgreSQL's unique index
    /// would refuse it too, but its refusal ends the transaction, so the holder is asked first
    /// (the index still refuses a holder written since, without its name).
    private func refuseAddressHeld(by vm: VirtualMachine) throws {
        guard let address = vm.ipAddress else { return }
        if let holder = try session.value("SELECT name FROM vms WHERE ip_address = \(address) AND name <> \(vm.name)", as: String.self) {
            throw StoredVMs.addressHeld(address, by: holder)
        }
    }

    /// Takes `count` keys no VM has had from `vm_key_counter`, in the session's transaction;
    /// returns the first of them. Every key Pitstop gives a VM on PostgreSQL comes from here.
    static func claimKeys(_ count: Int64, in session: PostgresSession) throws -> VMKey {
        guard let first = try session.value("""
            UPDATE vm_key_counter SET next = next + \(count) WHERE "only" = 1 RETURNING next - \(count)
            """, as: Int64.self) else {
            throw StoredVMs.counterMissing
        }
        return first
    }
}

/// Writes VMs as ``PostgresVMWriter`` does, for a bulk import: VMs added are streamed into the
/// table through one `COPY` instead of an `INSERT` each, the database's way of loading many
/// rows. A copied row cannot be skipped or refused alone, so what the insert's conflict would
/// tell is known beforehand: the stored VMs are read once, compactly (a bulk write is chosen
/// only when the import is large next to the fleet), and a name or address already taken is
/// answered here, as the insert would have; so is an existing VM, without a query per VM. No
/// other process writes meanwhile: every write holds the write lock. Every other rule is still
/// the schema's: a row it refuses fails the copy, and the import with it.
final class PostgresVMCopyWriter: VMWriting {
    private let session: PostgresSession
    /// A claim is a statement, which ends the copy in progress: the server stores what was sent
    /// and checks it (postgres/0003) while this thread waits, then a new copy starts. Blocks of
    /// up to 4,096 keys stopped a million-VM copy about 250 times; of up to 65,536, 30 times,
    /// an eighth of its time. So the first claim takes as many keys as any import may need,
    /// and the keys left over go back before the commit (``giveBackUnusedKeys()``): no key is
    /// skipped, and the copy runs through. No other claim comes between: the counter's row
    /// stays locked by this transaction's claim until it ends.
    private var keys = StoredVMs.KeyBlocks(largest: PostgresVMCopyWriter.keysAtOnce, initial: PostgresVMCopyWriter.keysAtOnce)
    static let keysAtOnce: Int64 = 1 << 24

    /// A VM stored or copied, in about 32 bytes: its region, subscription and set are an index
    /// into `places`, each combination stored once.
    private struct Compact {
        var place: Int32
        var updateDomain: Int32
        var faultDomain: Int32
        var ipAddress: String?
    }
    private struct Place: Hashable {
        var region: String
        var subscription: String
        var availabilitySet: String?
    }
    private var vms: [String: Compact] = [:]
    private var places: [Place] = []
    private var placeIndex: [Place: Int32] = [:]
    /// The place of the VM kept last.
    private var lastPlace: Int32?
    /// Addresses stored or copied, with their VM's name.
    private var addresses: [String: String] = [:]

    static let columns = ["name", "region", "subscription", "availability_set", "update_domain", "fault_domain", "ip_address", "key"]

    init(session: PostgresSession, expectedVMs: Int) throws {
        self.session = session
        // Into an empty fleet (a first import), the VMs are loaded before their indexes are
        // made (PostgresIndexRebuild): a million VMs took 6.2 s instead of 8.2 s, the server's
        // CPU 5.0 s instead of 7.8 s. Other servers have no VM to answer for meanwhile, and
        // their reads of the fleet wait for the commit. The drop locks the table first, so the
        // VMs read below are all it holds until then (none, unless another tool wrote one).
        if try session.value("SELECT NOT EXISTS (SELECT 1 FROM vms)", as: Bool.self) == true {
            let rebuild = try PostgresIndexRebuild(droppingIndexesOf: "vms", in: session)
            session.atCommit { try rebuild.remake(in: session) }
        }
        try session.forEachRow("SELECT \(unescaped: StoredVMs.columns) FROM vms") { row in
            remember(try PostgresVMRepository.vm(from: row))
        }
        // Growing a million names by doubling rehashed each of them about twice.
        vms.reserveCapacity(vms.count + expectedVMs)
        session.atCommit { [self] in try giveBackUnusedKeys() }
    }

    func insertIfAbsent(_ vm: VirtualMachine) throws -> Bool {
        // One hash of the name for a VM not seen before (nearly all of an import's): stored at
        // once, and the one it replaced put back in the rare case there was one. Hashing was a
        // fifth of an import's CPU on this thread.
        if let before = vms.updateValue(compact(vm), forKey: vm.name) {
            vms[vm.name] = before
            return false
        }
        do {
            if let address = vm.ipAddress, let holder = addresses[address] {
                throw StoredVMs.addressHeld(address, by: holder)
            }
            let key = try keys.next { try PostgresVMWriter.claimKeys($0, in: session) }
            try session.copyRow(into: "vms", columns: Self.columns, [
                vm.name, vm.region, vm.subscription, vm.availabilitySet, vm.updateDomain.map(String.init),
                vm.faultDomain.map(String.init), vm.ipAddress, String(key),
            ])
            keys.take()
        } catch {
            vms[vm.name] = nil
            throw error
        }
        if let address = vm.ipAddress { addresses[address] = vm.name }
        return true
    }

    /// Puts the counter back to the first key not given, if it still stands where this
    /// writer's last claim left it; nothing when it claimed none or gave every key.
    private func giveBackUnusedKeys() throws {
        let unused = keys.unused
        guard !unused.isEmpty else { return }
        try session.execute("""
            UPDATE vm_key_counter SET next = \(unused.lowerBound) WHERE "only" = 1 AND next = \(unused.upperBound)
            """)
    }

    func overwrite(_ vm: VirtualMachine) throws {
        if let address = vm.ipAddress, let holder = addresses[address], holder != vm.name {
            throw StoredVMs.addressHeld(address, by: holder)
        }
        let before = vms[vm.name]
        try PostgresVMWriter(session: session).overwrite(vm, checkingAddress: false)
        if let old = before?.ipAddress, addresses[old] == vm.name { addresses[old] = nil }
        remember(vm)
    }

    func existing(named name: String) throws -> VirtualMachine? {
        guard let compact = vms[name] else { return nil }
        let place = places[Int(compact.place)]
        return VirtualMachine(
            name: name, region: place.region, subscription: place.subscription, availabilitySet: place.availabilitySet,
            updateDomain: compact.updateDomain < 0 ? nil : Int(compact.updateDomain),
            faultDomain: compact.faultDomain < 0 ? nil : Int(compact.faultDomain), ipAddress: compact.ipAddress)
    }

    private func remember(_ vm: VirtualMachine) {
        vms[vm.name] = compact(vm)
        if let address = vm.ipAddress { addresses[address] = vm.name }
    }

    /// `vm` as kept here, its place added to `places` if new. Inventories often list a set's
    /// VMs together, so the place is first compared with the last one's, then looked up.
    private func compact(_ vm: VirtualMachine) -> Compact {
        let place = Place(region: vm.region, subscription: vm.subscription, availabilitySet: vm.availabilitySet)
        let index: Int32
        if let last = lastPlace, places[Int(last)] == place {
            index = last
        } else if let known = placeIndex[place] {
            index = known
        } else {
            index = Int32(places.count)
            places.append(place)
            placeIndex[place] = index
        }
        lastPlace = index
        return Compact(place: index, updateDomain: Int32(vm.updateDomain ?? -1), faultDomain: Int32(vm.faultDomain ?? -1),
                       ipAddress: vm.ipAddress)
    }
}
