// Commands that record, show and change the fleet.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an inventory document (JSON) or bulk VMs (CSV): upsert by name, all or nothing.")

    /// What the file holds: an input format, not one `--format` prints in.
    enum Format: String, ExpressibleByArgument { case json, csv }

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The file to import.") var file: String
    @Option(help: "json or csv (default: from the file's extension).") var format: Format?

    func run() async throws {
        try await guarded {
            // The file first: a missing one must not leave a new database behind.
            let input = try ImportInput.file(atPath: file)
            let inventory = try database.inventory(creating: true)
            let kind = format ?? (file.lowercased().hasSuffix(".csv") ? .csv : .json)
            let summary: ImportSummary
            switch kind {
            case .csv:
                summary = try await inventory.importCSV(input, progress: progressReporter("importing \(file)"))
            case .json:
                summary = try await inventory.importDocument(input)
            }
            var table = Table("kind", "added", "updated", "unchanged", numeric: [1, 2, 3])
            for (kind, counts) in summary.rows where counts.total > 0 || kind == "vms" {
                table.add(kind, "\(counts.added)", "\(counts.updated)", "\(counts.unchanged)")
            }
            print(table.text, terminator: "")
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Print the whole inventory as one JSON document.")


    @OptionGroup var database: DatabaseOptions
    @OptionGroup var format: FormatOption<JSONOnly>

    func run() async throws {
        try await guarded {
            let out = StandardOutput()
            try await database.inventory().export(to: out.write)
            out.flush()
        }
    }
}

struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory", abstract: "Summarise the fleet per region, with warnings.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var format: FormatOption<TableOrJSON>

    func run() async throws {
        try await guarded {
            let summaries = try await database.inventory().inventorySummary()
            switch format.value {
            case .json:
                print(Responses.document("regions", summaries.map(Responses.regionSummary)))
            case .table:
                var table = Table("region", "paired with", "sets", "VMs", "single", "VMs by UD", "VMs by FD", numeric: [2, 3, 4])
                for s in summaries {
                    table.add(s.region.name, s.partners.isEmpty ? "-" : s.partners.joined(separator: ","), "\(s.availabilitySets)", "\(s.vms)",
                              "\(s.singleInstanceVMs)", spread(s.byUpdateDomain), spread(s.byFaultDomain))
                }
                print(table.text, terminator: "")
                let warnings = summaries.flatMap { s in s.warnings.map { "\(s.region.name): \($0)" } }
                if !warnings.isEmpty {
                    print("\nwarnings:")
                    for w in warnings { print("  \(w)") }
                }
            }
        }
    }

    private func spread(_ counts: [Int]) -> String {
        counts.isEmpty ? "-" : counts.map(String.init).joined(separator: "/")
    }
}

// MARK: Regions

struct RegionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: "Add, list, pair, unpair or remove regions.",
        subcommands: [Add.self, List.self, Pair.self, Unpair.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a region.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option(help: "A name for people, like 'East US'.") var displayName: String?
        func run() async throws {
            try await guarded {
                try await database.inventory(creating: true).addRegion(Region(name: name, displayName: displayName))
                print("added region \(name)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List regions and their pair links.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let inventory = try database.inventory()
                let regions = try await inventory.regions(), pairs = try await inventory.regionPairs()
                switch format.value {
                case .json:
                    print(Responses.document("regions", regions.map { r in
                        Responses.region(r, pairedWith: pairs.filter { $0.region == r.name }.map(\.pairedWith))
                    }))
                case .table:
                    var table = Table("region", "display name", "paired with")
                    for r in regions {
                        let out = pairs.filter { $0.region == r.name }.map(\.pairedWith)
                        let incoming = pairs.filter { $0.pairedWith == r.name }.map { "(\($0.region))" }
                        table.add(r.name, r.displayName ?? "", (out + incoming).joined(separator: ", "))
                    }
                    print(table.text, terminator: "")
                }
            }
        }
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pair", abstract: "Record the link REGION -> PAIRED-WITH.")
        @OptionGroup var database: DatabaseOptions
        @Argument var region: String
        @Argument var pairedWith: String
        func run() async throws {
            try await guarded {
                let outcome = try await database.inventory(creating: true).pair(region, with: pairedWith)
                print(outcome == .added ? "paired \(region) -> \(pairedWith)" : "\(region) -> \(pairedWith) was already recorded")
            }
        }
    }

    struct Unpair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unpair", abstract: "Remove the link between two regions, in either direction.")
        @OptionGroup var database: DatabaseOptions
        @Argument var region: String
        @Argument var other: String
        func run() async throws {
            try await guarded {
                try await database.inventory().unpair(region, from: other)
                print("unpaired \(region) and \(other)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a region nothing depends on.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                try await database.inventory().removeRegion(name)
                print("removed region \(name)")
            }
        }
    }
}

