// The JSON shapes Pitstop answers with, each defined once: `--format json` prints them, the
// server sends them, and the audit records fleet changes in them. The README documents them.
import Foundation
public import PitstopCore
import PitstopStore

/// One function a shape. Element shapes are one-line objects; document shapes wrap them.
public enum Responses {
    /// What `pitstop migrate` moved: the tables and their rows, the chain as it arrived.
    public static func databaseMove(_ report: DatabaseMoveReport) -> String {
        JSONText.object([
            ("source", JSONText.quote(report.source)), ("target", JSONText.quote(report.target)),
            ("tables", JSONText.array(report.tables.map { JSONText.object([("name", JSONText.quote($0.name)), ("rows", "\($0.rows)")]) })),
            ("chain", chain(report.chain)),
            ("recordedAs", "\(report.recorded.seq)"),
        ])
    }

    // MARK: The fleet

    public static func region(_ r: Region) -> String {
        JSONText.object([("name", JSONText.quote(r.name)), ("displayName", JSONText.quote(r.displayName))])
    }

    /// A region with the regions it links to, as `region list` shows it.
    public static func region(_ r: Region, pairedWith: [String]) -> String {
        JSONText.object([("name", JSONText.quote(r.name)), ("displayName", JSONText.quote(r.displayName)),
                         ("pairedWith", JSONText.array(pairedWith.map(JSONText.quote)))])
    }

    public static func regionPair(_ p: RegionPair) -> String {
        JSONText.object([("region", JSONText.quote(p.region)), ("pairedWith", JSONText.quote(p.pairedWith))])
    }

    public static func subscription(_ s: Subscription) -> String {
        JSONText.object([
            ("id", JSONText.quote(s.id)), ("admins", JSONText.array(s.admins.map(JSONText.quote))),
            ("coAdmins", JSONText.array(s.coAdmins.map(JSONText.quote))), ("noticeTimeZone", JSONText.quote(s.noticeTimeZone)),
        ])
    }

    public static func availabilitySet(_ s: AvailabilitySet) -> String {
        JSONText.object([
            ("name", JSONText.quote(s.name)), ("region", JSONText.quote(s.region)), ("subscription", JSONText.quote(s.subscription)),
            ("faultDomains", JSONText.number(s.faultDomains)), ("updateDomains", JSONText.number(s.updateDomains)),
        ])
    }

    public static func vm(_ vm: VirtualMachine) -> String {
        JSONText.object([
            ("name", JSONText.quote(vm.name)), ("region", JSONText.quote(vm.region)), ("subscription", JSONText.quote(vm.subscription)),
            ("availabilitySet", JSONText.quote(vm.availabilitySet)), ("updateDomain", JSONText.number(vm.updateDomain)),
            ("faultDomain", JSONText.number(vm.faultDomain)), ("ipAddress", JSONText.quote(vm.ipAddress)),
        ])
    }

    public static func window(_ w: MaintenanceWindow) -> String {
        let (region, set): (String?, String?) = switch w.scope {
        case .region(let r): (r, nil)
        case .availabilitySet(let s): (nil, s)
        }
        return JSONText.object([
            ("name", JSONText.quote(w.name)), ("region", JSONText.quote(region)), ("availabilitySet", JSONText.quote(set)),
            ("start", JSONText.quote(w.start.description)), ("timeZone", JSONText.quote(MaintenanceWindow.name(of: w.timeZone))),
            ("duration", JSONText.quote(w.duration.text)), ("recurEvery", JSONText.quote(w.recurrence?.text)),
            ("expires", JSONText.quote(w.expires?.description)),
        ])
    }

    public static func blackout(_ b: Blackout) -> String {
        JSONText.object([
            ("name", JSONText.quote(b.name)), ("region", JSONText.quote(b.region)),
            ("start", JSONText.quote(b.start.iso8601)), ("end", JSONText.quote(b.end.iso8601)),
        ])
    }

    /// A region as `inventory` summarises it.
    public static func regionSummary(_ s: RegionSummary) -> String {
        JSONText.object([
            ("region", JSONText.quote(s.region.name)), ("displayName", JSONText.quote(s.region.displayName)),
            ("pairedWith", JSONText.array(s.partners.map(JSONText.quote))),
            ("availabilitySets", "\(s.availabilitySets)"), ("vms", "\(s.vms)"), ("singleInstanceVMs", "\(s.singleInstanceVMs)"),
            ("vmsByUpdateDomain", JSONText.array(s.byUpdateDomain.map(String.init))),
            ("vmsByFaultDomain", JSONText.array(s.byFaultDomain.map(String.init))),
            ("warnings", JSONText.array(s.warnings.map(JSONText.quote))),
        ])
    }

