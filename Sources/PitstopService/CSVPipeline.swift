// The CSV import on two cores: one thread reads, parses and checks rows while the caller's
// thread places and writes them. Checking is pure (the fleet index is loaded first and does
// not change during a VM import), so only placement and writes need the database.
import Foundation
import PitstopCore

/// What the reading thread hands to the writing one, in file order.
enum CSVItem: Sendable {
    case vm(CheckedVM, SourcePlace)
    case problem(InputError)
}

/// A bounded hand-off of batches between the two threads.
final class BatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var batches: [[CSVItem]] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks while full; returns false once the consumer has cancelled.
    func put(_ batch: [CSVItem]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, or nil when the producer has finished and everything was taken.
    func take() -> [CSVItem]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Reads a VM CSV on its own thread and feeds checked rows into a queue.
final class CSVProducer: @unchecked Sendable {
    let queue = BatchQueue(capacity: 16)
    private let input: ImportInput
    private let file: String
    private let fleet: FleetIndex
    private let total: Int?
    private let progress: ProgressHandler?
    private var thread: SideThread<Void>?
    /// Set by the producer before it finishes; read after `wait()`.
    private(set) var readError: (any Error)?
    private(set) var sawHeader = false

    static let batchSize = 4096

    init(input: ImportInput, file: String, fleet: FleetIndex, total: Int?, progress: ProgressHandler?) {
        self.input = input
        self.file = file
        self.fleet = fleet
        self.total = total
        self.progress = progress
    }

    func start() {
        thread = SideThread { [self] in
            run()
            queue.finish()
        }
    }

    /// Waits for the reading thread to end (after the consumer drained or cancelled).
    func wait() { try? thread?.value() }

    private func run() {
        var reader = CSVReader()
        var withAddress: Bool?
        var claims = ImportClaims(expectedVMs: (total ?? 0) / 40)  // rows are about 40 bytes
        var batch: [CSVItem] = []
        batch.reserveCapacity(Self.batchSize)
        var stopped = false
        var headerFailed = false

        func handle(_ record: CSVRecord) {
            guard let hasAddress = withAddress else {
                sawHeader = true
                do throws(InputError) { withAddress = try VMCSV.checkHeader(record, file: file) } catch {
                    batch.append(.problem(error))
                    headerFailed = true
                    withAddress = false
                }
                return
            }
            // Rows under a header that was refused cannot be read against it: the header is
            // the one problem (its chunk may already hold more rows).
            guard !headerFailed else { return }
            let place = SourcePlace(line: record.line, path: "")
            switch VMCSV.draft(record, withAddress: hasAddress) {
            case .failure(let problems):
                for p in problems.problems { batch.append(.problem(InputError(file: file, place: place, problem: p))) }
            case .success(let draft):
                if let duplicate = claims.claim(name: draft.name) {
                    batch.append(.problem(InputError(file: file, place: place, problem: duplicate)))
                } else {
                    switch draft.check(in: fleet) {
                    case .success(let checked):
                        if let taken = claims.claimAddress(of: checked.vm, line: place.line) {
                            batch.append(.problem(InputError(file: file, place: place, problem: taken)))
                        } else {
                            batch.append(.vm(checked, place))
                        }
                    case .failure(let problems):
                        for p in problems.problems { batch.append(.problem(InputError(file: file, place: place, problem: p))) }
                    }
                }
            }
            if batch.count >= Self.batchSize {
                stopped = !queue.put(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }

        var bytesRead = 0
        do {
            while !stopped && !headerFailed {
                guard let chunk = try input.nextChunk() else { break }
                if chunk.isEmpty { continue }
                chunk.withUnsafeBufferPointer { reader.feed($0, emit: handle) }
                bytesRead += chunk.count
                progress?(bytesRead, total)
            }
            if !stopped && !headerFailed { reader.finish(emit: handle) }
        } catch {
            readError = error
        }
        if !stopped && !batch.isEmpty { _ = queue.put(batch) }
    }
}
