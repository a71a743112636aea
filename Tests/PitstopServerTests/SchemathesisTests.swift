// schemathesis (PyPI) against the running `pitstop serve` on a demo fleet with an operator
// token: every operation of /openapi.json exercised with generated requests, no 5xx, every
// answer's status, content type and body matching the document. `.ci/run` installs it; without
// it the test is skipped with the reason, except under CI (CI=1), where that is a failure.
import Foundation
import Testing

@Suite(.serialized) struct SchemathesisTests {
    /// The checks that hold the server to its document. Checks that second-guess the design
    /// are left out: `positive_data_acceptance` expects every schema-valid request accepted,
    /// which a rule across fields (at most one of vm/set/region, until after since, force needs a
    /// reason) cannot be; `unsupported_method` wants 405 for methods the API does not serve.
    static let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"

    static var schemathesis: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/schemathesis" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func everyOperationAnswersItsDocumentAndNever5xx() async throws {
        guard let schemathesis = Self.schemathesis else {
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("schemathesis is not installed; .ci/run installs it from PyPI") }
            print("skipped: schemathesis is not installed (pip install schemathesis)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let db = directory.appendingPathComponent("pitstop.sqlite").path
        let demo = try await pitstopCLI(["demo"], db: db)
        try #require(demo.status == 0, "\(demo)")
        // Real ids for the path parameters, so that the event, wave and campaign operations reach
        // their use cases rather than answering 404 to every generated id.
        let campaigns = try await pitstopCLI(["campaign", "list", "--format", "json"], db: db)
        let campaign = try #require(try (JSONSerialization.jsonObject(with: Data(campaigns.stdout.utf8)) as? [String: [[String: Any]]])?["campaigns"]?.last?["id"] as? String)
        let shown = try await pitstopCLI(["campaign", "show", campaign, "--format", "json"], db: db)
        let event = try #require(try (JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]]).first
        let config = directory.appendingPathComponent("schemathesis.toml")
        try Data("""
            [parameters]
            "path.campaign" = "\(campaign)"
            "path.wave" = "\(try #require(event?["wave"] as? String))"
            "path.vm" = "\(try #require(event?["vm"] as? String))"
            """.utf8).write(to: config)
        let created = try await pitstopCLI(["token", "create", "schemathesis", "--role", "operator"], db: db)
        try #require(created.status == 0, "\(created)")
        let token = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        let server = try ServeProcess(in: directory)
        let port = try await server.port()

        let report = repositoryRoot.appendingPathComponent(".build/test-output/schemathesis.txt")
        try FileManager.default.createDirectory(at: report.deletingLastPathComponent(), withIntermediateDirectories: true)
        let run = try await runProcess(schemathesis, [
            "--config-file", config.path, "run", "http://127.0.0.1:\(port)/openapi.json", "--header", "Authorization: Bearer \(token)",
            "--checks", Self.checks, "--max-examples", ProcessInfo.processInfo.environment["PITSTOP_ST_EXAMPLES"] ?? "25",
            "--seed", ProcessInfo.processInfo.environment["PITSTOP_ST_SEED"] ?? "20261203", "--request-timeout", "20", "--no-color",
        ])
        try Data((run.stdout + run.stderr).utf8).write(to: report)
        let generated = run.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.range(of: #"^\d+ generated"#, options: .regularExpression) != nil } ?? "no count printed"
        print("schemathesis: test cases: \(generated); the whole report is in \(report.path)")
        #expect(run.status == 0, "schemathesis found failures:\n\(run.stdout.suffix(6000))")
        #expect(!server.logText.contains("status=5"), "a 5xx was answered:\n\(server.logText.split(separator: "\n").filter { $0.contains("status=5") }.prefix(5).joined(separator: "\n"))")
        server.process.signal(SIGTERM)
        _ = try await server.exitStatus()
    }
}
