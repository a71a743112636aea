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
            --tls-cert and --tls-key (both, PEM) serve HTTPS. Plain HTTP is served on a loopback \
            address only (127.0.0.0/8, ::1, localhost) unless --insecure accepts the risk: bearer \
            tokens must not cross a network in clear. A metadata-only server on 169.254.169.254, \
            which in-VM clients reach over plain HTTP, needs --insecure. A connection that sends \
            nothing for --idle-timeout seconds (a stalled request, or an idle keep-alive) is closed.
            The REST API is under /api/v1 (its OpenAPI document at /openapi.json; every request \
            carries a token from pitstop token create), and a browser at / shows the maintenance \
            timeline, live; with --anonymous-read both read without a token.
            Exit status: 0 stopped by a signal, 2 the database, the address or a TLS file cannot be \
            used (another server on the port, plain HTTP off loopback), 3 an internal fault.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one, which the log names).") var port: Int = 8080
    @Flag(help: "Carry plans out in the background: a wave starts at its planned start, or earlier once approved and the guard allows it, and completes after its planned duration; audited as 'simulator'.")
    var simulate = false
    @Flag(name: .customLong("no-throttle"), help: "Do not limit metadata GETs per address (5 a second after a burst of 10): for benchmarks.")
    var noThrottle = false
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve HTTPS with this certificate (PEM; a chain may follow it). Needs --tls-key.", valueName: "file"))
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The certificate's private key (PEM, unencrypted). Needs --tls-cert.", valueName: "file"))
    var tlsKey: String?
    @Flag(help: "Serve plain HTTP on an address that is not loopback all the same (bearer tokens then cross the network in clear).")
    var insecure = false
    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close a connection that sends nothing for this long (1...3600).", valueName: "seconds"))
    var idleTimeout: Int = Int(ServeArguments.defaultIdleTimeout.components.seconds)
    @Flag(name: .customLong("anonymous-read"), help: "Let /api/v1 reads and the timeline page at / through without a token (a wall display); writes still need one.")
    var anonymousRead = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port: \(port) is outside 0..65535") }
        guard (1...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout: \(idleTimeout) is outside 1...3600 seconds") }
    }

    /// The TLS files, when both options are given; a refusal naming the missing one when only one is.
    func tlsFiles() throws -> TLSFiles? {
        switch (tlsCert, tlsKey) {
        case (nil, nil): return nil
        case let (certificate?, key?): return TLSFiles(certificate: certificate, privateKey: key)
        case (_?, nil): throw Failure("--tls-cert needs --tls-key: give the certificate's private key as --tls-key FILE too, or neither option for plain HTTP")
        case (nil, _?): throw Failure("--tls-key needs --tls-cert: give the certificate as --tls-cert FILE too, or neither option for plain HTTP")
        }
    }

    func run() async throws {
        try await guarded {
            let tls = try tlsFiles()
            runConcurrencyOnEventLoops()
            try await runServer(ServeArguments(hostname: host, port: port, databasePath: database.path, simulate: simulate,
                                               requestLimit: noThrottle ? nil : .metadata, tls: tls, insecure: insecure,
                                               idleTimeout: .seconds(idleTimeout), anonymousRead: anonymousRead))
        }
    }
}
