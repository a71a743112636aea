// The SQLite store: one file shared by the CLI, the server and the scheduler, migrated on open.
import Foundation
import GRDB
import GRDBSQLite
import SQLiteSettings
import Synchronization
public import PitstopCore

/// Owns the connection(s) to one Pitstop database. Opening it checks the recorded migrations
/// against this binary's and applies the missing ones; a database this binary does not
/// understand is refused before anything is written.
public struct AppDatabase: Store {
    let writer: any DatabaseWriter
    /// The file, for a database on disk: other processes' commits show in its and its WAL's
    /// size and modification time.
    let path: String?
    /// Writes through this value (and its copies), counted so that an in-memory database and
    /// this process's own commits change the mark at once.
    private let writes = WriteCounter()
    /// The WAL-index words last read, and when: see ``changeMark()``.
    private let fileMark = LastRead<[Int64]>()

    /// How long ``changeMark()`` reuses the WAL-index words it read: another process's commit
    /// shows in the mark at most this much later. A server answers tens of thousands of polls a
    /// second from one mark; reading the file for each cost three system calls a poll.
    public static let markReuse: Duration = .milliseconds(1)

    /// How long a writer waits for another process's transaction before giving up.
    public static let busyTimeoutSeconds = 10

    /// Wraps `writer` and brings its schema up to date.
    init(_ writer: any DatabaseWriter, path: String? = nil) throws {
        self.writer = writer
        self.path = path
        try Migrator(migrations: Migration.all).migrate(writer)
    }

    /// Opens the database file at `path`: WAL, so the CLI and a running server can read while
    /// another writes; foreign keys on; a busy timeout rather than an immediate "database is
    /// locked".
    ///
    /// - Parameters:
    ///   - creating: whether a missing file (and its directory) is created. Without it a missing
    ///     database is refused (`notFound`) and nothing is created, so that a mistyped path given
    ///     to a command that only reads does not leave a new empty database behind.
    ///   - concurrent: a pool (a writer and readers that read while it writes), for a server;
    ///     without it one connection does both, which is all one command needs and opens in
    ///     less time (a connection parses the whole schema when it opens).
    public static func open(path: String, creating: Bool = true, concurrent: Bool = true) throws(PitstopError) -> AppDatabase {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists, isDirectory.boolValue {
            throw PitstopError(.invalid, "\(path) is a directory; --db takes the database file")
        }
        if !exists && !creating {
            throw PitstopError(.notFound, "\(path): no such database; check --db and $PITSTOP_DB (commands that record the fleet, such as import or region add, create it)")
        }
        do {
            if !exists {
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            // Opening a pool writes to the file (WAL mode, GRDB's WAL bootstrap), so an existing
            // file is first checked through a connection of its own that writes nothing: a
            // refused one stays untouched. So is it when a WAL is there (another process uses
            // the file, or one was killed): that check is read-only, and closing it never
            // checkpoints. Otherwise a command's one connection checks before it writes, and a
            // command opens the schema once, not twice.
            let migrator = Migrator(migrations: Migration.all)
            if exists && (concurrent || FileManager.default.fileExists(atPath: path + "-wal")) {
                try migrator.check(path: path)
            }
            if concurrent { return try AppDatabase(DatabasePool(path: path, configuration: configuration()), path: path) }
            let queue = try DatabaseQueue(path: path, configuration: configuration())
            do {
                try migrator.check(queue)
            } catch {
                try? queue.close()  // the last connection to close removes the -wal and -shm it made
                throw error
            }
            // A pool makes a new file WAL; one connection must ask (persistent, a no-op after).
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            return try AppDatabase(queue, path: path)
        } catch let error as MigrationError {
            throw PitstopError(.conflict, "\(path): \(error)")
        } catch let error as DatabaseError {
            // A wrong --db is the operator's to fix: refused, like any other bad input.
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                throw PitstopError.busy(databasePath: path)
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                throw PitstopError(.invalid, "\(path): cannot open the database: it is not a SQLite database, or it is damaged")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
                throw PitstopError(.invalid, "\(path): cannot open the database: check that its directory exists and that you may read and write it")
            default:
                throw PitstopError(.internal, "\(path): cannot open the database: \(StoreMessages.plain(error))")
            }
        } catch let error as CocoaError {
            throw PitstopError(.internal, "\(path): cannot create its directory (\(error.code == .fileWriteNoPermission ? "permission denied" : "file system error \(error.code.rawValue)"))")
        } catch {
            throw PitstopError(.internal, "\(path): cannot open the database")
        }
    }

    /// A private in-memory database, for tests and rehearsals.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }

    /// Whether SQLite's memory statistics were turned off when the process loaded (see
    /// `SQLiteSettings`); a process that initialized SQLite before its constructors ran keeps
    /// them, and is slower, never wrong.
    static var memoryStatisticsOff: Bool { pitstop_sqlite_memory_statistics_result() == SQLITE_OK }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(TimeInterval(busyTimeoutSeconds))
        config.prepareDatabase { db in
            // Durable at commit in WAL mode without an fsync per statement.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    // MARK: Store

    public func read<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        do { return try await writer.read { db in try work(SQLiteRepositories(db: db)) } } catch { throw translated(error, databasePath: path) }
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        defer { writes.increment() }
        do { return try await writer.write { db in try work(SQLiteRepositories(db: db)) } } catch { throw translated(error, databasePath: path) }
    }

