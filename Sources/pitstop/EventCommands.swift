// `pitstop event`: approve, start, complete, fail, cancel or show an event or a wave.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Approve, start, complete, fail or cancel an event or a whole wave; show an event.",
        discussion: """
            A start that would break a rule given what is running (another update domain of the set \
            started or inside its recovery gap, the partner region of a pair busy, a single-instance VM \
            before its region's sets are done, the notice period) or that comes before the planned start \
            without an approval is refused with exit 1, naming the conflicting events; --force --reason \
            TEXT starts it anyway and records it as forced. An illegal transition exits 2.
            """,
        subcommands: [Approve.self, Start.self, Complete.self, Fail.self, Cancel.self, Show.self])

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve",
            abstract: "Approve scheduled events on the owner's behalf: they may start early, though not before their notice has run.")
        @OptionGroup var options: TransitionOptions
        func run() async throws { try await options.run(.approve) }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Record that scheduled events started, if the rules allow it now.")
        @OptionGroup var options: TransitionOptions
        @Flag(help: "Start even if the guard refuses; needs --reason, and is recorded as forced.") var force = false
        func run() async throws { try await options.run(.start, force: force) }
    }

    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "complete", abstract: "Record that started events completed.")
        @OptionGroup var options: TransitionOptions
        func run() async throws { try await options.run(.complete) }
    }

    struct Fail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fail", abstract: "Record that started events failed.")
        @OptionGroup var options: TransitionOptions
        func run() async throws { try await options.run(.fail) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel scheduled events; a wave's started events carry on.")
        @OptionGroup var options: TransitionOptions
        func run() async throws { try await options.run(.cancel) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an event: planned against actual, approval, forced start.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The event id (<wave>/<vm>).") var id: String
        @OptionGroup var format: FormatOption<TableOrJSON>

        func run() async throws {
            try await guarded {
                let (record, waveSize) = try await database.open().lifecycle.eventDetail(id)
                switch format.value {
                case .json:
                    print(Responses.eventDetail(record, waveEvents: waveSize))
                case .table:
                    print(try Self.text(record, waveSize: waveSize), terminator: "")
                }
            }
        }

        static func text(_ r: EventRecord, waveSize: Int) throws -> String {
            let e = r.event
            let place = e.availabilitySet.map { "set \($0), UD \(e.updateDomain ?? 0), FD \(e.faultDomain ?? 0)" } ?? "single-instance"
            var lines: [(String, String)] = [
                ("status", e.status.rawValue + (r.forced ? " (forced: \(r.reason ?? ""))" : "")),
                ("VM", "\(e.vm) in \(e.region), \(place)"),
                ("campaign", "\(e.campaign) (\(e.kind.rawValue))"),
                ("wave", "\(e.wave) (\(waveSize) event\(waveSize == 1 ? "" : "s"))"),
                ("planned", "\(e.range.start) to \(e.range.end) (\(DurationText.short(e.range.duration)))"),
                ("notice", "planned at \(e.plannedAt); may start from \(Rules.earliestStart(plannedAt: e.plannedAt, kind: e.kind))"),
                ("approved", r.approvedAt.map { "\($0)" } ?? "no"),
            ]
            switch (r.actualStart, r.actualEnd) {
            case (nil, _):
                lines.append(("actual", "not started"))
            case (let start?, nil):
                let now = try Invocation.now()
                lines.append(("actual", "started \(start)\(offset(start, from: e.range.start))"
                    + (now > start ? ", running for \(DurationText.short(now - start))" : ", running")))
            case (let start?, let end?):
                lines.append(("actual", "\(start) to \(end) (\(DurationText.short(end - start)) against "
                    + "\(DurationText.short(e.range.duration)) planned)\(offset(start, from: e.range.start))"))
            }
            if let reason = r.reason, !r.forced { lines.append(("reason", reason)) }
            let width = lines.map(\.0.count).max() ?? 0
            return "event \(e.id)\n" + lines.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 + "\n" }.joined()
        }

        /// `, 10m early` or `, 2h late` against the planned start.
        static func offset(_ actual: Timestamp, from planned: Timestamp) -> String {
            actual == planned ? "" : actual < planned ? ", \(DurationText.short(planned - actual)) early" : ", \(DurationText.short(actual - planned)) late"
        }
    }
}

/// What every transition takes: one event id or `--wave`, the instant, a reason.
struct TransitionOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The event id (<wave>/<vm>).") var id: String?
    @Option(help: "A wave id instead: every event of the wave, since a wave goes together.") var wave: String?
    @Option(help: "When it happened, ISO 8601 with a zone (default: now).") var at: String?
    @Option(help: "Why; recorded with the event and in the audit.") var reason: String?

    func validate() throws {
        guard (id == nil) != (wave == nil) else { throw ValidationError("give exactly one of an event ID or --wave ID") }
    }

    var target: EventTarget { wave.map(EventTarget.wave) ?? .event(id ?? "") }

    func run(_ transition: Transition, force: Bool = false) async throws {
        try await guarded {
            let at = try at.map { try parseInstant($0, option: "--at") } ?? Invocation.now()
            let service = try database.open().lifecycle
            let result: TransitionResult
            do {
                result = try await service.transition(transition, target, at: at, reason: reason, force: force, actor: Invocation.actor())
            } catch var refused as PitstopError where refused.kind == .refused {
                refused.message += "\nto start anyway: --force --reason TEXT (recorded in the audit as forced)"
                throw refused
            }
            print(Self.describe(result), terminator: "")
        }
    }

    /// `started wave W at T: 3 events (web-0, web-5, web-10)`, then what was forced or left alone.
    static func describe(_ r: TransitionResult) -> String {
        var out = ""
        if r.changed.isEmpty {
            out += "\(r.target): nothing changed (" + r.unchanged.map { u in
                u.event.status == .scheduled && u.approvedAt != nil ? "\(u.event.vm) approved at \(u.approvedAt!)" : "\(u.event.vm) \(u.event.status.rawValue)"
            }.joined(separator: ", ") + ")\n"
            return out
        }
        let vms = r.changed.map(\.event.vm)
        let shown = vms.prefix(8).joined(separator: ", ") + (vms.count > 8 ? " and \(vms.count - 8) more" : "")
        switch r.target {
        case .event(let id): out += "\(r.transition.pastTense) event \(id) (VM \(shown)) at \(r.at)"
        case .wave(let id): out += "\(r.transition.pastTense) wave \(id) at \(r.at): \(vms.count) event\(vms.count == 1 ? "" : "s") (\(shown))"
        }
        if r.transition == .start, let planned = r.changed.first?.event.range.start, r.at < planned {
            out += ", \(DurationText.short(planned - r.at)) before the planned start"
        }
        out += "\n"
        if r.forced {
            out += "forced past:\n"
            for c in r.conflicts { out += "  \(c.rule.rawValue): \(c.message)\n" }
            if !r.unapproved.isEmpty { out += "  not-approved: \(r.unapproved.count) event\(r.unapproved.count == 1 ? "" : "s") started before the planned start without approval\n" }
        }
        if !r.unchanged.isEmpty {
            out += "left as they were: " + r.unchanged.map { "\($0.event.vm) (\($0.event.status.rawValue))" }.joined(separator: ", ") + "\n"
        }
        return out
    }
}
