// Every command spells its own name. Without `commandName:`, ArgumentParser derives a name from
// the type through `String(describing:)`, a runtime lookup of the type's conformances across
// the whole binary; it builds the whole command tree on every run, so forty unnamed commands
// cost every `pitstop` invocation, `--help` included, about 7 ms of a 23 ms start (measured
// when they were named).
import Foundation
import Testing

@Suite struct CommandNameTests {
    @Test func everyCommandConfigurationNamesItsCommand() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/pitstop")
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }.sorted()
        var configurations = 0, unnamed: [String] = []
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            var rest = text[...]
            while let start = rest.range(of: "CommandConfiguration(") {
                // The arguments up to the matching parenthesis.
                var depth = 1, end = start.upperBound
                while depth > 0, end < rest.endIndex {
                    if rest[end] == "(" { depth += 1 } else if rest[end] == ")" { depth -= 1 }
                    end = rest.index(after: end)
                }
                configurations += 1
                if !rest[start.upperBound..<end].contains("commandName:") {
                    let line = text[..<start.lowerBound].filter { $0 == "\n" }.count + 1
                    unnamed.append("\(file):\(line)")
                }
                rest = rest[end...]
            }
        }
        #expect(configurations > 40, "found only \(configurations) command configurations under \(sources.path)")
        #expect(unnamed.isEmpty, "give these commands a commandName: \(unnamed.joined(separator: ", "))")
    }
}
