// The store's change mark: it moves when another process commits, and not while a long write
// is still under way, so answers computed from the data stay reusable until the data changes.
import Foundation
import GRDB
import PitstopTestSupport
import Testing
@testable import PitstopStore

@Suite struct ChangeMarkTests {
    private func scratch() throws -> (directory: URL, path: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-mark-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory, directory.appendingPathComponent("fleet.sqlite").path)
    }

    @Test func anotherConnectionsCommitMovesTheMarkAndAnOpenTransactionDoesNot() async throws {
        let (directory, path) = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(path: path)
        _ = try await database.write { tx in try tx.fleet.upsert(region: .init(name: "eastus")) }
        #expect(AppDatabase.walIndexHeader(path + "-shm") != nil, "the mark reads the WAL index, not file stamps")
        let before = database.changeMark()
        #expect(database.changeMark() == before)

        // Another process writes many rows (enough to spill into the WAL), waits, then commits.
        let writer = Subprocess()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        writer.arguments = ["python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("PRAGMA cache_size = 10")
            db.execute("BEGIN IMMEDIATE")
            for i in range(1000):
                db.execute("INSERT INTO regions(name) VALUES (?)", ("region-%d-" % i + "x" * 200,))
            print("half", flush=True)
            sys.stdin.readline()
            for i in range(1000, 2000):
                db.execute("INSERT INTO regions(name) VALUES (?)", ("region-%d-" % i + "x" * 200,))
            print("written", flush=True)
            sys.stdin.readline()
            db.execute("COMMIT")
            print("committed", flush=True)
            """, path]
        let input = Pipe(), output = Pipe()
        writer.standardInput = input
        writer.standardOutput = output
        try writer.run()
        let lines = output.fileHandleForReading
        func nextLine() -> String {
            var bytes: [UInt8] = []
            while let byte = try? lines.read(upToCount: 1), let b = byte.first, b != 10 { bytes.append(b) }
            return String(decoding: bytes, as: UTF8.self)
        }
        // Opening a connection may rebuild the WAL index (a spurious change, which only costs a
        // cache miss); what matters is that the rows written under way do not move the mark.
        #expect(nextLine() == "half")
        // Another process's commit shows within AppDatabase.markReuse: wait that long before each look.
        func settle() async throws { try await Task.sleep(for: AppDatabase.markReuse * 2) }
        try await settle()
        let underWay = database.changeMark()
        input.fileHandleForWriting.write(Data("go\n".utf8))
        #expect(nextLine() == "written")
        try await settle()
        #expect(database.changeMark() == underWay, "a thousand more rows written, nothing committed yet")

        input.fileHandleForWriting.write(Data("go\n".utf8))
        #expect(nextLine() == "committed")
        writer.waitUntilExit()
        try await settle()
        #expect(database.changeMark() != underWay)
        #expect(database.changeMark() != before)
    }

    /// POSIX locks belong to the process and a close(2) of any descriptor of the file drops them
    /// all. Reading the mark once opened and closed the `-shm` file, which dropped the shared
    /// lock SQLite holds on it to say "in use": the next process to open the database then took
    /// itself for the first, reset the shared memory under this one, and a server crashed with
    /// a bus error while CLI processes failed with "locking protocol".
    @Test func readingTheMarkKeepsThisProcesssSharedMemoryLock() async throws {
        let (directory, path) = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(path: path)
        _ = try await database.write { tx in try tx.fleet.upsert(region: .init(name: "eastus")) }
        _ = try await database.read { tx in try tx.fleet.regions() }
        _ = database.changeMark()
        try await Task.sleep(for: AppDatabase.markReuse * 2)
        _ = database.changeMark()

        // SQLite's "dead man switch": byte 128 of the -shm file, share-locked by every process
        // that uses the database (https://sqlite.org/walformat.html). Another process must not
        // be able to lock it exclusively while this one has the database open.
        let probe = Subprocess()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", """
            import fcntl, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
                print("unlocked")
            except OSError:
                print("held")
            """, path + "-shm"]
        let output = Pipe()
        probe.standardOutput = output
        try probe.run()
        probe.waitUntilExit()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(answer == "held\n", "another process could take the -shm lock: this process had dropped it")
        withExtendedLifetime(database) {}
    }

    @Test func thisProcesssOwnWritesMoveTheMarkOfAnInMemoryDatabase() async throws {
        let database = try AppDatabase.inMemory()
        let before = database.changeMark()
        _ = try await database.write { tx in try tx.fleet.upsert(region: .init(name: "eastus")) }
        #expect(database.changeMark() != before)
    }
}
