// Use cases on the fleet: import, export, and the single-record commands. Each write is one
// transaction; each refusal leaves the database as it was.
import Foundation
public import PitstopCore
public import PitstopStore

/// The fleet's use cases, shared by the CLI and the server.
public struct InventoryService: Sendable {
    public let store: any Store
    /// Who the audit entries of this service's changes name.
    public let actor: String
    /// The time its audit entries record.
    let clock: @Sendable () throws -> Timestamp

    /// - Parameters:
    ///   - actor: who the audit entries of its changes name: an operator, a token's name.
    ///   - clock: the instant its changes are recorded at; the adapter decides what time it is.
    public init(store: any Store, actor: String, clock: @escaping @Sendable () throws -> Timestamp) {
        self.store = store
        self.actor = actor
        self.clock = clock
    }

    // MARK: Import

    /// Imports a JSON inventory document: upsert by name, all or nothing.
    public func importDocument(_ input: ImportInput) async throws -> ImportSummary {
        let file = input.name
        let bytes: [UInt8]
        do { bytes = try await input.readJSONDocument() } catch {
            throw ImportInput.readFailure(file, error)
        }
        let (document, decodeErrors) = InventoryDocument.decode(json: bytes, file: file)
        return try await store.write { tx in
            var summary = ImportSummary()
            var errors = decodeErrors
            var ingest = try VMIngest(tx, file: file)

            // Once a record is refused, so is the import: the rest is still checked, but no
            // statement more is sent. PostgreSQL ends a transaction at its first refused
            // statement, so the next one would only fail again ("current transaction is
            // aborted"), an internal fault hiding the refusal.
            var refused: Bool { !errors.isEmpty || ingest.failed }
            func attempt(_ place: SourcePlace, field: String, _ body: () throws -> Void) throws {
                guard !refused else { return }
                do { try body() } catch let error as PitstopError where error.kind == .conflict {
                    problem(place, field, error.message)
                }
            }
            func problem(_ place: SourcePlace, _ field: String, _ message: String) {
                errors.append(InputError(file: file, line: place.line, field: place.field(field), message: message))
                ingest.stopWriting()
            }

            for item in document.regions {
                try attempt(item.place, field: "name") { summary.regions.record(try tx.fleet.upsert(region: item.value)) }
                ingest.learn(region: item.value.name)
                ingest.touched.record(region: item.value.name)
            }
            for item in document.subscriptions {
                try attempt(item.place, field: "id") { summary.subscriptions.record(try tx.fleet.upsert(subscription: item.value)) }
                ingest.learn(subscription: item.value.id)
                ingest.touched.record(subscription: item.value.id)
            }
            for item in document.regionPairs {
                let pair = item.value
                var known = true
                for (field, region) in [("region", pair.region), ("pairedWith", pair.pairedWith)] where !ingest.hasRegion(region) {
                    problem(item.place, field, "unknown region '\(region.truncatedForMessage)'")
                    known = false
                }
                if known {
                    try attempt(item.place, field: "pairedWith") { summary.regionPairs.record(try tx.fleet.upsert(pair: pair)) }
                    ingest.touched.record(region: pair.region)
                    ingest.touched.record(region: pair.pairedWith)
                }
            }
            for item in document.availabilitySets {
                let set = item.value.set
                var valid = true
                if !ingest.hasRegion(set.region) { problem(item.place, "region", "unknown region '\(set.region.truncatedForMessage)'"); valid = false }
                if !ingest.hasSubscription(set.subscription) { problem(item.place, "subscription", "unknown subscription '\(set.subscription.truncatedForMessage)'"); valid = false }
                if valid, !refused, let existing = ingest.availabilitySet(named: set.name) {
                    if existing.region != set.region, try tx.vms.count(in: .availabilitySet(set.name)) > 0 {
                        problem(item.place, "region", "set \(set.name) has VMs in \(existing.region); move them out before moving the set to \(set.region)")
                        valid = false
                    }
                }
                if valid {
                    try attempt(item.place, field: "name") {
                        summary.availabilitySets.record(try tx.fleet.upsert(availabilitySet: set))
                    }
                    ingest.learn(set: set)
                    ingest.touched.record(set: set)
                }
            }
            for item in document.vms { try ingest.ingest(item.value, at: item.place) }
            summary.vms = ingest.counts
            for item in document.maintenanceWindows {
                let window = item.value
                switch window.scope {
                case .region(let r) where !ingest.hasRegion(r): problem(item.place, "region", "unknown region '\(r.truncatedForMessage)'")
                case .availabilitySet(let s) where ingest.availabilitySet(named: s) == nil: problem(item.place, "availabilitySet", "unknown availability set '\(s.truncatedForMessage)'")
                default:
                    try attempt(item.place, field: "name") { summary.maintenanceWindows.record(try tx.fleet.upsert(window: window)) }
                    ingest.touched.record(window: window)
                }
            }
            for item in document.blackouts {
                if let r = item.value.region, !ingest.hasRegion(r) {
                    problem(item.place, "region", "unknown region '\(r.truncatedForMessage)'")
                } else {
                    try attempt(item.place, field: "name") { summary.blackouts.record(try tx.fleet.upsert(blackout: item.value)) }
                    ingest.touched.record(blackout: item.value)
                }
            }
            errors += ingest.allErrors
            guard errors.isEmpty else { throw PitstopError.invalidInput(errors.sorted(by: Self.documentOrder)) }
            try ingest.savePlacementCounters()
            try auditImport(tx, file: file, format: "json", summary: summary, touched: ingest.touched)
            return summary
        }
    }

