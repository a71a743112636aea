// Moving house: a SQLite database's every row copied into an empty PostgreSQL database in one
// transaction, checked on arrival (the same rows counted, the same audit chain intact to the
// same head) before it commits. Any failure leaves the PostgreSQL database as it was.
public import PitstopCore
public import PitstopStore
import PostgresNIO

/// What a move copied, and the audit chain as it arrived.
public struct DatabaseMove: Sendable {
    /// Each table and its rows copied, in the order copied (parents first): all the source's,
    /// but for `vm_names`, whose rows of VMs still in the fleet PostgreSQL does not keep.
    public var tables: [(name: String, rows: Int)]
    /// The chain walked in PostgreSQL after the copy: intact, with the source's entries and head.
    public var chain: ChainCheck
}

extension PostgresStore {
    /// Copies every row of `source` into this database, which must hold no data yet, and checks
    /// it arrived before committing: the rows copied there in every table, the audit chain
    /// intact with the source's length and head. `finish` then runs in the same transaction
    /// (the caller records the move in the audit log); `progress` gets each table and its rows
    /// copied so far.
    public func receive<T: Sendable>(
        from source: AppDatabase, progress: (@Sendable (_ table: String, _ rows: Int) -> Void)? = nil,
        finish: @escaping @Sendable (any Repositories, DatabaseMove) throws -> T
    ) async throws -> (move: DatabaseMove, finished: T) {
        let location = self.location, sender = pool.sender
        return try await pool.run { session in
            try Self.writeTransaction(session, sender: sender) { repositories in
                let schema = try Self.tables(session)
                let tables = schema.columns
                try Self.refuseUnlessEmpty(session, tables: tables, location: location)
                let copied = try source.withStoredTables { stored in
                    let sourceChain = try stored.repositories.audit.verifyChain()
                    if let broken = sourceChain.firstBroken {
                        throw PitstopError(.conflict, "the SQLite database's audit chain is broken at entry \(broken.seq), so it cannot be verified on arrival; "
                            + "`pitstop audit verify` on it shows what changed; nothing was copied")
                    }
                    let sourceColumns = try stored.columns()
                    let extra = Set(sourceColumns.keys).subtracting(tables.map(\.name)).subtracting([PostgresMigrator.table])
                    if let table = extra.sorted().first {
                        throw PitstopError(.conflict, "the SQLite database has a table '\(table)' that this release's PostgreSQL schema has not; nothing was copied")
                    }
                    // The schema's own row of the key counter gives way to the source's.
                    try session.execute("DELETE FROM vm_key_counter")
                    var counts: [(name: String, rows: Int)] = []
                    for table in try Self.parentsFirst(schema, parents: try stored.parents()) {
                        guard sourceColumns[table.name] == table.columns else {
                            throw PitstopError(.conflict, "the SQLite database's table '\(table.name)' has the columns (\((sourceColumns[table.name] ?? []).joined(separator: ", "))), "
                                + "PostgreSQL's has (\(table.columns.joined(separator: ", "))); nothing was copied")
                        }
                        var rows = 0
                        let kept = Self.keeps(table.name, columns: table.columns)
                        try stored.forEachRow(of: table.name, columns: table.columns) { values in
                            if let kept, !kept(values) { return }
                            try session.copyRow(into: table.name, columns: table.columns, values)
                            rows += 1
                            if rows % 100_000 == 0 { progress?(table.name, rows) }
                        }
                        try session.endCopy()
                        progress?(table.name, rows)
                        counts.append((table.name, rows))
                    }
                    return (counts, sourceChain)
                }
                try Self.advanceIdentities(session)
                // On arrival: every row there, and the chain the same chain.
                for (table, rows) in copied.0 {
                    let stored = try Self.count(session, table)
                    guard stored == rows else {
                        throw PitstopError(.internal, "\(table): \(rows) rows were copied but \(stored) arrived; nothing was kept")
                    }
                }
                // Every planned VM is named here, by the fleet or by the names of VMs that left
                // it: a name SQLite kept for a VM its fleet lost outside Pitstop would be lost.
                let unnamed = try session.value("""
                    SELECT count(*) FROM wave_vms p WHERE NOT EXISTS (SELECT 1 FROM \(unescaped: EventRows.Names.postgres.rawValue) k WHERE k.key = p.vm)
                    """, as: Int.self) ?? 0
                guard unnamed == 0 else {
                    throw PitstopError(.conflict, "\(unnamed) planned event\(unnamed == 1 ? " names" : "s name") a VM key that neither the fleet nor the names of removed VMs hold; "
                        + "the SQLite database was changed outside Pitstop (`pitstop check` on it shows what its plan reads); nothing was copied")
                }
                let chain = try repositories.audit.verifyChain()
                guard chain.ok, chain.entries == copied.1.entries, chain.head == copied.1.head else {
                    throw PitstopError(.internal, "the audit chain did not arrive intact (\(chain.entries) entries, "
                        + "\(chain.firstBroken.map { "broken at entry \($0.seq)" } ?? "head \(chain.head?.hash.prefix(16) ?? "none")")); nothing was kept")
                }
                let move = DatabaseMove(tables: copied.0, chain: chain)
                return (move, try finish(repositories, move))
            }
        }
    }

