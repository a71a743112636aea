// A SQLite database's tables read as they are, for moving the whole database to another
// engine (`pitstop migrate`): one snapshot, every row of every table, each value as text.
import Foundation
import GRDB
import PitstopCore

/// Every table of one read snapshot, row by row. Values come as text (nil for NULL): an
/// integer in decimal, text as it is, which is what PostgreSQL's `COPY` reads.
package struct StoredTables {
    let db: Database

    /// The repositories of the same snapshot, to read the audit chain the rows hold.
    package var repositories: any Repositories { SQLiteRepositories(db: db) }

    /// Each table's columns, in their order; SQLite's own tables left out.
    package func columns() throws -> [String: [String]] {
        var tables: [String: [String]] = [:]
        let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        for name in names {
            tables[name] = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
        }
        return tables
    }

    /// Each table's parents: the tables its foreign keys refer to.
    package func parents() throws -> [String: Set<String>] {
        var parents: [String: Set<String>] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
            """) {
            parents[row[0] as String, default: []].insert(row[1] as String)
        }
        return parents
    }

    /// Calls `body` with each row of `table`, its `columns` in that order, in rowid order.
    /// `table` and `columns` must be names ``columns()`` returned.
    package func forEachRow(of table: String, columns: [String], _ body: ([String?]) throws -> Void) throws {
        let list = columns.map(SQLIdentifier.quoted).joined(separator: ", ")
        let rows = try Row.fetchCursor(db, sql: "SELECT \(list) FROM \(SQLIdentifier.quoted(table))")
        var values = [String?](repeating: nil, count: columns.count)
        var number = 0
        while let row = try rows.next() {
            number += 1
            for index in columns.indices {
                switch (row[index] as DatabaseValue).storage {
                case .null: values[index] = nil
                case .int64(let n): values[index] = String(n)
                case .string(let s): values[index] = s
                case .double(let d): values[index] = String(d)
                case .blob:
                    throw PitstopError(.invalid, "\(table), row \(number), \(columns[index]): holds bytes where Pitstop writes text or a number; the database was changed outside Pitstop")
                }
            }
            try body(values)
        }
    }
}

/// A table's or column's name in SQL, the same on SQLite and PostgreSQL.
package enum SQLIdentifier {
    /// `name` in double quotes, a double quote in it doubled.
    package static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

extension AppDatabase {
    /// Runs `body` on one read snapshot of every table, on the caller's thread.
    package func withStoredTables<T>(_ body: (StoredTables) throws -> T) throws -> T {
        do { return try writer.read { db in try body(StoredTables(db: db)) } } catch { throw translated(error, databasePath: path) }
    }
}
