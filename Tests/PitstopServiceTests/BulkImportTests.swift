// A large CSV import takes the bulk path: on SQLite with the domain trigger and foreign keys
// suspended and checked in bulk at the end, on PostgreSQL streamed through COPY with the
// conflicts an insert would meet answered beforehand. Both must add, update, leave unchanged
// and refuse exactly as the row-by-row path does.
import Foundation
import PitstopCore
import PitstopService
import PitstopStore
import PitstopTestSupport
import Testing

@Suite("Bulk CSV import on both engines")
struct BulkImportTests {
    /// Rows enough for the bulk path, which is chosen by the file's size (about 40 bytes a
    /// row, 25,000 rows): long names make the file large with few rows.
    static let rows = 6_000

    static func name(_ i: Int) -> String { "vm-\(String(format: "%06d", i))-" + String(repeating: "x", count: 180) }

    static let header = "name,region,subscription,availabilitySet,updateDomain,faultDomain,ipAddress"

    /// VM `i` of the file: in set s-(i % 50) or single, with an address unless a multiple of 7.
    static func line(_ i: Int, address: String? = nil) -> String {
        let placed = i % 3 == 0 ? "s-\(i % 50),,," : ",,,"
        let ip = address ?? (i % 7 == 0 ? "" : "10.\(i / 65536).\((i / 256) % 256).\(i % 256)")
        return "\(name(i)),r1,sub,\(placed)\(ip)"
    }

    static func csv(_ lines: [String]) -> ImportInput {
        .bytes(Array(([header] + lines).joined(separator: "\n").utf8) + [10], name: "fleet.csv")
    }

