// The notifier: sends the maintenance notices that are due, by SMTP to a relay or as .eml
// files into a directory, and commits each one's sent state the moment it has gone.
//
// When a notice is due. A reboot notice is owed 7 days before the first event it announces
// (docs/rules.md#rule-4-notice), and the planner never starts a reboot event sooner than 7 days after planning,
// so the notice is due as soon as it is queued: unsent, `queued_at <= now`, and its campaign
// not cancelled (a notice for maintenance that will not happen is withdrawn, not sent).
// Sending at once rather than exactly 7 days ahead gives owners the most warning there is.
//
// Exactly once. Each notice is its own transaction: right after the relay answers 250 to the
// end of DATA (or the .eml file has been renamed into place), one write marks it sent and
// appends `notice.sent` to the audit log. A refusal (4xx, 5xx) or a connection error counts
// the attempt, records the error and `notice.failed`, leaves the notice queued for the next
// run, and the others go on. SMTP itself is at-least-once at the wire: if `notify` is killed
// between the relay's 250 and the commit, that one message is sent again on the next run,
// with the same Message-ID so that relays and mail clients can de-duplicate it. Nothing else
// can be sent twice: a message that the relay has not accepted is not marked sent, and one
// that is marked sent is never picked again. Two `notify` runs on one database could race,
// so `NoticeSenderLock` lets only one send at a time, whatever path each reached it by; and
// marking sent is conditional, so a notice already sent keeps its first sending.
public import Foundation
public import PitstopCore
public import PitstopStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where composed notices go. A transport is used by one run from one thread.
public protocol NoticeTransport: AnyObject {
    /// How the audit log and the operator see this transport: `smtp 127.0.0.1:25`, `outbox /var/spool/pitstop`.
    var name: String { get }
    /// Hands one message on; returns once it has been accepted (what the relay said, or the
    /// file written), throws if it was not.
    func deliver(_ message: NoticeMessage) throws -> String
    /// Ends the session, if any.
    func finish()
}

/// Sends notices over plain SMTP to a relay, one session for the whole run.
///
/// A refused message leaves the session open for the next one (after RSET); a lost connection
/// is reopened once for the next message; a relay that cannot be reached at all fails the
/// rest of the run's notices at once, instead of waiting a timeout for each.
public final class SMTPRelay: NoticeTransport {
    public let host: String
    public let port: UInt16
    /// Seconds allowed for each SMTP step.
    public let timeout: Double
    public var name: String { "smtp \(host.contains(":") ? "[\(host)]" : host):\(port)" }

    private var client: SMTPClient?
    private var unreachable: SMTPError?

    /// A transport for the relay at `host`:`port`; it connects on the first message.
    public init(host: String, port: UInt16, timeout: Double = 60) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    public func deliver(_ message: NoticeMessage) throws -> String {
        if let unreachable { throw unreachable }
        let session: SMTPClient
        if let client, client.isConnected {
            session = client
        } else {
            session = SMTPClient(host: host, port: port, timeout: timeout)
            do {
                try session.connect()
            } catch {
                unreachable = error
                throw error
            }
            client = session
        }
        let reply = try session.send(from: message.from, to: message.recipients, message: message.bytes)
        return reply.description
    }

    public func finish() {
        client?.quit()
        client = nil
    }
}

/// Writes each notice as `notice-ID-CAMPAIGN.eml` into a directory, for a mail pickup
/// directory, a ticket system or an operator to read.
///
/// Each file is written under a temporary name, flushed to disk, then renamed into place,
/// so a reader (or a kill) never sees half a message. The name is stable: a rewrite after a
/// kill between the rename and the commit replaces the file rather than adding a second one.
public final class OutboxDirectory: NoticeTransport {
    public let directory: URL
    public var name: String { "outbox \(directory.path)" }

    /// Creates the directory if it does not exist.
    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw PitstopError(.invalid, "\(directory.path): cannot create the outbox directory: \(error.localizedDescription)")
        }
    }

    public func deliver(_ message: NoticeMessage) throws -> String {
        let final = directory.appendingPathComponent(message.fileName).path
        // A dot name, so that a reader that lists *.eml never picks up a file still being written.
        let temporary = directory.appendingPathComponent("." + message.fileName + ".tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NoticeProblem("\(temporary): cannot create: \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { unlink(temporary) } }
        do {
            defer { close(fd) }
            var offset = 0
            try message.bytes.withUnsafeBytes { raw in
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw NoticeProblem("\(temporary): cannot write: \(String(cString: strerror(errno)))") }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw NoticeProblem("\(temporary): cannot flush to disk: \(String(cString: strerror(errno)))") }
        }
        guard rename(temporary, final) == 0 else { throw NoticeProblem("\(final): cannot rename into place: \(String(cString: strerror(errno)))") }
        ok = true
        // The rename itself is durable only once the directory is flushed.
        let dir = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
        return "written \(message.fileName)"
    }

    public func finish() {}
}

