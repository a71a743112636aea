// `pitstop serve`: the long-running service, with the scheduled-events endpoint that in-VM
// clients use unchanged. Parsing only; PitstopServer does the rest.
import ArgumentParser
import PitstopCore
import PitstopServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the scheduled-events and instance-metadata endpoints, and /healthz.",
        discussion: """
            In-VM clients GET and POST /metadata/scheduledevents?api-version=... with the header \
            Metadata: true; the calling VM is the one whose --ip matches the request's source \
            address. The server takes the real clock (PITSTOP_NOW is for the CLI's rehearsals). \
            Logs go to standard error, one logfmt line per request. SIGTERM or SIGINT stops it \
            gracefully: requests in flight finish, and it exits 0. Without --simulate the server only \
            reflects what executors report (pitstop event start/complete).
            The REST API is under /api/v1 (its OpenAPI document at /openapi.json), and a browser at / \
            shows the maintenance timeline, live; with --anonymous-read both read without a token.
            Exit status: 0 stopped by a signal, 2 the database or the address cannot be used \
            (another server on the port), 3 an internal fault.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one, which the log names).") var port: Int = 8080
    @Flag(help: "Carry plans out in the background: a wave starts at its planned start, or earlier once approved and the guard allows it, and completes after its planned duration; audited as 'simulator'.")
    var simulate = false
    @Flag(name: .customLong("no-throttle"), help: "Do not limit metadata GETs per address (5 a second after a burst of 10): for benchmarks.")
    var noThrottle = false
    @Flag(name: .customLong("anonymous-read"), help: "Let /api/v1 reads and the timeline page at / through without a token (a wall display); writes still need one.")
    var anonymousRead = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: \(port) is outside 0..65535") }
    }

    func run() async throws {
        runConcurrencyOnEventLoops()
        try await guarded {
            try await runServer(ServeArguments(hostname: host, port: port, databasePath: database.path, simulate: simulate,
                                               requestLimit: noThrottle ? nil : .metadata,
                                               api: APISettings(authenticator: NoTokens(), anonymousRead: anonymousRead)))
        }
    }
}

/// Until tokens are stored (`pitstop token`), the server knows none: every token is unknown,
/// so only `--anonymous-read` reads get through. TokenService replaces it.
struct NoTokens: APIAuthenticator {
    func authenticate(_ token: String) async throws -> APICaller? { nil }
    func recordUse(_ caller: APICaller, at: Timestamp) async throws {}
}
