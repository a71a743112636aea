// The engines the contract tests run on: every such test runs once on SQLite and once on a
// real PostgreSQL server, through the same protocols.
import Foundation
import PitstopPostgres
import PitstopStore
import Testing

public enum TestEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// Both engines where PostgreSQL is installed (always in CI, where a missing server fails
    /// the PostgreSQL cases); SQLite alone elsewhere.
    public static let all: [TestEngine] = {
        if PostgresServer.available || ProcessInfo.processInfo.environment["CI"] != nil { return allCases }
        return [.sqlite]
    }()

    public var testDescription: String { rawValue }

    /// A new, empty store: SQLite in memory, or a fresh database on the test server.
    public func store() throws -> any Store {
        switch self {
        case .sqlite: try AppDatabase.inMemory()
        case .postgres: try PostgresStore.open(PostgresLocation(url: try PostgresServer.freshDatabase()))
        }
    }
}
