// `pitstop token create|list|revoke`, run as the built binary: the secret is the last line and
// is shown once, never by list or the audit log; refusals exit 2 and leave the database as it was.
import ArgumentParser
import Foundation
import GRDB
@testable import PitstopStore
import Testing
@testable import pitstop

/// Every row of the tables a token command may write, read without Pitstop.
private func tokenState(_ path: String) throws -> [[String?]] {
    var configuration = Configuration()
    configuration.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    defer { try? queue.close() }
    return try queue.read { db in
        var rows: [[String?]] = []
        for table in ["api_tokens", "audit_log", "pitstop_migrations"] {
            rows += try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map { row in [table] + row.databaseValues.map { String.fromDatabaseValue($0) } }
        }
        return rows
    }
}

/// The stored hash of each token, by name.
private func storedHashes(_ path: String) throws -> [String: String] {
    let queue = try DatabaseQueue(path: path)
    defer { try? queue.close() }
    return try queue.read { db in
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, hash FROM api_tokens").map { ($0[0], $0[1]) })
    }
}

private let alice = ["PITSTOP_ACTOR": "alice"]

/// A sandbox whose database exists (tokens are for a recorded fleet).
private func recordedSandbox() throws -> Sandbox {
    let box = try Sandbox()
    try box.ok("region", "add", "eastus")
    return box
}

private func isSecret(_ line: Substring) -> Bool {
    line.hasPrefix("pitstop_") && line.count == 51
        && line.dropFirst(8).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
}

@Suite struct TokenCLITests {
    // MARK: Parsing

    @Test func tokenCommandsParse() throws {
        let create = try #require(try Pitstop.parseAsRoot(["token", "create", "ci", "--role", "executor", "--format", "json"]) as? TokenCommand.Create)
        #expect(create.name == "ci" && create.role == "executor" && create.format.value == .json)
        #expect(try Pitstop.parseAsRoot(["token", "list", "--format", "json"]) is TokenCommand.List)
        #expect(try Pitstop.parseAsRoot(["token", "revoke", "ci"]) is TokenCommand.Revoke)
    }

    // MARK: Create

    @Test func createPrintsWhoAndWhatThenTheSecretAloneOnTheLastLine() throws {
        let box = try recordedSandbox()
        let run = try box.ok("token", "create", "ci-bot", "--role", "executor", env: alice)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "", "stdout ends with a newline")
        let secret = try #require(lines.dropLast().last)
        #expect(isSecret(secret), "\(run)")
        let explanation = lines.dropLast(2).joined(separator: "\n")
        #expect(explanation.contains("ci-bot") && explanation.contains("alice") && explanation.contains("executor"), "\(run)")
        #expect(explanation.contains("keep it: it is shown only this once; the server stores only its hash"), "\(run)")
        #expect(!explanation.contains(secret))