/// What happened to one notice in a run.
public struct NoticeDelivery: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// Accepted, and marked sent at this instant; `detail` is the relay's reply or the file written.
        case sent(at: Timestamp, detail: String)
        /// Not accepted; the notice stays queued with this error.
        case failed(String)
    }

    /// The notice as stored after this attempt.
    public var notice: NoticeRecord
    public var messageID: String
    public var outcome: Outcome

    public var succeeded: Bool { if case .sent = outcome { true } else { false } }
}

/// A notice with where it stands, as `pitstop notices` lists it.
public struct NoticeStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Due: the next `notify` sends it.
        case queued
        /// Accepted by a relay or written to an outbox.
        case sent
        /// Queued after `now` (a clock set back): not due yet.
        case waiting
        /// Its campaign was cancelled before it went: it will not be sent.
        case withdrawn
    }

    public var notice: NoticeRecord
    public var state: State
    /// The Message-ID its e-mail has (or will have) on every attempt.
    public var messageID: String
}

/// Sends due notices and reports on the outbox.
public struct Notifier: Sendable {
    public let store: any Store

    /// A notifier for the notices kept in `store`.
    public init(store: any Store) {
        self.store = store
    }

    /// The notices due at `now`: unsent, queued at or before `now`, campaign not cancelled;
    /// the soonest maintenance first, so an interrupted run has sent the most urgent ones.
    public func due(now: Timestamp) async throws -> [NoticeRecord] {
        try await store.read { tx in
            let cancelled = try tx.notices.cancelledCampaigns()
            return try tx.notices.notices()
                .filter { $0.sentAt == nil && $0.queuedAt <= now && !cancelled.contains($0.campaign) }
                .sorted { ($0.firstStart, $0.id) < ($1.firstStart, $1.id) }
        }
    }

    /// Every notice, or one campaign's, with its state at `now`, in queue order.
    public func notices(campaign: String? = nil, now: Timestamp) async throws -> [NoticeStatus] {
        try await store.read { tx in
            if let campaign, try tx.events.campaign(id: campaign) == nil {
                throw PitstopError(.notFound, "unknown campaign '\(campaign)'")
            }
            let cancelled = try tx.notices.cancelledCampaigns()
            return try tx.notices.notices(campaign: campaign).map { n in
                let state: NoticeStatus.State = n.sentAt != nil ? .sent : cancelled.contains(n.campaign) ? .withdrawn : n.queuedAt > now ? .waiting : .queued
                return NoticeStatus(notice: n, state: state, messageID: NoticeMessage.messageID(noticeID: n.id, campaign: n.campaign))
            }
        }
    }

    /// Sends every notice due at `now` through `transport`, committing each one's outcome as
    /// it goes (see the top of this file), and returns what happened to each.
    ///
    /// - Parameters:
    ///   - from: the sender address (the From header and the SMTP reverse path).
    ///   - clock: the instant each message is dated and marked sent; `now` if nil.
    /// - Throws: only when the database cannot be read or written: a notice's own failure is
    ///   recorded and reported in the result instead.
    ///
    /// - Parameter lock: the sender's lock, checked before each notice: a run that lost it (its
    ///   database connection ended, so another run may hold it now) stops there, the rest of
    ///   the notices left queued, rather than send what the other run sends.
    public func sendDue(now: Timestamp, from: String = "pitstop@localhost", via transport: any NoticeTransport,
                        actor: String, clock: (() -> Timestamp)? = nil, holding lock: NoticeSenderLock? = nil) async throws -> [NoticeDelivery] {
        defer { transport.finish() }
        var deliveries: [NoticeDelivery] = []
        let transportName = transport.name
        for queued in try await due(now: now) {
            if let lock, !lock.isHeld {
                throw PitstopError(.internal, "lost the notify lock (its database connection ended) after sending \(deliveries.count) notices; "
                    + "stopped so that no other run's notice goes twice: the rest stay queued for the next run")
            }
            let at = clock?() ?? now
            // What the relay answered, or why it did not take the message.
            let result: Result<String, DeliveryFailure>
            do {
                let message = try NoticeMessage.compose(queued, from: from, date: at)
                result = .success(try transport.deliver(message))
            } catch {
                result = .failure(DeliveryFailure(text: "\(error)"))
            }
            let delivery: NoticeDelivery
            switch result {
            case .success(let detail):
                delivery = try await commitAccepted(queued, at: at, detail: detail, transport: transportName, actor: actor)
            case .failure(let failure):
                delivery = try await commitFailed(queued, at: at, error: failure.text, transport: transportName, actor: actor)
            }
            deliveries.append(delivery)
        }
        return deliveries
    }
}

