// `pitstop token`: the REST API's bearer tokens (create, list, revoke). Parsing and printing only.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Bearer tokens for the REST API under /api/v1: create, list, revoke.",
        discussion: """
            Roles: viewer reads; executor also moves events and waves through their lifecycle (approve, start, \
            complete, fail, cancel); operator may do everything. The secret is shown once, by `token create`: the \
            database keeps only its SHA-256. Tokens are for a served fleet: a database that does not exist is \
            refused, never created.
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    /// What each role may do, in the words `create` prints.
    static func describe(_ role: TokenRole) -> String {
        switch role {
        case .viewer: "reads"
        case .executor: "reads, and moves events and waves through their lifecycle"
        case .operator: "may do everything"
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Make a token and print its secret, once. The secret is the last line of the output.",
            discussion: "Callers send it as `Authorization: Bearer SECRET`. Lost, it cannot be shown again: revoke it and make another.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: ArgumentHelp("The token's name: 1 to 64 letters, digits, '.', '_' or '-'.", valueName: "name"))
        var name: String
        @Option(help: ArgumentHelp("What it may do: viewer, executor or operator.", valueName: "role"))
        var role: String
        @OptionGroup var format: FormatOption<TableOrJSON>

        func run() async throws {
            try await guarded {
                // Everything is checked before the database is opened (and maybe migrated): a refusal
                // leaves it as it was.
                let role: TokenRole
                do throws(PitstopError) { role = try TokenRole(parsing: self.role) } catch { throw Failure("--role: \(error.message)") }
                try TokenService.validate(name: name)
                let (actor, now) = (Invocation.actor(), try Invocation.now())
                let (token, secret) = try await database.open().tokens.create(name: name, role: role, actor: actor, at: now)
                switch format.value {
                case .json:
                    print(Responses.createdToken(token, secret: secret))
                case .table:
                    print("created token \(token.name), made by \(actor), role \(role.rawValue): \(TokenCommand.describe(role))")
                    print("keep it: it is shown only this once; the server stores only its hash")
                    print("callers send it as: Authorization: Bearer <token>; the token is the next line")
                    print(secret)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tokens by name: role, when and by whom made, when last used. Never a secret.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var format: FormatOption<TableOrJSON>

        func run() async throws {
            try await guarded {
                let tokens = try await database.open().tokens.list()
                switch format.value {
                case .json:
                    print(Responses.document("tokens", tokens.map(Responses.token)))
                case .table:
                    guard !tokens.isEmpty else {
                        print("no tokens; make one with `pitstop token create NAME --role viewer|executor|operator`")
                        return
                    }
                    var table = Table("name", "role", "created (UTC)", "created by", "last used (UTC)")
                    for t in tokens {
                        table.add(t.name, t.role.rawValue, t.createdAt.iso8601, t.createdBy, t.lastUsedAt?.iso8601 ?? "never")
                    }
                    print(table.text, terminator: "")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Delete a token: a running server refuses it from its next request on.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: ArgumentHelp("The token's name, as `token list` shows it.", valueName: "name"))
        var name: String

        func run() async throws {
            try await guarded {
                try TokenService.validate(name: name)
                let now = try Invocation.now()
                try await database.open().tokens.revoke(name: name, actor: Invocation.actor(), at: now)
                print("revoked token \(name)")
            }
        }
    }
}