struct RegionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions", abstract: "Operations on the region table as a whole.", subcommands: [LoadDefaults.self])

    struct LoadDefaults: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "load-defaults", abstract: "Add the published default regions and pair links.")
        @OptionGroup var database: DatabaseOptions
        func run() async throws {
            try await guarded {
                let (regions, pairs) = try await database.inventory(creating: true).loadDefaultRegions()
                print("regions: \(regions.added) added, \(regions.unchanged) already present; pair links: \(pairs.added) added, \(pairs.unchanged) already present")
            }
        }
    }
}

// MARK: Subscriptions

struct SubscriptionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscription", abstract: "Add or list subscriptions (owners and their notice recipients).",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a subscription.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: String
        @Option(name: .customLong("admin"), help: "An admin's e-mail address (repeatable).") var admins: [String] = []
        @Option(name: .customLong("co-admin"), help: "A co-admin's e-mail address (repeatable).") var coAdmins: [String] = []
        @Option(help: "The IANA zone notices show times in, beside UTC.") var noticeTimeZone: String = "UTC"
        func run() async throws {
            try await guarded {
                try await database.inventory(creating: true).addSubscription(Subscription(id: id, admins: admins, coAdmins: coAdmins, noticeTimeZone: noticeTimeZone))
                print("added subscription \(id)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List subscriptions.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let subscriptions = try await database.inventory().subscriptions()
                switch format.value {
                case .json: print(Responses.document("subscriptions", subscriptions.map(Responses.subscription)))
                case .table:
                    var table = Table("subscription", "admins", "co-admins", "notice zone", elastic: [1, 2])
                    for s in subscriptions { table.add(s.id, s.admins.joined(separator: ", "), s.coAdmins.joined(separator: ", "), s.noticeTimeZone) }
                    print(table.text, terminator: "")
                }
            }
        }
    }
}

// MARK: Availability sets

struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Add, list, show or remove availability sets.",
        subcommands: [Add.self, List.self, Show.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an availability set.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option var region: String
        @Option var subscription: String
        @Option(help: "1..3") var faultDomains: Int = AvailabilitySet.defaultFaultDomains
        @Option(help: "1..20") var updateDomains: Int = AvailabilitySet.defaultUpdateDomains
        func run() async throws {
            try await guarded {
                try await database.inventory(creating: true).addAvailabilitySet(AvailabilitySet(
                    name: name, region: region, subscription: subscription, faultDomains: faultDomains, updateDomains: updateDomains))
                print("added availability set \(name) in \(region) (\(updateDomains) update domains, \(faultDomains) fault domains)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List availability sets.")
        @OptionGroup var database: DatabaseOptions
        @Option var region: String?
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let sets = try await database.inventory().availabilitySets(region: region)
                switch format.value {
                case .json:
                    print(Responses.document("availabilitySets", sets.map { Responses.availabilitySet($0.set) }))
                case .table:
                    var table = Table("set", "region", "subscription", "UDs", "FDs", "VMs", numeric: [3, 4, 5])
                    for (s, n) in sets { table.add(s.name, s.region, s.subscription, "\(s.updateDomains)", "\(s.faultDomains)", "\(n)") }
                    print(table.text, terminator: "")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a set and how its VMs spread over domains.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let (set, vms) = try await database.inventory().availabilitySet(named: name)
                switch format.value {
                case .json:
                    print(Responses.availabilitySet(set, vms: vms))
                case .table:
                    print("set \(set.name): region \(set.region), subscription \(set.subscription), \(set.updateDomains) update domains, \(set.faultDomains) fault domains, \(vms.count) VMs")
                    var grid = Table(["UD \\ FD"] + (0..<set.faultDomains).map { "FD \($0)" }, numeric: Set(1...set.faultDomains))
                    for ud in 0..<set.updateDomains {
                        grid.add(["UD \(ud)"] + (0..<set.faultDomains).map { fd in "\(vms.filter { $0.updateDomain == ud && $0.faultDomain == fd }.count)" })
                    }
                    print(grid.text, terminator: "")
                    if !vms.isEmpty {
                        var table = Table("vm", "UD", "FD", "ip address", numeric: [1, 2])
                        for vm in vms { table.add(vm.name, "\(vm.updateDomain ?? 0)", "\(vm.faultDomain ?? 0)", vm.ipAddress ?? "") }
                        print("\n" + table.text, terminator: "")
                    }
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a set that has no VMs or windows.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                try await database.inventory().removeAvailabilitySet(name)
                print("removed availability set \(name)")
            }
        }
    }
}

extension Table {
    init(_ headers: [String], numeric: Set<Int>) {
        self.headers = headers
        self.numeric = numeric
    }
}

// MARK: VMs

struct VMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Add, list, show, move or remove VMs.",
        subcommands: [Add.self, List.self, Show.self, Move.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a VM; in a set without --ud/--fd it is placed round-robin.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option(help: "Its region (default: its set's).") var region: String?
        @Option(help: "Its subscription (default: its set's).") var subscription: String?
        @Option(name: .customLong("set"), help: "Its availability set; none makes it single-instance.") var availabilitySet: String?
        @Option(name: .customLong("ud"), help: "Update domain.") var updateDomain: Int?
        @Option(name: .customLong("fd"), help: "Fault domain.") var faultDomain: Int?
        @Option(name: .customLong("ip"), help: "IPv4 or IPv6 address the VM calls the metadata endpoint from.") var ipAddress: String?
        func run() async throws {
            try await guarded {
                let vm = try await database.inventory(creating: true).addVM(VMDraft(
                    name: name, region: region, subscription: subscription, availabilitySet: availabilitySet,
                    updateDomain: updateDomain, faultDomain: faultDomain, ipAddress: ipAddress))
                print("added VM \(vm.name) in \(vm.region)" + (vm.availabilitySet.map { ", set \($0), UD \(vm.updateDomain!), FD \(vm.faultDomain!)" } ?? " (single-instance)"))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List VMs, by region, set or subscription.")
        @OptionGroup var database: DatabaseOptions
        @Option var region: String?
        @Option(name: .customLong("set")) var availabilitySet: String?
        @Option var subscription: String?
        @OptionGroup var format: FormatOption<TableOrJSON>

        func validate() throws {
            if [region, availabilitySet, subscription].compactMap({ $0 }).count > 1 {
                throw ValidationError("give at most one of --region, --set, --subscription")
            }
        }

        func run() async throws {
            try await guarded {
                let scope: VMScope = if let region { .region(region) } else if let availabilitySet { .availabilitySet(availabilitySet) }
                    else if let subscription { .subscription(subscription) } else { .all }
                let out = StandardOutput()
                switch format.value {
                case .json:
                    let list = JSONListWriter(key: "vms", write: out.write)
                    try await database.inventory().forEachVM(in: scope) { list.append(Responses.vm($0)) }
                    list.close()
                case .table:
                    let table = Box(Table("vm", "region", "subscription", "set", "UD", "FD", "ip address", numeric: [4, 5]))
                    try await database.inventory().forEachVM(in: scope) { vm in
                        table.value.add(vm.name, vm.region, vm.subscription, vm.availabilitySet ?? "-", vm.updateDomain.map(String.init) ?? "-",
                                  vm.faultDomain.map(String.init) ?? "-", vm.ipAddress ?? "")
                    }
                    out.write(table.value.text)
                }
                out.flush()
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one VM.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @OptionGroup var format: FormatOption<TableOrJSON>
        func run() async throws {
            try await guarded {
                let vm = try await database.inventory().vm(named: name)
                switch format.value {
                case .json: print(Responses.vm(vm))
                case .table:
                    print("""
                        vm            \(vm.name)
                        region        \(vm.region)
                        subscription  \(vm.subscription)
                        set           \(vm.availabilitySet ?? "- (single-instance)")
                        update domain \(vm.updateDomain.map(String.init) ?? "-")
                        fault domain  \(vm.faultDomain.map(String.init) ?? "-")
                        ip address    \(vm.ipAddress ?? "-")
                        """)
                }
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "move", abstract: "Move a VM to another set or domain, or out of its set (--no-set).")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Option(name: .customLong("set"), help: "The set to move to (default: its current set).") var availabilitySet: String?
        @Flag(name: .customLong("no-set"), help: "Make it single-instance.") var noSet = false
        @Option(name: .customLong("ud")) var updateDomain: Int?
        @Option(name: .customLong("fd")) var faultDomain: Int?

        func validate() throws {
            if noSet && (availabilitySet != nil || updateDomain != nil || faultDomain != nil) {
                throw ValidationError("--no-set cannot go with --set, --ud or --fd")
            }
            if !noSet && availabilitySet == nil && updateDomain == nil && faultDomain == nil {
                throw ValidationError("say where to: --set, --ud, --fd or --no-set")
            }
        }

        func run() async throws {
            try await guarded {
                let inventory = try database.inventory()
                let target: String?
                if noSet { target = nil } else if let availabilitySet { target = availabilitySet } else {
                    target = try await inventory.vm(named: name).availabilitySet
                }
                if !noSet && target == nil { throw Failure("VM \(name) is single-instance: give --set to move it into a set") }
                let vm = try await inventory.moveVM(name, toSet: target, updateDomain: updateDomain, faultDomain: faultDomain)
                print("moved VM \(vm.name): " + (vm.availabilitySet.map { "set \($0), UD \(vm.updateDomain!), FD \(vm.faultDomain!)" } ?? "single-instance in \(vm.region)"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a VM.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        func run() async throws {
            try await guarded {
                try await database.inventory().removeVM(name)
                print("removed VM \(name)")
            }
        }
    }
}