extension Notifier {
    /// Records that `queued` was accepted at `at`: one conditional UPDATE of its row and one
    /// audit entry, nothing read back, so the window between the relay's acceptance and this
    /// commit stays as short as it can be and a run costs the same per notice however many
    /// there are. A notice some other sender marked sent already keeps its first sending; the
    /// entry still records this delivery, so `audit verify` reports the notice sent twice.
    public func commitAccepted(_ queued: NoticeRecord, at: Timestamp, detail: String, transport: String, actor: String) async throws -> NoticeDelivery {
        let messageID = NoticeMessage.messageID(noticeID: queued.id, campaign: queued.campaign)
        return try await store.write { tx in
            let marked = try tx.notices.markSent(id: queued.id, at: at)
            try tx.audit.append(at: at, actor: actor, action: "notice.sent", subjects: Self.subjects(queued), details: Self.details(
                queued, messageID: messageID, transport: transport, outcome: ("reply", detail),
                then: [("firstStart", JSONText.quote(queued.firstStart.iso8601))] + (marked ? [] : [("alreadySent", "true")])))
            var notice = queued
            if marked {
                notice.sentAt = at
                notice.attempts += 1
                notice.lastError = nil
            } else if let stored = try tx.notices.notice(id: queued.id) {
                // Rare (another sender got there first): the row as it stands.
                notice = stored
            }
            return NoticeDelivery(notice: notice, messageID: messageID, outcome: .sent(at: at, detail: detail))
        }
    }

    /// Records a refused or failed attempt: the notice stays queued with `error`.
    func commitFailed(_ queued: NoticeRecord, at: Timestamp, error text: String, transport: String, actor: String) async throws -> NoticeDelivery {
        let messageID = NoticeMessage.messageID(noticeID: queued.id, campaign: queued.campaign)
        return try await store.write { tx in
            let counted = try tx.notices.recordFailure(id: queued.id, error: text)
            try tx.audit.append(at: at, actor: actor, action: "notice.failed", subjects: Self.subjects(queued), details: Self.details(
                queued, messageID: messageID, transport: transport, outcome: ("error", text), then: []))
            var notice = queued
            if counted {
                notice.attempts += 1
                notice.lastError = text
            }
            return NoticeDelivery(notice: notice, messageID: messageID, outcome: .failed(text))
        }
    }

    /// The details of a `notice.sent` or `notice.failed` entry: the attempt, what came of it
    /// (`reply` or `error`), then `more`.
    private static func details(_ queued: NoticeRecord, messageID: String, transport: String, outcome: (key: String, text: String),
                                then more: [(String, String)]) -> String {
        JSONText.object([
            ("notice", "\(queued.id)"), ("messageId", JSONText.quote(messageID)),
            ("recipients", JSONText.array(queued.recipients.map(JSONText.quote))),
            ("transport", JSONText.quote(transport)), (outcome.key, JSONText.quote(outcome.text)),
            ("attempt", "\(queued.attempts + 1)"),
        ] + more)
    }

    private static func subjects(_ notice: NoticeRecord) -> [AuditSubject] {
        [AuditSubject(.campaign, notice.campaign), AuditSubject(.subscription, notice.subscription), AuditSubject(.notice, String(notice.id))]
    }
}

/// Why a message did not go out, as recorded with the notice.
struct DeliveryFailure: Error, Sendable {
    var text: String
}

/// Only one `notify` sends from a database at a time, whichever process or machine it runs on:
/// the store's `notify` lock (a file lock beside a SQLite database, keyed on the file itself
/// whatever path reaches it; an advisory lock on a PostgreSQL server), released when the
/// sender ends, even by SIGKILL.
public final class NoticeSenderLock: Sendable {
    private let held: any HeldLock

    /// Whether this run still holds the lock: a PostgreSQL lock ends with its connection.
    public var isHeld: Bool { held.isHeld }

    /// Lets the next sender in now.
    public func release() { held.release() }

    /// Takes the lock on the database behind `services`, or throws at once if another run holds
    /// it, naming that run's process when the store can tell.
    public init(on services: Services) async throws {
        switch try await services.store.tryLock("notify") {
        case .acquired(let lock):
            held = lock
        case .heldElsewhere(let pid, let place):
            throw PitstopError(.conflict, "another `pitstop notify`\(pid.map { " (pid \($0))" } ?? "") is sending from this database "
                + "(\(place)); try again when it has finished")
        }
    }
}
