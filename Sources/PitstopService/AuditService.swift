// The audit's use cases: what happened to a VM, set or region between two dates, and whether
// the log is intact and past maintenance kept the rules.
import Foundation
public import PitstopCore
public import PitstopStore

/// The outcome of `audit verify`: the hash chain and the rules, judged on one snapshot.
public struct AuditVerification: Sendable {
    public var chain: ChainCheck
    /// Rules that actual history broke, in instant order.
    public var findings: [Finding]

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

    /// Walks the whole hash chain and judges actual history against the rules, both on the
    /// same snapshot of the database.
    ///
    /// - Parameter now: the end of events still running.
    public func verify(now: Timestamp) async throws -> AuditVerification {
        try await store.read { tx in
            let chain = try tx.audit.verifyChain()
            let findings = HistoryAudit.findings(
                events: try tx.history.startedEvents(), pairs: try tx.fleet.regionPairs(),
                notices: try tx.history.noticesSent(), now: now)
            return AuditVerification(chain: chain, findings: findings)
        }
    }

    private func validate(_ filter: AuditFilter) throws {
        if let since = filter.since, let until = filter.until, until <= since {
            throw PitstopError(.invalid, "--until \(until.iso8601) is not after --since \(since.iso8601)")
        }
    }
}
