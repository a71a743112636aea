// Locks that one process at a time holds on a database: one notice sender, one executor.
import Foundation
import PitstopCore
import Synchronization

/// A lock one process holds on a database, across every process that shares it, until it lets
/// go of this value or ends (even by SIGKILL: the kernel or the server releases it).
public protocol HeldLock: AnyObject, Sendable {
    /// Whether it is still held: a lock let go of, or whose connection to the database
    /// dropped, is not.
    var isHeld: Bool { get }
    /// Lets go of the lock now, as the end of the process would; nothing the second time.
    /// Done too when the value goes, but a holder that stops holding says so: when the last
    /// reference goes is not something to count on.
    func release()
}

/// What trying to take a lock gave.
public enum LockAttempt: Sendable {
    case acquired(any HeldLock)
    /// Another process holds it: its pid when known, and what holds the lock (a file, a server).
    case heldElsewhere(pid: Int32?, place: String)
}

/// A SQLite database's lock: `flock` on a file beside the database (`DB.NAME-lock`), keyed on
/// the database file itself: the path is resolved first (symlinks, `..`, a relative path), so
/// two processes that reach one database by two paths take the same lock.
final class FileLock: HeldLock {
    private let fd: Int32
    private let released = Atomic<Bool>(false)

    static func take(name: String, besideDatabase databasePath: String) throws -> LockAttempt {
        let path = resolved(databasePath) + ".\(name)-lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PitstopError(.invalid, "\(path): cannot open the \(name) lock: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &holder, holder.count, 0)
            close(fd)
            let pid = n > 0 ? Int32(String(decoding: holder[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            return .heldElsewhere(pid: pid, place: "\(path) is locked")
        }
        // Who holds it, for the message of a process that finds it taken.
        let text = Array("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        return .acquired(FileLock(fd: fd))
    }

    private init(fd: Int32) { self.fd = fd }

    var isHeld: Bool { !released.load(ordering: .acquiring) }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The database's own path: every symlink followed. A path that does not resolve (no file
    /// yet) is kept as given.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    deinit { release() }
}

/// An in-memory database's lock: no other process can reach it, so one set of names per process.
final class InProcessLock: HeldLock {
    private static let held = Mutex<Set<String>>([])
    private let key: String
    private let released = Atomic<Bool>(false)

    static func take(_ key: String) -> LockAttempt {
        let taken = held.withLock { $0.insert(key).inserted }
        return taken ? .acquired(InProcessLock(key: key)) : .heldElsewhere(pid: getpid(), place: "the in-memory database is locked")
    }

    private init(key: String) { self.key = key }

    var isHeld: Bool { !released.load(ordering: .acquiring) }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let key = self.key
        Self.held.withLock { _ = $0.remove(key) }
    }

    deinit { release() }
}
