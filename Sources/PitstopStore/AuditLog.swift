// The audit log: every change appends an entry in the same transaction as the change. Entries
// are chained by SHA-256, so an edit, a deletion or a reordering breaks the chain at that point.
import Crypto
import Foundation
import GRDB
import GRDBSQLite
public import PitstopCore

public enum AuditLog {
    /// The hash before the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// The hash of an entry: SHA-256 over its fields and the previous entry's hash, each
    /// length-prefixed so that no two different entries hash the same text. Subjects are
    /// `kind=name`, sorted by their UTF-8 bytes, so any tool can recompute the hash.
    public static func hash(seq: Int64, at: String, actor: String, action: String, subjects: [AuditSubject], details: String, previousHash: String) -> String {
        let message = EntryMessage(seq: seq, at: at, actor: actor, action: action, subjects: subjects.map { Array("\($0.kind.rawValue)=\($0.name)".utf8) },
                                   details: details, previousHash: previousHash)
        return String(decoding: message.hexDigest(), as: UTF8.self)
    }

    /// The entry that follows `last` (the log's head; `nil` for an empty log): the next seq,
    /// chained to the head's hash, its subjects without repeats in (kind, name) order.
    package static func entry(after last: ChainHead?, at: Timestamp, actor: String, action: String, subjects: [AuditSubject],
                              details: String) -> AuditEntry {
        let seq = (last?.seq ?? 0) + 1
        let previous = last?.hash ?? genesis
        let unique = Array(Set(subjects)).sorted { ($0.kind.rawValue, $0.name) < ($1.kind.rawValue, $1.name) }
        let hash = hash(seq: seq, at: at.iso8601, actor: actor, action: action, subjects: unique, details: details, previousHash: previous)
        return AuditEntry(seq: seq, at: at, actor: actor, action: action, subjects: unique, details: details, previousHash: previous, hash: hash)
    }

    /// An entry's stored time, read back.
    package static func instant(_ at: String, seq: Int64) throws -> Timestamp {
        guard let instant = Timestamp(iso8601: at) else {
            throw corruptRow(table: "audit_log", key: String(seq), problem: "its time '\(at)' cannot be read")
        }
        return instant
    }

    /// An entry's stored subjects, read back: the kinds this build does not know are left out.
    package static func subjects(kinds: [String], names: [String]) -> [AuditSubject] {
        zip(kinds, names).compactMap { kind, name in AuditSubject.Kind(rawValue: kind).map { AuditSubject($0, name) } }
    }

    /// A stored audit key, read back.
    package static func key(publicKey: String, fingerprint: String, createdAt at: String) throws -> AuditKeyRecord {
        guard let created = Timestamp(iso8601: at) else {
            throw corruptRow(table: "audit_keys", key: fingerprint, problem: "its time '\(at)' cannot be read")
        }
        return AuditKeyRecord(publicKey: publicKey, fingerprint: fingerprint, createdAt: created)
    }

    /// The SQL of `SQLiteAuditRepository.forEach`; its parameters come in the order subject, action,
    /// since, until, after, limit. Exposed for the test that asserts the query plan never scans the log.
    public static func selectSQL(_ filter: AuditFilter) -> String {
        var clauses: [String] = []
        var from = "audit_log l"
        var order = "l.seq"
        if filter.subject != nil {
            // CROSS JOIN keeps SQLite from turning the loop around: the subject index drives.
            from = "audit_subjects s CROSS JOIN audit_log l ON l.seq = s.seq"
            clauses += ["s.kind = ?", "s.name = ?"]
            order = "s.seq"
        }
        if filter.action != nil { clauses.append("l.action = ?") }
        if filter.since != nil { clauses.append("l.at >= ?") }
        if filter.until != nil { clauses.append("l.at < ?") }
        if filter.afterSeq != nil { clauses.append("\(order) > ?") }
        return "SELECT l.seq, l.at, l.actor, l.action, l.details, l.prev_hash, l.hash FROM \(from)"
            + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY \(order)"
            + (filter.limit == nil ? "" : " LIMIT ?")
    }
}

