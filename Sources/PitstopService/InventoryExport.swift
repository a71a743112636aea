// Exporting the inventory: the whole fleet as one JSON document, every key written, each
// kind sorted by name, one record a line, streamed so that a million VMs need no big buffer.
import Foundation
import PitstopCore
import PitstopStore

extension InventoryService {
    /// Writes the document in pieces to `write`. Importing it into an empty database and
    /// exporting again gives the same bytes.
    public func export(to write: @escaping @Sendable (String) throws -> Void) async throws {
        try await store.read { tx in
            try write("{\n")
            try section("regions", tx.fleet.regions().map(Self.json), last: false, write)
            try section("regionPairs", tx.fleet.regionPairs().map(Self.json), last: false, write)
            try section("subscriptions", tx.fleet.subscriptions().map(Self.json), last: false, write)
            try section("availabilitySets", tx.fleet.availabilitySets().map(Self.json), last: false, write)
            try write("  \"vms\": [")
            var first = true
            try tx.vms.forEach(in: .all) { vm in
                try write((first ? "\n    " : ",\n    ") + Self.json(vm))
                first = false
            }
            try write(first ? "],\n" : "\n  ],\n")
            try section("maintenanceWindows", tx.fleet.maintenanceWindows().map(Self.json), last: false, write)
            try section("blackouts", tx.fleet.blackouts().map(Self.json), last: true, write)
            try write("}\n")
        }
    }

    private func section(_ key: String, _ items: [String], last: Bool, _ write: (String) throws -> Void) throws {
        let body = items.isEmpty ? "[]" : "[\n    " + items.joined(separator: ",\n    ") + "\n  ]"
        try write("  \(JSONText.quote(key)): \(body)\(last ? "" : ",")\n")
    }

    public static func json(_ r: Region) -> String {
        JSONText.object([("name", JSONText.quote(r.name)), ("displayName", JSONText.quote(r.displayName))])
    }

    public static func json(_ p: RegionPair) -> String {
        JSONText.object([("region", JSONText.quote(p.region)), ("pairedWith", JSONText.quote(p.pairedWith))])
    }

    public static func json(_ s: Subscription) -> String {
        JSONText.object([
            ("id", JSONText.quote(s.id)), ("admins", JSONText.array(s.admins.map(JSONText.quote))),
            ("coAdmins", JSONText.array(s.coAdmins.map(JSONText.quote))), ("noticeTimeZone", JSONText.quote(s.noticeTimeZone)),
        ])
    }

    public static func json(_ s: AvailabilitySet) -> String {
        JSONText.object([
            ("name", JSONText.quote(s.name)), ("region", JSONText.quote(s.region)), ("subscription", JSONText.quote(s.subscription)),
            ("faultDomains", JSONText.number(s.faultDomains)), ("updateDomains", JSONText.number(s.updateDomains)),
        ])
    }

    public static func json(_ vm: VirtualMachine) -> String {
        JSONText.object([
            ("name", JSONText.quote(vm.name)), ("region", JSONText.quote(vm.region)), ("subscription", JSONText.quote(vm.subscription)),
            ("availabilitySet", JSONText.quote(vm.availabilitySet)), ("updateDomain", JSONText.number(vm.updateDomain)),
            ("faultDomain", JSONText.number(vm.faultDomain)), ("ipAddress", JSONText.quote(vm.ipAddress)),
        ])
    }

    public static func json(_ w: MaintenanceWindow) -> String {
        let (region, set): (String?, String?) = switch w.scope {
        case .region(let r): (r, nil)
        case .availabilitySet(let s): (nil, s)
        }
        return JSONText.object([
            ("name", JSONText.quote(w.name)), ("region", JSONText.quote(region)), ("availabilitySet", JSONText.quote(set)),
            ("start", JSONText.quote(w.start.description)), ("timeZone", JSONText.quote(w.timeZone.identifier)),
            ("duration", JSONText.quote(w.duration.text)), ("recurEvery", JSONText.quote(w.recurrence?.text)),
            ("expires", JSONText.quote(w.expires?.description)),
        ])
    }

    public static func json(_ b: Blackout) -> String {
        JSONText.object([
            ("name", JSONText.quote(b.name)), ("region", JSONText.quote(b.region)),
            ("start", JSONText.quote(b.start.iso8601)), ("end", JSONText.quote(b.end.iso8601)),
        ])
    }
}
