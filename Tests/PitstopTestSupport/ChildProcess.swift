// Running a program to its end from a test, with posix_spawn and waitpid and its output
// through files. Foundation's `Process` crashed the test process once with many children
// spawned at once from many threads (a bad pointer inside `run()`), and was seen never to
// notice a `runuser` child exit; this path has neither problem.
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

    /// Runs `executable` with `arguments` and waits for it; `environment` replaces the
    /// inherited one; standard input is /dev/null. Blocks the calling thread.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pitstop-child-\(UUID().uuidString)").path
        let outPath = base + ".out", errPath = base + ".err"
        defer { unlink(outPath); unlink(errPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        // A program given by name is looked up on PATH.
        let spawn = executable.contains("/") ? posix_spawn : posix_spawnp
        let spawned = envp.map { spawn(&pid, executable, &actions, nil, argv, $0) } ?? spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure("\(executable): cannot start it (\(String(cString: strerror(spawned))))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED, WEXITSTATUS and WTERMSIG, spelt out (macros in C).
        let signal = status & 0x7f
        return Outcome(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
                       stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
