// Commands for maintenance windows, blackouts, and the coming window occurrences.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct WindowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window", abstract: "Add, list or remove maintenance windows.", subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a maintenance window for a region or a set.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option var region: String?
        @Option(name: .customLong("set")) var availabilitySet: String?
        @Option(help: "Local start, like 2026-12-05T22:00:00.") var start: String
        @Option(help: "IANA zone, like America/New_York.") var timeZone: String
        @Option(help: "ISO 8601 duration, like PT8H.") var duration: String
        @Option(help: "Recurrence, like 'Week Saturday,Sunday' or 'Month Last Sunday'.") var recurEvery: String?
        @Option(help: "Local time after which it no longer recurs.") var expires: String?

        func validate() throws {
            if (region == nil) == (availabilitySet == nil) { throw ValidationError("give exactly one of --region and --set") }
        }

        func run() async throws {
            try await guarded {
                var problems: [FieldProblem] = []
                var fields = WindowFields()
                fields.parse(start: start, zone: timeZone, duration: duration, recurEvery: recurEvery, expires: expires, problems: &problems)
                let scope: WindowScope = region.map { .region($0) } ?? .availabilitySet(availabilitySet!)
                guard problems.isEmpty, let window = fields.window(name: name, scope: scope) else {
                    throw Failure(problems.map { "--\(option(for: $0.field)): \($0.message)" }.joined(separator: "\n"))
                }
                try await database.inventory(creating: true).addWindow(window)
                print("added maintenance window \(name)")
            }
        }

        private func option(for field: String) -> String {
            switch field {
            case "timeZone": "time-zone"
            case "recurEvery": "recur-every"
            default: field
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List maintenance windows as defined.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let windows = try await database.inventory().maintenanceWindows()
                switch format.value {
                case .json: print(Responses.document("maintenanceWindows", windows.map(Responses.window)))
                case .table:
                    var table = Table("window", "applies to", "start (local)", "zone", "duration", "recurs", "expires")
                    for w in windows {
                        let scope = switch w.scope {
                        case .region(let r): "region \(r)"
                        case .availabilitySet(let s): "set \(s)"
                        }
                        table.add(w.name, scope, w.start.description, MaintenanceWindow.name(of: w.timeZone), w.duration.text, w.recurrence?.text ?? "once", w.expires?.description ?? "-")
                    }
                    print(table.text, terminator: "")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a maintenance window.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                try await database.inventory().removeWindow(name)
                print("removed maintenance window \(name)")
            }
        }
    }
}

struct BlackoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blackout", abstract: "Add, list or remove blackouts (UTC intervals with no maintenance).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a blackout, fleet-wide or for one region.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option(help: "The region (default: the whole fleet).") var region: String?
        @Option(help: "Start, ISO 8601 with a zone.") var start: String
        @Option(help: "End, ISO 8601 with a zone.") var end: String
        func run() async throws {
            try await guarded {
                let blackout = Blackout(name: name, region: region, start: try parseInstant(start, option: "--start"), end: try parseInstant(end, option: "--end"))
                try await database.inventory(creating: true).addBlackout(blackout)
                print("added blackout \(name): \(blackout.start.iso8601) to \(blackout.end.iso8601) for \(region ?? "the whole fleet")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List blackouts.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let blackouts = try await database.inventory().blackouts()
                switch format.value {
                case .json: print(Responses.document("blackouts", blackouts.map(Responses.blackout)))
                case .table:
                    var table = Table("blackout", "region", "start (UTC)", "end (UTC)")
                    for b in blackouts { table.add(b.name, b.region ?? "(fleet)", b.start.iso8601, b.end.iso8601) }
                    print(table.text, terminator: "")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a blackout.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                try await database.inventory().removeBlackout(name)
                print("removed blackout \(name)")
            }
        }
    }
}

struct WindowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "windows", abstract: "The next occurrences of maintenance windows, with blackouts cut out.")


    @OptionGroup var database: DatabaseOptions
    @Option var region: String?
    @Option(name: .customLong("set")) var availabilitySet: String?
    @Option(help: "How far ahead, like 30d or 12h.") var within: String = "30d"
    @OptionGroup var format: FormatOption<TableJSONOrICS>

    func validate() throws {
        if region != nil && availabilitySet != nil { throw ValidationError("give at most one of --region and --set") }
    }

    func run() async throws {
        try await guarded {
            let now = try Invocation.now()
            let horizon = try parseRange(within, option: "--within")
            let filter: InventoryService.WindowFilter = region.map { .region($0) } ?? availabilitySet.map { .availabilitySet($0) } ?? .all
            let occurrences = try await database.inventory().windowOccurrences(filter, in: TimeRange(start: now, end: now + horizon))
            switch format.value {
            case .json:
                print(Responses.document("occurrences", occurrences.map(Responses.windowOccurrence)))
            case .ics:
                FileHandle.standardOutput.write(Data(WindowOccurrence.iCalendar(occurrences).utf8))
            case .table:
                var table = Table("window", "applies to", "start (UTC)", "end (UTC)", "local", "usable")
                for o in occurrences {
                    let usable = o.usable == [o.range] ? "all" : o.usable.isEmpty ? "none (blackout \(o.blackouts.joined(separator: ",")))"
                        : o.usable.map { "\($0.start.iso8601)..\($0.end.iso8601)" }.joined(separator: ", ") + " (blackout \(o.blackouts.joined(separator: ",")))"
                    table.add(o.window, o.scopeText, o.range.start.iso8601, o.range.end.iso8601,
                              "\(o.localStart.description.replacingOccurrences(of: "T", with: " ").dropLast(3))–\(o.localEnd.description.suffix(8).dropLast(3)) \(o.timeZone)", usable)
                }
                print(table.text, terminator: "")
                if occurrences.isEmpty { print("no window occurs within \(within)") }
            }
        }
    }
}

