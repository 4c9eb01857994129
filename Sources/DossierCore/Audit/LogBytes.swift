import DossierCrypto
import Foundation

// Byte-level helpers for reading logs of a million entries: no String or Data per field.

/// A SHA-256 digest held inline (no heap allocation), for hashing long logs.
struct Digest32: Equatable, Sendable {
    var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0

    init() {}

    init?(_ data: Data) {
        guard data.count == 32 else { return nil }
        self.init()
        withUnsafeMutableBytes(of: &self) { dst in data.withUnsafeBytes { dst.copyMemory(from: $0) } }
    }

    var data: Data { Swift.withUnsafeBytes(of: self) { Data($0) } }

    /// SHA-256(bytes).
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> Digest32 {
        var out = Digest32()
        withUnsafeMutableBytes(of: &out) { Hash.sha256(bytes, into: $0) }
        return out
    }

    /// SHA-256(0x00 ‖ bytes): an RFC 6962 leaf hash.
    static func leafHash(_ bytes: UnsafeRawBufferPointer) -> Digest32 {
        var out = Digest32()
        withUnsafeMutableBytes(of: &out) { Hash.sha256(prefix: 0, bytes, into: $0) }
        return out
    }

    /// SHA-256(0x01 ‖ left ‖ right): an RFC 6962 node hash.
    static func node(_ left: Digest32, _ right: Digest32) -> Digest32 {
        var out = Digest32()
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { b in
            b[0] = 1
            Swift.withUnsafeBytes(of: left) { (b.baseAddress! + 1).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            Swift.withUnsafeBytes(of: right) { (b.baseAddress! + 33).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            withUnsafeMutableBytes(of: &out) { Hash.sha256(UnsafeRawBufferPointer(b), into: $0) }
        }
        return out
    }
}

/// Standard base64 (RFC 4648 section 4, with padding), strict: only the one encoding that
/// `base64EncodedString` writes is accepted (length, padding, and zero unused bits).
enum StrictBase64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xff, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// The decoded length of `count` characters of canonical base64 ending in `padding` `=`.
    static func decodedCount(_ text: UnsafeRawBufferPointer) -> Int? {
        let n = text.count
        guard n % 4 == 0 else { return nil }
        if n == 0 { return 0 }
        let pad = text[n - 1] == 0x3d ? (text[n - 2] == 0x3d ? 2 : 1) : 0
        return n / 4 * 3 - pad
    }

    /// Decodes `text` into `out` (which holds `decodedCount(text)` bytes); false if not canonical.
    static func decode(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard let count = decodedCount(text), count == out.count else { return false }
        let n = text.count
        if n == 0 { return true }
        let pad = n / 4 * 3 - count
        return table.withUnsafeBufferPointer { t -> Bool in
            var o = 0
            var i = 0
            let full = n - (pad > 0 ? 4 : 0)
            while i < full {
                let a = t[Int(text[i])], b = t[Int(text[i + 1])], c = t[Int(text[i + 2])], d = t[Int(text[i + 3])]
                guard (a | b | c | d) & 0xc0 == 0 else { return false }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                out[o] = UInt8(truncatingIfNeeded: v >> 16); out[o + 1] = UInt8(truncatingIfNeeded: v >> 8); out[o + 2] = UInt8(truncatingIfNeeded: v)
                o += 3
                i += 4
            }
            if pad == 2 {
                let a = t[Int(text[i])], b = t[Int(text[i + 1])]
                guard (a | b) & 0xc0 == 0, b & 0x0f == 0, text[i + 2] == 0x3d, text[i + 3] == 0x3d else { return false }
                out[o] = a << 2 | b >> 4
            } else if pad == 1 {
                let a = t[Int(text[i])], b = t[Int(text[i + 1])], c = t[Int(text[i + 2])]
                guard (a | b | c) & 0xc0 == 0, c & 0x03 == 0, text[i + 3] == 0x3d else { return false }
                out[o] = a << 2 | b >> 4
                out[o + 1] = (b & 0x0f) << 4 | c >> 2
            }
            return true
        }
    }

    /// The bytes of canonical base64 `text`, or nil.
    static func decode(_ text: UnsafeRawBufferPointer) -> Data? {
        guard let count = decodedCount(text) else { return nil }
        var out = Data(count: count)
        let ok = out.withUnsafeMutableBytes { decode(text, into: $0) }
        return ok ? out : nil
    }
}

/// Strict checks of timestamps as bytes (vault.md section 7): `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC,
/// naming a real instant. The same rule as `Timestamp.parse`, without building a Date.
enum TimestampBytes {
    static func isValid(_ s: UnsafeRawBufferPointer) -> Bool {
        guard s.count == 24, s[4] == 0x2d, s[7] == 0x2d, s[10] == 0x54, s[13] == 0x3a, s[16] == 0x3a,
              s[19] == 0x2e, s[23] == 0x5a else { return false }
        func num(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<from + count {
                let c = s[i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
              let mi = num(14, 2), let se = num(17, 2), num(20, 3) != nil,
              (1...12).contains(mo), h < 24, mi < 60, se < 60 else { return false }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
        return d >= 1 && d <= days
    }
}
