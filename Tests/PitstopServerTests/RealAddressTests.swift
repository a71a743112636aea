// The address in-VM clients really use: 169.254.169.254, port 80. The test makes it exist only
// inside a network namespace of its own (iproute2's `ip netns`), starts the built `pitstop serve`
// there, and runs the Python client against the address as it is. No traffic leaves the
// machine; the namespace is deleted whatever happens. Where a namespace cannot be made (not
// root, no `ip`, no CAP_NET_ADMIN), the test is skipped with the reason.
import Foundation
import PitstopTestSupport
import Testing

/// A network namespace with `lo` up and the given addresses on it.
struct NetworkNamespace: Sendable {
    let name: String

    /// Makes one, or throws ``NamespaceUnavailable`` saying why it cannot be made here.
    static func make(addresses: [String]) async throws -> NetworkNamespace {
        let name = "pitstop-test-\(UInt32.random(in: 0...UInt32.max))"
        let add: ProcessRun
        do {
            add = try await runProcess("/usr/bin/env", ["ip", "netns", "add", name])
        } catch {
            throw NamespaceUnavailable(description: "cannot run ip: \(error)")
        }
        guard add.status == 0 else {
            let why = add.status == 127 ? "iproute2's ip is not installed" : "ip netns add failed: \(add.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            throw NamespaceUnavailable(description: "\(why) (euid \(geteuid()))")
        }
        let namespace = NetworkNamespace(name: name)
        for step in [["ip", "link", "set", "lo", "up"]] + addresses.map({ ["ip", "address", "add", "\($0)/32", "dev", "lo"] }) {
            let run = try await namespace.run(step)
            guard run.status == 0 else {
                namespace.delete()
                throw NamespaceUnavailable(description: "\(step.joined(separator: " ")) in the namespace failed: \(run)")
            }
        }
        return namespace
    }

    /// Runs a program inside the namespace.
    func run(_ command: [String]) async throws -> ProcessRun {
        try await runProcess("/usr/bin/env", ["ip", "netns", "exec", name] + command)
    }

    /// Deletes it; synchronous, so that a `defer` can call it.
    func delete() {
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "delete", name]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    var exists: Bool { FileManager.default.fileExists(atPath: "/var/run/netns/\(name)") }
}

@Suite struct RealAddressTests {
    static let metadataAddress = "169.254.169.254"
    /// The VM's own address inside the namespace, recorded as its --ip.
    static let vmAddress = "169.254.0.2"
    /// An address inside the namespace that belongs to no VM.
    static let strangerAddress = "169.254.0.3"

    @Test func aClientReachesTheServerAt169_254_169_254Port80() async throws {
        let (directory, db) = try await freezePlannedAMinuteAgo([(name: "web-0", address: Self.vmAddress)], updateDomains: 1)
        defer { try? FileManager.default.removeItem(at: directory) }

        let namespace: NetworkNamespace
        do {
            namespace = try await NetworkNamespace.make(addresses: [Self.metadataAddress, Self.vmAddress, Self.strangerAddress])
        } catch let unavailable as NamespaceUnavailable {
            try Test.cancel("skipped: no network namespace can be made here: \(unavailable)")
        }
        let server: ServeProcess
        do {
            // Plain HTTP off loopback, as in-VM clients speak it to this address: --insecure says so.
            server = try ServeProcess(port: 80, host: Self.metadataAddress, in: directory, namespace: namespace.name, options: ["--insecure"])
        } catch {
            namespace.delete()
            throw error
        }
        defer {
            if server.process.isRunning { server.process.terminate(); server.process.waitUntilExit() }
            namespace.delete()
            #expect(!namespace.exists, "namespace \(namespace.name) is left behind")
        }

        #expect(try await server.port() == 80, "\(server.logText)")
        #expect(server.logText.contains("host=\(Self.metadataAddress)"), "\(server.logText)")
        let client = repositoryRoot.appendingPathComponent("Tests/Support/metadata_client.py").path
        func metadataClient(_ mode: String, from source: String) async throws -> ProcessRun {
            try await namespace.run(["python3", client, mode, "--host", Self.metadataAddress, "--port", "80", "--source", source])
        }
        // /healthz at the address, from inside the namespace.
        var health = ProcessRun(status: -1, stdout: "", stderr: "")
        for _ in 0..<50 {
            health = try await metadataClient("healthz", from: Self.vmAddress)
            if health.status == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(health.status == 0 && health.stdout == "200\n", "\(health)\n\(server.logText)")

        // The VM's document, asked of 169.254.169.254:80 from the VM's address.
        let got = try await metadataClient("document", from: Self.vmAddress)
        try #require(got.status == 0, "\(got)\n\(server.logText)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(got.stdout.utf8)) as? [String: Any], "\(got)")
        let events = try #require(document["Events"] as? [[String: Any]], "\(got)")
        try #require(events.count == 1, "\(got)")
        let event = events[0]
        #expect(event["EventType"] as? String == "Freeze")
        #expect(event["EventStatus"] as? String == "Scheduled")
        #expect(event["Resources"] as? [String] == ["web-0"])
        #expect(event["Description"] as? String == "Host OS update")
        #expect(document["DocumentIncarnation"] is Int)
        let eventId = try #require(event["EventId"] as? String)

        // An address that is no VM's gets 404, never web-0's events.
        let stranger = try await metadataClient("document", from: Self.strangerAddress)
        #expect(stranger.status == 1 && stranger.stdout.hasPrefix("GET 2020-07-01: 404"), "\(stranger)")

        // The VM approves its event at the same address; it is recorded as the VM's approval.
        let approved = try await metadataClient("post-json", from: Self.vmAddress)
        #expect(approved.status == 0 && approved.stdout == "approved \(eventId)\n", "\(approved)\n\(server.logText)")
        let audit = try await pitstopCLI(["audit", "--wave", eventId, "--action", "event.approved", "--format", "json"], db: db)
        #expect(audit.status == 0 && audit.stdout.contains("vm:web-0"), "\(audit)")

        server.process.signal(SIGTERM)
        #expect(try await server.exitStatus() == 0, "\(server.logText)")
        #expect(server.logText.contains("msg=request") && server.logText.contains("vm=web-0") && server.logText.contains("method=POST"), "\(server.logText)")
    }
}
