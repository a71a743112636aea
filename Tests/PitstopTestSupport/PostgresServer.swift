// A real PostgreSQL server for the tests that run on both engines: a throwaway cluster made
// with initdb in a temporary directory, reached over a Unix socket there, stopped when the test
// process exits. Each test gets a database of its own in it.
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Why a network namespace cannot be made here.
public struct NamespaceUnavailable: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

public enum PostgresServer {
    /// Where Debian puts the server's programs (`initdb`, `pg_ctl`): not on PATH.
    static let binDirectories: [String] = {
        var directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            directories += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        }
        return directories
    }()

    static func program(_ name: String) -> String? {
        binDirectories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether a PostgreSQL server can be started here; CI installs Debian's `postgresql`.
    public static let available: Bool = program("initdb") != nil && program("pg_ctl") != nil && program("psql") != nil

    public static let unavailableReason: Comment = "needs PostgreSQL's initdb, pg_ctl and psql (Debian: apt-get install postgresql)"

    /// The running cluster: its directory, which holds the socket. Started on first use.
    nonisolated(unsafe) private static var started: Result<String, any Error>?
    private static let lock = NSLock()
    fileprivate static let databaseNumber = NSLock()
    nonisolated(unsafe) fileprivate static var nextDatabase = 0

    /// A new, empty database on the test server, as the URL `--db` takes.
    public static func freshDatabase() throws -> String {
        let directory = try cluster()
        let name: String = databaseNumber.withLock {
            nextDatabase += 1
            return "pitstop_test_\(nextDatabase)"
        }
        try run(program("psql")!, ["-X", "-q", "-h", directory, "-U", user, "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
        return url(database: name)
    }

    /// The URL of `database` on the test server.
    public static func url(database: String) -> String {
        "postgres://\(user)@/\(database)?host=\(try! cluster())"
    }

    /// Runs SQL on `database` with psql, for tests that write behind Pitstop's back; returns
    /// what psql printed (unaligned, tuples only).
    @discardableResult
    public static func psql(database: String, _ sql: String) throws -> String {
        try run(program("psql")!, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", try cluster(), "-U", user, "-d", database, "-c", sql])
    }

    /// Runs a query on `database` with psql and returns its rows, each column as text (NULL as
    /// nil): fields and rows are split on control characters no test value holds.
    public static func psqlRows(database: String, _ sql: String) throws -> [[String?]] {
        let field = "\u{1F}", record = "\u{1E}", null = "\u{1A}"
        let output = try run(program("psql")!, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", field, "-R", record, "-P", "null=" + null,
                                                "-h", try cluster(), "-U", user, "-d", database, "-c", sql])
        var text = Substring(output)
        if text.hasSuffix("\n") { text = text.dropLast() }
        guard !text.isEmpty else { return [] }
        return text.components(separatedBy: record).map { row in
            row.components(separatedBy: field).map { $0 == null ? nil : $0 }
        }
    }

    /// The database name a URL made by ``freshDatabase()`` names.
    public static func databaseName(of url: String) -> String {
        guard let slash = url.range(of: "@/") else { return "" }
        return String(url[slash.upperBound...].prefix { $0 != "?" })
    }

    public static let user = "pitstop"

    /// A second server, for the TLS tests: it listens on 127.0.0.1 and 127.0.0.2 and takes TCP
    /// connections only over TLS (`hostssl` trusted, `hostnossl` rejected), with a certificate
    /// for `IP:127.0.0.1` alone, signed by a CA made for the run. Its user `certificateUser` is
    /// let in only with a client certificate of that CA naming it (`cert`). Started on first use.
    public struct TLSServer: Sendable {
        public let port: Int
        /// The CA that signed the server's certificate (PEM).
        public let authority: String
        /// Another CA, which signed nothing the server shows (PEM).
        public let strangerAuthority: String
        /// Client certificates and their keys (PEM): `client` from the CA, for
        /// `certificateUser`; `strangerClient` the same name from the other CA.
        public let client: (certificate: String, key: String)
        public let strangerClient: (certificate: String, key: String)
        public static let certificateUser = "pitstop_cert"
        let directory: String

        /// A new, empty database on this server, `owner`'s.
        public func freshDatabase(owner: String = PostgresServer.user) throws -> String {
            let name: String = PostgresServer.databaseNumber.withLock {
                PostgresServer.nextDatabase += 1
                return "pitstop_tls_test_\(PostgresServer.nextDatabase)"
            }
            try PostgresServer.run(PostgresServer.program("psql")!, ["-X", "-q", "-h", directory, "-p", "\(port)", "-U", PostgresServer.user,
                                                                     "-d", "postgres", "-c", "CREATE DATABASE \(name) OWNER \(owner)"])
            return name
        }

        /// Runs SQL with psql over the server's Unix socket; what psql printed.
        @discardableResult
        public func psql(database: String, _ sql: String) throws -> String {
            try PostgresServer.run(PostgresServer.program("psql")!, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", "\(port)",
                                                                     "-U", PostgresServer.user, "-d", database, "-c", sql])
        }
    }

    nonisolated(unsafe) private static var tlsStarted: Result<TLSServer, any Error>?

    public static func tlsServer() throws -> TLSServer {
        try lock.withLock {
            if tlsStarted == nil { tlsStarted = Result { try startTLS() } }
            return try tlsStarted!.get()
        }
    }

    private static func startTLS() throws -> TLSServer {
        guard available else { throw ServerError("PostgreSQL is not installed: \(unavailableReason)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw ServerError("the TLS tests need openssl (Debian: apt-get install openssl)") }
        let directory = try makeDirectory()
        let openssl = "/usr/bin/openssl"
        func authority(_ name: String) throws {
            try run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                              "-subj", "/CN=Pitstop test \(name)", "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).pem"])
        }
        try authority("ca")
        try authority("stranger-ca")
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try run(openssl, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=pitstop-test-server",
                          "-keyout", "\(directory)/server.key", "-out", "\(directory)/server.csr"])
        try run(openssl, ["x509", "-req", "-in", "\(directory)/server.csr", "-CA", "\(directory)/ca.pem", "-CAkey", "\(directory)/ca.key",
                          "-CAcreateserial", "-days", "2", "-extfile", "\(directory)/server.ext", "-out", "\(directory)/server.pem"])
        chmod(directory + "/server.key", 0o600)
        func client(_ name: String, of authority: String) throws -> (certificate: String, key: String) {
            try run(openssl, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(TLSServer.certificateUser)",
                              "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr"])
            try run(openssl, ["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/\(authority).pem", "-CAkey", "\(directory)/\(authority).key",
                              "-CAcreateserial", "-days", "2", "-out", "\(directory)/\(name).pem"])
            chmod("\(directory)/\(name).key", 0o600)
            return ("\(directory)/\(name).pem", "\(directory)/\(name).key")
        }
        let trusted = try client("client", of: "ca"), stranger = try client("stranger-client", of: "stranger-ca")
        if getuid() == 0, let owner = getpwnam("postgres") {
            for file in ["server.key", "server.pem"] { chown("\(directory)/\(file)", owner.pointee.pw_uid, owner.pointee.pw_gid) }
        }
        let data = directory + "/data"
        try run(asUser + [program("initdb")!], ["-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        let rules = "local all all trust\nhostssl all \(TLSServer.certificateUser) 127.0.0.0/8 cert\nhostssl all all 127.0.0.0/8 trust\nhostnossl all all 127.0.0.0/8 reject\n"
        try run(asUser + ["/bin/sh"], ["-c", "printf '\(rules)' > \(data)/pg_hba.conf"])
        let port = try Loopback.freePort()
        let options = "-k \(directory) -p \(port) -c listen_addresses=127.0.0.1,127.0.0.2 -c ssl=on -c ssl_cert_file=\(directory)/server.pem "
            + "-c ssl_key_file=\(directory)/server.key -c ssl_ca_file=\(directory)/ca.pem -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try run(asUser + [program("pg_ctl")!], ["-D", data, "-o", options, "-l", directory + "/server.log", "-w", "-t", "60", "start"])
        atExit { stopCluster(data: data, directory: directory) }
        try run(program("psql")!, ["-X", "-q", "-h", directory, "-p", "\(port)", "-U", user, "-d", "postgres", "-c", "CREATE ROLE \(TLSServer.certificateUser) LOGIN"])
        return TLSServer(port: port, authority: directory + "/ca.pem", strangerAuthority: directory + "/stranger-ca.pem",
                         client: trusted, strangerClient: stranger, directory: directory)
    }

    /// A primary server and its streaming replica (`pg_basebackup -R`), as the README's
    /// deployment has them, both on 127.0.0.1 (each on a port of its own) and a Unix socket:
    /// for the tests of a failover, which stop the primary and promote the replica. Each call
    /// makes a new pair; both are stopped and removed at exit.
    public struct ReplicatedPair: Sendable {
        public let primaryPort: Int
        public let replicaPort: Int
        let primary: (data: String, directory: String)
        let replica: (data: String, directory: String)

        /// A new, empty database, made on the primary and seen on the replica; its name.
        public func freshDatabase() throws -> String {
            let name = PostgresServer.newDatabaseName("pitstop_failover_test")
            try PostgresServer.query(primary.directory, port: primaryPort, "CREATE DATABASE \(name)")
            try PostgresServer.waitUntil(replica.directory, port: replicaPort, "SELECT count(*) FROM pg_database WHERE datname = '\(name)'", is: "1",
                                         else: "the replica did not receive database \(name)")
            return name
        }

        /// Waits until the replica has replayed everything the primary has written so far:
        /// replication is asynchronous, and a primary lost before that loses what was not sent.
        public func waitUntilReplicaCaughtUp() throws {
            let position = try PostgresServer.query(primary.directory, port: primaryPort, "SELECT pg_current_wal_lsn()")
            try PostgresServer.waitUntil(replica.directory, port: replicaPort, "SELECT pg_last_wal_replay_lsn() >= '\(position)'::pg_lsn", is: "t",
                                         else: "the replica did not replay the primary's WAL up to \(position)")
        }

        /// Stops the primary at once, as a crash would.
        public func stopPrimary() throws {
            try PostgresServer.run(PostgresServer.asUser + [PostgresServer.program("pg_ctl")!], ["-D", primary.data, "-m", "immediate", "-w", "stop"])
        }

        /// Promotes the replica to primary, and waits until it takes writes.
        public func promoteReplica() throws {
            try PostgresServer.run(PostgresServer.asUser + [PostgresServer.program("pg_ctl")!], ["-D", replica.data, "-w", "-t", "60", "promote"])
        }
    }

    public static func replicatedPair() throws -> ReplicatedPair {
        guard available, let basebackup = program("pg_basebackup") else { throw ServerError("PostgreSQL is not installed: \(unavailableReason)") }
        let primaryDirectory = try makeDirectory(), replicaDirectory = try makeDirectory()
        let primaryData = primaryDirectory + "/data", replicaData = replicaDirectory + "/data"
        let primaryPort = try Loopback.freePort(), replicaPort = try Loopback.freePort()
        try run(asUser + [program("initdb")!], ["-D", primaryData, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        let rules = "local all all trust\\nlocal replication all trust\\nhost all all 127.0.0.1/32 trust\\n"
        try run(asUser + ["/bin/sh"], ["-c", "printf '\(rules)' > \(primaryData)/pg_hba.conf"])
        let common = "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=on -c wal_level=replica -c max_wal_senders=4"
        try run(asUser + [program("pg_ctl")!], ["-D", primaryData, "-o", "-k \(primaryDirectory) -p \(primaryPort) \(common)",
                                                "-l", primaryDirectory + "/server.log", "-w", "-t", "60", "start"])
        atExit { stopCluster(data: primaryData, directory: primaryDirectory) }
        try run(asUser + [basebackup], ["-D", replicaData, "-R", "-X", "stream", "-h", primaryDirectory, "-p", "\(primaryPort)", "-U", user, "--no-sync"])
        try run(asUser + [program("pg_ctl")!], ["-D", replicaData, "-o", "-k \(replicaDirectory) -p \(replicaPort) \(common)",
                                                "-l", replicaDirectory + "/server.log", "-w", "-t", "60", "start"])
        atExit { stopCluster(data: replicaData, directory: replicaDirectory) }
        return ReplicatedPair(primaryPort: primaryPort, replicaPort: replicaPort, primary: (primaryData, primaryDirectory), replica: (replicaData, replicaDirectory))
    }

    /// A third server, for the tests of a server that vanishes without a word: it runs in a
    /// network namespace of its own, reached over TCP through a veth pair, and ``cut()``
    /// takes its end of the link down. Packets to it are then dropped silently (this side's
    /// neighbour entry is fixed, so no failed ARP says "no route to host"): no reset, no
    /// refusal, as when a host loses power or a network splits. Each call makes a new one;
    /// ``stop()`` removes it (and it is removed at exit). Throws ``NamespaceUnavailable``
    /// where no namespace can be made (not root, no `ip`).
    public final class PartitionedServer: Sendable {
        public let host: String
        public let port: Int
        let namespace: String
        let link: (outside: String, inside: String)
        let directory: String

        init(host: String, port: Int, namespace: String, link: (outside: String, inside: String), directory: String) {
            self.host = host
            self.port = port
            self.namespace = namespace
            self.link = link
            self.directory = directory
        }

        /// A new, empty database on this server, as `--db` takes it over TCP, with `parameters`.
        public func freshDatabase(parameters: String = "") throws -> String {
            let name = PostgresServer.newDatabaseName("pitstop_cut_test")
            try PostgresServer.query(directory, port: port, "CREATE DATABASE \(name)")
            return "postgres://\(PostgresServer.user)@\(host):\(port)/\(name)?sslmode=disable" + (parameters.isEmpty ? "" : "&" + parameters)
        }

        /// The URL of the database `url` names on this server, over its Unix socket: a client
        /// the cut does not reach.
        public func overSocket(_ url: String) -> String {
            let path = url.split(separator: "?")[0]
            return "postgres://\(PostgresServer.user)@/\(path.split(separator: "/").last!)?host=\(directory)"
        }

        /// Takes the server's end of the link down: from now on it hears nothing and says nothing.
        public func cut() throws {
            try PostgresServer.run("/usr/bin/env", ["ip", "netns", "exec", namespace, "ip", "link", "set", link.inside, "down"])
        }

        /// Drops the server's hardware address, fixed at the start, as a host that has been gone
        /// a while is dropped by its neighbours: the next packet asks the link for it, nobody
        /// answers, and the kernel notes "no route to host" (EHOSTUNREACH) for the connection.
        /// That is what it then reports when it gives the connection up, instead of a timeout,
        /// as it does against a real host that went down on the same network.
        public func forgetNeighbour() throws {
            try PostgresServer.run("/usr/bin/env", ["ip", "neighbour", "del", host, "dev", link.outside])
        }

        /// Brings the link up again.
        public func mend() throws {
            try PostgresServer.run("/usr/bin/env", ["ip", "netns", "exec", namespace, "ip", "link", "set", link.inside, "up"])
        }

        /// Stops the server and removes the namespace, the link and the directory.
        public func stop() {
            PostgresServer.stopPartitioned(namespace: namespace, outside: link.outside, directory: directory)
        }
    }

    /// ``partitionedServer()`` for a test, which is skipped where no network namespace can be
    /// made (not root, no `ip`), except in CI, where it fails.
    public static func partitionedServerOrSkip() throws -> PartitionedServer {
        do {
            return try partitionedServer()
        } catch let unavailable as NamespaceUnavailable where ProcessInfo.processInfo.environment["CI"] == nil {
            try Test.cancel("skipped: no network namespace can be made here: \(unavailable)")
        }
    }

    /// Makes and starts a ``PartitionedServer``.
    public static func partitionedServer() throws -> PartitionedServer {
        guard available else { throw ServerError("PostgreSQL is not installed: \(unavailableReason)") }
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let namespace = "pitstop-cut-\(tag)", outside = "pco\(tag)", inside = "pci\(tag)"
        // A /30 of its own in 10.213.0.0/16, so that two test processes do not share addresses.
        let block = Int.random(in: 0..<16384) * 4
        let near = "10.213.\(block / 256).\(block % 256 + 1)", far = "10.213.\(block / 256).\(block % 256 + 2)"
        do {
            try run("/usr/bin/env", ["ip", "netns", "add", namespace])
        } catch {
            throw NamespaceUnavailable(description: "ip netns add failed (euid \(geteuid())): \(error)")
        }
        let directory: String
        do {
            try run("/usr/bin/env", ["ip", "link", "add", outside, "type", "veth", "peer", "name", inside])
            try run("/usr/bin/env", ["ip", "link", "set", inside, "netns", namespace])
            try run("/usr/bin/env", ["ip", "address", "add", near + "/30", "dev", outside])
            try run("/usr/bin/env", ["ip", "link", "set", outside, "up"])
            for step in [["ip", "link", "set", "lo", "up"], ["ip", "address", "add", far + "/30", "dev", inside], ["ip", "link", "set", inside, "up"]] {
                try run("/usr/bin/env", ["ip", "netns", "exec", namespace] + step)
            }
            // The far end's hardware address, fixed: with the link down, packets are dropped
            // silently instead of failing their neighbour lookup ("no route to host").
            let address = try run("/usr/bin/env", ["ip", "netns", "exec", namespace, "cat", "/sys/class/net/\(inside)/address"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try run("/usr/bin/env", ["ip", "neighbour", "replace", far, "lladdr", address, "dev", outside, "nud", "permanent"])
            directory = try makeDirectory()
        } catch {
            stopPartitioned(namespace: namespace, outside: outside, directory: nil)
            throw error
        }
        let server = PartitionedServer(host: far, port: 5432, namespace: namespace, link: (outside, inside), directory: directory)
        do {
            let data = directory + "/data"
            try run(asUser + [program("initdb")!], ["-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
            try run(asUser + ["/bin/sh"], ["-c", "printf 'local all all trust\\nhost all all \(near)/32 trust\\n' > \(data)/pg_hba.conf"])
            let options = "-k \(directory) -p 5432 -c listen_addresses=\(far) -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            try run(["/usr/bin/env", "ip", "netns", "exec", namespace] + asUser + [program("pg_ctl")!],
                    ["-D", data, "-o", options, "-l", directory + "/server.log", "-w", "-t", "60", "start"])
            atExit { server.stop() }
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    fileprivate static func stopPartitioned(namespace: String, outside: String, directory: String?) {
        if let directory { stopCluster(data: directory + "/data", directory: directory) }
        _ = try? run("/usr/bin/env", ["ip", "link", "delete", outside])
        _ = try? run("/usr/bin/env", ["ip", "netns", "delete", namespace])
    }

    /// The test server's Unix socket, for a test that puts something between it and the store.
    public static func socketPath() throws -> String {
        "\(try cluster())/.s.PGSQL.5432"
    }

    private static func cluster() throws -> String {
        try lock.withLock {
            if started == nil { started = Result { try start() } }
            return try started!.get()
        }
    }

    /// initdb and pg_ctl refuse to run as root: as root, the cluster belongs to the `postgres`
    /// user Debian's package makes, and the programs run as that user.
    fileprivate static var asUser: [String] {
        getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
    }

    /// A new directory for a cluster, the server's user's when running as root.
    private static func makeDirectory() throws -> String {
        let directory = "/tmp/pitstop-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            guard let owner = getpwnam("postgres") else { throw ServerError("running as root, and there is no postgres user to run the server as") }
            chown(directory, owner.pointee.pw_uid, owner.pointee.pw_gid)
        }
        return directory
    }

    private static func start() throws -> String {
        guard available else { throw ServerError("PostgreSQL is not installed: \(unavailableReason)") }
        let directory = try makeDirectory()
        let data = directory + "/data"
        try run(asUser + [program("initdb")!], ["-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        let options = "-k \(directory) -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000"
        try run(asUser + [program("pg_ctl")!], ["-D", data, "-o", options, "-l", directory + "/server.log", "-w", "-t", "60", "start"])
        atExit { stopCluster(data: data, directory: directory) }
        return directory
    }

    /// A database name no test of this process has used: `PREFIX_N`.
    fileprivate static func newDatabaseName(_ prefix: String) -> String {
        databaseNumber.withLock {
            nextDatabase += 1
            return "\(prefix)_\(nextDatabase)"
        }
    }

    /// Runs `sql` with psql on the `postgres` database of the server whose socket is in
    /// `directory`; what it printed (unaligned, tuples only), trimmed.
    @discardableResult
    fileprivate static func query(_ directory: String, port: Int, _ sql: String) throws -> String {
        try run(program("psql")!, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", "\(port)", "-U", user, "-d", "postgres", "-c", sql])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `sql` every 50 ms until it prints `expected`, for at most 30 s; else fails saying `failure`.
    fileprivate static func waitUntil(_ directory: String, port: Int, _ sql: String, is expected: String, else failure: String) throws {
        for _ in 0..<600 {
            if try query(directory, port: port, sql) == expected { return }
            usleep(50_000)
        }
        throw ServerError("\(failure) within 30 s")
    }

    /// What is stopped and removed when the test process exits: each started server, and its
    /// directory (a run makes hundreds of databases, and a cluster left behind by every run
    /// fills the disk).
    private static let stopping: Mutex<[@Sendable () -> Void]> = {
        atexit { for stop in PostgresServer.stopping.withLock({ $0 }) { stop() } }
        return Mutex([])
    }()

    private static func atExit(_ stop: @escaping @Sendable () -> Void) {
        stopping.withLock { $0.append(stop) }
    }

    /// Stops a cluster at once and, once it is stopped, removes its directory.
    /// A cluster a test stopped itself (`pg_ctl status` exits 3: no server runs) is removed too.
    fileprivate static func stopCluster(data: String, directory: String) {
        let pgctl = asUser + [program("pg_ctl")!]
        let stopped = (try? run(pgctl, ["-D", data, "-m", "immediate", "-w", "stop"])) != nil
        guard stopped || (try? ChildProcess.run(pgctl[0], Array(pgctl.dropFirst()) + ["-D", data, "status"]))?.status == 3 else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    fileprivate static func run(_ command: [String], _ arguments: [String]) throws -> String {
        try run(command[0], Array(command.dropFirst()) + arguments)
    }

    /// Runs a program to its end (`ChildProcess`: `pg_ctl start` leaves a server behind that
    /// inherits nothing of ours); its output, or an error when it failed.
    @discardableResult
    fileprivate static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outcome = try ChildProcess.run(executable, arguments)
        guard outcome.status == 0 else {
            throw ServerError("\(executable) \(arguments.joined(separator: " ")) failed: \(outcome.stderr)")
        }
        return outcome.stdout
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