    /// A set with its VMs, as `set show` shows it.
    public static func availabilitySet(_ set: AvailabilitySet, vms: [VirtualMachine]) -> String {
        "{\"availabilitySet\": \(availabilitySet(set)), \"vms\": \(JSONText.array(vms.map(vm)))}"
    }

    /// An occurrence of a window with what blackouts leave of it.
    public static func windowOccurrence(_ o: WindowOccurrence) -> String {
        JSONText.object([
            ("window", JSONText.quote(o.window)), ("appliesTo", JSONText.quote(o.scopeText)),
            ("start", JSONText.quote(o.range.start.iso8601)), ("end", JSONText.quote(o.range.end.iso8601)),
            ("timeZone", JSONText.quote(o.timeZone)), ("localStart", JSONText.quote(o.localStart.description)),
            ("localEnd", JSONText.quote(o.localEnd.description)),
            ("usable", JSONText.array(o.usable.map { JSONText.object([("start", JSONText.quote($0.start.iso8601)), ("end", JSONText.quote($0.end.iso8601))]) })),
            ("blackouts", JSONText.array(o.blackouts.map(JSONText.quote))),
        ])
    }

    /// What an import did: per kind, `{"added": 2, "updated": 0, "unchanged": 5}`.
    public static func importSummary(_ s: ImportSummary) -> String {
        JSONText.object(s.rows.map { kind, counts in
            (kind, JSONText.object([("added", "\(counts.added)"), ("updated", "\(counts.updated)"), ("unchanged", "\(counts.unchanged)")]))
        })
    }

    // MARK: Plans and events

    /// The event shape of `plan`, `upcoming` and `campaign show`.
    public static func event(_ e: PlannedEvent, extra: [(String, String)] = []) -> String {
        JSONText.object([
            ("id", JSONText.quote(e.id)), ("campaign", JSONText.quote(e.campaign)), ("vm", JSONText.quote(e.vm)),
            ("region", JSONText.quote(e.region)), ("availabilitySet", JSONText.quote(e.availabilitySet)),
            ("updateDomain", JSONText.number(e.updateDomain)), ("faultDomain", JSONText.number(e.faultDomain)),
            ("wave", JSONText.quote(e.wave)), ("kind", JSONText.quote(e.kind.rawValue)),
            ("start", JSONText.quote(e.range.start.iso8601)), ("end", JSONText.quote(e.range.end.iso8601)),
            ("status", JSONText.quote(e.status.rawValue)),
        ] + extra)
    }

    /// An event ahead, with the window it falls in.
    public static func upcoming(_ u: UpcomingEvent) -> String {
        event(u.record.event, extra: [("window", JSONText.quote(u.window))])
    }

    /// One event with what happened to it, as `event show` shows it.
    public static func eventDetail(_ r: EventRecord, waveEvents: Int) -> String {
        event(r.event, extra: [
            ("plannedAt", JSONText.quote(r.event.plannedAt.iso8601)),
            ("earliestStart", JSONText.quote(Rules.earliestStart(plannedAt: r.event.plannedAt, kind: r.event.kind).iso8601)),
            ("approvedAt", JSONText.quote(r.approvedAt?.iso8601)),
            ("actualStart", JSONText.quote(r.actualStart?.iso8601)),
            ("actualEnd", JSONText.quote(r.actualEnd?.iso8601)),
            ("forced", r.forced ? "true" : "false"), ("reason", JSONText.quote(r.reason)),
            ("waveEvents", "\(waveEvents)"),
        ])
    }

    /// An event with what happened to it so far: what a transition answers for each event.
    public static func eventRecord(_ r: EventRecord) -> String {
        event(r.event, extra: [
            ("approvedAt", JSONText.quote(r.approvedAt?.iso8601)), ("actualStart", JSONText.quote(r.actualStart?.iso8601)),
            ("actualEnd", JSONText.quote(r.actualEnd?.iso8601)), ("forced", r.forced ? "true" : "false"), ("reason", JSONText.quote(r.reason)),
        ])
    }

