// TLS to the database server, against a real PostgreSQL that takes TCP connections only over
// TLS, with a certificate for 127.0.0.1 signed by a CA made for the run.
import Foundation
import PitstopCore
import PitstopPostgres
import PitstopStore
import PitstopTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("TLS to PostgreSQL", .enabled(if: TestEngine.all.contains(.postgres), PostgresServer.unavailableReason))
struct PostgresTLSTests {
    /// Whether every connection Pitstop holds to `database` is encrypted, as the server sees
    /// them (`pg_stat_ssl`); nil when it holds none.
    func pitstopConnectionsEncrypted(_ server: PostgresServer.TLSServer, database: String) throws -> Bool? {
        let rows = try server.psql(database: database, """
            SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.datname = '\(database)' AND a.application_name LIKE 'pitstop pid %'
            """).split(separator: "\n")
        return rows.isEmpty ? nil : rows.allSatisfy { $0 == "t" }
    }

    func opened(_ url: String) throws -> PostgresStore { try PostgresStore.open(PostgresLocation(url: url)) }

    @Test("verify-full with the server's CA: the connections are encrypted and the fleet is written and read", arguments: [
        ("verify-full", true), ("verify-ca", true), ("require", true), ("prefer", false),
    ])
    func encrypted(mode: String, givesRoot: Bool) async throws {
        let server = try PostgresServer.tlsServer()
        let database = try server.freshDatabase()
        let root = givesRoot ? "&sslrootcert=\(server.authority)" : ""
        let store = try opened("postgres://pitstop@127.0.0.1:\(server.port)/\(database)?sslmode=\(mode)\(root)")
        defer { store.close() }
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        #expect(try await store.read { tx in try tx.fleet.regions().map(\.name) } == ["eastus"])
        #expect(try pitstopConnectionsEncrypted(server, database: database) == true)
    }

