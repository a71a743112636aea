// The store's change mark: it moves when another process commits, and not while a long write
// is still under way, so answers computed from the data stay reusable until the data changes.
import Foundation
import GRDB
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
        let writer = Process()
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
        let underWay = database.changeMark()
        input.fileHandleForWriting.write(Data("go\n".utf8))
        #expect(nextLine() == "written")
        #expect(database.changeMark() == underWay, "a thousand more rows written, nothing committed yet")

        input.fileHandleForWriting.write(Data("go\n".utf8))
        #expect(nextLine() == "committed")
        writer.waitUntilExit()
        #expect(database.changeMark() != underWay)
        #expect(database.changeMark() != before)
    }

    @Test func thisProcesssOwnWritesMoveTheMarkOfAnInMemoryDatabase() async throws {
        let database = try AppDatabase.inMemory()
        let before = database.changeMark()
        _ = try await database.write { tx in try tx.fleet.upsert(region: .init(name: "eastus")) }
        #expect(database.changeMark() != before)
    }
}