    /// What a transition of an event or a wave did: the events it changed, those it left as they
    /// were, and for a forced start the conflicts it overrode.
    public static func transition(_ r: TransitionResult) -> String {
        let target: (String, String) = switch r.target {
        case .event(let id): ("event", id)
        case .wave(let id): ("wave", id)
        }
        return JSONText.object([
            ("transition", JSONText.quote(r.transition.rawValue)), ("target", JSONText.object([("kind", JSONText.quote(target.0)), ("id", JSONText.quote(target.1))])),
            ("at", JSONText.quote(r.at.iso8601)), ("changed", list(r.changed.map(eventRecord), indent: 1)),
            ("unchanged", list(r.unchanged.map(eventRecord), indent: 1)), ("forced", r.forced ? "true" : "false"),
            ("conflicts", JSONText.array(r.conflicts.map(finding))), ("unapproved", JSONText.array(r.unapproved.map(JSONText.quote))),
            ("auditSeq", JSONText.number(r.audit?.seq)),
        ])
    }

    /// The campaign shape; `status` is `scheduled`, `cancelled`, or `dry-run` for a plan not written.
    public static func campaign(_ c: Campaign, status: String, span: TimeRange?, extra: [(String, String)] = []) -> String {
        JSONText.object([
            ("id", JSONText.quote(c.id)), ("kind", JSONText.quote(c.kind.rawValue)), ("status", JSONText.quote(status)),
            ("createdAt", JSONText.quote(c.createdAt.iso8601)), ("notBefore", JSONText.quote(c.notBefore.iso8601)),
            ("regions", JSONText.array(c.regions.map(JSONText.quote))),
            ("start", JSONText.quote(span?.start.iso8601)), ("end", JSONText.quote(span?.end.iso8601)),
            ("description", JSONText.quote(c.description)),
            ("perVMSeconds", "\(c.perVMDuration)"), ("udGapSeconds", "\(c.udGap)"),
        ] + extra)
    }

    /// How the turn order of one group of linked regions was chosen, as `plan` shows it: the
    /// order kept and each other order weighed, with how much later it would have ended
    /// (`laterSeconds`; `end` and `laterSeconds` are `null` for an order that does not fit).
    public static func turnOrder(_ t: TurnOrderChoice) -> String {
        func option(_ o: TurnOrderChoice.Option, extra: [(String, String)] = []) -> String {
            JSONText.object([
                ("turns", JSONText.array(o.turns.map { JSONText.array($0.map(JSONText.quote)) })),
                ("end", JSONText.quote(o.end?.iso8601)),
            ] + extra)
        }
        let chosenEnd = t.chosen.end?.seconds ?? 0
        return JSONText.object([
            ("regions", JSONText.array(t.regions.map(JSONText.quote))), ("exhaustive", t.exhaustive ? "true" : "false"),
            ("chosen", option(t.chosen)),
            ("others", JSONText.array(t.others.map { option($0, extra: [("laterSeconds", JSONText.number($0.end.map { $0.seconds - chosenEnd }))]) })),
        ])
    }

    /// A campaign with its event counts, as `campaign list` shows it.
    public static func campaignSummary(_ c: CampaignSummary) -> String {
        campaign(c.record.campaign, status: c.record.status.rawValue, span: c.record.span,
                 extra: [("events", "\(c.events)"), ("activeEvents", "\(c.active)")])
    }

    /// A notice as `campaign show` lists it.
    public static func campaignNotice(_ n: NoticeRecord) -> String {
        JSONText.object([("subscription", JSONText.quote(n.subscription)), ("recipients", JSONText.array(n.recipients.map(JSONText.quote))),
                         ("queuedAt", JSONText.quote(n.queuedAt.iso8601)), ("sentAt", JSONText.quote(n.sentAt?.iso8601))])
    }

    /// A broken rule found by `check`.
    public static func violation(_ v: Finding) -> String {
        JSONText.object([
            ("rule", JSONText.quote(v.rule.rawValue)), ("message", JSONText.quote(v.message)),
            ("events", JSONText.array(v.events.map(JSONText.quote))), ("regions", JSONText.array(v.regions.map(JSONText.quote))),
            ("at", JSONText.quote(v.at.iso8601)),
        ])
    }

    /// The document of `check`.
    public static func check(_ violations: [Finding]) -> String {
        "{\"ok\": \(violations.isEmpty), \"violations\": " + list(violations.map(violation)) + "}"
    }

    // MARK: The timeline

