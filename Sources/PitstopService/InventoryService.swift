// Use cases on the fleet: import, export, and the single-record commands. Each write is one
// transaction; each refusal leaves the database as it was.
import Foundation
import GRDB
import PitstopCore
import PitstopStore

/// A refused command: the message says what and where. Nothing was written.
public struct ServiceError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The input is wrong (exit 2).
        case invalid
        /// The thing named does not exist (exit 2).
        case notFound
        /// The change would break something that depends on it (exit 2).
        case conflict
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// The fleet's use cases, shared by the CLI and the server.
public struct InventoryService: Sendable {
    public let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    // MARK: Import

    /// Imports a JSON inventory document: upsert by name, all or nothing.
    public func importDocument(_ bytes: [UInt8], file: String) throws -> ImportSummary {
        let (document, decodeErrors) = InventoryDocument.decode(json: bytes, file: file)
        return try database.writer.write { db in
            var summary = ImportSummary()
            var errors = decodeErrors
            var ingest = try VMIngest(db, file: file)

            func attempt(_ place: SourcePlace, field: String, _ body: () throws -> Void) throws {
                do { try body() } catch let error as DatabaseError {
                    errors.append(InputError(file: file, line: place.line, field: place.field(field), message: StoreMessages.describe(error)))
                }
            }
            func problem(_ place: SourcePlace, _ field: String, _ message: String) {
                errors.append(InputError(file: file, line: place.line, field: place.field(field), message: message))
            }

            for item in document.regions {
                try attempt(item.place, field: "name") { summary.regions.record(try FleetRepository.upsert(db, region: item.value)) }
                ingest.learn(region: item.value.name)
            }
            for item in document.subscriptions {
                try attempt(item.place, field: "id") { summary.subscriptions.record(try FleetRepository.upsert(db, subscription: item.value)) }
                ingest.learn(subscription: item.value.id)
            }
            for item in document.regionPairs {
                let pair = item.value
                var known = true
                for (field, region) in [("region", pair.region), ("pairedWith", pair.pairedWith)] where !ingest.hasRegion(region) {
                    problem(item.place, field, "unknown region '\(region.truncatedForMessage)'")
                    known = false
                }
                if known { try attempt(item.place, field: "pairedWith") { summary.regionPairs.record(try FleetRepository.upsert(db, pair: pair)) } }
            }
            for item in document.availabilitySets {
                let set = item.value.set
                var valid = true
                if !ingest.hasRegion(set.region) { problem(item.place, "region", "unknown region '\(set.region.truncatedForMessage)'"); valid = false }
                if !ingest.hasSubscription(set.subscription) { problem(item.place, "subscription", "unknown subscription '\(set.subscription.truncatedForMessage)'"); valid = false }
                if valid, let existing = ingest.availabilitySet(named: set.name) {
                    if existing.region != set.region, try VMRepository.count(db, in: .availabilitySet(set.name)) > 0 {
                        problem(item.place, "region", "set \(set.name) has VMs in \(existing.region); move them out before moving the set to \(set.region)")
                        valid = false
                    }
                }
                if valid {
                    try attempt(item.place, field: "name") {
                        summary.availabilitySets.record(try FleetRepository.upsert(db, availabilitySet: set))
                    }
                    ingest.learn(set: set)
                }
            }
            for item in document.vms { try ingest.ingest(item.value, at: item.place) }
            summary.vms = ingest.counts
            for item in document.maintenanceWindows {
                let window = item.value
                switch window.scope {
                case .region(let r) where !ingest.hasRegion(r): problem(item.place, "region", "unknown region '\(r.truncatedForMessage)'")
                case .availabilitySet(let s) where ingest.availabilitySet(named: s) == nil: problem(item.place, "availabilitySet", "unknown availability set '\(s.truncatedForMessage)'")
                default: try attempt(item.place, field: "name") { summary.maintenanceWindows.record(try FleetRepository.upsert(db, window: window)) }
                }
            }
            for item in document.blackouts {
                if let r = item.value.region, !ingest.hasRegion(r) {
                    problem(item.place, "region", "unknown region '\(r.truncatedForMessage)'")
                } else {
                    try attempt(item.place, field: "name") { summary.blackouts.record(try FleetRepository.upsert(db, blackout: item.value)) }
                }
            }
            errors += ingest.allErrors
            guard errors.isEmpty else { throw ImportFailure(errors: errors.sorted(by: Self.documentOrder)) }
            try ingest.savePlacementCounters()
            return summary
        }
    }

    private static func documentOrder(_ a: InputError, _ b: InputError) -> Bool {
        (a.line ?? 0, a.field ?? "") < (b.line ?? 0, b.field ?? "")
    }

    /// Imports VMs from a CSV file with the header `VMCSV.header`, streaming it in chunks.
    public func importCSV(at url: URL, file: String, progress: ProgressHandler? = nil) throws -> ImportSummary {
        guard let input = FileHandle(forReadingAtPath: url.path) else {
            throw ServiceError(.notFound, "\(file): cannot be opened")
        }
        defer { try? input.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        return try database.writer.write { db in
            var ingest = try VMIngest(db, file: file)
            var reader = CSVReader()
            var withAddress: Bool?
            var headerError: InputError?
            var bytesRead = 0
            func handle(_ record: CSVRecord) throws {
                guard let hasAddress = withAddress else {
                    do throws(InputError) { withAddress = try VMCSV.checkHeader(record, file: file) } catch {
                        headerError = error
                        withAddress = false
                    }
                    return
                }
                guard headerError == nil else { return }
                let place = SourcePlace(line: record.line, path: "")
                switch VMCSV.draft(record, withAddress: hasAddress) {
                case .success(let draft): try ingest.ingest(draft, at: place)
                case .failure(let problems): ingest.report(problems, at: place)
                }
            }
            while true {
                let chunk = try input.read(upToCount: 1 << 20) ?? Data()
                if chunk.isEmpty { break }
                try chunk.withUnsafeBytes { raw in
                    try reader.feed(raw.bindMemory(to: UInt8.self), emit: handle)
                }
                bytesRead += chunk.count
                progress?(bytesRead, total)
                if headerError != nil { break }
            }
            if headerError == nil { try reader.finish(emit: handle) }
            if let headerError { throw ImportFailure(errors: [headerError]) }
            if withAddress == nil { throw ImportFailure(errors: [InputError(file: file, line: 1, field: nil, message: "the file is empty; expected the header '\(VMCSV.header.joined(separator: ","))'")]) }
            guard !ingest.failed else { throw ImportFailure(errors: ingest.allErrors) }
            try ingest.savePlacementCounters()
            var summary = ImportSummary()
            summary.vms = ingest.counts
            return summary
        }
    }
}
