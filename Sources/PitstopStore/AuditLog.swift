// The audit log: every change appends an entry in the same transaction as the change. Entries
// are chained by SHA-256, so an edit, a deletion or a reordering breaks the chain at that point.
import Crypto
import Foundation
import GRDB
import PitstopCore

/// What an audit entry is about: `vm web-0`, `campaign 1f2e…`.
public struct AuditSubject: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case vm, set, region, subscription, campaign, event, wave, window, blackout, notice
    }

    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }
}

/// One entry as appended.
public struct AuditEntry: Sendable, Hashable {
    public var seq: Int64
    public var at: Timestamp
    public var actor: String
    public var action: String
    public var subjects: [AuditSubject]
    /// A JSON object.
    public var details: String
    public var previousHash: String
    public var hash: String
}

public enum AuditLog {
    /// The hash before the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// Who is acting: `$PITSTOP_ACTOR`, else the OS user.
    public static func actor(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let a = environment["PITSTOP_ACTOR"], !a.isEmpty { return a }
        if let u = environment["USER"] ?? environment["LOGNAME"], !u.isEmpty { return u }
        return NSUserName()
    }

    /// The hash of an entry: SHA-256 over its fields and the previous entry's hash, each
    /// length-prefixed so that no two different entries hash the same text.
    public static func hash(seq: Int64, at: String, actor: String, action: String, subjects: [AuditSubject], details: String, previousHash: String) -> String {
        var hasher = SHA256()
        func field(_ s: String) {
            let bytes = Array(s.utf8)
            hasher.update(data: Array("\(bytes.count):".utf8))
            hasher.update(data: bytes)
        }
        field(String(seq))
        field(at)
        field(actor)
        field(action)
        let sortedSubjects = subjects.map { "\($0.kind.rawValue)=\($0.name)" }.sorted()
        field(String(sortedSubjects.count))
        sortedSubjects.forEach(field)
        field(details)
        field(previousHash)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Appends one entry inside the caller's transaction and returns it.
    @discardableResult
    public static func append(
        _ db: Database, at: Timestamp, actor: String, action: String, subjects: [AuditSubject], details: String
    ) throws -> AuditEntry {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let previous: String = last?["hash"] ?? genesis
        let unique = Array(Set(subjects)).sorted { ($0.kind.rawValue, $0.name) < ($1.kind.rawValue, $1.name) }
        let hash = hash(seq: seq, at: at.iso8601, actor: actor, action: action, subjects: unique, details: details, previousHash: previous)
        try db.execute(sql: "INSERT INTO audit_log(seq, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [seq, at.iso8601, actor, action, details, previous, hash])
        let subjectInsert = try db.cachedStatement(sql: "INSERT INTO audit_subjects(seq, kind, name) VALUES (?, ?, ?)")
        for subject in unique { try subjectInsert.execute(arguments: [seq, subject.kind.rawValue, subject.name]) }
        return AuditEntry(seq: seq, at: at, actor: actor, action: action, subjects: unique, details: details, previousHash: previous, hash: hash)
    }
}