    /// A wave as the timeline draws it: `status` is the wave's one status (see
    /// ``TimelineWave/status``), `statusCounts` its events by status when they differ.
    public static func timelineWave(_ w: TimelineWave) -> String {
        let s = w.summary
        return JSONText.object([
            ("id", JSONText.quote(s.id)), ("campaign", JSONText.quote(s.campaign)), ("kind", JSONText.quote(s.kind.rawValue)),
            ("region", JSONText.quote(s.region)), ("availabilitySet", JSONText.quote(s.availabilitySet)),
            ("updateDomain", JSONText.number(s.updateDomain)), ("status", JSONText.quote(w.status.rawValue)),
            ("mixed", w.mixed ? "true" : "false"), ("approved", w.approved ? "true" : "false"),
            ("start", JSONText.quote(s.planned.start.iso8601)), ("end", JSONText.quote(s.planned.end.iso8601)),
            ("actualStart", JSONText.quote(s.actualStart?.iso8601)), ("actualEnd", JSONText.quote(s.actualEnd?.iso8601)),
            ("vms", "\(s.vms)"),
            ("statusCounts", JSONText.object(EventStatus.allCases.compactMap { status in
                s.statusCounts[status].map { (status.rawValue, "\($0)") }
            })),
        ])
    }

    /// The document of `GET /api/v1/timeline`: the range, the regions with their pair partners
    /// and group, the waves, the window occurrences (with the region whose row they shade) and
    /// the blackouts.
    public static func timeline(_ t: Timeline) -> String {
        let regions = t.regions.map { r in
            JSONText.object([
                ("name", JSONText.quote(r.region.name)), ("displayName", JSONText.quote(r.region.displayName)),
                ("pairedWith", JSONText.array(r.pairedWith.map(JSONText.quote))), ("group", "\(r.group)"),
            ])
        }
        let windows = t.windows.map { w in
            JSONText.object([
                ("window", JSONText.quote(w.occurrence.window)), ("appliesTo", JSONText.quote(w.occurrence.scopeText)),
                ("region", JSONText.quote(w.region)),
                ("start", JSONText.quote(w.occurrence.range.start.iso8601)), ("end", JSONText.quote(w.occurrence.range.end.iso8601)),
                ("blackouts", JSONText.array(w.occurrence.blackouts.map(JSONText.quote))),
            ])
        }
        return "{\"from\": \(JSONText.quote(t.range.start.iso8601)), \"to\": \(JSONText.quote(t.range.end.iso8601)),\n"
            + "\"regions\": \(list(regions)),\n\"waves\": \(list(t.waves.map(timelineWave))),\n"
            + "\"windows\": \(list(windows)),\n\"blackouts\": \(list(t.blackouts.map(blackout)))}"
    }

    /// The document of `GET /api/v1/waves/{wave}`: the wave and its events, one a VM.
    public static func waveDetail(_ w: TimelineWave, events: [EventRecord]) -> String {
        "{\"wave\": \(timelineWave(w)),\n\"events\": \(list(events.map { eventDetail($0, waveEvents: events.count) }))}"
    }

    // MARK: API tokens

    /// One token as `token list` shows it: `{"name", "role", "createdAt", "createdBy",
    /// "lastUsedAt"}`; never its secret or hash.
    public static func token(_ t: APIToken) -> String {
        JSONText.object([
            ("name", JSONText.quote(t.name)), ("role", JSONText.quote(t.role.rawValue)), ("createdAt", JSONText.quote(t.createdAt.iso8601)),
            ("createdBy", JSONText.quote(t.createdBy)), ("lastUsedAt", JSONText.quote(t.lastUsedAt?.iso8601)),
        ])
    }

    /// What `token create --format json` prints, the one time the secret is shown:
    /// `{"name", "role", "createdAt", "token"}`.
    public static func createdToken(_ t: APIToken, secret: String) -> String {
        JSONText.object([
            ("name", JSONText.quote(t.name)), ("role", JSONText.quote(t.role.rawValue)), ("createdAt", JSONText.quote(t.createdAt.iso8601)),
            ("token", JSONText.quote(secret)),
        ])
    }

    // MARK: Notices

