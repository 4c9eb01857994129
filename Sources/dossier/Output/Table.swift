import Foundation

/// Aligned tables for terminals, tab-separated lines for pipes.
enum Table {
    static func print(headers: [String], rows: [[String]]) {
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
        if rows.isEmpty { Swift.print("(none)") }
    }

    /// A size for people: 1.2 MiB.
    static func size(_ bytes: UInt64) -> String {
        var out: [UInt8] = []
        appendSize(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let units = ["B", "KiB", "MiB", "GiB", "TiB"]

    /// `size(bytes)` appended as UTF-8 (long listings write it per row, so no allocation here).
    static func appendSize(_ bytes: UInt64, to out: inout [UInt8]) {
        func append(_ n: UInt64) {
            var digits = 1, power: UInt64 = 10
            while digits < 20 && n >= power { digits += 1; power = power &* 10 }
            let end = out.count + digits
            out.append(contentsOf: repeatElement(0x30, count: digits))
            var m = n
            for i in stride(from: end - 1, through: end - digits, by: -1) {
                out[i] = 0x30 + UInt8(m % 10)
                m /= 10
            }
        }
        if bytes < 1024 {
            append(bytes)
            out.append(0x20)
            out.append(0x42)   // "B"
            return
        }
        if bytes < 1 << 49 {
            // What "%.1f" prints, in integers: bytes × 10 / 1024^unit, rounded half to even like printf.
            var unit = 1
            while unit < units.count - 1 && bytes >= UInt64(1) << (10 * (unit + 1)) { unit += 1 }
            let num = bytes * 10, shift = UInt64(10 * unit)
            var q = num >> shift
            let r = num & ((1 << shift) - 1), half = UInt64(1) << (shift - 1)
            if r > half || (r == half && q & 1 == 1) { q += 1 }
            append(q / 10)
            out.append(0x2e)
            append(q % 10)
            out.append(0x20)
            out.append(contentsOf: units[unit].utf8)
            return
        }
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        out.append(contentsOf: String(format: "%.1f %@", value, units[unit]).utf8)
    }
}
