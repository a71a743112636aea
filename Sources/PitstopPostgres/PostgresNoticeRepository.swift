// The notice outbox on PostgreSQL: notices queued by plans, marked sent once, failed attempts
// counted. Rows are read back by the same code as on SQLite (`NoticeRecord(stored:...)`).
import PitstopCore
import PitstopStore
import PostgresNIO

struct PostgresNoticeRepository: NoticeRepository {
    let session: PostgresSession

    private static let columns = "id, campaign, subscription, recipients, subject, body, queued_at, first_start, sent_at, attempts, last_error"

    func insert(notice n: NoticeRecord) throws {
        try session.execute("""
            INSERT INTO notices(campaign, subscription, recipients, subject, body, queued_at, first_start)
            VALUES (\(n.campaign), \(n.subscription), \(NoticeRecord.storedRecipients(n.recipients)), \(n.subject), \(n.body),
                    \(n.queuedAt.iso8601), \(n.firstStart.iso8601))
            """)
    }

    func notices(campaign: String?) throws -> [NoticeRecord] {
        let rows = if let campaign {
            try session.rows("SELECT \(unescaped: Self.columns) FROM notices WHERE campaign = \(campaign) ORDER BY id")
        } else {
            try session.rows("SELECT \(unescaped: Self.columns) FROM notices ORDER BY id")
        }
        return try rows.map(record)
    }

    func notice(id: Int64) throws -> NoticeRecord? {
        try session.row("SELECT \(unescaped: Self.columns) FROM notices WHERE id = \(id)").map(record)
    }

    private func record(_ row: PostgresRow) throws -> NoticeRecord {
        let (id, campaign, subscription, recipients, subject, body, queuedAt, firstStart, sentAt, attempts, lastError) = try session.decode(
            row, (Int64, String, String, String, String, String, String, String, String?, Int, String?).self)
        return NoticeRecord(stored: id, campaign: campaign, subscription: subscription, recipients: recipients, subject: subject, body: body,
                            queuedAt: queuedAt, firstStart: firstStart, sentAt: sentAt, attempts: attempts, lastError: lastError)
    }

    func noticeKeys() throws -> Set<NoticeKey> {
        Set(try session.rows("SELECT campaign, subscription FROM notices").map { row in
            let (campaign, subscription) = try session.decode(row, (String, String).self)
            return NoticeKey(campaign: campaign, subscription: subscription)
        })
    }

    func cancelledCampaigns() throws -> Set<String> {
        Set(try session.rows("SELECT id FROM campaigns WHERE status = 'cancelled'").map { try session.decode($0, String.self) })
    }

    /// Marks a notice sent at `at` and counts the attempt. Returns false, changing nothing,
    /// when it was already sent: a notice is marked sent once.
    func markSent(id: Int64, at: Timestamp) throws -> Bool {
        try session.execute("""
            UPDATE notices SET sent_at = \(at.iso8601), attempts = attempts + 1, last_error = NULL WHERE id = \(id) AND sent_at IS NULL
            """) == 1
    }

    /// Counts a failed attempt and keeps its error; the notice stays queued. Returns false
    /// when the notice is unknown or already sent.
    func recordFailure(id: Int64, error: String) throws -> Bool {
        try session.execute("UPDATE notices SET attempts = attempts + 1, last_error = \(error) WHERE id = \(id) AND sent_at IS NULL") == 1
    }
}
