// `pitstop audit` (query and verify) and `pitstop report`: parsing and printing only.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "What happened to a VM, set, region, campaign or subscription; verify the log and past maintenance.",
        subcommands: [Query.self, Verify.self, Keygen.self, Checkpoint.self], defaultSubcommand: Query.self)

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "query",
            abstract: "List audit entries, oldest first (newest last).",
            discussion: "Give at most one subject. Without one, the whole log is listed (filtered by time and action).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Entries about this VM, its events and its waves.") var vm: String?
        @Option(name: .customLong("set"), help: "Entries about this availability set.") var availabilitySet: String?
        @Option(help: "Entries about this region.") var region: String?
        @Option(help: "Entries about this campaign.") var campaign: String?
        @Option(help: "Entries about this subscription.") var subscription: String?
        @Option(help: "Entries about this wave.") var wave: String?
        @Option(help: "Entries about this event.") var event: String?
        @Option(help: "Entries recorded at or after this instant, ISO 8601.") var since: String?
        @Option(help: "Entries recorded before this instant, ISO 8601.") var until: String?
        @Option(help: "Only this action, like vm.moved or event.started.") var action: String?
        @OptionGroup var format: FormatOption<TableJSONOrCSV>

        var subjects: [AuditSubject] {
            [(AuditSubject.Kind.vm, vm), (.set, availabilitySet), (.region, region), (.campaign, campaign),
             (.subscription, subscription), (.wave, wave), (.event, event)].compactMap { kind, name in name.map { AuditSubject(kind, $0) } }
        }

        func validate() throws {
            if subjects.count > 1 { throw ValidationError("give at most one of --vm, --set, --region, --campaign, --subscription, --wave, --event") }
        }

        func run() async throws {
            try await guarded {
                let filter = AuditFilter(
                    subject: subjects.first, since: try since.map { try parseInstant($0, option: "--since") },
                    until: try until.map { try parseInstant($0, option: "--until") }, action: action)
                let service = try database.open().audit
                let out = StandardOutput()
                switch format.value {
                case .json:
                    let list = JSONListWriter(key: "entries", write: out.write)
                    try await service.forEachEntry(filter) { list.append(Responses.auditEntry($0)) }
                    list.close()
                case .csv:
                    out.write("seq,at,actor,action,subjects,details\n")
                    try await service.forEachEntry(filter) { e in
                        out.write([String(e.seq), e.at.iso8601, e.actor, e.action, e.subjects.map { "\($0.kind.rawValue)=\($0.name)" }.joined(separator: ";"), e.details]
                            .map(csvField).joined(separator: ",") + "\n")
                    }
                case .table:
                    let box = Box(Table("seq", "at (UTC)", "actor", "action", "subjects", "details", numeric: [0], elastic: [4, 5]))
                    try await service.forEachEntry(filter) { e in
                        // The table stays readable on a terminal; --format json carries the whole details.
                        box.value.add(String(e.seq), e.at.iso8601, e.actor, e.action, Self.subjectSummary(e.subjects), e.details.cut(to: 100))
                    }
                    let table = box.value
                    if table.rows.isEmpty {
                        out.write("no audit entries" + (subjects.first.map { " about \($0.kind.rawValue) \($0.name)" } ?? "") + "\n")
                    } else {
                        out.write(table.text)
                        out.write("\(table.rows.count) entr\(table.rows.count == 1 ? "y" : "ies")\n")
                    }
                }
                out.flush()
            }
        }

        /// An import names up to a thousand subjects: the table shows the first few.
        private static func subjectSummary(_ subjects: [AuditSubject]) -> String {
            let shown = subjects.prefix(5).map { "\($0.kind.rawValue) \($0.name)" }.joined(separator: ", ")
            return subjects.count > 5 ? shown + ", … (\(subjects.count - 5) more)" : shown
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the hash chain, its signed checkpoints and the actual history against the rules. Exit 0 clean, 1 broken chain or findings, 2 error.",
            discussion: """
                The chain: every entry's SHA-256 is recomputed over its fields and subjects; an edited, \
                removed or reordered entry is named. The checkpoints (`audit checkpoint`): each stored one, and each \
                --checkpoint FILE kept elsewhere, must be signed by a recorded key and still be extended by the log, \
                so a rewrite with recomputed hashes, or a cut, before it is found; a log without one is reported \
                unsigned. The log: a notice sent twice, append-only triggers missing. The rules, on actual times: \
                two update domains of a set down together, paired regions down together, a freeze over 30s, a \
                reboot over \(HistoryAudit.rebootOverrunFactor)x its planned downtime, a reboot without a notice \
                sent 7 days ahead, a forced start.
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: ArgumentHelp("A checkpoint kept outside the database (what `audit checkpoint` printed): prove the log still extends it. Repeatable.",
                                   valueName: "file"))
        var checkpoint: [String] = []
        @OptionGroup var format: FormatOption<TableOrJSON>

        func run() async throws {
            try await guarded {
                let kept = try checkpoint.map { (checkpoint: try AuditCheckpoint(file: $0), source: $0) }
                let result = try await database.open().audit.verify(now: try Invocation.now(), kept: kept)
                switch format.value {
                case .json:
                    print(Responses.verification(result))
                case .table:
                    let chain = result.chain
                    if let broken = chain.firstBroken {
                        print("chain: BROKEN at entry \(broken.seq): \(broken.reason)")
                        print("  \(chain.entries) entries in the log; the chain is not checked past its first break")
                    } else if let head = chain.head {
                        print("chain: ok, \(chain.entries) entr\(chain.entries == 1 ? "y" : "ies"); head \(head.seq) \(head.hash)")
                    } else {
                        print("chain: ok, the log is empty")
                    }
                    let anchoring = result.anchoring
                    if let latest = anchoring.latest {
                        print("signed: \(anchoring.checkpoints) checkpoint\(anchoring.checkpoints == 1 ? "" : "s"); the latest signs entries 1 to \(latest.seq) "
                            + "at \(latest.at.iso8601) with key \(latest.fingerprint)"
                            + (anchoring.unsignedEntries > 0 ? "; \(anchoring.unsignedEntries) later entr\(anchoring.unsignedEntries == 1 ? "y is" : "ies are") not signed yet" : ""))
                    } else if anchoring.signed {
                        print("signed: \(anchoring.checkpoints) checkpoint\(anchoring.checkpoints == 1 ? "" : "s"), none of which holds (see the findings)")
                    } else {
                        print("signed: no, the log has no signed checkpoint: a rewrite (triggers dropped, entries edited, hashes recomputed) "
                            + "or a cut cannot be detected; make a key with `pitstop audit keygen FILE`, then `pitstop audit checkpoint`")
                    }
                    if anchoring.kept > 0 {
                        print("kept: \(anchoring.keptExtended) of \(anchoring.kept) kept checkpoint\(anchoring.kept == 1 ? "" : "s") extended by the log")
                    }
                    if result.findings.isEmpty {
                        print("history: ok, no rule broken by actual maintenance")
                    } else {
                        print("history: \(result.findings.count) finding\(result.findings.count == 1 ? "" : "s")")
                        print(findingsTable(result.findings), terminator: "")
                    }
                }
                if !result.ok { throw ExitCode(1) }
            }
        }
    }
}

extension AuditCommand {
    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen",
            abstract: "Make an Ed25519 key that signs audit checkpoints: the private key goes to FILE (mode 0600), the public key into the database.",
            discussion: """
                FILE must not exist. Keep it away from the database's host if you can: whoever holds it can sign \
                a rewritten log. Ordinary writes never need it; only `pitstop audit checkpoint` does.
                """)

        @OptionGroup var database: DatabaseOptions
        @Argument(help: ArgumentHelp("Where to write the private key.", valueName: "file")) var file: String

        func run() async throws {
            try await guarded {
                let key = try await database.open().audit.keygen(file: file, now: try Invocation.now(), actor: Invocation.actor())
                print("wrote the private key to \(file) (readable only by you); recorded public key \(key.fingerprint) in \(database.path)")
                print("public key: \(key.publicKey)")
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Sign the audit log's head (seq, hash, time), append it to the log, and print it to keep elsewhere.",
            discussion: """
                The key is --audit-key FILE, else $PITSTOP_AUDIT_KEY. The line printed is the checkpoint: keep it \
                outside the database (a file, a ticket, an e-mail); `pitstop audit verify --checkpoint FILE` later \
                proves the log still extends it, so a rewrite or a cut before it is detected.
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(name: .customLong("audit-key"), help: ArgumentHelp("The private key `audit keygen` wrote (default: $PITSTOP_AUDIT_KEY).", valueName: "file"))
        var auditKey: String?

        func run() async throws {
            try await guarded {
                let environment = ProcessInfo.processInfo.environment["PITSTOP_AUDIT_KEY"].flatMap { $0.isEmpty ? nil : $0 }
                guard let path = auditKey ?? environment else {
                    throw Failure("give the signing key: --audit-key FILE or PITSTOP_AUDIT_KEY (make one with `pitstop audit keygen FILE`)")
                }
                let key = try AuditSigningKey(file: path)
                let checkpoint = try await database.open().audit.checkpoint(key: key, source: path, now: try Invocation.now(), actor: Invocation.actor())
                print(checkpoint.json)
            }
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Maintenance per region, set and subscription: events by kind and outcome, downtime, findings.",
        discussion: """
            Covers the events planned to start in the period, with their actual times whenever they happened. \
            Downtime is VM time, summed over VMs: planned over events not cancelled, actual over events that started \
            (a running one up to now). Findings are those of `audit verify` that involve the period's events.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Events planned to start at or after this instant, ISO 8601.") var since: String?
    @Option(help: "Events planned to start before this instant, ISO 8601.") var until: String?
    @Option(help: "Only this region's events.") var region: String?
    @OptionGroup var format: FormatOption<TableJSONOrCSV>

    func run() async throws {
        try await guarded {
            let query = ReportQuery(since: try since.map { try parseInstant($0, option: "--since") },
                                    until: try until.map { try parseInstant($0, option: "--until") }, region: region)
            let report = try await database.open().audit.report(query, now: try Invocation.now())
            switch format.value {
            case .json: print(Responses.report(report))
            case .csv: print(csv(report), terminator: "")
            case .table: print(table(report), terminator: "")
            }
        }
    }

    static let countHeaders = ["events", "freeze", "reboot", "completed", "failed", "cancelled", "started", "scheduled"]

    private func counts(_ l: ReportLine) -> [String] {
        [l.events, l.freezes, l.reboots, l.completed, l.failed, l.cancelled, l.started, l.scheduled].map(String.init)
    }

    private func csv(_ report: MaintenanceReport) -> String {
        var out = (["scope", "name", "region"] + Self.countHeaders
            + ["planned_downtime_s", "actual_downtime_s", "longest_freeze_s", "longest_freeze_event", "findings"]).joined(separator: ",") + "\n"
        func line(_ scope: String, _ l: ReportLine) {
            out += ([scope, l.name, l.region ?? ""] + counts(l)
                + [String(l.plannedDowntime), String(l.actualDowntime), l.longestFreeze.map(String.init) ?? "", l.longestFreezeEvent ?? "", String(l.findings)])
                .map(csvField).joined(separator: ",") + "\n"
        }
        for l in report.regions { line("region", l) }
        for l in report.sets { line("set", l) }
        for l in report.subscriptions { line("subscription", l) }
        line("total", report.total)
        return out
    }

    private func table(_ report: MaintenanceReport) -> String {
        let q = report.query
        let period = switch (q.since, q.until) {
        case (nil, nil): "all time"
        case (let s?, nil): "from \(s.iso8601)"
        case (nil, let u?): "until \(u.iso8601)"
        case (let s?, let u?): "\(s.iso8601) to \(u.iso8601)"
        }
        var out = "Maintenance report: \(period), \(q.region.map { "region \($0)" } ?? "all regions")\n"
        out += "events planned to start in the period; downtime is VM time summed over VMs\n"
        guard report.total.events > 0 else { return out + "\nno events in the period\n" }

        func duration(_ s: Int64?) -> String { s.map { $0 == 0 ? "-" : DurationText.short($0) } ?? "-" }
        func section(_ title: String, _ key: String, _ lines: [ReportLine], withRegion: Bool) {
            let headers = [key] + (withRegion ? ["region"] : []) + Self.countHeaders + ["planned down", "actual down", "longest freeze", "findings"]
            let first = withRegion ? 2 : 1
            var table = Table(headers, numeric: Set(first..<headers.count))
            for (l, isTotal) in lines.map({ ($0, false) }) + [(report.total, true)] {
                table.add([l.name] + (withRegion ? [isTotal ? "" : l.region ?? ""] : []) + counts(l)
                    + [duration(l.plannedDowntime), duration(l.actualDowntime), duration(l.longestFreeze), String(l.findings)])
            }
            // A rule above the totals, like the one under the headers.
            var rows = table.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            rows.insert(rows[1], at: rows.count - 2)
            out += "\n\(title)\n" + rows.joined(separator: "\n")
        }
        section("By region", "region", report.regions, withRegion: false)
        if !report.sets.isEmpty { section("By availability set", "set", report.sets, withRegion: true) }
        section("By subscription", "subscription", report.subscriptions, withRegion: false)
        if report.findings.isEmpty {
            out += "\nFindings: none\n"
        } else {
            out += "\nFindings (\(report.findings.count))\n" + findingsTable(report.findings)
        }
        return out
    }
}

/// Findings as `audit verify` and `report` print them.
func findingsTable(_ findings: [Finding]) -> String {
    var table = Table("at (UTC)", "rule", "message", "events", numeric: [3], elastic: [2])
    for f in findings { table.add(f.at.iso8601, f.rule.rawValue, f.message, String(f.events.count)) }
    return table.text
}

/// One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
