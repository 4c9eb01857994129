import Foundation

/// RFC 4648 base32 without padding, lowercase (for key lines) or uppercase (fingerprints).
/// Decoding is strict: one alphabet, no padding, and the unused bits of the last character must be
/// zero, so every value has exactly one encoding.
enum Base32 {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encode(_ data: Data, uppercase: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity((data.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        let s = String(decoding: out, as: UTF8.self)
        return uppercase ? s.uppercased() : s
    }

    /// Decodes lowercase base32; nil on any character outside the alphabet or non-zero padding bits.
    static func decode(_ text: Substring) -> Data? {
        var out = Data()
        out.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"): v = UInt32(c - UInt8(ascii: "2")) + 26
            default: return nil
            }
            buffer = (buffer << 5) | v
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        // Leftover bits must be fewer than a byte's worth and all zero.
        if bits >= 5 || (buffer & ((1 << UInt32(bits)) - 1)) != 0 { return nil }
        return out
    }
}
