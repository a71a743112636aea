// Commands that plan campaigns, list what is coming, and check stored plans against the rules.
// Public: MaintenanceKind, a public Core type, conforms to ExpressibleByArgument below.
public import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Plan a maintenance campaign into pair-safe events, with notices and audit entries.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "reboot or freeze.") var kind: MaintenanceKind
    @Option(help: "Target regions, comma-separated (default: every region with VMs).") var regions: String?
    @Option(help: "Earliest start, ISO 8601 (default: now plus the kind's notice: 7 days for reboot, 15 minutes for freeze).") var notBefore: String?
    @Option(help: "Per-VM duration, like 15m or 30s (default: 15m for reboot, 30s for freeze; a freeze is at most 30s).") var duration: String?
    @Option(help: "Recovery gap between a set's update domains, like 30m (0 allowed).") var udGap: String = "30m"
    @Option(help: "How far past the earliest start a plan may reach.") var horizon: String = "90d"
    @Option(help: "What the maintenance is for; shown in notices and events.") var description: String = ""
    @Flag(help: "Print the plan and write nothing.") var dryRun = false
    @OptionGroup var format: FormatOption<TableOrJSON>

    func run() async throws {
        try await guarded {
            let now = try Invocation.now()
            let request = CampaignRequest(
                kind: kind,
                regions: try regions.map { text in
                    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    guard !names.isEmpty else { throw Failure("--regions: name at least one region") }
                    return names
                },
                notBefore: try notBefore.map { try parseInstant($0, option: "--not-before") },
                perVMDuration: try duration.map { try parseDuration($0, option: "--duration") },
                udGap: try parseDuration(udGap, option: "--ud-gap"),
                description: description,
                horizon: try parseRange(horizon, option: "--horizon"))
            let result = try await database.open().scheduler.plan(request, now: now, dryRun: dryRun, actor: Invocation.actor(), progress: progressReporter("writing events", unit: .events))
            for warning in result.warnings { printError("warning: \(warning)") }
            switch format.value {
            case .json:
                let out = StandardOutput()
                let campaign = Responses.campaign(result.campaign, status: result.written ? "scheduled" : "dry-run", span: result.summary.span)
                let turnOrders = JSONText.array(result.turnOrders.map(Responses.turnOrder))
                let list = JSONListWriter(key: "events", prefix: "{\"campaign\": " + campaign + ",\n \"turnOrders\": " + turnOrders + ",\n ", write: out.write)
                for e in result.events { list.append(Responses.event(e)) }
                list.close()
                out.flush()
            case .table:
                let c = result.campaign
                print("campaign \(c.id)\(result.written ? "" : " (dry run: nothing written)")")
                print("  \(c.kind.rawValue), \(DurationText.short(c.perVMDuration)) per VM, \(DurationText.short(c.udGap)) between update domains, not before \(c.notBefore.iso8601)")
                if !c.description.isEmpty { print("  \(c.description)") }
                var table = Table("region", "start (UTC)", "end (UTC)", "length", "waves", "VMs", numeric: [3, 4, 5])
                for line in result.summary.regions {
                    table.add(line.region, line.span.start.iso8601, line.span.end.iso8601, DurationText.short(line.span.duration), "\(line.waves)", "\(line.vms)")
                }
                print(table.text, terminator: "")
                if let span = result.summary.span {
                    print("total: \(result.summary.vms) VMs in \(result.summary.waves) waves, \(span.start.iso8601) to \(span.end.iso8601) (\(DurationText.short(span.duration)))")
                }
                if !result.turnOrders.isEmpty {
                    print("turn orders of linked regions (each group takes the order that ends first):")
                    var orders = Table("group", "order kept", "ends (UTC)", "other orders", elastic: [3])
                    for t in result.turnOrders {
                        orders.add(t.regions.joined(separator: ", "), Self.turns(t.chosen), t.chosen.end?.iso8601 ?? "-", Self.others(t))
                    }
                    print(orders.text, terminator: "")
                }
                if !result.notices.isEmpty {
                    print("notices \(result.written ? "queued" : "to queue"): \(result.notices.map { "\($0.subscription) (\($0.recipients.count) recipient\($0.recipients.count == 1 ? "" : "s"))" }.joined(separator: ", "))")
                }
            }
        }
    }

    /// `a+b > c`: the regions of each turn, turns in order.
    static func turns(_ option: TurnOrderChoice.Option) -> String {
        option.turns.map { $0.joined(separator: "+") }.joined(separator: " > ")
    }

    /// The other orders of a group and how much later each would have ended: the first two
    /// (soonest end first) by their turns, the rest as a range, then those that do not fit at all.
    static func others(_ t: TurnOrderChoice) -> String {
        guard let end = t.chosen.end else { return "" }
        let fitting = t.others.filter { $0.end != nil }, failing = t.others.count - fitting.count
        let later = { (o: TurnOrderChoice.Option) in o.end!.seconds - end.seconds }
        var parts = fitting.prefix(2).map { "\(turns($0)) ends \(later($0) == 0 ? "as late" : DurationText.short(later($0)) + " later")" }
        if fitting.count > 2 {
            let rest = fitting.dropFirst(2).map(later)
            parts.append("\(rest.count) more end \(DurationText.short(rest.min()!)) to \(DurationText.short(rest.max()!)) later")
        }
        if failing > 0 { parts.append("\(failing) do\(failing == 1 ? "es" : "") not fit") }
        if parts.isEmpty { parts.append("none") }
        if !t.exhaustive { parts.append("(bounded search: \(t.others.count + 1) orders weighed)") }
        return parts.joined(separator: "; ")
    }
}

