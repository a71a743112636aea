// A writer that waited the whole busy timeout says who held the database: the pid and command
// of the other process, from the kernel's lock table (/proc/locks).
import Foundation
import GRDB
import PitstopCore
import PitstopTestSupport
import Testing
@testable import PitstopStore

@Suite struct BusyHolderTests {
    /// A process that is not Pitstop takes the write lock and keeps it for longer than the
    /// timeout: the refusal names it. (It waits the real 10 s timeout, once.)
    @Test(.hangGuard, .enabled(if: FileManager.default.fileExists(atPath: "/proc/locks")))
    func aWriteThatTimesOutNamesTheProcessHoldingTheDatabase() async throws {
        // Given a database whose write lock another process holds
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pitstop.sqlite").path
        let database = try AppDatabase.open(path: path)
        let holder = try Self.holding("""
            import sqlite3, sys, time
            con = sqlite3.connect(sys.argv[1], isolation_level=None)
            con.execute("BEGIN IMMEDIATE")
            """, path)
        defer { Self.end(holder) }

        // When this process writes, it waits the busy timeout and gives up
        let error = await #expect(throws: PitstopError.self) {
            try await database.write { tx in _ = try tx.fleet.upsert(region: Region(name: "eastus")) }
        }

        // Then the message names the holder by pid and command
        #expect(error?.kind == .busy)
        #expect(error?.message.contains("process \(holder.processIdentifier) (python3") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("10 s busy timeout") == true)
    }

    /// On a busy machine the lock table is longer than a page; the holder may be anywhere in it.
    @Test(.hangGuard, .enabled(if: FileManager.default.fileExists(atPath: "/proc/locks")))
    func theWholeLockTableIsReadNotItsFirstPage() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let holder = try Self.holding("""
            import fcntl, sys, time
            held = [open(f"{sys.argv[1]}/lock-{i}", "w") for i in range(400)]
            for f in held: fcntl.lockf(f, fcntl.LOCK_EX)
            """, directory.path)
        defer { Self.end(holder) }

        // The holder's lines: its pid on one of its 400 files. (A full CI run once counted 403
        // lines with its pid alone; the files make the count the holder's own.)
        let files = Set((0..<400).compactMap { LockHolders.FileIdentity(directory.appendingPathComponent("lock-\($0)").path)?.procName })
        let table = try #require(LockHolders.lockTable())
        let held = table.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            return fields.dropFirst(4).first == "\(holder.processIdentifier)" && fields.dropFirst(5).first.map(files.contains) == true
        }
        #expect(held.count == 400, "the table read holds \(held.count) of the holder's 400 locks (\(table.utf8.count) bytes)")
    }

    /// A Python process that runs `setup` (which takes its locks), says so, and keeps them for
    /// five minutes (ended sooner by `end`, in every test; 30 s was too short on a loaded CI
    /// machine, where the writer's 10 s wait began late); returned once it has said so.
    static func holding(_ setup: String, _ argument: String) throws -> Subprocess {
        let holder = Subprocess()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", setup + "\nprint(\"held\", flush=True)\ntime.sleep(300)\n", argument]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        #expect(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).contains("held"))
        return holder
    }

    /// SIGKILL: the child may inherit a mask that blocks SIGTERM.
    static func end(_ holder: Subprocess) {
        holder.signal(SIGKILL)
        holder.waitUntilExit()
    }

    @Test func theLockTableIsReadForTheWriterThenAnExclusiveHolderNeverThisProcess() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pitstop.sqlite").path
        try makeFile(atPath: path, contents: Data([0]))
        try makeFile(atPath: path + "-shm", contents: Data([0]))
        let db = try #require(LockHolders.FileIdentity(path)).procName, shm = try #require(LockHolders.FileIdentity(path + "-shm")).procName
        let table = """
            1: POSIX  ADVISORY  READ 700 \(shm) 128 128
            2: POSIX  ADVISORY  WRITE 701 \(db) 1073741824 1073742335
            3: POSIX  ADVISORY  WRITE 702 \(shm) 120 120
            4: POSIX  ADVISORY  WRITE \(getpid()) \(shm) 120 120
            5: POSIX  ADVISORY  WRITE 703 fe:00:1 120 120
            6: FLOCK  ADVISORY  WRITE 704 \(db) 0 EOF
            7: POSIX  ADVISORY  WRITE 705 \(shm) 121 121
            """
        #expect(LockHolders.writers(databasePath: path, locks: table) == [702, 701, 705])
        #expect(LockHolders.writers(databasePath: path, locks: "") == [])
    }
}