    /// A notice with where it stands, as `notices` lists it.
    public static func notice(_ s: NoticeStatus) -> String {
        let n = s.notice
        return JSONText.object([
            ("id", "\(n.id)"), ("campaign", JSONText.quote(n.campaign)), ("subscription", JSONText.quote(n.subscription)),
            ("recipients", JSONText.array(n.recipients.map(JSONText.quote))), ("subject", JSONText.quote(n.subject)),
            ("state", JSONText.quote(s.state.rawValue)), ("messageId", JSONText.quote(s.messageID)),
            ("queuedAt", JSONText.quote(n.queuedAt.iso8601)), ("firstStart", JSONText.quote(n.firstStart.iso8601)),
            ("sentAt", JSONText.quote(n.sentAt?.iso8601)), ("attempts", "\(n.attempts)"), ("lastError", JSONText.quote(n.lastError)),
        ])
    }

    /// What one `notify` did with one notice.
    public static func delivery(_ d: NoticeDelivery) -> String {
        var members: [(String, String)] = [
            ("id", "\(d.notice.id)"), ("campaign", JSONText.quote(d.notice.campaign)),
            ("subscription", JSONText.quote(d.notice.subscription)),
            ("recipients", JSONText.array(d.notice.recipients.map(JSONText.quote))),
            ("messageId", JSONText.quote(d.messageID)),
        ]
        switch d.outcome {
        case .sent(let at, let detail):
            members += [("result", JSONText.quote("sent")), ("sentAt", JSONText.quote(at.iso8601)), ("detail", JSONText.quote(detail)), ("error", "null")]
        case .failed(let error):
            members += [("result", JSONText.quote("failed")), ("sentAt", "null"), ("detail", "null"), ("error", JSONText.quote(error))]
        }
        members.append(("attempts", "\(d.notice.attempts)"))
        return JSONText.object(members)
    }

    /// The document of `notify`.
    public static func deliveries(_ deliveries: [NoticeDelivery], transport: String) -> String {
        let failed = deliveries.filter { !$0.succeeded }.count
        return "{\"transport\": \(JSONText.quote(transport)), \"sent\": \(deliveries.count - failed), \"failed\": \(failed), \"notices\": "
            + list(deliveries.map(delivery)) + "}"
    }

    // MARK: The audit

    /// One entry: `{"seq": 7, "at": "...Z", "actor": "...", "action": "vm.moved", "subjects": [{"kind": "vm", "name": "web-0"}], "details": {...}, "hash": "..."}`.
    public static func auditEntry(_ e: AuditEntry) -> String {
        JSONText.object([
            ("seq", "\(e.seq)"), ("at", JSONText.quote(e.at.iso8601)), ("actor", JSONText.quote(e.actor)),
            ("action", JSONText.quote(e.action)),
            ("subjects", JSONText.array(e.subjects.map { JSONText.object([("kind", JSONText.quote($0.kind.rawValue)), ("name", JSONText.quote($0.name))]) })),
            // Stored details are valid JSON (a CHECK guarantees it), so they are embedded as they are.
            ("details", e.details), ("prevHash", JSONText.quote(e.previousHash)), ("hash", JSONText.quote(e.hash)),
        ])
    }

    /// One finding: `{"rule": "...", "message": "...", "events": [...], "at": "...Z"}`.
    public static func finding(_ f: Finding) -> String {
        JSONText.object([
            ("rule", JSONText.quote(f.rule.rawValue)), ("message", JSONText.quote(f.message)),
            ("events", JSONText.array(f.events.map(JSONText.quote))), ("at", JSONText.quote(f.at.iso8601)),
        ])
    }

    /// The audit chain as walked: `{"ok", "entries", "firstBroken": {"seq", "reason"} | null,
    /// "head": {"seq", "hash"} | null}`, in `audit verify` and `migrate` alike.
    public static func chain(_ c: ChainCheck) -> String {
        let broken = c.firstBroken.map { JSONText.object([("seq", "\($0.seq)"), ("reason", JSONText.quote($0.reason))]) } ?? "null"
        let head = c.head.map { JSONText.object([("seq", "\($0.seq)"), ("hash", JSONText.quote($0.hash))]) } ?? "null"
        return JSONText.object([("ok", "\(c.ok)"), ("entries", "\(c.entries)"), ("firstBroken", broken), ("head", head)])
    }

