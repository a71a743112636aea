// Tables for people: aligned, and on a terminal cut to its width in their free-text columns only.
import Foundation
import PitstopTestSupport
import Testing

@testable import pitstop

@Suite struct TableTests {
    /// Two short fixed columns and two long free-text ones, like the audit log's.
    static func sample() -> Table {
        var table = Table("seq", "action", "subjects", "details", numeric: [0], elastic: [2, 3])
        table.add("1", "inventory.imported", String(repeating: "region eastus, ", count: 6), "{\"file\": \"fleet.json\"}")
        table.add("22", "campaign.planned", "campaign c1", String(repeating: "x", count: 90))
        return table
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func withoutAWidthEveryCellIsWhole() {
        let text = Self.sample().text(width: nil)
        #expect(text.contains(String(repeating: "region eastus, ", count: 6)))
        #expect(text.contains(String(repeating: "x", count: 90)))
        #expect(!text.contains("…"))
        #expect(Self.sample().text(width: 10_000) == text, "a table that fits is not changed")
    }

    @Test(arguments: [100, 80, 64])
    func onANarrowTerminalOnlyTheElasticColumnsAreCutAndEveryLineFits(_ width: Int) {
        let text = Self.sample().text(width: width)
        let lines = Self.lines(text)
        #expect(lines.allSatisfy { $0.count <= width }, "\(text)")
        // Names and numbers stay whole; the headers too.
        #expect(lines[0].hasPrefix("seq  action              subjects"), "\(text)")
        #expect(lines[2].contains("  1  inventory.imported  ") && lines[3].contains(" 22  campaign.planned    "), "\(text)")
        // The long cells end in an ellipsis; the short one fits as it is.
        #expect(lines[2].contains("…") && lines[3].hasSuffix("…") && lines[3].contains("campaign c1"), "\(text)")
        // As wide as allowed, less what two columns cut to one limit leave (under one each):
        // nothing was cut that did not have to be.
        #expect(lines.map(\.count).max()! >= width - 1, "\(text)")
    }

    @Test func theWidestElasticColumnIsCutFirst() {
        // Natural widths 3, 18, 90 and 90: at 150 both free-text columns are cut to one limit,
        // the largest with which a line fits (3 + 18 + 61 + 61 and three gaps of 2: 149).
        let text = Self.sample().text(width: 150)
        let rule = Self.lines(text)[1].split(separator: " ").map(\.count)
        #expect(rule == [3, 18, 61, 61], "\(text)")
    }

    @Test func aTerminalTooNarrowForTheFixedColumnsCutsTheElasticOnesToTheirFloor() {
        let text = Self.sample().text(width: 20)
        let rule = Self.lines(text)[1].split(separator: " ").map(\.count)
        #expect(rule == [3, 18, Table.minimumElasticWidth, Table.minimumElasticWidth], "\(text)")
    }

    @Test func aTableWithoutElasticColumnsIsNeverCut() {
        var table = Table("start (UTC)", "end (UTC)", "vm")
        table.add("2026-12-13T03:00:00Z", "2026-12-13T03:15:00Z", "web-0")
        #expect(table.text(width: 20) == table.text(width: nil))
    }

    /// The built binary on a pseudo-terminal 90 columns wide (util-linux's `script`, in every
    /// Debian) fits the audit table to it; the same command into a pipe prints it whole.
    @Test(.hangGuard) func theAuditTableFitsTheTerminalItIsPrintedOnAndIsWholeInAPipe() throws {
        let box = try Sandbox()
        try box.seed()
        let piped = try box.run("audit")
        #expect(piped.status == 0, "\(piped)")
        #expect(Self.lines(piped.stdout).contains { $0.count > 90 }, "the seeded log is wider than the terminal: \(piped)")

        let command = "stty cols 90; exec '\(pitstopBinary.path)' audit --db '\(box.db)'"
        let onTerminal = try box.runRaw(["-qec", command, "/dev/null"], binary: URL(fileURLWithPath: "/usr/bin/script"))
        #expect(onTerminal.status == 0, "\(onTerminal)")
        // A terminal's lines end in "\r\n", one Character in Swift, a newline.
        let lines = onTerminal.stdout.split(whereSeparator: \.isNewline).map(String.init)
        #expect(lines.count == Self.lines(piped.stdout).count, "\(onTerminal)")
        #expect(lines.allSatisfy { $0.count <= 90 }, "\(onTerminal.stdout)")
        #expect(lines.contains { $0.contains("…") } && lines.contains { $0.contains("inventory.imported") }, "\(onTerminal.stdout)")
    }
}
