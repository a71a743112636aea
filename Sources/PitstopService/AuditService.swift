// The audit's use cases: what happened to a VM, set or region between two dates, and whether
// the log is intact and past maintenance kept the rules.
import Foundation
public import PitstopCore
public import PitstopStore

/// The outcome of `audit verify`: the hash chain, its signed checkpoints and the rules, judged
/// on one snapshot.
public struct AuditVerification: Sendable {
    public var chain: ChainCheck
    /// Rules that actual history broke, in instant order, then what is wrong with the log
    /// itself (``RuleName/log``).
    public var findings: [Finding]
    /// The checkpoints that anchor the log, stored and kept.
    public var anchoring: LogAnchoring

    /// Clean: the chain is intact and history broke no rule.
    public var ok: Bool { chain.ok && findings.isEmpty }
}

/// Reads and verifies the audit log. Writing it is the business of every other service, each
/// inside its own transaction (``AuditRepository/append(at:actor:action:subjects:details:)``).
public struct AuditService: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// Calls `body` with each entry `filter` selects, oldest first, streaming.
    ///
    /// A subject that never existed is not an error: it has no entries (a removed VM keeps
    /// its history, so "unknown" cannot be told from "gone").
    public func forEachEntry(_ filter: AuditFilter, _ body: @escaping @Sendable (AuditEntry) throws -> Void) async throws {
        try validate(filter)
        try await store.read { tx in try tx.audit.forEach(filter, body) }
    }

    /// The entries `filter` selects, oldest first.
    public func entries(_ filter: AuditFilter) async throws -> [AuditEntry] {
        try validate(filter)
        return try await store.read { tx in
            var out: [AuditEntry] = []
            try tx.audit.forEach(filter) { out.append($0) }
            return out
        }
    }

    /// Walks the whole hash chain, checks every stored checkpoint and each of `kept` (heads
    /// kept outside the database) against it, and judges actual history against the rules, all
    /// on the same snapshot of the database.
    ///
    /// - Parameter now: the end of events still running, and the instant of findings about the
    ///   log as it is now.
    public func verify(now: Timestamp, kept: [(checkpoint: AuditCheckpoint, source: String)] = []) async throws -> AuditVerification {
        try await store.read { tx in
            let chain = try tx.audit.verifyChain()
            var findings = HistoryAudit.findings(
                events: try tx.history.startedEvents(), pairs: try tx.fleet.regionPairs(),
                notices: try tx.history.noticesSent(), now: now)
            findings += try tx.audit.repeatedNoticeSendings().map {
                Finding.noticeSentTwice(notice: $0.notice, campaign: $0.campaign, subscription: $0.subscription, times: $0.times)
            }
            let missing = try tx.audit.missingAppendOnlyTriggers()
            if !missing.isEmpty { findings.append(.logNotAppendOnly(missing: missing, at: now)) }

            let keys = Set(try tx.audit.keys().map(\.publicKey))
            /// What is wrong with a checkpoint at `place`, if anything.
            func judge(_ c: AuditCheckpoint, _ place: String, before limit: Int64?) throws -> Finding? {
                guard keys.contains(c.publicKey) else {
                    return .checkpointSignature(place, problem: "signed by key \(c.fingerprint), which this database does not record "
                        + "(`pitstop audit keygen` records a key): the keys were replaced, or it belongs to another database", at: c.at)
                }
                guard c.signatureIsValid else {
                    return .checkpointSignature(place, problem: "its signature does not verify with key \(c.fingerprint): the checkpoint was altered", at: c.at)
                }
                if let limit, c.seq >= limit {
                    return .checkpointNotExtended(place, seq: c.seq, hash: c.hash, problem: "it names entry \(c.seq), not one before it", at: c.at)
                }
                guard let stored = try tx.audit.entryHash(seq: c.seq) else {
                    return .checkpointNotExtended(place, seq: c.seq, hash: c.hash,
                                                  problem: "the log has no entry \(c.seq) (it ends at \(chain.head?.seq ?? 0)): it was cut", at: c.at)
                }
                guard stored == c.hash else {
                    return .checkpointNotExtended(place, seq: c.seq, hash: c.hash,
                                                  problem: "entry \(c.seq) now hashes to \(stored.prefix(16))…: the log up to it was rewritten", at: c.at)
                }
                return nil
            }

            var anchoring = LogAnchoring(checkpoints: 0, latest: nil, kept: kept.count, keptExtended: 0, unsignedEntries: chain.entries)
            var stored: [AuditEntry] = []
            try tx.audit.forEach(AuditFilter(action: AuditService.checkpointAction)) { stored.append($0) }
            for entry in stored {
                anchoring.checkpoints += 1
                let place = "checkpoint entry \(entry.seq)"
                let checkpoint: AuditCheckpoint
                do throws(PitstopError) {
                    checkpoint = try AuditCheckpoint(json: entry.details, source: place)
                } catch {
                    findings.append(.checkpointSignature(place, problem: "its signed head cannot be read: \(error.message)", at: entry.at))
                    continue
                }
                if let finding = try judge(checkpoint, place, before: entry.seq) {
                    findings.append(finding)
                } else {
                    anchoring.latest = checkpoint
                    anchoring.unsignedEntries = max(0, chain.entries - Int(checkpoint.seq))
                }
            }
            for (checkpoint, source) in kept {
                if let finding = try judge(checkpoint, "kept checkpoint \(source)", before: nil) {
                    findings.append(finding)
                } else {
                    anchoring.keptExtended += 1
                }
            }
            return AuditVerification(chain: chain, findings: findings, anchoring: anchoring)
        }
    }

    /// The action of the entries that hold signed heads.
    public static let checkpointAction = "audit.checkpoint"

    /// Makes an audit key: writes its private half to a new file at `path`, readable only by its
    /// owner, and records its public half in the database (with an `audit.key.recorded` entry).
    /// The file is removed again if the database refuses the key.
    public func keygen(file path: String, now: Timestamp, actor: String) async throws -> AuditKeyRecord {
        let key = AuditSigningKey.generate()
        let record = key.record(createdAt: now)
        try key.write(to: path)
        do {
            try await store.write { tx in
                try tx.audit.record(key: record)
                try tx.audit.append(at: now, actor: actor, action: "audit.key.recorded", subjects: [], details: JSONText.object([
                    ("key", JSONText.quote(record.fingerprint)), ("publicKey", JSONText.quote(record.publicKey)),
                ]))
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return record
    }

    /// Signs the log's head with `key` (one the database records) and appends the signed head
    /// as an `audit.checkpoint` entry, in one transaction; returns it for the operator to keep.
    public func checkpoint(key: AuditSigningKey, source: String, now: Timestamp, actor: String) async throws -> AuditCheckpoint {
        let record = key.record(createdAt: now)
        return try await store.write { tx in
            guard try tx.audit.keys().contains(where: { $0.publicKey == record.publicKey }) else {
                throw PitstopError(.invalid, "\(source): key \(record.fingerprint) is not recorded in this database; "
                    + "make one with `pitstop audit keygen FILE`, or give the key that was")
            }
            guard let head = try tx.audit.head() else {
                throw PitstopError(.invalid, "the audit log is empty: there is nothing to sign")
            }
            let checkpoint = try AuditCheckpoint(seq: head.seq, hash: head.hash, at: now, key: key)
            try tx.audit.append(at: now, actor: actor, action: Self.checkpointAction, subjects: [], details: checkpoint.json)
            return checkpoint
        }
    }

    private func validate(_ filter: AuditFilter) throws {
        if let since = filter.since, let until = filter.until, until <= since {
            throw PitstopError(.invalid, "--until \(until.iso8601) is not after --since \(since.iso8601)")
        }
    }
}