    private static func documentOrder(_ a: InputError, _ b: InputError) -> Bool {
        (a.line ?? 0, a.field ?? "") < (b.line ?? 0, b.field ?? "")
    }

    /// From this many rows on, a CSV import suspends the domain trigger and the foreign keys
    /// and verifies in bulk afterwards.
    static let bulkLoadRows = 25_000

    /// Imports VMs from a CSV with the header `VMCSV.header`, read in chunks as they arrive
    /// while the rows already checked are written: all or nothing.
    public func importCSV(_ input: ImportInput, progress: ProgressHandler? = nil) async throws -> ImportSummary {
        let file = input.name, total = input.sizeHint
        // Bulk mode re-verifies the whole table at the end, so it pays when the file is large
        // next to what is stored: from about 25,000 rows, or a quarter of the stored VMs.
        let estimatedRows = (total ?? 0) / 40
        let stored = try await store.read { tx in try tx.vms.count(in: .all) }
        let bulk = estimatedRows >= max(Self.bulkLoadRows, stored / 4)
        let work: @Sendable (any Repositories) throws -> ImportSummary = { tx in
            var ingest = try VMIngest(tx, file: file, expectedVMs: estimatedRows)
            let producer = CSVProducer(input: input, file: file, fleet: ingest.fleet, total: total, progress: progress)
            producer.start()
            defer { producer.queue.cancel(); producer.wait() }
            while let batch = producer.queue.take() {
                for item in batch {
                    switch item {
                    case .vm(let checked, let place): try ingest.store(checked, at: place)
                    case .problem(let error): ingest.report(error)
                    }
                }
            }
            // take() returned nil: the reading thread has finished writing its results.
            if let error = producer.readError { throw ImportInput.readFailure(file, error) }
            if !producer.sawHeader { throw PitstopError.invalidInput([InputError(file: file, line: 1, field: nil, message: "the file is empty; expected the header '\(VMCSV.header.joined(separator: ","))'")]) }
            guard !ingest.failed else { throw PitstopError.invalidInput(ingest.allErrors) }
            try ingest.savePlacementCounters()
            var summary = ImportSummary()
            summary.vms = ingest.counts
            try auditImport(tx, file: file, format: "csv", summary: summary, touched: ingest.touched)
            return summary
        }
        return bulk ? try await store.bulkWrite(work) : try await store.write(work)
    }
}
