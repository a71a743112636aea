// `pitstop demo --serve`, as a newcomer runs it: the curl line it prints answers with the demo
// VM's wave, and Ctrl-C stops it cleanly.
import Foundation
import PitstopTestSupport
import Testing

@Suite struct DemoServeTests {
    @Test func theDemoServesTheFreezeItPlannedToTheVMItNames() async throws {
        let box = try Sandbox()
        // A free port on loopback.
        let port: Int = try {
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(probe) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try withUnsafeMutablePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    guard bind(probe, $0, length) == 0, getsockname(probe, $0, &length) == 0 else { throw CocoaError(.fileNoSuchFile) }
                }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }()

        // The CLI's clock set 14 minutes into the past: the freeze it plans starts one to two
        // minutes from now by the server's real clock (15 minutes of notice, rounded up to the
        // minute), so its wave is in db-0's document at once (a wave shows 15 minutes ahead) and
        // still scheduled when the test asks. A start already past let the simulated executor
        // start and complete it (30 s) before a slow run asked, and db-0's wave had left.
        let past = Date().addingTimeInterval(-(14 * 60))
        let formatter = ISO8601DateFormatter()
        let out = box.path("demo.out"), err = box.path("demo.err")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Subprocess()
        process.executableURL = pitstopBinary
        process.arguments = ["demo", "--serve", "--port", String(port), "--db", box.db]
        var environment = ProcessInfo.processInfo.environment
        environment["PITSTOP_NOW"] = formatter.string(from: past)
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // The curl line the demo prints, once the server listens.
        var line: String?
        for _ in 0..<300 where line == nil {
            try await Task.sleep(nanoseconds: 100_000_000)
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            let logged = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            if logged.contains("msg=listening") {
                line = text.split(separator: "\n").first { $0.contains("curl -s --interface 127.0.0.2") && !$0.contains("StartRequests") }.map(String.init)
            }
        }
        let curl = try #require(line, "no curl line within 30 s: \((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
        #expect(curl.contains("http://127.0.0.1:\(port)/metadata/scheduledevents?api-version=2020-07-01"))

        // What that line answers, asked from db-0's address.
        let reply = try python("""
            import http.client, json, sys
            c = http.client.HTTPConnection("127.0.0.1", \(port), timeout=\(answerGuardSeconds), source_address=("127.0.0.2", 0))
            c.request("GET", "/metadata/scheduledevents?api-version=2020-07-01", headers={"Metadata": "true"})
            r = c.getresponse()
            body = json.loads(r.read())
            print(r.status, json.dumps(body))
            """)
        #expect(reply.hasPrefix("200 "), "\(reply)")
        #expect(reply.contains("\"Resources\": [\"db-0\"]"), "\(reply)")
        #expect(reply.contains("\"EventType\": \"Freeze\""), "\(reply)")
        #expect(reply.contains("\"Description\": \"Demo: live host update\""), "\(reply)")

        // The API line it prints works as printed: the token it made is an operator's.
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let apiLine = try #require(text.split(separator: "\n").first { $0.contains("Authorization: Bearer pitstop_") }, "\(text)")
        let token = try #require(apiLine.split(separator: "'").first { $0.hasPrefix("Authorization: Bearer ") }?.dropFirst("Authorization: Bearer ".count))
        let statuses = try python("""
            import http.client
            c = http.client.HTTPConnection("127.0.0.1", \(port), timeout=\(answerGuardSeconds))
            c.request("GET", "/api/v1/campaigns", headers={"Authorization": "Bearer \(token)"})
            r = c.getresponse(); r.read(); print(r.status)
            c.request("GET", "/", headers={})
            r = c.getresponse(); r.read(); print(r.status, r.getheader("Content-Type"))
            """)
        #expect(statuses.hasPrefix("200\n200 text/html"), "\(statuses)")

        // Ctrl-C stops it with exit 0.
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

/// What a Python script printed (the clients of these tests are Python's standard library).
private func python(_ script: String) throws -> String {
    let process = Subprocess()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    process.waitUntilExit()
    return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
}
