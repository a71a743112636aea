// The notice outbox: notices queued by plans, marked sent once, failed attempts counted.
import Foundation
import GRDB
package import PitstopCore

struct SQLiteNoticeRepository: NoticeRepository {
    let db: Database

    func insert(notice n: NoticeRecord) throws {
        try db.execute(sql: """
            INSERT INTO notices(campaign, subscription, recipients, subject, body, queued_at, first_start)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [n.campaign, n.subscription, NoticeRecord.storedRecipients(n.recipients), n.subject, n.body,
                             n.queuedAt.iso8601, n.firstStart.iso8601])
    }

    func notices(campaign: String?) throws -> [NoticeRecord] {
        let rows = if let campaign {
            try Row.fetchAll(db, sql: "SELECT * FROM notices WHERE campaign = ? ORDER BY id", arguments: [campaign])
        } else {
            try Row.fetchAll(db, sql: "SELECT * FROM notices ORDER BY id")
        }
        return rows.map(Self.record)
    }

    private static func record(_ row: Row) -> NoticeRecord {
        NoticeRecord(stored: row["id"], campaign: row["campaign"], subscription: row["subscription"], recipients: row["recipients"],
                     subject: row["subject"], body: row["body"], queuedAt: row["queued_at"], firstStart: row["first_start"],
                     sentAt: row["sent_at"], attempts: row["attempts"], lastError: row["last_error"])
    }

    /// The (campaign, subscription) pairs that have a notice queued or sent.
    func noticeKeys() throws -> Set<NoticeKey> {
        Set(try Row.fetchAll(db, sql: "SELECT campaign, subscription FROM notices").map { NoticeKey(campaign: $0[0], subscription: $0[1]) })
    }

    /// The notice with this id, if any: one row by its key.
    func notice(id: Int64) throws -> NoticeRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM notices WHERE id = ?", arguments: [id]).map(Self.record)
    }

    /// The ids of cancelled campaigns: their notices are no longer owed.
    func cancelledCampaigns() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT id FROM campaigns WHERE status = 'cancelled'"))
    }

    /// Marks a notice sent at `at` and counts the attempt. Returns false, changing nothing,
    /// when it was already sent: a notice is marked sent once.
    func markSent(id: Int64, at: Timestamp) throws -> Bool {
        try db.execute(sql: "UPDATE notices SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND sent_at IS NULL",
                       arguments: [at.iso8601, id])
        return db.changesCount == 1
    }

    /// Counts a failed attempt and keeps its error; the notice stays queued. Returns false
    /// when the notice is unknown or already sent.
    func recordFailure(id: Int64, error: String) throws -> Bool {
        try db.execute(sql: "UPDATE notices SET attempts = attempts + 1, last_error = ? WHERE id = ? AND sent_at IS NULL",
                       arguments: [error, id])
        return db.changesCount == 1
    }
}

extension NoticeRecord {
    /// A notice as the outbox stores it: its recipients as a JSON array, its times as ISO text.
    package init(stored id: Int64, campaign: String, subscription: String, recipients: String, subject: String, body: String,
                 queuedAt: String, firstStart: String, sentAt: String?, attempts: Int, lastError: String?) {
        self.init(id: id, campaign: campaign, subscription: subscription,
                  recipients: (try? JSONDecoder().decode([String].self, from: Data(recipients.utf8))) ?? [],
                  subject: subject, body: body, queuedAt: Timestamp(iso8601: queuedAt) ?? Timestamp(seconds: 0),
                  firstStart: Timestamp(iso8601: firstStart) ?? Timestamp(seconds: 0),
                  sentAt: sentAt.flatMap(Timestamp.init(iso8601:)), attempts: attempts, lastError: lastError)
    }

    /// The recipients as the outbox stores them: a JSON array.
    package static func storedRecipients(_ recipients: [String]) -> String { JSONText.array(recipients.map(JSONText.quote)) }
}
