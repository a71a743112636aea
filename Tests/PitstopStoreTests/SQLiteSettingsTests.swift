import GRDB
import GRDBSQLite
import Testing
@testable import PitstopStore

/// SQLite's memory statistics are turned off when the process loads, before anything opens a
/// connection: SQLite then stops counting (and locking) on every allocation.
@Suite struct SQLiteSettingsTests {
    @Test func memoryStatisticsAreOffBeforeAnyConnectionOpens() throws {
        #expect(AppDatabase.memoryStatisticsOff)

        // SQLite allocates for a connection, its schema and its statements; none of it is
        // counted. With the statistics on, this is hundreds of kilobytes.
        let database = try AppDatabase.inMemory()
        try database.writer.write { db in
            try db.execute(sql: "INSERT INTO regions(name) VALUES ('eastus')")
        }
        let inUse = sqlite3_memory_used()
        #expect(inUse == 0)
    }
}
