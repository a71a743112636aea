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
            try section("regions", tx.fleet.regions().map(Responses.region), last: false, write)
            try section("regionPairs", tx.fleet.regionPairs().map(Responses.regionPair), last: false, write)
            try section("subscriptions", tx.fleet.subscriptions().map(Responses.subscription), last: false, write)
            try section("availabilitySets", tx.fleet.availabilitySets().map(Responses.availabilitySet), last: false, write)
            try write("  \"vms\": [")
            var first = true
            try tx.vms.forEach(in: .all) { vm in
                try write((first ? "\n    " : ",\n    ") + Responses.vm(vm))
                first = false
            }
            try write(first ? "],\n" : "\n  ],\n")
            try section("maintenanceWindows", tx.fleet.maintenanceWindows().map(Responses.window), last: false, write)
            try section("blackouts", tx.fleet.blackouts().map(Responses.blackout), last: true, write)
            try write("}\n")
        }
    }

    private func section(_ key: String, _ items: [String], last: Bool, _ write: (String) throws -> Void) throws {
        let body = items.isEmpty ? "[]" : "[\n    " + items.joined(separator: ",\n    ") + "\n  ]"
        try write("  \(JSONText.quote(key)): \(body)\(last ? "" : ",")\n")
    }
}
