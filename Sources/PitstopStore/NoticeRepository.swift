// The notice outbox's writes: a notice is marked sent, or its failed attempt is recorded.
import Foundation
import GRDB
import PitstopCore

extension EventRepository {
    /// The notice with this id, if any.
    public static func notice(_ db: Database, id: Int64) throws -> NoticeRecord? {
        guard let campaign = try String.fetchOne(db, sql: "SELECT campaign FROM notices WHERE id = ?", arguments: [id]) else { return nil }
        return try notices(db, campaign: campaign).first { $0.id == id }
    }

    /// The ids of cancelled campaigns: their notices are no longer owed.
    public static func cancelledCampaigns(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT id FROM campaigns WHERE status = 'cancelled'"))
    }

    /// Marks a notice sent at `at` and counts the attempt. Returns false, changing nothing,
    /// when it was already sent: a notice is marked sent once.
    public static func markNoticeSent(_ db: Database, id: Int64, at: Timestamp) throws -> Bool {
        try db.execute(sql: "UPDATE notices SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND sent_at IS NULL",
                       arguments: [at.iso8601, id])
        return db.changesCount == 1
    }

    /// Counts a failed attempt and keeps its error; the notice stays queued. Returns false
    /// when the notice is unknown or already sent.
    public static func recordNoticeFailure(_ db: Database, id: Int64, error: String) throws -> Bool {
        try db.execute(sql: "UPDATE notices SET attempts = attempts + 1, last_error = ? WHERE id = ? AND sent_at IS NULL",
                       arguments: [error, id])
        return db.changesCount == 1
    }
}