extension MaintenanceKind: ExpressibleByArgument {}

struct UpcomingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upcoming", abstract: "The events ahead for a VM, set, region or subscription, soonest first.")


    @OptionGroup var database: DatabaseOptions
    @Option var vm: String?
    @Option(name: .customLong("set")) var availabilitySet: String?
    @Option var region: String?
    @Option var subscription: String?
    @Option(help: "How far ahead, like 14d.") var within: String = "14d"
    @OptionGroup var format: FormatOption<TableJSONOrICS>

    func validate() throws {
        if [vm, availabilitySet, region, subscription].compactMap({ $0 }).count > 1 {
            throw ValidationError("give at most one of --vm, --set, --region, --subscription")
        }
    }

    func run() async throws {
        try await guarded {
            let scope: SchedulerService.Scope = if let vm { .vm(vm) } else if let availabilitySet { .availabilitySet(availabilitySet) }
                else if let region { .region(region) } else if let subscription { .subscription(subscription) } else { .all }
            let horizon = try parseRange(within, option: "--within")
            let scheduler = try database.open().scheduler, now = try Invocation.now()
            let out = StandardOutput()
            switch format.value {
            case .json:
                // Each event written as it is read and rendered: a million of them as one string
                // took 600 MB more than the events themselves, and the events 500 MB more.
                let list = JSONListWriter(key: "events", write: out.write)
                try await scheduler.forEachUpcoming(scope, now: now, within: horizon) { list.append(Responses.upcoming($0)) }
                list.close()
            case .ics:
                out.write(UpcomingEvent.iCalendar(try await scheduler.upcoming(scope, now: now, within: horizon)))
            case .table:
                let events = try await scheduler.upcoming(scope, now: now, within: horizon)
                var table = Table("start (UTC)", "end (UTC)", "kind", "vm", "region", "set", "UD", "status", "window", numeric: [6])
                for u in events {
                    let e = u.record.event
                    table.add(e.range.start.iso8601, e.range.end.iso8601, e.kind.rawValue, e.vm, e.region, e.availabilitySet ?? "-",
                              e.updateDomain.map(String.init) ?? "-", u.record.approvedAt == nil ? e.status.rawValue : "\(e.status.rawValue) (approved)", u.window ?? "-")
                }
                out.write(table.text)
                if events.isEmpty { out.write("nothing scheduled within \(within)\n") }
            }
            out.flush()
        }
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Verify stored scheduled and started events against every rule. Exit 0 clean, 1 violations, 2 error.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only violations that involve this campaign's events.") var campaign: String?
    @OptionGroup var format: FormatOption<TableOrJSON>

    func run() async throws {
        try await guarded {
            let violations = try await database.open().scheduler.check(campaign: campaign)
            switch format.value {
            case .json:
                print(Responses.check(violations))
            case .table:
                if violations.isEmpty {
                    print("ok: every scheduled and started event keeps rules 1-7")
                } else {
                    var table = Table("at (UTC)", "rule", "message", elastic: [2])
                    for v in violations { table.add(v.at.iso8601, v.rule.rawValue, v.message) }
                    print(table.text, terminator: "")
                    print("\(violations.count) violation\(violations.count == 1 ? "" : "s")")
                }
            }
            if !violations.isEmpty { throw ExitCode(1) }
        }
    }
}

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "List, show or cancel campaigns.", subcommands: [List.self, Show.self, Cancel.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List campaigns, oldest first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let campaigns = try await database.open().scheduler.campaigns()
                switch format.value {
                case .json:
                    print(Responses.document("campaigns", campaigns.map(Responses.campaignSummary)))
                case .table:
                    var table = Table("campaign", "kind", "status", "start (UTC)", "end (UTC)", "events", "active", "description", numeric: [5, 6], elastic: [7])
                    for c in campaigns {
                        table.add(c.record.campaign.id, c.record.campaign.kind.rawValue, c.record.status.rawValue, c.record.span.start.iso8601,
                                  c.record.span.end.iso8601, "\(c.events)", "\(c.active)", c.record.campaign.description)
                    }
                    print(table.text, terminator: "")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a campaign: its regions, waves and notices.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let detail = try await database.open().scheduler.campaign(id)
                let (record, events, notices) = (detail.record, detail.events, detail.notices)
                switch format.value {
                case .json:
                    let out = StandardOutput()
                    let campaign = Responses.campaign(record.campaign, status: record.status.rawValue, span: record.span)
                    let list = JSONListWriter(key: "events", prefix: "{\"campaign\": " + campaign + ",\n ", write: out.write)
                    for e in events { list.append(Responses.event(e.event)) }
                    list.close(suffix: ",\n \"notices\": " + Responses.list(notices.map(Responses.campaignNotice)))
                    out.flush()
                case .table:
                    let c = record.campaign
                    print("campaign \(c.id): \(c.kind.rawValue), \(record.status)")
                    print("  regions \(c.regions.joined(separator: ", ")); \(DurationText.short(c.perVMDuration)) per VM; gap \(DurationText.short(c.udGap)); planned \(c.createdAt.iso8601)")
                    print("  span \(record.span.start.iso8601) to \(record.span.end.iso8601)")
                    if !c.description.isEmpty { print("  \(c.description)") }
                    var byStatus: [String: Int] = [:]
                    for e in events { byStatus[e.event.status.rawValue, default: 0] += 1 }
                    print("  events: " + byStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                    var waves = Table("wave", "region", "set", "UD", "start (UTC)", "end (UTC)", "VMs", numeric: [3, 6])
                    var seen: [String: Int] = [:], rows: [(PlannedEvent, Int)] = []
                    for e in events {
                        if let i = seen[e.event.wave] { rows[i].1 += 1 } else { seen[e.event.wave] = rows.count; rows.append((e.event, 1)) }
                    }
                    for (e, n) in rows {
                        waves.add(e.wave, e.region, e.availabilitySet ?? "-", e.updateDomain.map(String.init) ?? "-", e.range.start.iso8601, e.range.end.iso8601, "\(n)")
                    }
                    print(waves.text, terminator: "")
                    for n in notices {
                        print("notice to \(n.subscription) (\(n.recipients.joined(separator: ", "))): " + (n.sentAt.map { "sent \($0.iso8601)" } ?? "queued"))
                    }
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a campaign's scheduled events; history stays.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String
        func run() async throws {
            try await guarded {
                let n = try await database.open().scheduler.cancel(id, now: try Invocation.now(), actor: Invocation.actor())
                print("cancelled campaign \(id): \(n) scheduled event\(n == 1 ? "" : "s") cancelled")
            }
        }
    }
}
