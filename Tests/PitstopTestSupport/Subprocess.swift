// A child process started with posix_spawn, for tests: the part of Foundation's `Process` they
// use, under the same names, so that a test reads as it did.
//
// Why not `Process`: in Swift 6.3.1 its `run()` crashes the calling process now and then
// (swift-corelibs-foundation#5472: it lists /proc/self/fd to find the descriptors to close in
// the child and over-reads glibc's directory buffer). A full suite that spawns a few hundred
// children met it about one run in five. This type closes them with glibc's
// posix_spawn_file_actions_addclosefrom_np instead, and reaps with waitpid.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a child's standard input, output or error goes: a `FileHandle` (`FileHandle.nullDevice`
/// for /dev/null) or a `Pipe`, as with `Process`.
public protocol SubprocessStream: AnyObject {
    /// The descriptor the child gets as `target` (0, 1 or 2).
    func descriptor(asChild target: Int32) -> Int32
    /// Called once the child runs: the parent's copy of the child's end of a pipe is closed
    /// here, so that the parent sees end of file when the child exits.
    func childStarted(as target: Int32)
}

extension FileHandle: SubprocessStream {
    public func descriptor(asChild target: Int32) -> Int32 { fileDescriptor }
    public func childStarted(as target: Int32) {}
}

extension Pipe: SubprocessStream {
    public func descriptor(asChild target: Int32) -> Int32 {
        (target == 0 ? fileHandleForReading : fileHandleForWriting).fileDescriptor
    }
    public func childStarted(as target: Int32) {
        try? (target == 0 ? fileHandleForReading : fileHandleForWriting).close()
    }
}

public final class Subprocess: @unchecked Sendable {
    public enum TerminationReason: Sendable { case exit, uncaughtSignal }

    public var executableURL: URL?
    public var arguments: [String] = []
    /// Replaces the inherited environment when set.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// Unset: the child shares this process's.
    public var standardInput: (any SubprocessStream)?
    public var standardOutput: (any SubprocessStream)?
    public var standardError: (any SubprocessStream)?
    /// Whether the child keeps this process's other descriptors that are not close-on-exec (off:
    /// it gets 0, 1 and 2 only, as `Process` does). On only for a test about that inheritance.
    public var inheritsDescriptors = false

    public private(set) var processIdentifier: pid_t = 0
    private let lock = NSLock()
    /// The raw wait status, once reaped.
    private var waitStatus: Int32?

    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func run() throws {
        guard let executable = executableURL?.path else { throw Failure(description: "no executable to run") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let streams = [standardInput, standardOutput, standardError]
        for (target, stream) in streams.enumerated() {
            let target = Int32(target)
            guard let stream else { continue }
            if let handle = stream as? FileHandle, handle === FileHandle.nullDevice {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            } else {
                posix_spawn_file_actions_adddup2(&actions, stream.descriptor(asChild: target), target)
            }
        }
        if let directory = currentDirectoryURL?.path {
            guard let addChdir = Self.addChdir else { throw Failure(description: "posix_spawn cannot change directory here") }
            guard addChdir(&actions, directory) == 0 else { throw Failure(description: "posix_spawn cannot change to \(directory)") }
        }
        if !inheritsDescriptors {
            guard let addCloseFrom = Self.addCloseFrom else { throw Failure(description: "posix_spawn cannot close descriptors here") }
            guard addCloseFrom(&actions, 3) == 0 else { throw Failure(description: "posix_spawn cannot close descriptors from 3") }
        }
        // The child starts with no signal blocked and every signal at its default: the test
        // process ignores SIGPIPE and may block others on the spawning thread.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw Failure(description: "\(executable): cannot start it (\(String(cString: strerror(spawned))))") }
        processIdentifier = pid
        for (target, stream) in streams.enumerated() { stream?.childStarted(as: Int32(target)) }
    }

    /// Whether it has been started and has not exited (reaping it if it has).
    public var isRunning: Bool {
        guard processIdentifier > 0 else { return false }
        return lock.withLock { reapIfEnded() == nil }
    }

    public func waitUntilExit() {
        guard processIdentifier > 0 else { return }
        // Waits for the end without reaping (WNOWAIT): only `reapIfEnded`, under the lock, reaps.
        var info = siginfo_t()
        while lock.withLock({ reapIfEnded() }) == nil {
            if waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT) != 0, errno != EINTR {
                usleep(1_000)  // ECHILD: not this process's child (never happens) or reaped meanwhile
            }
        }
    }

    /// Sends signal `number` to the child, unless it has been reaped; whether it was sent.
    ///
    /// A reaped child's pid is free for the kernel to give to any new process or thread, and a
    /// suite starts thousands of both (pid_max is 32768 on the CI machine). A signal sent by
    /// pid after the reap can reach another test's child, or a thread of this very process: a
    /// SIGTERM there shuts down the servers of HummingbirdTesting's frameworks, and a SIGKILL
    /// ends the run. So the check and the signal hold the
    /// lock that reaping takes: until then the pid is the child's own, alive or a zombie.
    @discardableResult
    public func signal(_ number: Int32) -> Bool {
        guard processIdentifier > 0 else { return false }
        return lock.withLock {
            guard waitStatus == nil else { return false }
            return kill(processIdentifier, number) == 0
        }
    }

    /// Reaps the child if it has ended and records how; its wait status once reaped, `nil`
    /// while it runs. Called with `lock` held.
    private func reapIfEnded() -> Int32? {
        if let waitStatus { return waitStatus }
        var status: Int32 = 0
        guard waitpid(processIdentifier, &status, WNOHANG) == processIdentifier else { return nil }
        waitStatus = status
        return status
    }

    /// The exit status, or the signal that ended it; only once it has ended.
    public var terminationStatus: Int32 {
        let status = ended
        return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }

    public var terminationReason: TerminationReason { ended & 0x7f == 0 ? .exit : .uncaughtSignal }

    /// SIGTERM, as `Process.terminate()`; nothing once it has been reaped (see ``signal(_:)``).
    public func terminate() { signal(SIGTERM) }

    /// SIGINT, as `Process.interrupt()`.
    public func interrupt() { signal(SIGINT) }

    private var reaped: Int32? { lock.withLock { waitStatus } }

    private var ended: Int32 {
        guard let status = reaped else { preconditionFailure("\(executableURL?.path ?? "a child") has not ended: wait for it first") }
        return status
    }

    // glibc has both (2.29 and 2.34); its headers show them only to _GNU_SOURCE, which Swift's
    // Glibc module is not built with.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addCloseFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private static let addChdir = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
}
