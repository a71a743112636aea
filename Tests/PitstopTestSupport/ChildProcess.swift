// Running a program to its end from a test, through `Subprocess` (posix_spawn and waitpid), its
// output through files. Foundation's `Process` crashes the test process now and then inside
// `run()`, and was seen never to notice a `runuser` child exit; this path has neither problem.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ChildProcess {
    /// How a child ended, and what it printed.
    public struct Outcome: Sendable {
        /// The exit status; for a child killed by a signal, 128 + the signal, as a shell says.
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Copies an executable so that it can be run at once. Foundation's copy writes through a
    /// descriptor a child started meanwhile by another test inherits, and an executable still
    /// open for writing anywhere cannot run ("Text file busy"); this one is close-on-exec.
    public static func copyExecutable(from source: String, to destination: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let fd = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination]) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                guard n > 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination]) }
                offset += n
            }
        }
    }

    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments` and waits for
    /// it; `environment` replaces the inherited one; standard input is /dev/null. The child
    /// gets no other descriptor of this process unless `inheritingDescriptors`. Blocks the
    /// calling thread.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           inheritingDescriptors: Bool = false) throws -> Outcome {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-child-\(UUID().uuidString)").path
        let outPath = base + ".out", errPath = base + ".err"
        defer { unlink(outPath); unlink(errPath) }
        let child = Subprocess()
        child.executableURL = URL(fileURLWithPath: try path(of: executable))
        child.arguments = arguments
        child.environment = environment
        child.inheritsDescriptors = inheritingDescriptors
        for path in [outPath, errPath] { try makeFile(atPath: path) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath)), err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? out.close(); try? err.close() }
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = out
        child.standardError = err
        try child.run()
        child.waitUntilExit()
        return Outcome(status: child.terminationReason == .exit ? child.terminationStatus : 128 + child.terminationStatus,
                       stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// `name` itself if it holds a slash, else the first executable of that name on PATH.
    static func path(of name: String) throws -> String {
        guard !name.contains("/") else { return name }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let found = directories.map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure("\(name): cannot start it (not found on PATH)")
        }
        return found
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
