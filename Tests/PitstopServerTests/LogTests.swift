// The request log's bytes: logfmt values that cannot break a line or a terminal, and lines that
// reach the file whole and in order although they are written in batches.
import Foundation
import Testing
@testable import PitstopServer

@Suite struct LogTests {
    @Test(arguments: [
        ("GET", "GET"),
        ("/metadata/scheduledevents", "/metadata/scheduledevents"),
        ("", "\"\""),
        ("two words", "\"two words\""),
        ("a=b", "\"a=b\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("back\\slash and space", "\"back\\\\slash and space\""),
        ("line\r\nbreak", "\"line\\r\\nbreak\""),
        ("nul\u{0}esc\u{1B}", "\"nul\\u0000esc\\u001b\""),
        ("tab\there", "\"tab\\there\""),
        ("bücher-東京", "bücher-東京"),
    ])
    func aValueIsQuotedAndEscapedOnlyWhenItMustBe(value: String, written: String) {
        #expect(LogfmtLogHandler.quoted(value) == written)
    }

    @Test func aQuotedValueNeverHoldsAControlByte() {
        let hostile = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        let written = LogfmtLogHandler.quoted(hostile)
        #expect(!written.utf8.contains { $0 < 0x20 })
    }

    @Test func linesFromManyTasksArriveWholeInOrderPerTaskAndAllOfThem() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let batcher = LineBatcher(fd: fds[1])
        let tasks = 8, lines = 500
        // Read while writing: a pipe holds only 64 KiB.
        let collected = Task.detached { () -> String in
            var bytes = Data()
            let expected = tasks * lines
            while bytes.count(where: { $0 == 10 }) < expected {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                bytes.append(chunk)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for n in 0..<lines { batcher.append("task=\(t) n=\(n) \(String(repeating: "x", count: n % 200))\n") }
                }
            }
        }
        batcher.flush()
        let text = await collected.value
        close(fds[1])
        let written = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(written.count == tasks * lines)
        for t in 0..<tasks {
            let own = written.filter { $0.hasPrefix("task=\(t) ") }
            #expect(own.map { String($0) } == (0..<lines).map { "task=\(t) n=\($0) \(String(repeating: "x", count: $0 % 200))" })
        }
    }

    @Test func aLineIsWrittenWithoutAFlushSoonAfter() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        defer { close(fds[1]) }
        let batcher = LineBatcher(fd: fds[1])
        batcher.append("time=now msg=alone\n")
        // The batching thread writes it within LineBatcher.interval; availableData waits for it.
        let chunk = reader.availableData
        #expect(String(decoding: chunk, as: UTF8.self) == "time=now msg=alone\n")
    }
}
