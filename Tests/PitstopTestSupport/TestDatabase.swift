// A store for the contract tests, on either engine, with a way around it: the tests that write
// behind Pitstop's back (to see `check` or `audit verify` catch it) run their SQL here.
import Foundation
import GRDB
import PitstopPostgres
import PitstopStore

/// A fresh database on one engine: its store, and raw SQL on the same data.
public final class TestDatabase: Sendable {
    public let engine: TestEngine
    public let store: any Store
    /// The SQLite file, or the PostgreSQL database's name.
    private let place: String

    /// - Parameter listening: on PostgreSQL, a store whose change mark follows commits (a
    ///   server's store); without it every mark differs. SQLite's always follows the file.
    public init(_ engine: TestEngine, listening: Bool = false) throws {
        self.engine = engine
        switch engine {
        case .sqlite:
            // A file rather than memory, so that a second connection sees the same data.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-contract-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            Self.removeAtExit(directory.path)
            place = directory.appendingPathComponent("test.sqlite").path
            store = try AppDatabase.open(path: place, creating: true, concurrent: false)
        case .postgres:
            let url = try PostgresServer.freshDatabase()
            place = PostgresServer.databaseName(of: url)
            store = try PostgresStore.open(PostgresLocation(url: url), listening: listening)
        }
    }

    /// The SQLite files' directories, removed when the test process exits: not before, as a
    /// store opened on one may outlive the value that made it.
    nonisolated(unsafe) private static var made: [String] = []
    private static let madeLock = NSLock()

    private static func removeAtExit(_ directory: String) {
        madeLock.withLock {
            if made.isEmpty { atexit { TestDatabase.removeMade() } }
            made.append(directory)
        }
    }

    private static func removeMade() {
        for directory in madeLock.withLock({ made }) { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Another store on the same data, as another process would open it.
    public func reopen(listening: Bool = false) throws -> any Store {
        switch engine {
        case .sqlite: try AppDatabase.open(path: place, creating: false, concurrent: true)
        case .postgres: try PostgresStore.open(PostgresLocation(url: PostgresServer.url(database: place)), listening: listening)
        }
    }

    /// Returns once `store`'s change mark has stopped moving. A listening PostgreSQL store hears
    /// of every commit, its own included, a moment after it: its mark moves once more after a
    /// write returns. A test that counts the reads a cached answer saves waits for that first.
    /// SQLite's mark moves at the commit: nothing to wait for.
    public func settled(_ store: (any Store)? = nil) async throws {
        guard engine == .postgres else { return }
        let store = store ?? self.store
        // A store that does not listen gives a new mark on every call: nothing to wait for.
        guard store.changeMark() == store.changeMark() else { return }
        var mark = store.changeMark(), quiet = 0
        for _ in 0..<200 where quiet < 5 {
            try await Task.sleep(for: .milliseconds(10))
            let now = store.changeMark()
            quiet = now == mark ? quiet + 1 : 0
            mark = now
        }
    }

    /// A value for ``execute(_:_:)``'s `?` placeholders: written into the SQL as a literal
    /// (test input only, never an operator's).
    public enum Value: Sendable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral {
        case integer(Int64)
        case text(String)
        case null

        public init(integerLiteral value: Int64) { self = .integer(value) }
        public init(stringLiteral value: String) { self = .text(value) }
        public init(nilLiteral: ()) { self = .null }

        var literal: String {
            switch self {
            case .integer(let n): String(n)
            case .text(let s): "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
            case .null: "NULL"
            }
        }
    }

    /// Runs statements behind the store's back, each `?` replaced by the next value. With
    /// `checks: false`, foreign keys and triggers are off while they run (SQLite: foreign keys
    /// only; PostgreSQL: `session_replication_role = replica`, which skips both).
    public func execute(_ sql: String, _ values: [Value] = [], checks: Bool = true) throws {
        let text = Self.bind(sql, values)
        switch engine {
        case .sqlite:
            let queue = try DatabaseQueue(path: place)
            defer { try? queue.close() }
            try queue.writeWithoutTransaction { db in
                if !checks { try db.execute(sql: "PRAGMA foreign_keys = OFF") }
                try db.execute(sql: text)
            }
        case .postgres:
            try PostgresServer.psql(database: place, checks ? text : "SET session_replication_role = replica; " + text)
        }
    }

    /// The integers the query's first column holds, in order (NULL as nil).
    public func integers(_ sql: String, _ values: [Value] = []) throws -> [Int?] {
        try strings(sql, values).map { $0.flatMap { Int($0) } }
    }

    /// The text of the query's first column, in order (NULL as nil).
    public func strings(_ sql: String, _ values: [Value] = []) throws -> [String?] {
        try rows(sql, values).map { $0[0] }
    }

    /// Every row of the query, each column as text (NULL as nil), in order.
    public func rows(_ sql: String, _ values: [Value] = []) throws -> [[String?]] {
        let text = Self.bind(sql, values)
        switch engine {
        case .sqlite:
            let queue = try DatabaseQueue(path: place)
            defer { try? queue.close() }
            return try queue.read { db in
                try Row.fetchAll(db, sql: text).map { row in row.databaseValues.map(Self.text) }
            }
        case .postgres:
            return try PostgresServer.psqlRows(database: place, text)
        }
    }

    private static func text(_ value: DatabaseValue) -> String? {
        switch value.storage {
        case .null: nil
        case .int64(let n): String(n)
        case .double(let d): String(d)
        case .string(let s): s
        case .blob(let data): String(decoding: data, as: UTF8.self)
        }
    }

    /// One integer: the first column of the first row.
    public func integer(_ sql: String, _ values: [Value] = []) throws -> Int? {
        try integers(sql, values).first ?? nil
    }

    static func bind(_ sql: String, _ values: [Value]) -> String {
        var values = values[...]
        var out = ""
        var inString = false
        for character in sql {
            if character == "'" { inString.toggle() }
            if character == "?", !inString, let value = values.popFirst() {
                out += value.literal
            } else {
                out.append(character)
            }
        }
        return out
    }
}
