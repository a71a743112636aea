// Aligned text tables for people; numbers right-aligned; free text cut to fit a terminal.
import Foundation
import PitstopCore

struct Table {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns (by index) aligned to the right.
    var numeric: Set<Int> = []
    /// Columns (by index) of free text, such as messages and lists, that may be cut (ending in
    /// "…") so the table fits the terminal it is printed on. Names, times and numbers never are.
    var elastic: Set<Int> = []

    init(_ headers: String..., numeric: Set<Int> = [], elastic: Set<Int> = []) {
        self.headers = headers
        self.numeric = numeric
        self.elastic = elastic
    }

    mutating func add(_ cells: String...) { rows.append(cells) }
    mutating func add(_ cells: [String]) { rows.append(cells) }

    /// The table as printed on standard output: fitted to the terminal's width when that is a
    /// terminal, whole when it is a pipe or a file.
    var text: String { text(width: Terminal.columns) }

    /// The table in at most `width` characters a line, as far as cutting its elastic columns
    /// gets it there (never narrower than a header, nor than ``minimumElasticWidth``); whole
    /// when `width` is nil.
    func text(width: Int?) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        if let width { widths = fitted(widths, to: width) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, whole in
                let cell = whole.cut(to: widths[i])
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return numeric.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ")
        }
        var out = line(headers) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows { out += line(row) + "\n" }
        return out
    }

    /// An elastic column is not cut below this many characters (or its header, if wider).
    static let minimumElasticWidth = 12

    /// The column widths after cutting the widest elastic columns first, each to the same
    /// limit, to the largest limit with which the lines fit in `width`.
    private func fitted(_ widths: [Int], to width: Int) -> [Int] {
        let gaps = 2 * max(0, widths.count - 1)
        guard widths.reduce(gaps, +) > width else { return widths }
        let cuttable = elastic.filter { $0 < widths.count }
        let floors = Dictionary(uniqueKeysWithValues: cuttable.map { ($0, max(headers[$0].count, min(widths[$0], Self.minimumElasticWidth))) })
        func capped(at limit: Int) -> [Int] {
            widths.enumerated().map { i, w in floors[i].map { max($0, min(w, limit)) } ?? w }
        }
        var (low, high) = (0, widths.max() ?? 0)  // the largest limit that fits lies in low...high
        while low < high {
            let limit = (low + high + 1) / 2
            if capped(at: limit).reduce(gaps, +) <= width { low = limit } else { high = limit - 1 }
        }
        return capped(at: low)
    }
}

/// The terminal standard output writes to.
enum Terminal {
    /// Its width in characters: the window's, else `$COLUMNS`; nil when standard output is
    /// a pipe or a file (what is read by programs is never cut).
    static let columns: Int? = {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
        return nil
    }()
}