    /// Which of a source table's rows this schema keeps, if not all: SQLite names every VM a
    /// plan named in `vm_names`, PostgreSQL only those that left the fleet, a VM in the fleet
    /// being named by its row in `vms` (postgres/0004).
    private static func keeps(_ table: String, columns: [String]) -> (([String?]) -> Bool)? {
        guard table == "vm_names", let retired = columns.firstIndex(of: "retired") else { return nil }
        return { $0[retired] == "1" }
    }

    /// The schema's tables (not its views) and their columns, and each table's parents: the
    /// tables its foreign keys refer to.
    private static func tables(_ session: PostgresSession) throws -> (columns: [(name: String, columns: [String])], parents: [String: Set<String>]) {
        var columns: [String: [String]] = [:]
        for row in try session.rows("""
            SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> \(PostgresMigrator.table)
            ORDER BY c.table_name, c.ordinal_position
            """) {
            let (table, column) = try session.decode(row, (String, String).self)
            columns[table, default: []].append(column)
        }
        var parents: [String: Set<String>] = [:]
        for row in try session.rows("""
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
            WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
            """) {
            let (child, parent) = try session.decode(row, (String, String).self)
            parents[child, default: []].insert(parent)
        }
        return (columns.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, parents)
    }

    /// `tables` in an order that copies each table after its parents, as either schema names
    /// them: PostgreSQL checks some references with triggers rather than foreign keys (the VMs',
    /// see postgres/0003), which SQLite declares. Ties go by name: the same order every time.
    private static func parentsFirst(_ tables: (columns: [(name: String, columns: [String])], parents: [String: Set<String>]),
                                     parents source: [String: Set<String>]) throws -> [(name: String, columns: [String])] {
        let columns = Dictionary(uniqueKeysWithValues: tables.columns.map { ($0.name, $0.columns) })
        let parents = tables.parents.merging(source) { $0.union($1) }
        var order: [String] = []
        var left = Set(columns.keys)
        while !left.isEmpty {
            let ready = left.filter { table in parents[table, default: []].subtracting([table]).isDisjoint(with: left) }.sorted()
            guard !ready.isEmpty else { throw PitstopError(.internal, "the schema's foreign keys form a cycle: \(left.sorted())") }
            order += ready
            left.subtract(ready)
        }
        return order.map { ($0, columns[$0]!) }
    }

    /// Refuses a database that holds data: only the key counter's first row, which the
    /// schema writes, may be there.
    private static func refuseUnlessEmpty(_ session: PostgresSession, tables: [(name: String, columns: [String])], location: PostgresLocation) throws {
        var holding: [String] = []
        for table in tables {
            let rows = try count(session, table.name)
            if table.name == "vm_key_counter" {
                let next = try session.value("SELECT next FROM vm_key_counter", as: Int64.self)
                if rows == 1 && next == 1 { continue }
            }
            if rows > 0 { holding.append("\(table.name) has \(rows) rows") }
        }
        guard holding.isEmpty else {
            throw PitstopError(.conflict, "\(location) is not empty (\(holding.prefix(3).joined(separator: ", "))\(holding.count > 3 ? ", …" : "")): "
                + "migrate copies into an empty database only; create one (createdb) and name it in --to; nothing was copied")
        }
    }

    /// Identity columns continue after the largest value copied.
    private static func advanceIdentities(_ session: PostgresSession) throws {
        for row in try session.rows("""
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND is_identity = 'YES'
            """) {
            let (table, column) = try session.decode(row, (String, String).self)
            let (quotedTable, quotedColumn) = (SQLIdentifier.quoted(table), SQLIdentifier.quoted(column))
            try session.execute("""
                SELECT setval(pg_get_serial_sequence(\(quotedTable), \(column)),
                              (SELECT coalesce(max(\(unescaped: quotedColumn)), 0) + 1 FROM \(unescaped: quotedTable)), false)
                """)
        }
    }

    private static func count(_ session: PostgresSession, _ table: String) throws -> Int64 {
        try session.value("SELECT count(*) FROM \(unescaped: SQLIdentifier.quoted(table))", as: Int64.self) ?? 0
    }
}