    /// The document of `audit verify`.
    public static func verification(_ v: AuditVerification) -> String {
        let chain = chain(v.chain)
        let a = v.anchoring
        let latest = a.latest.map { JSONText.object([("seq", "\($0.seq)"), ("hash", JSONText.quote($0.hash)), ("at", JSONText.quote($0.at.iso8601)),
                                                     ("key", JSONText.quote($0.fingerprint))]) } ?? "null"
        let checkpoints = JSONText.object([("stored", "\(a.checkpoints)"), ("kept", "\(a.kept)"), ("latest", latest),
                                           ("unsignedEntries", "\(a.unsignedEntries)")])
        return "{\"ok\": \(v.ok), \"signed\": \(a.signed),\n  \"chain\": \(chain),\n  \"checkpoints\": \(checkpoints),\n"
            + "  \"findings\": \(list(v.findings.map(finding), indent: 2))}"
    }

    /// One line of a report; durations in seconds.
    public static func reportLine(_ l: ReportLine) -> String {
        var members: [(String, String)] = [("name", l.singleInstance ? "null" : JSONText.quote(l.name))]
        if let region = l.region { members.append(("region", JSONText.quote(region))) }
        if l.singleInstance { members.append(("singleInstance", "true")) }
        members += [
            ("events", "\(l.events)"),
            ("byKind", JSONText.object([("freeze", "\(l.freezes)"), ("reboot", "\(l.reboots)")])),
            ("byOutcome", JSONText.object([
                ("completed", "\(l.completed)"), ("failed", "\(l.failed)"), ("cancelled", "\(l.cancelled)"),
                ("started", "\(l.started)"), ("scheduled", "\(l.scheduled)"),
            ])),
            ("plannedDowntimeSeconds", "\(l.plannedDowntime)"), ("actualDowntimeSeconds", "\(l.actualDowntime)"),
            ("longestFreezeSeconds", JSONText.number(l.longestFreeze)), ("longestFreezeEvent", JSONText.quote(l.longestFreezeEvent)),
            ("findings", "\(l.findings)"),
        ]
        return JSONText.object(members)
    }

    /// The document of `report`.
    public static func report(_ r: MaintenanceReport) -> String {
        func section(_ lines: [ReportLine]) -> String { list(lines.map(reportLine), indent: 2) }
        return "{\"since\": \(JSONText.quote(r.query.since?.iso8601)), \"until\": \(JSONText.quote(r.query.until?.iso8601)), \"region\": \(JSONText.quote(r.query.region)),\n"
            + "  \"regions\": \(section(r.regions)),\n  \"sets\": \(section(r.sets)),\n  \"subscriptions\": \(section(r.subscriptions)),\n"
            + "  \"total\": \(reportLine(r.total)),\n  \"findings\": \(list(r.findings.map(finding), indent: 2))}"
    }

    // MARK: Documents

    /// A JSON array of `items`, one a line: `[]`, or `[\n  a,\n  b\n]` (indented by `indent`
    /// more spaces when nested).
    public static func list(_ items: [String], indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        return items.isEmpty ? "[]" : "[\n  \(pad)" + items.joined(separator: ",\n  \(pad)") + "\n\(pad)]"
    }

    /// `{"key": [...]}`, one item a line.
    public static func document(_ key: String, _ items: [String]) -> String {
        "{\(JSONText.quote(key)): \(list(items))}"
    }
}

/// Writes `{"key": [` item, item, ... `]}` as the items come, one a line, so that a million
/// VMs or audit entries stream without a buffer the size of the answer. Nothing is written
/// before the first item or the close: a command refused before its first item (an unknown
/// VM) prints its error alone, not the start of a document.
public struct JSONListWriter: Sendable {
    private let write: @Sendable (String) -> Void
    private let opening: String
    private let state = ListState()

    /// A list that opens with `{"key": [` (after `prefix`, for documents with members before it).
    public init(key: String, prefix: String = "{", write: @escaping @Sendable (String) -> Void) {
        self.write = write
        opening = prefix + JSONText.quote(key) + ": ["
    }

    public func append(_ item: String) {
        write((state.first ? opening + "\n  " : ",\n  ") + item)
        state.first = false
    }

    /// Closes the list and the document (after `suffix`, for members after the list).
    public func close(suffix: String = "") {
        write((state.first ? opening + "]" : "\n]") + suffix + "}\n")
    }
}

/// Whether a list is still empty; appended to serially by one stream.
private final class ListState: @unchecked Sendable {
    var first = true
}

extension WindowOccurrence {
    /// `region eastus` or `set web`.
    public var scopeText: String {
        switch scope {
        case .region(let r): "region \(r)"
        case .availabilitySet(let s): "set \(s)"
        }
    }
}