    /// A fleet with one region, one subscription and 50 sets of 5 update and 3 fault domains.
    static func fleet(_ inventory: InventoryService) async throws {
        var sets: [String] = []
        for s in 0..<50 {
            sets.append(#"{"name": "s-\#(s)", "region": "r1", "subscription": "sub", "updateDomains": 5, "faultDomains": 3}"#)
        }
        let document = #"{"regions": [{"name": "r1"}], "subscriptions": [{"id": "sub", "admins": ["ops@example.com"]}], "availabilitySets": [\#(sets.joined(separator: ","))]}"#
        _ = try await inventory.importDocument(.bytes(Array(document.utf8), name: "fleet.json"))
    }

    static func counts(added: Int = 0, updated: Int = 0, unchanged: Int = 0) -> UpsertCounts {
        var counts = UpsertCounts()
        (counts.added, counts.updated, counts.unchanged) = (added, updated, unchanged)
        return counts
    }

    /// What the table holds, whole, a row a line in name order: the proof that nothing else changed.
    static func contents(_ database: TestDatabase) throws -> [String?] {
        let fields = ["name", "region", "subscription", "availability_set", "CAST(update_domain AS TEXT)", "CAST(fault_domain AS TEXT)",
                      "ip_address", "CAST(key AS TEXT)"].map { "coalesce(\($0), '-')" }
        return try database.strings("SELECT \(fields.joined(separator: " || '|' || ")) FROM vms ORDER BY name")
    }

    @Test("added, then unchanged, then updated, as the row-by-row path counts them", arguments: TestEngine.all)
    func addUnchangedUpdate(engine: TestEngine) async throws {
        let database = try TestDatabase(engine)
        let inventory = InventoryService(store: database.store, actor: "test", clock: { Timestamp(seconds: 0) })
        try await Self.fleet(inventory)

        let first = try await inventory.importCSV(Self.csv((0..<Self.rows).map { Self.line($0) }))
        #expect(first.vms == Self.counts(added: Self.rows))
        // Every VM has its own key, and the set members were placed round-robin.
        #expect(try database.integer("SELECT count(DISTINCT key) FROM vms") == Self.rows)
        #expect(try database.integer("SELECT count(*) FROM vms WHERE key IS NULL") == 0)
        #expect(try database.integer("SELECT count(*) FROM vms WHERE availability_set = 's-0'") == Self.rows / 150)
        #expect(try database.integers("SELECT DISTINCT update_domain FROM vms WHERE availability_set = 's-0' ORDER BY 1") == [0, 1, 2, 3, 4])
        #expect(try database.integer("SELECT count(*) FROM vms WHERE ip_address = '10.0.0.1'") == 1)
        let stored = try Self.contents(database)
        let keys = "SELECT name || '|' || CAST(key AS TEXT) FROM vms WHERE name <> ? ORDER BY name"
        let keyed = try database.strings(keys, [.text(Self.name(Self.rows))])

        let again = try await inventory.importCSV(Self.csv((0..<Self.rows).map { Self.line($0) }))
        #expect(again.vms == Self.counts(unchanged: Self.rows))
        #expect(try Self.contents(database) == stored)

        // Ten VMs move to new addresses, one takes the address another gave up earlier in the
        // file, and one VM is new.
        var lines = (0..<Self.rows).map { Self.line($0) }
        for i in 1...10 { lines[i] = Self.line(i, address: "192.168.0.\(i)") }
        lines[20] = Self.line(20, address: "10.0.0.1")
        lines.append(Self.line(Self.rows))
        let moved = try await inventory.importCSV(Self.csv(lines))
        #expect(moved.vms == Self.counts(added: 1, updated: 11, unchanged: Self.rows - 11))
        #expect(try database.strings("SELECT name FROM vms WHERE ip_address = '10.0.0.1'") == [Self.name(20)])
        #expect(try database.strings("SELECT ip_address FROM vms WHERE name = ?", [.text(Self.name(1))]) == ["192.168.0.1"])
        // The keys never change.
        #expect(try database.strings(keys, [.text(Self.name(Self.rows))]) == keyed)
        let verified = try await AuditService(store: database.store).verify(now: Timestamp(seconds: 0))
        #expect(verified.chain.ok)
    }

    @Test("an address taken in the store or earlier in the file is refused at its line, nothing written", arguments: TestEngine.all)
    func addressConflicts(engine: TestEngine) async throws {
        let database = try TestDatabase(engine)
        let inventory = InventoryService(store: database.store, actor: "test", clock: { Timestamp(seconds: 0) })
        try await Self.fleet(inventory)
        _ = try await inventory.importCSV(Self.csv((0..<Self.rows).map { Self.line($0) }))
        let stored = try Self.contents(database)

        // New VMs, one of which takes a stored VM's address (line 12 of the file).
        let new = (0..<Self.rows).map { "new-\(Self.name($0)),r1,sub,,,,172.16.\(($0 / 256) % 256).\($0 % 256)" }
        var lines = new
        lines[10] = "new-\(Self.name(10)),r1,sub,,,,10.0.0.1"
        let error = await #expect(throws: PitstopError.self) { try await inventory.importCSV(Self.csv(lines)) }
        #expect(error?.problems.map { "\($0.line ?? 0): \($0.message)" } == ["12: ipAddress 10.0.0.1 is already used by VM \(Self.name(1))"])
        #expect(try Self.contents(database) == stored)

        // The same new VMs, two of which repeat addresses given earlier in the file: both found
        // in one run, each naming the VM and line that has the address.
        lines = new + ["new-last,r1,sub,,,,172.16.0.5", "new-other,r1,sub,,,,172.16.0.9"]
        let repeated = await #expect(throws: PitstopError.self) { try await inventory.importCSV(Self.csv(lines)) }
        #expect(repeated?.problems.map { "\($0.line ?? 0): \($0.field ?? ""): \($0.message)" } == [
            "\(Self.rows + 2): ipAddress: 172.16.0.5 is already given to VM new-\(Self.name(5)) on line 7 of this file",
            "\(Self.rows + 3): ipAddress: 172.16.0.9 is already given to VM new-\(Self.name(9)) on line 11 of this file",
        ])
        #expect(try Self.contents(database) == stored)
    }

    @Test("names with COPY's special characters arrive as written", arguments: TestEngine.all)
    func specialCharacters(engine: TestEngine) async throws {
        let database = try TestDatabase(engine)
        let inventory = InventoryService(store: database.store, actor: "test", clock: { Timestamp(seconds: 0) })
        try await Self.fleet(inventory)
        let odd = [#"\N"#, #"back\slash"#, #"\\two"#, "tab\\t", "café ☕", "quote's \"double\""]
        var lines = (0..<Self.rows).map { Self.line($0) }
        for name in odd {
            let field = name.contains("\"") ? "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : name
            lines.append("\(field),r1,sub,,,,")
        }
        let summary = try await inventory.importCSV(Self.csv(lines))
        #expect(summary.vms.added == Self.rows + odd.count)
        for name in odd {
            #expect(try database.strings("SELECT name FROM vms WHERE name = ?", [.text(name)]) == [name])
        }
        #expect(try database.integer("SELECT count(*) FROM vms WHERE name LIKE 'vm-%x'") == Self.rows)
    }
}