    public func bulkWrite<T: Sendable>(_ work: @escaping @Sendable (any Repositories) throws -> T) async throws -> T {
        let writer = self.writer
        defer { writes.increment() }
        do {
            return try await writer.writeWithoutTransaction { db in
                try VMBulkLoad.run(db) { try work(SQLiteRepositories(db: db)) }
            }
        } catch { throw translated(error, databasePath: path) }
    }

    public func isHealthy() async -> Bool {
        do {
            return try await writer.read { db in
                try Migrator(migrations: Migration.all).isCurrent(db)
            }
        } catch {
            return false
        }
    }

    /// This process's write count (seen at once) and the WAL index's words (another process's
    /// commit, seen within ``markReuse``).
    public func changeMark() -> ChangeMark {
        var parts = [Int64(writes.value)]
        if let path {
            parts += fileMark.value(reusedFor: Self.markReuse) {
                Self.walIndexHeader(path + "-shm") ?? Self.fileStamps([path, path + "-wal"])
            }
        }
        return ChangeMark(parts)
    }

    /// The commit counter, last committed frame and salts of the WAL-index header (the `-shm`
    /// file's first 96 bytes: two copies of a 48-byte header, https://sqlite.org/walformat.html).
    /// SQLite changes them on every commit and on a WAL reset, and not while a transaction is
    /// still being written, so a long write (a million-event plan) does not change the mark
    /// until it commits. `nil` when the file is missing or the two copies disagree (a writer is
    /// updating them): the caller then falls back to file stamps.
    static func walIndexHeader(_ shm: String) -> [Int64]? {
        guard let fd = SharedMemoryFiles.descriptor(shm) else { return nil }
        var header = [UInt8](repeating: 0, count: 96)
        guard pread(fd, &header, 96, 0) == 96, header[0..<48] == header[48..<96] else { return nil }
        func word(_ offset: Int) -> Int64 {
            Int64(header[offset]) | Int64(header[offset + 1]) << 8 | Int64(header[offset + 2]) << 16 | Int64(header[offset + 3]) << 24
        }
        // iChange, mxFrame, nPage, and the two salts.
        return [word(8), word(16), word(20), word(32), word(36)]
    }

    /// Size and modification time (to the nanosecond) of each file: a commit appends to the
    /// WAL, a checkpoint rewrites the main file.
    static func fileStamps(_ files: [String]) -> [Int64] {
        var parts: [Int64] = [-1]
        for file in files {
            var info = stat()
            if stat(file, &info) == 0 {
                parts += [Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(info.st_ino)]
            } else {
                parts.append(-1)
            }
        }
        return parts
    }

    /// A file lock beside the database file; for an in-memory database, a lock of this process.
    public func tryLock(_ name: String) async throws -> LockAttempt {
        guard let path else { return InProcessLock.take("\(ObjectIdentifier(writer as AnyObject)) \(name)") }
        return try FileLock.take(name: name, besideDatabase: path)
    }

    /// The names of the migrations recorded in the database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM pitstop_migrations ORDER BY name") }
    }
}

/// Read-only descriptors of `-shm` files, opened once and never closed. POSIX record locks
/// belong to the process, and closing any descriptor of a file drops every lock the process
/// holds on it: SQLite's own shared lock that tells other processes the shared memory is in
/// use. Had the mark closed its descriptor, the next process to open the database would take
/// itself for the first and reset the shared memory under this one's connections.
enum SharedMemoryFiles {
    private static let open = Mutex<[String: (fd: Int32, inode: UInt)]>([:])

    /// A descriptor of the file now at `path`, or `nil` when there is none. A file replaced
    /// since (another inode at the path) gets a new descriptor; the old one stays open.
    static func descriptor(_ path: String) -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return open.withLock { files in
            if let file = files[path], file.inode == UInt(info.st_ino) { return file.fd }
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            files[path] = (fd, UInt(info.st_ino))
            return fd
        }
    }
}

/// A value read at most once per interval; shared by the copies of one ``AppDatabase``.
final class LastRead<Value: Sendable>: Sendable {
    private let last = Mutex<(value: Value, at: ContinuousClock.Instant)?>(nil)

    /// The value last read when it is younger than `interval`, else a fresh `read()`.
    func value(reusedFor interval: Duration, read: () -> Value) -> Value {
        let now = ContinuousClock.now
        if let last = last.withLock({ $0 }), now - last.at < interval { return last.value }
        let value = read()
        last.withLock { $0 = (value, now) }
        return value
    }
}

/// Counts writes; shared by the copies of one ``AppDatabase``.
final class WriteCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// The repositories of one SQLite transaction.
struct SQLiteRepositories: Repositories {
    let db: Database

    var fleet: any FleetRepository { SQLiteFleetRepository(db: db) }
    var vms: any VMRepository { SQLiteVMRepository(db: db) }
    var events: any EventRepository { SQLiteEventRepository(db: db) }
    var notices: any NoticeRepository { SQLiteNoticeRepository(db: db) }
    var audit: any AuditRepository { SQLiteAuditRepository(db: db) }
    var history: any HistoryRepository { SQLiteHistoryRepository(db: db) }
    var scheduledEvents: any ScheduledEventsRepository { SQLiteScheduledEventsRepository(db: db) }
    var gauges: any GaugeRepository { SQLiteGaugeRepository(db: db) }
    var tokens: any TokenRepository { SQLiteTokenRepository(db: db) }
}
