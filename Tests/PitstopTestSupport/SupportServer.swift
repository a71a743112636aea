// A server of the tests' own, written in Python under Tests/Support: started in a directory of
// its own, on a loopback port the kernel picks (the script writes it to `--port-file`), and
// stopped when the value goes. The SMTP sink and the forgetful proxy are two.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class SupportServer: @unchecked Sendable {
    /// Where the script, its log (`NAME.log`) and whatever else it writes live; removed at the end.
    public let directory: URL
    public let port: Int
    private let process: Subprocess

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `Tests/Support/SCRIPT` with `--port-file` and `--lifetime` (seconds, after which it
    /// exits by itself) and the `arguments` made for its directory; returns once it has written
    /// its port and `ready` says that the port serves.
    public init(script: String, lifetime: Int, arguments: (URL) -> [String], ready: (Int) -> Bool = { _ in true }) throws {
        let name = (script as NSString).deletingPathExtension
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/\(script)").path
        let portFile = directory.appendingPathComponent("port"), log = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path, "--port-file", portFile.path, "--lifetime", String(lifetime)] + arguments(directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(Double(answerGuardSeconds))
        var found: Int?
        while found == nil && process.isRunning && Date() < deadline {
            let text = (try? String(contentsOf: portFile, encoding: .utf8)) ?? ""
            if let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), ready(port) { found = port } else { usleep(20_000) }
        }
        guard let found else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            process.signal(SIGKILL)  // nothing once it has exited and been reaped
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
            throw StartFailure(description: "\(script) did not start: \(text)")
        }
        port = found
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends `number` to the script while it runs.
    public func signal(_ number: Int32) {
        process.signal(number)
    }

    /// SIGTERM, then SIGKILL if it has not gone within 5 s.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        process.signal(SIGKILL)  // nothing once it has exited and been reaped
        process.waitUntilExit()
    }
}