        // The database holds its SHA-256, not the secret
        let hash = try #require(try storedHashes(box.db)["ci-bot"])
        #expect(hash.count == 64 && !hash.contains(secret))
    }

    @Test func createAsJSONGivesNameRoleTimeAndToken() throws {
        let box = try recordedSandbox()
        let run = try box.ok("token", "create", "web.ro", "--role", "viewer", "--format", "json", env: alice)
        let object = try run.jsonObject()
        #expect(Set(object.keys) == ["name", "role", "createdAt", "token"])
        #expect(object["name"] as? String == "web.ro")
        #expect(object["role"] as? String == "viewer")
        #expect(object["createdAt"] as? String == Sandbox.now)
        #expect(isSecret(Substring(try #require(object["token"] as? String))))
    }

    // MARK: List

    @Test func listShowsEveryTokenButNeverItsSecretOrHash() throws {
        let box = try recordedSandbox()
        let first = try box.ok("token", "create", "zeta", "--role", "operator", env: alice)
        let second = try box.ok("token", "create", "alpha", "--role", "viewer", "--format", "json", env: alice)
        let secrets = [String(try #require(first.stdout.split(separator: "\n").last)), try #require(try second.jsonObject()["token"] as? String)]
        let hashes = Array(try storedHashes(box.db).values)
        #expect(hashes.count == 2)

        let table = try box.ok("token", "list")
        let json = try box.ok("token", "list", "--format", "json")
        for output in [table.stdout, json.stdout] {
            for secret in secrets { #expect(!output.contains(secret.dropFirst(8)), "\(output)") }
            for hash in hashes { #expect(!output.contains(hash), "\(output)") }
        }
        let rows = table.stdout.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows == [["alpha", "viewer", Sandbox.now, "alice", "never"], ["zeta", "operator", Sandbox.now, "alice", "never"]], "\(table)")

        let tokens = try #require(try json.jsonObject()["tokens"] as? [[String: Any]])
        #expect(tokens.map { $0["name"] as? String } == ["alpha", "zeta"])
        #expect(tokens.map { Set($0.keys) } == Array(repeating: ["name", "role", "createdAt", "createdBy", "lastUsedAt"], count: 2))
        #expect(tokens.allSatisfy { $0["lastUsedAt"] is NSNull && $0["createdBy"] as? String == "alice" })
    }

    @Test func anEmptyListSaysHowToMakeOne() throws {
        let box = try recordedSandbox()
        let run = try box.ok("token", "list")
        #expect(run.stdout.contains("no tokens") && run.stdout.contains("pitstop token create"), "\(run)")
        #expect(try box.ok("token", "list", "--format", "json").stdout == "{\"tokens\": []}\n")
    }

    // MARK: Revoke

    @Test func revokeRemovesTheTokenAndTheAuditNamesBothStepsWithoutTheSecret() throws {
        let box = try recordedSandbox()
        let created = try box.ok("token", "create", "ci", "--role", "executor", env: alice)
        let secret = String(try #require(created.stdout.split(separator: "\n").last))
        let hash = try #require(try storedHashes(box.db)["ci"])

        let run = try box.ok("token", "revoke", "ci", env: ["PITSTOP_ACTOR": "bob"])
        #expect(run.stdout == "revoked token ci\n")
        #expect(try storedHashes(box.db).isEmpty)

        let audit = try box.ok("audit", "--format", "json")
        let entries = try #require(try audit.jsonObject()["entries"] as? [[String: Any]]).filter { ($0["action"] as? String)?.hasPrefix("token.") == true }
        #expect(entries.map { $0["action"] as? String } == ["token.create", "token.revoke"])
        #expect(entries.map { $0["actor"] as? String } == ["alice", "bob"])
        #expect(entries.map { $0["details"] as? [String: String] } == Array(repeating: ["name": "ci", "role": "executor"], count: 2))
        #expect(!audit.stdout.contains(secret.dropFirst(8)) && !audit.stdout.contains(hash))

        // Again: there is nothing to revoke
        let again = try box.run("token", "revoke", "ci")
        #expect(again.status == 2)
        #expect(again.stderr == "pitstop: no token named ci; `pitstop token list` shows the tokens there are\n", "\(again)")
    }

    // MARK: Refusals

    @Test func aDuplicateNameExitsTwoAndLeavesTheDatabaseAsItWas() throws {
        let box = try recordedSandbox()
        try box.ok("token", "create", "ci", "--role", "viewer")
        let before = try tokenState(box.db)

        let run = try box.run("token", "create", "ci", "--role", "operator")
        #expect(run.status == 2, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "pitstop: token ci already exists; revoke it first or pick another name\n", "\(run)")
        #expect(try tokenState(box.db) == before)
    }

    @Test(arguments: ["admin", "Viewer", "", "viewer ", "read-only"])
    func aBadRoleExitsTwoNamingItAndLeavesTheDatabaseAsItWas(_ role: String) throws {
        let box = try recordedSandbox()
        let before = try tokenState(box.db)
        let run = try box.run("token", "create", "ci", "--role", role)
        #expect(run.status == 2, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "pitstop: --role: '\(role)' is not a token role; use one of viewer, executor, operator\n", "\(run)")
        #expect(try tokenState(box.db) == before)
    }

    @Test(arguments: ["ci bot", "ci/bot", "ci:bot", "é", String(repeating: "x", count: 65)])
    func aBadNameExitsTwoNamingItAndLeavesTheDatabaseAsItWas(_ name: String) throws {
        let box = try recordedSandbox()
        let before = try tokenState(box.db)
        for arguments in [["token", "create", name, "--role", "viewer"], ["token", "revoke", name]] {
            let run = try box.runRaw(arguments + ["--db", box.db])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.hasPrefix("pitstop: token name '\(name.prefix(60))"), "\(run)")
            #expect(run.stderr.contains("use 1 to 64 letters, digits, '.', '_' or '-'"), "\(run)")
        }
        #expect(try tokenState(box.db) == before)
    }

    @Test func aSecretPastedAsTheNameIsRefusedWithoutPrintingIt() throws {
        let box = try recordedSandbox()
        let secret = String(try #require(try box.ok("token", "create", "ci", "--role", "viewer").stdout.split(separator: "\n").last))
        let before = try tokenState(box.db)
        for arguments in [["token", "revoke", secret], ["token", "create", secret, "--role", "viewer"]] {
            let run = try box.runRaw(arguments + ["--db", box.db])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.contains("looks like a token's secret"), "\(run)")
            #expect(!run.stderr.contains(secret) && !run.stdout.contains(secret), "\(run)")
        }
        #expect(try tokenState(box.db) == before)
    }

    @Test func aRefusedCreateDoesNotEvenMigrateADatabaseOfThePreviousRelease() throws {
        // Given a database file of the release before tokens (migrations 0001 to 0005)
        let box = try Sandbox()
        let old = try DatabaseQueue(path: box.db)
        try Migrator(migrations: Array(Migration.all.prefix { $0.name < "0006" })).migrate(old)
        try old.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: box.db))

        // when a token command is refused for its input or its clock
        for (arguments, env) in [(["token", "create", "ci", "--role", "admin"], [:]), (["token", "create", "ci bot", "--role", "viewer"], [:]),
                                 (["token", "revoke", "ci/bot"], [:]), (["token", "create", "ci", "--role", "viewer"], ["PITSTOP_NOW": "yesterday"]),
                                 (["token", "revoke", "ci"], ["PITSTOP_NOW": "yesterday"])] as [([String], [String: String])] {
            let run = try box.runRaw(arguments + ["--db", box.db], env: env)
            #expect(run.status == 2, "\(arguments): \(run)")
        }

        // then the file is byte for byte as it was, with no WAL beside it
        #expect(try Data(contentsOf: URL(fileURLWithPath: box.db)) == before)
        #expect(!FileManager.default.fileExists(atPath: box.db + "-wal"))
    }

    @Test func aMissingDatabaseIsRefusedAndNotCreated() throws {
        let box = try Sandbox()
        for arguments in [["token", "create", "ci", "--role", "viewer"], ["token", "list"], ["token", "revoke", "ci"]] {
            let run = try box.runRaw(arguments + ["--db", box.db])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.contains("no such database"), "\(run)")
            #expect(run.stdout.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: box.db))
    }
}
