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
    /// Who the audit entries of this service's changes name.
    public let actor: String
    /// The time its audit entries record.
    let clock: @Sendable () throws -> Timestamp

    /// - Parameters:
    ///   - actor: the audit's actor (default: `$PITSTOP_ACTOR`, else the OS user).
    ///   - clock: the audit's time (default: ``Clock/now(environment:)``).
    public init(database: AppDatabase, actor: String = AuditLog.actor(), clock: @escaping @Sendable () throws -> Timestamp = { try Clock.now() }) {
        self.database = database
        self.actor = actor
        self.clock = clock
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
                ingest.touched.record(region: item.value.name)
            }
            for item in document.subscriptions {
                try attempt(item.place, field: "id") { summary.subscriptions.record(try FleetRepository.upsert(db, subscription: item.value)) }
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
                    try attempt(item.place, field: "pairedWith") { summary.regionPairs.record(try FleetRepository.upsert(db, pair: pair)) }
                    ingest.touched.record(region: pair.region)
                    ingest.touched.record(region: pair.pairedWith)
                }
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
                    try attempt(item.place, field: "name") { summary.maintenanceWindows.record(try FleetRepository.upsert(db, window: window)) }
                    ingest.touched.record(window: window)
                }
            }
            for item in document.blackouts {
                if let r = item.value.region, !ingest.hasRegion(r) {
                    problem(item.place, "region", "unknown region '\(r.truncatedForMessage)'")
                } else {
                    try attempt(item.place, field: "name") { summary.blackouts.record(try FleetRepository.upsert(db, blackout: item.value)) }
                    ingest.touched.record(blackout: item.value)
                }
            }
            errors += ingest.allErrors
            guard errors.isEmpty else { throw ImportFailure(errors: errors.sorted(by: Self.documentOrder)) }
            try ingest.savePlacementCounters()
            try auditImport(db, file: file, format: "json", summary: summary, touched: ingest.touched)
            return summary
        }
    }

    private static func documentOrder(_ a: InputError, _ b: InputError) -> Bool {
        (a.line ?? 0, a.field ?? "") < (b.line ?? 0, b.field ?? "")
    }

    /// Page cache for bulk imports, in KiB: room for the VM table and its set index at a
    /// million VMs, within the 300 MB the import may use.
    static let bulkCacheKiB = 160 * 1024

    /// From this many rows on, a CSV import suspends the domain trigger and the foreign keys
    /// and verifies in bulk afterwards (`VMBulkLoad`).
    static let bulkLoadRows = 25_000

    /// Imports VMs from a CSV file with the header `VMCSV.header`, streaming it in chunks.
    public func importCSV(at url: URL, file: String, progress: ProgressHandler? = nil) throws -> ImportSummary {
        guard let input = FileHandle(forReadingAtPath: url.path) else {
            throw ServiceError(.notFound, "\(file): cannot be opened")
        }
        defer { try? input.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        // Bulk mode re-verifies the whole table at the end, so it pays when the file is large
        // next to what is stored: from about 25,000 rows, or a quarter of the stored VMs.
        let estimatedRows = (total ?? 0) / 40
        let stored = try database.writer.read { db in try VMRepository.count(db, in: .all) }
        let bulk = estimatedRows >= max(Self.bulkLoadRows, stored / 4)
        let transaction: ((Database) throws -> ImportSummary) throws -> ImportSummary = bulk
            ? { try VMBulkLoad.run(database.writer, $0) } : { try database.writer.write($0) }
        return try transaction { db in
            // With SQLite's default 2 MB page cache a million-row transaction spills pages to
            // the WAL again and again (measured: 2.6x slower with names in random order).
            try db.execute(sql: "PRAGMA cache_size = -\(Self.bulkCacheKiB)")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            var ingest = try VMIngest(db, file: file)
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
            if let error = producer.readError { throw ServiceError(.invalid, "\(file): cannot be read: \(error.localizedDescription)") }
            if !producer.sawHeader { throw ImportFailure(errors: [InputError(file: file, line: 1, field: nil, message: "the file is empty; expected the header '\(VMCSV.header.joined(separator: ","))'")]) }
            guard !ingest.failed else { throw ImportFailure(errors: ingest.allErrors) }
            try ingest.savePlacementCounters()
            var summary = ImportSummary()
            summary.vms = ingest.counts
            try auditImport(db, file: file, format: "csv", summary: summary, touched: ingest.touched)
            return summary
        }
    }
}