struct SQLiteAuditRepository: AuditRepository {
    let db: Database

    /// Appends one entry inside the caller's transaction and returns it.
    @discardableResult
    func append(at: Timestamp, actor: String, action: String, subjects: [AuditSubject], details: String) throws -> AuditEntry {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let entry = AuditLog.entry(after: last.map { ChainHead(seq: $0["seq"], hash: $0["hash"]) }, at: at, actor: actor, action: action,
                                   subjects: subjects, details: details)
        try db.execute(sql: "INSERT INTO audit_log(seq, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [entry.seq, at.iso8601, actor, action, details, entry.previousHash, entry.hash])
        let subjectInsert = try db.cachedStatement(sql: "INSERT INTO audit_subjects(seq, kind, name) VALUES (?, ?, ?)")
        for subject in entry.subjects { try subjectInsert.execute(arguments: [entry.seq, subject.kind.rawValue, subject.name]) }
        return entry
    }

    /// Calls `body` with each entry that `filter` selects, in chain order (newest last),
    /// streaming. With a subject it walks the `(kind, name, seq)` key of `audit_subjects` and
    /// joins each hit to `audit_log` by seq, so one VM's history costs its own entries, not the
    /// log's size; with only an action it walks `audit_log_by_action`, with only times
    /// `audit_log_by_at`.
    func forEach(_ filter: AuditFilter, _ body: (AuditEntry) throws -> Void) throws {
        let statement = try db.makeStatement(sql: AuditLog.selectSQL(filter))
        var arguments: [any DatabaseValueConvertible] = []
        if let subject = filter.subject { arguments += [subject.kind.rawValue, subject.name] }
        if let action = filter.action { arguments.append(action) }
        if let since = filter.since { arguments.append(since.iso8601) }
        if let until = filter.until { arguments.append(until.iso8601) }
        if let after = filter.afterSeq { arguments.append(after) }
        if let limit = filter.limit { arguments.append(limit) }
        try statement.setArguments(StatementArguments(arguments))
        let subjects = try db.cachedStatement(sql: "SELECT kind, name FROM audit_subjects WHERE seq = ? ORDER BY kind, name")
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() {
            let seq: Int64 = row[0]
            let instant = try AuditLog.instant(row[1], seq: seq)
            let stored = try Row.fetchAll(subjects, arguments: [seq])
            let about = AuditLog.subjects(kinds: stored.map { $0[0] }, names: stored.map { $0[1] })
            try body(AuditEntry(seq: seq, at: instant, actor: row[2], action: row[3], subjects: about, details: row[4],
                                previousHash: row[5], hash: row[6]))
        }
    }

    /// Walks the whole chain in seq order, recomputing every entry's hash over its stored
    /// fields and subjects, and names the first entry that is missing a predecessor, does not
    /// follow the entry before it, or does not match its own hash. Streams: memory stays flat
    /// however long the log is, and the bytes go from SQLite to SHA-256 without Strings.
    func verifyChain() throws -> ChainCheck {
        // Two cursors in seq order, merged here: a join would decode every entry's columns
        // again for each of its subjects (measured at 10M entries: 21 s against 6 s).
        let entries = try db.makeStatement(sql: "SELECT seq, at, actor, action, details, prev_hash, hash FROM audit_log ORDER BY seq")
        let subjects = try db.makeStatement(sql: "SELECT seq, kind, name FROM audit_subjects INDEXED BY audit_subjects_by_seq ORDER BY seq")
        let (e, s) = (entries.sqliteStatement, subjects.sqliteStatement)
        func step(_ handle: SQLiteStatement?) throws -> Bool {
            let code = sqlite3_step(handle)
            if code == SQLITE_ROW { return true }
            if code == SQLITE_DONE { return false }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
        }
        func bytes(_ handle: SQLiteStatement?, _ i: Int32) -> UnsafeBufferPointer<UInt8> {
            guard let p = sqlite3_column_text(handle, i) else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, i)))
        }

        var walk = ChainWalk()
        var subjectRow = try step(s)
        var about: [[UInt8]] = []
        while try step(e) {
            let seq = sqlite3_column_int64(e, 0)
            // Subjects of removed entries come before this one's; skip them.
            about.removeAll(keepingCapacity: true)
            while subjectRow, sqlite3_column_int64(s, 0) < seq { subjectRow = try step(s) }
            while subjectRow, sqlite3_column_int64(s, 0) == seq {
                if walk.isIntact { about.append(Array(bytes(s, 1)) + [UInt8(ascii: "=")] + Array(bytes(s, 2))) }
                subjectRow = try step(s)
            }
            let previous = bytes(e, 5)
            walk.take(seq: seq, previous: previous, stored: Array(bytes(e, 6))) {
                var message = EntryMessage()
                message.field(Array(String(seq).utf8))
                for column: Int32 in 1...3 { message.field(bytes(e, column)) }
                message.subjects(about)
                message.field(bytes(e, 4))
                message.field(previous)
                return message
            }
        }
        return walk.check
    }
}

