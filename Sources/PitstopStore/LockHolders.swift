// Who holds a database that stayed busy: read from the kernel's table of file locks.
//
// SQLite locks with POSIX advisory locks (fcntl), which Linux lists in /proc/locks with the
// holder's pid, the file's device and inode, and the byte range. In WAL mode the writer holds
// byte 120 of the `-shm` file (WAL_WRITE_LOCK), a checkpoint byte 121 and a recovery byte 122;
// a connection that checkpoints and removes the WAL on close, or one in exclusive locking mode,
// holds the database file's lock bytes from 0x40000000 (PENDING_BYTE) for writing. Reading
// /proc/locks opens no file of the database, so it cannot disturb this process's own locks
// (closing any descriptor of a file drops every POSIX lock the process holds on it).
import Foundation
import PitstopCore
#if canImport(Glibc)
import Glibc
#endif

enum LockHolders {
    /// `process 1234 (pitstop import fleet.csv)`, or several, for the processes other than this
    /// one that hold the database at `path` for writing; `nil` when none can be named (the lock
    /// is gone already, /proc is not there, or the holder is in another pid namespace).
    static func describe(databasePath path: String) -> String? {
        let pids = writers(databasePath: path)
        guard !pids.isEmpty else { return nil }
        let named = pids.prefix(3).map { pid in "process \(pid)" + (commandLine(pid).map { " (\($0))" } ?? "") }
        return named.joined(separator: ", ") + (pids.count > 3 ? " and \(pids.count - 3) more" : "")
    }

    /// The pids holding write locks that block a writer of the database at `path`, most telling
    /// first: the WAL writer, then an exclusive lock on the file, then a checkpoint or recovery.
    static func writers(databasePath path: String, locks: String? = lockTable()) -> [Int32] {
        guard let locks, let database = FileIdentity(path) else { return [] }
        let shm = FileIdentity(path + "-shm")
        let me = getpid()
        var ranked: [(rank: Int, pid: Int32)] = []
        for line in locks.split(separator: "\n") {
            // "1: POSIX  ADVISORY  WRITE 21957 fe:00:16221218 120 120" (a blocked request has "->" after the number).
            let fields = line.split(separator: " ").filter { $0 != "->" }
            guard fields.count >= 8, fields[1] == "POSIX" || fields[1] == "OFDLCK", fields[3] == "WRITE",
                  let pid = Int32(fields[4]), pid > 0, pid != me,
                  let start = Int64(fields[6]) else { continue }
            let end = fields[7] == "EOF" ? Int64.max : Int64(fields[7]) ?? start
            let file = fields[5]
            let rank: Int?
            if file == shm?.procName, start <= 120, end >= 120 {
                rank = 0
            } else if file == database.procName, end >= 0x4000_0000 {
                rank = 1
            } else if file == shm?.procName, start <= 122, end >= 121 {
                rank = 2
            } else {
                rank = nil
            }
            if let rank, !ranked.contains(where: { $0.pid == pid }) { ranked.append((rank, pid)) }
        }
        return ranked.sorted { ($0.rank, $0.pid) < ($1.rank, $1.pid) }.map(\.pid)
    }

    /// The kernel's lock table, whole. Foundation's `String(contentsOfFile:)` reads a /proc file
    /// of size 0 as one page: on a busy machine the table is longer, and the holder's line
    /// was often past it.
    static func lockTable() -> String? {
        guard let file = FileHandle(forReadingAtPath: "/proc/locks"), let data = try? file.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first words of a process's command line, program by its base name.
    static func commandLine(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        var words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard !words.isEmpty else { return nil }
        words[0] = (words[0] as NSString).lastPathComponent
        let text = words.prefix(4).joined(separator: " ")
        // A command line may hold line breaks (python3 -c ...): one line in a message.
        let printable = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) })
        return printable.cut(to: 80)
    }

    /// A file as /proc/locks names it: `MAJOR:MINOR:INODE`, the device numbers in hex.
    struct FileIdentity {
        let procName: Substring

        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            let dev = UInt64(info.st_dev)
            let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
            let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
            procName = Substring(String(format: "%02x:%02x:%llu", major, minor, UInt64(info.st_ino)))
        }
    }
}
