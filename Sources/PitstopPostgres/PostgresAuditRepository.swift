// The audit log on PostgreSQL: the same append-only, hash-chained entries as on SQLite, hashed
// and checked by the same code (`AuditLog`, `ChainWalk`), so both engines give the same chain
// for the same entries. Appends are serialized by the store's write lock: the head read here
// is still the head when the entry is written.
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresAuditRepository: AuditRepository {
    let session: PostgresSession

    /// The triggers of postgres/0001 that refuse UPDATE, DELETE, TRUNCATE and an insert over
    /// an existing row.
    static let appendOnlyTriggers = [
        "audit_log_no_update", "audit_log_no_delete", "audit_log_no_truncate", "audit_log_no_replace",
        "audit_subjects_no_update", "audit_subjects_no_delete", "audit_subjects_no_truncate",
        "audit_keys_no_update", "audit_keys_no_delete", "audit_keys_no_truncate", "audit_keys_no_replace",
    ]

    @discardableResult
    func append(at: Timestamp, actor: String, action: String, subjects: [AuditSubject], details: String) throws -> AuditEntry {
        let entry = AuditLog.entry(after: try head(), at: at, actor: actor, action: action, subjects: subjects, details: details)
        try session.execute("""
            INSERT INTO audit_log(seq, at, actor, action, details, prev_hash, hash)
            VALUES (\(entry.seq), \(at.iso8601), \(actor), \(action), \(details), \(entry.previousHash), \(entry.hash))
            """)
        if !entry.subjects.isEmpty {
            let kinds = entry.subjects.map(\.kind.rawValue), names = entry.subjects.map(\.name)
            try session.execute("""
                INSERT INTO audit_subjects(seq, kind, name) SELECT \(entry.seq), k, n FROM unnest(\(kinds)::text[], \(names)::text[]) AS t(k, n)
                """)
        }
        return entry
    }

    /// Streams the entries `filter` selects in chain order, each with its subjects gathered in
    /// the same row: one query, however many entries. With a subject, the `(kind, name, seq)`
    /// key of `audit_subjects` drives; with an action, `audit_log_by_action`; with times,
    /// `audit_log_by_at`.
    func forEach(_ filter: AuditFilter, _ body: (AuditEntry) throws -> Void) throws {
        var sql = PostgresSQL()
        var from = "audit_log l"
        var clauses: [String] = []
        if let subject = filter.subject {
            from += " JOIN audit_subjects f ON f.seq = l.seq AND f.kind = \(sql.bind(subject.kind.rawValue)) AND f.name = \(sql.bind(subject.name))"
        }
        if let action = filter.action { clauses.append("l.action = \(sql.bind(action))") }
        if let since = filter.since { clauses.append("l.at >= \(sql.bind(since.iso8601))") }
        if let until = filter.until { clauses.append("l.at < \(sql.bind(until.iso8601))") }
        if let after = filter.afterSeq { clauses.append("l.seq > \(sql.bind(after))") }
        sql.text = """
            SELECT l.seq, l.at, l.actor, l.action, l.details, l.prev_hash, l.hash,
                   ARRAY(SELECT s.kind FROM audit_subjects s WHERE s.seq = l.seq ORDER BY s.kind, s.name),
                   ARRAY(SELECT s.name FROM audit_subjects s WHERE s.seq = l.seq ORDER BY s.kind, s.name)
            FROM \(from)
            """
        if !clauses.isEmpty { sql.text += " WHERE " + clauses.joined(separator: " AND ") }
        sql.text += " ORDER BY l.seq"
        if let limit = filter.limit { sql.text += " LIMIT \(sql.bind(limit))" }
        try session.forEachRow(sql.query, batch: min(max(filter.limit ?? 1000, 1), 1000)) { row in
            let (seq, at, actor, action, details, previous, hash, kinds, names) = try session.decode(
                row, (Int64, String, String, String, String, String, String, [String], [String]).self)
            try body(AuditEntry(seq: seq, at: try AuditLog.instant(at, seq: seq), actor: actor, action: action,
                                subjects: AuditLog.subjects(kinds: kinds, names: names), details: details, previousHash: previous, hash: hash))
        }
    }

    /// Walks the whole chain in seq order through a cursor, each entry with its `kind=name`
    /// subjects in the same row: memory stays flat however long the log is.
    func verifyChain() throws -> ChainCheck {
        var walk = ChainWalk()
        try session.forEachRow("""
            SELECT l.seq, l.at, l.actor, l.action, l.details, l.prev_hash, l.hash,
                   ARRAY(SELECT s.kind || '=' || s.name FROM audit_subjects s WHERE s.seq = l.seq)
            FROM audit_log l ORDER BY l.seq
            """) { row in
            let (seq, at, actor, action, details, previous, hash, subjects) = try session.decode(
                row, (Int64, String, String, String, String, String, String, [String]).self)
            walk.take(seq: seq, previous: previous.utf8, stored: Array(hash.utf8)) {
                EntryMessage(seq: seq, at: at, actor: actor, action: action, subjects: subjects.map { Array($0.utf8) },
                             details: details, previousHash: previous)
            }
        }
        return walk.check
    }

    func head() throws -> ChainHead? {
        try session.row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").map { row in
            let (seq, hash) = try session.decode(row, (Int64, String).self)
            return ChainHead(seq: seq, hash: hash)
        }
    }

    func entryHash(seq: Int64) throws -> String? {
        try session.value("SELECT hash FROM audit_log WHERE seq = \(seq)", as: String.self)
    }

    func record(key: AuditKeyRecord) throws {
        try session.execute("""
            INSERT INTO audit_keys(public_key, fingerprint, created_at) VALUES (\(key.publicKey), \(key.fingerprint), \(key.createdAt.iso8601))
            """)
    }

    func keys() throws -> [AuditKeyRecord] {
        try session.rows("SELECT public_key, fingerprint, created_at FROM audit_keys ORDER BY created_at, fingerprint").map { row in
            let (publicKey, fingerprint, createdAt) = try session.decode(row, (String, String, String).self)
            return try AuditLog.key(publicKey: publicKey, fingerprint: fingerprint, createdAt: createdAt)
        }
    }

    /// The append-only triggers missing from the tables of the schema Pitstop works in.
    func missingAppendOnlyTriggers() throws -> [String] {
        let present = Set(try session.rows("""
            SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
            """).map { try session.decode($0, String.self) })
        return Self.appendOnlyTriggers.filter { !present.contains($0) }
    }

    /// Walks the `notice.sent` entries through `audit_log_by_action`, each one's notice subject
    /// by seq: as many rows as notices were sent.
    func repeatedNoticeSendings() throws -> [RepeatedSending] {
        var tally = SendingTally()
        try session.forEachRow("""
            SELECT s.name, l.at FROM audit_log l JOIN audit_subjects s ON s.seq = l.seq
            WHERE l.action = 'notice.sent' AND s.kind = 'notice' ORDER BY l.seq
            """) { row in
            let (notice, at) = try session.decode(row, (String, String).self)
            tally.add(notice: notice, at: at)
        }
        return try tally.repeated { id in
            try session.row("SELECT campaign, subscription FROM notices WHERE id = \(id)").map { try session.decode($0, (String, String).self) }
        }
    }
}