extension SQLiteAuditRepository {
    /// The triggers of 0002, 0003 and 0005 that refuse UPDATE, DELETE and INSERT OR REPLACE.
    static let appendOnlyTriggers = [
        "audit_log_no_update", "audit_log_no_delete", "audit_log_no_replace",
        "audit_subjects_no_update", "audit_subjects_no_delete",
        "audit_keys_no_update", "audit_keys_no_delete", "audit_keys_no_replace",
    ]

    func head() throws -> ChainHead? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").map { ChainHead(seq: $0[0], hash: $0[1]) }
    }

    func entryHash(seq: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [seq])
    }

    func record(key: AuditKeyRecord) throws {
        try constrained {
            try db.execute(sql: "INSERT INTO audit_keys(public_key, fingerprint, created_at) VALUES (?, ?, ?)",
                           arguments: [key.publicKey, key.fingerprint, key.createdAt.iso8601])
        }
    }

    func keys() throws -> [AuditKeyRecord] {
        try Row.fetchAll(db, sql: "SELECT public_key, fingerprint, created_at FROM audit_keys ORDER BY created_at, fingerprint").map { row in
            try AuditLog.key(publicKey: row[0], fingerprint: row[1], createdAt: row[2])
        }
    }

    func missingAppendOnlyTriggers() throws -> [String] {
        let present = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        return Self.appendOnlyTriggers.filter { !present.contains($0) }
    }

    /// Walks the `notice.sent` entries through `audit_log_by_action`, each one's notice subject
    /// by seq: as many rows as notices were sent.
    func repeatedNoticeSendings() throws -> [RepeatedSending] {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT s.name, l.at FROM audit_log l INDEXED BY audit_log_by_action
            JOIN audit_subjects s INDEXED BY audit_subjects_by_seq ON s.seq = l.seq
            WHERE l.action = 'notice.sent' AND s.kind = 'notice' ORDER BY l.seq
            """)
        var tally = SendingTally()
        while let row = try rows.next() { tally.add(notice: row[0], at: row[1]) }
        return try tally.repeated { id in
            try Row.fetchOne(db, sql: "SELECT campaign, subscription FROM notices WHERE id = ?", arguments: [id]).map { ($0[0], $0[1]) }
        }
    }
}

/// Walks a hash chain entry by entry in seq order, on any engine, and names the first entry
/// that is missing a predecessor, does not follow the entry before it, or does not match its
/// own hash.
package struct ChainWalk {
    /// The outcome so far: the entries taken, the first break, the last entry.
    private var walked = ChainCheck(entries: 0, firstBroken: nil, head: nil)
    private var expectedSeq: Int64 = 1
    private var previousHash = Array(AuditLog.genesis.utf8)

    package init() {}

    /// The outcome so far: the entries taken, the first break, the last entry.
    package var check: ChainCheck {
        var check = walked
        if check.entries > 0 { check.head = ChainHead(seq: expectedSeq - 1, hash: String(decoding: previousHash, as: UTF8.self)) }
        return check
    }

    /// Whether no entry broke the chain yet: past the first break nothing needs hashing (nor
    /// its subjects reading), only the count goes on.
    package var isIntact: Bool { walked.firstBroken == nil }

    /// Takes the next entry: its seq, its stored previous-hash and hash, and `message`, the
    /// bytes its hash covers, built only when the entry needs hashing.
    package mutating func take(seq: Int64, previous: some Sequence<UInt8>, stored: [UInt8], message: () -> EntryMessage) {
        walked.entries += 1
        defer { previousHash = stored; expectedSeq = seq + 1 }
        guard walked.firstBroken == nil else { return }
        if seq != expectedSeq {
            let missing = expectedSeq == seq - 1 ? "entry \(expectedSeq) is" : "entries \(expectedSeq) to \(seq - 1) are"
            walked.firstBroken = ChainBreak(seq: seq, reason: "\(missing) missing before it: the log was cut")
            return
        }
        guard previous.elementsEqual(previousHash) else {
            walked.firstBroken = ChainBreak(
                seq: seq,
                reason: seq == 1 ? "the first entry does not start the chain: entries before it were removed"
                    : "it does not follow entry \(seq - 1) (its previous-hash differs): the chain was reordered, or entries were removed and renumbered")
            return
        }
        if message().hexDigest() != stored {
            walked.firstBroken = ChainBreak(seq: seq, reason: "its content or subjects do not match its hash: the entry was edited")
        }
    }
}

/// The `notice.sent` entries gathered by notice, in log order: what finds the notices sent
/// more than once.
package struct SendingTally {
    private var order: [String] = []
    private var times: [String: [Timestamp]] = [:]

    package init() {}

    /// Takes one `notice.sent` entry: the notice its subject names, and the entry's time.
    package mutating func add(notice: String, at: String) {
        if times[notice] == nil { order.append(notice) }
        times[notice, default: []].append(Timestamp(iso8601: at) ?? Timestamp(seconds: 0))
    }

    /// The notices sent more than once, in log order; `owner` gives a notice's campaign and
    /// subscription by its id, nil when the outbox no longer holds it.
    package func repeated(owner: (Int64) throws -> (String, String)?) rethrows -> [RepeatedSending] {
        try order.filter { times[$0]!.count > 1 }.map { notice in
            let found = try owner(Int64(notice) ?? -1)
            return RepeatedSending(notice: notice, campaign: found?.0, subscription: found?.1, times: times[notice]!)
        }
    }
}

/// The bytes an entry's hash covers: each field as `<byte count>:<bytes>`, subjects as their
/// count and then each `kind=name` in byte order.
package struct EntryMessage {
    private(set) var bytes: [UInt8] = []

    package init() { bytes.reserveCapacity(512) }

    /// The message of an entry whose fields are at hand as text; `subjects` are its
    /// `kind=name` bytes, in any order.
    package init(seq: Int64, at: String, actor: String, action: String, subjects: [[UInt8]], details: String, previousHash: String) {
        self.init()
        field(String(seq))
        field(at)
        field(actor)
        field(action)
        self.subjects(subjects)
        field(details)
        field(previousHash)
    }

    mutating func field(_ s: String) { field(Array(s.utf8)) }

    mutating func field(_ b: [UInt8]) { b.withUnsafeBufferPointer { field($0) } }

    mutating func field(_ b: UnsafeBufferPointer<UInt8>) {
        length(b.count)
        bytes.append(contentsOf: b)
    }

    mutating func subjects(_ subjects: [[UInt8]]) {
        field(Array(String(subjects.count).utf8))
        for s in subjects.sorted(by: { $0.lexicographicallyPrecedes($1) }) { field(s) }
    }

    private mutating func length(_ n: Int) {
        bytes.append(contentsOf: String(n).utf8)
        bytes.append(UInt8(ascii: ":"))
    }

    /// SHA-256 of the message, as lower-case hex bytes.
    package func hexDigest() -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Hex.bytes(hasher.finalize())
    }
}
