// HTTPS and exposure: `serve --tls-cert --tls-key` serves HTTPS that a client trusting the
// certificate accepts, plain HTTP to that port fails, plain HTTP off loopback is refused unless
// --insecure, and a missing option or an unusable PEM file is refused with exit 2 naming it,
// before the server listens. Certificates are made by openssl, for 127.0.0.1, valid a day.
import Foundation
import PitstopServer
import PitstopTestSupport
import Testing

/// A scratch directory (removed on deinit) with a self-signed certificate and key for 127.0.0.1.
final class TestCertificate: @unchecked Sendable {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }
    var files: TLSFiles { TLSFiles(certificate: certificate, privateKey: key) }
    var options: [String] { ["--tls-cert", certificate, "--tls-key", key] }

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await Self.make(certificate: directory.appendingPathComponent("cert.pem").path, key: directory.appendingPathComponent("key.pem").path)
    }

    /// A new self-signed certificate and its key at the two paths.
    static func make(certificate: String, key: String) async throws {
        let run = try await runProcess("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
        try #require(run.status == 0, "openssl: \(run)")
    }

    /// A file in the directory with `text` in it.
    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

/// GET `path` over HTTPS from Python's ssl module, trusting only `certificate`: the status, or
/// the error Python gives.
func httpsGet(port: Int, path: String = "/healthz", trusting certificate: String) async throws -> ProcessRun {
    let script = """
        import http.client, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[1])
        connection = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[2]), context=context, timeout=\(answerGuardSeconds))
        connection.request("GET", sys.argv[3])
        response = connection.getresponse()
        print(response.status)
        print(response.read().decode())
        """
    return try await runProcess("/usr/bin/env", ["python3", "-c", script, certificate, "\(port)", path])
}

@Suite struct TLSTests {
    @Test func healthzOverHTTPSIs200AndPlainHTTPToThatPortFails() async throws {
        let fixture = try await Fixture()
        let certificate = try await TestCertificate()
        try await withLiveServer(fixture, tls: certificate.files) { port in
            let fetched = try await httpsGet(port: port, trusting: certificate.certificate)
            #expect(fetched.status == 0 && fetched.stdout.hasPrefix("200\n"), "\(fetched)")
            // A client that trusts another certificate refuses the server's.
            let other = try await TestCertificate()
            let untrusted = try await httpsGet(port: port, trusting: other.certificate)
            #expect(untrusted.status != 0 && untrusted.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "\(untrusted)")
            // Plain HTTP to the TLS port gets no HTTP answer.
            await #expect(throws: (any Error).self) {
                try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: [])
            }
            // And the server still serves HTTPS after it.
            #expect(try await httpsGet(port: port, trusting: certificate.certificate).stdout.hasPrefix("200\n"))
        }
    }

    @Test func loopbackIs127Slash8ColonColon1AndLocalhostOnly() {
        for host in ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "localhost", "LOCALHOST", "localhost.", "::ffff:127.0.0.1"] {
            #expect(isLoopback(host: host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "169.254.169.254", "10.0.0.1", "128.0.0.1", "192.168.1.1", "example.com", "localhost.example.com",
                     "my-host", "::2", "::ffff:10.0.0.1", ""] {
            #expect(!isLoopback(host: host), "\(host)")
        }
    }

    @Test func plainHTTPOnAnAddressThatIsNotLoopbackIsRefusedWithExit2() async throws {
        let server = try ServeProcess(host: "0.0.0.0")
        #expect(try await server.exitStatus() == 2, "\(server.logText)")
        #expect(server.logText.contains("refusing to serve plain HTTP on 0.0.0.0, which is not a loopback address"), "\(server.logText)")
        #expect(server.logText.contains("--tls-cert FILE and --tls-key FILE") && server.logText.contains("--insecure"), "\(server.logText)")
        #expect(!server.logText.contains("msg=listening"))
    }

    @Test func withInsecureItServesPlainHTTPOnAllAddresses() async throws {
        let server = try ServeProcess(host: "0.0.0.0", options: ["--insecure"])
        let port = try await server.port()
        #expect(server.logText.contains("tls=off"), "\(server.logText)")
        #expect(try await rawRequest(port: port, from: "127.0.0.1", path: "/healthz", headers: []).status == 200)
        server.process.signal(SIGTERM)
        #expect(try await server.exitStatus() == 0, "\(server.logText)")
    }

    @Test func withTLSItServesHTTPSOnAllAddressesWithoutInsecure() async throws {
        let certificate = try await TestCertificate()
        let server = try ServeProcess(host: "0.0.0.0", options: certificate.options)
        let port = try await server.port()
        #expect(server.logText.contains("tls=on"), "\(server.logText)")
        let fetched = try await httpsGet(port: port, trusting: certificate.certificate)
        #expect(fetched.status == 0 && fetched.stdout.hasPrefix("200\n"), "\(fetched)\n\(server.logText)")
        server.process.signal(SIGTERM)
        #expect(try await server.exitStatus() == 0, "\(server.logText)")
    }

    @Test func oneTLSOptionAloneExits2NamingTheOther() async throws {
        let certificate = try await TestCertificate()
        let certOnly = try ServeProcess(options: ["--tls-cert", certificate.certificate])
        #expect(try await certOnly.exitStatus() == 2, "\(certOnly.logText)")
        #expect(certOnly.logText.contains("--tls-cert needs --tls-key"), "\(certOnly.logText)")
        let keyOnly = try ServeProcess(options: ["--tls-key", certificate.key])
        #expect(try await keyOnly.exitStatus() == 2, "\(keyOnly.logText)")
        #expect(keyOnly.logText.contains("--tls-key needs --tls-cert"), "\(keyOnly.logText)")
    }

    /// Each unusable file: exit 2 before listening, a message naming the option, the file and
    /// what is wrong, and nothing of NIOSSL or BoringSSL.
    @Test func anUnusablePEMFileExits2NamingTheFile() async throws {
        let certificate = try await TestCertificate()
        let garbage = try certificate.write("garbage.pem", "this is not a certificate\n")
        let armoredGarbage = try certificate.write("armored.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        let badKey = try certificate.write("badkey.pem", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        let empty = try certificate.write("empty.pem", "")
        let otherCertificate = certificate.directory.appendingPathComponent("other-cert.pem").path
        let otherKey = certificate.directory.appendingPathComponent("other-key.pem").path
        try await TestCertificate.make(certificate: otherCertificate, key: otherKey)
        let missing = certificate.directory.appendingPathComponent("missing.pem").path

        let cases: [(options: [String], expected: String)] = [
            (["--tls-cert", garbage, "--tls-key", certificate.key], "--tls-cert \(garbage): no PEM certificate"),
            (["--tls-cert", armoredGarbage, "--tls-key", certificate.key], "--tls-cert \(armoredGarbage): the certificate cannot be read"),
            (["--tls-cert", certificate.certificate, "--tls-key", garbage], "--tls-key \(garbage): no PEM private key"),
            (["--tls-cert", certificate.certificate, "--tls-key", badKey], "--tls-key \(badKey): the private key cannot be read"),
            (["--tls-cert", empty, "--tls-key", certificate.key], "--tls-cert \(empty): the file is empty"),
            (["--tls-cert", missing, "--tls-key", certificate.key], "--tls-cert \(missing): no such file"),
            (["--tls-cert", certificate.certificate, "--tls-key", missing], "--tls-key \(missing): no such file"),
            (["--tls-cert", certificate.directory.path, "--tls-key", certificate.key], "--tls-cert \(certificate.directory.path): is a directory"),
            (["--tls-cert", certificate.key, "--tls-key", certificate.certificate], "are --tls-cert and --tls-key swapped?"),
            (["--tls-cert", certificate.certificate, "--tls-key", otherKey], "--tls-key \(otherKey): this private key does not belong to the certificate in \(certificate.certificate)"),
        ]
        for (options, expected) in cases {
            let server = try ServeProcess(options: options)
            #expect(try await server.exitStatus() == 2, "\(options): \(server.logText)")
            #expect(server.logText.contains(expected), "\(options): \(server.logText)")
            #expect(!server.logText.contains("msg=listening"), "\(options): \(server.logText)")
            for leaked in ["NIOSSL", "BoringSSL", "SSLError", "internal error"] {
                #expect(!server.logText.contains(leaked), "\(options): \(server.logText)")
            }
        }
    }
}
