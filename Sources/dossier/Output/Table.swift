import DossierCore
import Foundation

/// Aligned tables for terminals, tab-separated lines for pipes. Every cell is shown through
/// `Terminal.visible`, so a cell is one cell on one line whatever it holds.
enum Table {
    static func print(headers: [String], rows: [[String]], none: String = "(none)") {
        let rows = rows.map { $0.map(Terminal.visible) }
        if !Terminal.stdoutIsTerminal {
            for row in rows { Swift.print(row.joined(separator: "\t")) }
            return
        }
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        Swift.print(line(headers))
        for row in rows { Swift.print(line(row)) }
        if rows.isEmpty { Swift.print(none) }
    }

    /// A size for people: 1.2 MiB.
    static func size(_ bytes: UInt64) -> String { ByteCount.format(bytes) }
}
