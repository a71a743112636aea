// What an import reads: bytes as they arrive, from a file the CLI opens or a request body the
// server receives. The import pulls chunks on its own reading thread, so neither source ties
// up a cooperative thread, and memory stays bounded by a few chunks whatever the input's size.
import Foundation
public import PitstopCore

/// A named stream of bytes to import.
public struct ImportInput: Sendable {
    /// The name messages give as the place of a problem (`fleet.csv:12: ...`).
    public var name: String
    /// The expected size in bytes, when known: for progress, and to choose a bulk load.
    public var sizeHint: Int?
    /// The next chunk, blocking until it arrives; `nil` at the end.
    let nextChunk: @Sendable () throws -> [UInt8]?

    public init(name: String, sizeHint: Int?, nextChunk: @escaping @Sendable () throws -> [UInt8]?) {
        self.name = name
        self.sizeHint = sizeHint
        self.nextChunk = nextChunk
    }

    /// A file, read in 1 MiB chunks.
    /// A directory, a missing file or one that may not be read is refused with that reason.
    public static func file(atPath path: String, name: String? = nil) throws(PitstopError) -> ImportInput {
        let shown = name ?? path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PitstopError(.notFound, "\(shown): no such file")
        }
        guard !isDirectory.boolValue else {
            throw PitstopError(.invalid, "\(shown): is a directory; give the file to import")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = errno == EACCES || errno == EPERM ? "permission denied" : String(cString: strerror(errno))
            throw PitstopError(.invalid, "\(shown): cannot be opened: \(reason)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let reader = FileChunks(handle: handle)
        return ImportInput(name: name ?? path, sizeHint: size) { try reader.next() }
    }

    /// An in-memory document.
    public static func bytes(_ bytes: [UInt8], name: String) -> ImportInput {
        let once = Once(bytes)
        return ImportInput(name: name, sizeHint: bytes.count) { once.take() }
    }

    /// Chunks from an async sequence, such as a request body, handed over through a small
    /// bounded buffer: the sequence is read as fast as the import consumes it.
    public static func stream<S: AsyncSequence & Sendable>(_ chunks: S, name: String, sizeHint: Int?) -> ImportInput
    where S.Element == [UInt8] {
        let buffer = ChunkBuffer(capacity: 8)
        // Held weakly: once the import is done with the input (read to its end, or refused
        // before it), the buffer goes and this task stops reading instead of waiting for room.
        let task = Task { [weak buffer] in
            do {
                for try await chunk in chunks {
                    while true {
                        guard let buffer else { return }
                        if buffer.offer(chunk) { break }
                        try await Task.sleep(nanoseconds: 1_000_000)
                    }
                }
                buffer?.finish(error: nil)
            } catch {
                buffer?.finish(error: error)
            }
        }
        buffer.onCancel = { task.cancel() }
        return ImportInput(name: name, sizeHint: sizeHint) { try buffer.take() }
    }

    /// The refusal of an input that could not be read to its end, in words: the system's
    /// reason for a file, never the type of whatever broke a stream.
    static func readFailure(_ name: String, _ error: any Error) -> PitstopError {
        if let error = error as? PitstopError { return error }
        let ns = error as NSError
        let reason = ns.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(ns.code)))
            : (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
            ?? "the input broke off before its end"
        return PitstopError(.invalid, "\(name): cannot be read: \(reason); nothing was written")
    }

    /// Every byte of a JSON document, which is parsed whole; a string or number longer than
    /// ``InputLimits/maximumJSONValueBytes`` is refused as soon as it passes the limit, with its
    /// line and field, before the rest of the input is read. Read on a thread of its own, as a
    /// CSV is: waiting for a slow client's next chunk must not hold one of the few cooperative
    /// threads (two slow uploads on two cores would stall every request).
    func readJSONDocument() async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try gatherJSONDocument() }) }.start()
        }
    }

    private func gatherJSONDocument() throws -> [UInt8] {
        var out: [UInt8] = []
        var watch = JSONValueLengthGuard(limit: InputLimits.maximumJSONValueBytes)
        while let chunk = try nextChunk() {
            do throws(JSONValueLengthGuard.TooLong) { try watch.feed(chunk) } catch {
                let limit = error.limit
                throw PitstopError.invalidInput([InputError(
                    file: name, line: error.line, field: error.path.isEmpty ? nil : error.path,
                    message: "a value longer than \(limit) bytes (\(limit >> 10) KiB, the most a document's string or number may hold); refused while reading")])
            }
            out += chunk
        }
        return out
    }
}

/// Reads a file handle in chunks and closes it at the end.
private final class FileChunks: @unchecked Sendable {
    private let handle: FileHandle
    private var closed = false
    private let lock = NSLock()

    init(handle: FileHandle) { self.handle = handle }

    func next() throws -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return nil }
        let data = try handle.read(upToCount: 1 << 20) ?? Data()
        if data.isEmpty {
            try? handle.close()
            closed = true
            return nil
        }
        return [UInt8](data)
    }

    deinit { if !closed { try? handle.close() } }
}

/// Hands out one value once.
private final class Once: @unchecked Sendable {
    private var value: [UInt8]?
    private let lock = NSLock()
    init(_ value: [UInt8]) { self.value = value }
    func take() -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        defer { value = nil }
        return value
    }
}

/// A bounded hand-off from an async producer to a blocking consumer.
final class ChunkBuffer: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?
    private let capacity: Int
    var onCancel: (@Sendable () -> Void)?

    init(capacity: Int) { self.capacity = capacity }

    /// Adds a chunk unless full; never blocks the producer.
    func offer(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard chunks.count < capacity else { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    func finish(error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk, blocking; nil at the end, the producer's error if it failed.
    func take() throws -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !finished { condition.wait() }
        if !chunks.isEmpty { return chunks.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    deinit { onCancel?() }
}