    @Test("verify-ca accepts a certificate that does not name the host; verify-full refuses it, naming the host")
    func hostName() throws {
        let server = try PostgresServer.tlsServer()
        let database = try server.freshDatabase()
        // The certificate names IP:127.0.0.1 only; the server listens on 127.0.0.2 too.
        let url = "postgres://pitstop@127.0.0.2:\(server.port)/\(database)?sslrootcert=\(server.authority)&sslmode="
        try opened(url + "verify-ca").close()
        #expect {
            try opened(url + "verify-full")
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .invalid && error.message.contains("the server's TLS certificate was not accepted")
                && error.message.contains("name the host 127.0.0.2") && error.message.contains("sslmode=verify-full")
                && error.message.contains(server.authority)
        }
    }

    @Test("a certificate of another CA is refused, naming the file of trusted roots", arguments: ["verify-ca", "verify-full", "require"])
    func strangerCA(mode: String) throws {
        let server = try PostgresServer.tlsServer()
        let database = try server.freshDatabase()
        #expect {
            try opened("postgres://pitstop@127.0.0.1:\(server.port)/\(database)?sslmode=\(mode)&sslrootcert=\(server.strangerAuthority)")
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .invalid && error.message.contains("the server's TLS certificate was not accepted")
                && error.message.contains(server.strangerAuthority) && !error.message.contains("NIOSSL")
        }
        #expect(try server.psql(database: database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0\n", "something was written")
    }

    @Test("verify-full without sslrootcert checks against the system's roots, which do not hold the test CA")
    func systemRoots() throws {
        let server = try PostgresServer.tlsServer()
        let database = try server.freshDatabase()
        #expect {
            try opened("postgres://pitstop@127.0.0.1:\(server.port)/\(database)?sslmode=verify-full")
        } throws: { error in
            (error as? PitstopError)?.message.contains("chain to the system's trusted roots") == true
        }
    }

    @Test("sslmode=disable reaches a server that takes TCP only over TLS, and its refusal is shown")
    func disabled() throws {
        let server = try PostgresServer.tlsServer()
        let database = try server.freshDatabase()
        #expect {
            try opened("postgres://pitstop@127.0.0.1:\(server.port)/\(database)?sslmode=disable")
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.message.contains("the server refused the connection") && error.message.contains("no encryption")
        }
    }

    @Test("a client certificate of the server's CA lets its user in, and the server saw it")
    func clientCertificate() async throws {
        let server = try PostgresServer.tlsServer()
        let user = PostgresServer.TLSServer.certificateUser
        let database = try server.freshDatabase(owner: user)
        let store = try opened("postgres://\(user)@127.0.0.1:\(server.port)/\(database)?sslmode=verify-full&sslrootcert=\(server.authority)"
            + "&sslcert=\(server.client.certificate)&sslkey=\(server.client.key)")
        defer { store.close() }
        _ = try await store.write { tx in try tx.fleet.upsert(region: Region(name: "eastus")) }
        #expect(try await store.read { tx in try tx.fleet.regions().map(\.name) } == ["eastus"])
        let shown = try server.psql(database: database, """
            SELECT DISTINCT s.client_dn FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.datname = '\(database)' AND a.application_name LIKE 'pitstop pid %'
            """)
        #expect(shown == "/CN=\(user)\n")
    }

    @Test("the certificate's user without one, or with one of another CA, is refused and nothing is written", arguments: [false, true])
    func clientCertificateRefused(stranger: Bool) throws {
        let server = try PostgresServer.tlsServer()
        let user = PostgresServer.TLSServer.certificateUser
        let database = try server.freshDatabase(owner: user)
        let client = server.strangerClient
        let given = stranger ? "&sslcert=\(client.certificate)&sslkey=\(client.key)" : ""
        #expect {
            try opened("postgres://\(user)@127.0.0.1:\(server.port)/\(database)?sslmode=verify-full&sslrootcert=\(server.authority)\(given)")
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .invalid && (stranger
                ? error.message.contains("the server did not accept this client's certificate (sslcert=\(client.certificate))")
                : error.message.contains("the server refused the connection") && error.message.contains("give this client's certificate and key as sslcert=FILE&sslkey=FILE"))
                && !error.message.contains("NIOSSL") && !error.message.contains("PSQLError")
        }
        #expect(try server.psql(database: database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0\n", "something was written")
    }

    @Test("sslcert and sslkey are refused alone, unreadable, open to others, or not each other's, before anything is sent")
    func clientCertificateFiles() throws {
        let server = try PostgresServer.tlsServer()
        let base = "postgres://pitstop@127.0.0.1:\(server.port)/fleet?sslmode=require"
        func refusal(_ url: String) -> String? {
            do { _ = try opened(url); return nil } catch { return (error as? PitstopError)?.message }
        }
        #expect(refusal(base + "&sslcert=\(server.client.certificate)")?.contains("sslcert without sslkey") == true)
        #expect(refusal(base + "&sslkey=\(server.client.key)")?.contains("sslkey without sslcert") == true)
        let missing = "/nonexistent-\(UUID().uuidString).pem"
        #expect(refusal(base + "&sslcert=\(missing)&sslkey=\(server.client.key)")?.contains("sslcert=\(missing): cannot be read") == true)
        #expect(refusal(base + "&sslcert=\(server.client.certificate)&sslkey=\(missing)")?.contains("sslkey=\(missing): cannot be read") == true)

        // A copy of the key that others may read, as libpq refuses it.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let open = directory + "/open.key"
        try FileManager.default.copyItem(atPath: server.client.key, toPath: open)
        chmod(open, 0o644)
        #expect(refusal(base + "&sslcert=\(server.client.certificate)&sslkey=\(open)")?.contains("chmod 600 \(open)") == true)
        // Another certificate's key, and a file that is no key.
        #expect(refusal(base + "&sslcert=\(server.client.certificate)&sslkey=\(server.strangerClient.key)")?
            .contains("sslkey=\(server.strangerClient.key) is not the private key of the certificate in sslcert=\(server.client.certificate)") == true)
        let notKey = directory + "/not.key"
        try "not a key\n".write(toFile: notKey, atomically: true, encoding: .utf8)
        chmod(notKey, 0o600)
        #expect(refusal(base + "&sslcert=\(server.client.certificate)&sslkey=\(notKey)")?.contains("sslkey=\(notKey): holds no PEM private key") == true)
    }

    @Test("an sslrootcert that cannot be read, or holds no certificate, is refused before anything is sent")
    func unreadableRoots() throws {
        let missing = "/nonexistent-\(UUID().uuidString).pem"
        #expect {
            try opened("postgres://pitstop@127.0.0.1:1/fleet?sslmode=verify-full&sslrootcert=\(missing)")
        } throws: { error in
            (error as? PitstopError)?.message.contains("sslrootcert=\(missing): cannot be read") == true
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-empty-\(UUID().uuidString).pem").path
        try "not a certificate\n".write(toFile: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect {
            try opened("postgres://pitstop@127.0.0.1:1/fleet?sslmode=verify-ca&sslrootcert=\(empty)")
        } throws: { error in
            (error as? PitstopError)?.message.contains("sslrootcert=\(empty): holds no PEM certificate") == true
        }
    }

    @Test("require against a server that does not offer TLS says so and what to do; prefer would go on in the clear")
    func serverWithoutTLS() throws {
        // A server without TLS answers the client's SSLRequest with a single 'N'.
        let listener = try PlainListener()
        #expect {
            try opened("postgres://pitstop@127.0.0.1:\(listener.port)/fleet?sslmode=require")
        } throws: { error in
            guard let error = error as? PitstopError else { return false }
            return error.kind == .invalid && error.message.contains("the server does not offer TLS")
                && error.message.contains("sslmode=require") && error.message.contains("turn ssl on")
        }
        #expect(listener.sslRequests() >= 1)
    }
}

/// A listener on 127.0.0.1 that answers each connection's first 8 bytes (PostgreSQL's
/// SSLRequest) with 'N', as a server without TLS does, then closes it.
final class PlainListener: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    /// SSLRequests answered; the accepting thread holds it, not the listener, so the listener
    /// can go (closing its socket ends the thread).
    private final class Count: @unchecked Sendable {
        let lock = NSLock()
        var value = 0
    }
    private let requests = Count()

    init() throws {
        let (fd, port) = try Loopback.boundSocket()
        self.fd = fd
        self.port = port
        guard listen(fd, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let requests = self.requests
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                var request = [UInt8](repeating: 0, count: 8)
                var got = 0
                while got < 8 {
                    let n = request.withUnsafeMutableBytes { read(client, $0.baseAddress! + got, 8 - got) }
                    if n <= 0 { break }
                    got += n
                }
                // Length 8, code 80877103: SSLRequest.
                if got == 8, request == [0, 0, 0, 8, 4, 210, 22, 47] {
                    requests.lock.withLock { requests.value += 1 }
                    var no = UInt8(ascii: "N")
                    _ = write(client, &no, 1)
                }
                close(client)
            }
        }
    }

    func sslRequests() -> Int { requests.lock.withLock { requests.value } }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}
