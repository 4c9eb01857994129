import Foundation

/// JSON from outside (a release request body, the service's answer, a proof file), read
/// strictly: one UTF-8 JSON text (RFC 8259) in which no object names a member twice.
///
/// Foundation keeps one of two members with the same name without a word, so two readers of
/// one body could see different values. The check decodes each member name (escapes included:
/// `"a"` and `"\u0061"` are the same name) and compares the decoded code points, as RFC 8259
/// compares names; only then is the text handed to Foundation. `object` and `decode`, which
/// hand it to Foundation, also refuse names that Foundation takes for one although their code
/// points differ (canonically equivalent text: `K` and U+212A KELVIN SIGN, `é` and `e` with a
/// combining accent), since Foundation keys members by String.
public enum StrictJSON {
    /// Deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 64

    /// The top-level object of `data`, or nil if `data` is not one JSON object or repeats a member.
    public static func object(_ data: Data) -> [String: Any]? {
        guard isStrict(data, asFoundationReadsIt: true) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any]
    }

    /// `data` decoded as `T`, or nil if it is not strict JSON or does not decode.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        guard isStrict(data, asFoundationReadsIt: true) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }

    /// Whether `data` is one JSON value, with white space around it allowed, in which no object
    /// repeats a member name and nesting stays within `maximumDepth`.
    public static func isStrict(_ data: Data) -> Bool { isStrict(data, asFoundationReadsIt: false) }

    /// `isStrict`; with `asFoundationReadsIt`, names are compared as Foundation's String keys.
    private static func isStrict(_ data: Data, asFoundationReadsIt: Bool) -> Bool {
        var scanner = Scanner(bytes: [UInt8](data), foundationKeys: asFoundationReadsIt)
        scanner.skipSpace()
        guard scanner.value(depth: 0) else { return false }
        scanner.skipSpace()
        return scanner.atEnd
    }

    private struct Scanner {
        let bytes: [UInt8]
        /// Compare member names as Swift Strings (canonical equivalence), not code points.
        let foundationKeys: Bool
        var i = 0

        var atEnd: Bool { i == bytes.count }
        var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while let b = current, b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d { i += 1 }
        }

        mutating func take(_ b: UInt8) -> Bool {
            guard current == b else { return false }
            i += 1
            return true
        }

        mutating func value(depth: Int) -> Bool {
            switch current {
            case UInt8(ascii: "{"): return object(depth: depth + 1)
            case UInt8(ascii: "["): return array(depth: depth + 1)
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            guard depth <= StrictJSON.maximumDepth, take(UInt8(ascii: "{")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "}")) { return true }
            var names = Set<[UInt8]>(), keys = Set<String>()
            while true {
                skipSpace()
                guard let name = string(), names.insert(name).inserted else { return false }
                if foundationKeys, !keys.insert(String(decoding: name, as: UTF8.self)).inserted { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard value(depth: depth) else { return false }
                skipSpace()
                if take(UInt8(ascii: "}")) { return true }
                guard take(UInt8(ascii: ",")) else { return false }
            }
        }

        mutating func array(depth: Int) -> Bool {
            guard depth <= StrictJSON.maximumDepth, take(UInt8(ascii: "[")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard value(depth: depth) else { return false }
                skipSpace()
                if take(UInt8(ascii: "]")) { return true }
                guard take(UInt8(ascii: ",")) else { return false }
            }
        }

        /// A string's decoded value, as UTF-8 bytes; nil if malformed.
        mutating func string() -> [UInt8]? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while let b = current {
                i += 1
                switch b {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self) == nil ? nil : out
                case UInt8(ascii: "\\"):
                    guard let e = current else { return nil }
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0c)
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var code = hex4() else { return nil }
                        if (0xd800...0xdbff).contains(code) {
                            guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xdc00...0xdfff).contains(low) else { return nil }
                            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
                        } else if (0xdc00...0xdfff).contains(code) {
                            return nil
                        }
                        guard let scalar = Unicode.Scalar(code) else { return nil }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        return nil
                    }
                case 0x00..<0x20:
                    return nil
                default:
                    out.append(b)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[i]
                let digit: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
                default: return nil
                }
                code = code << 4 | UInt32(digit)
                i += 1
            }
            return code
        }

        mutating func literal(_ word: String) -> Bool {
            for b in word.utf8 { guard take(b) else { return false } }
            return true
        }

        /// `-? (0 / [1-9] DIGIT*) ("." DIGIT+)? ([eE] [+-]? DIGIT+)?`
        mutating func number() -> Bool {
            _ = take(UInt8(ascii: "-"))
            if !take(UInt8(ascii: "0")) {
                guard digits() else { return false }
            }
            if take(UInt8(ascii: ".")) { guard digits() else { return false } }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits() else { return false }
            }
            return true
        }

        /// One or more digits.
        mutating func digits() -> Bool {
            let start = i
            while let b = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) { i += 1 }
            return i > start
        }
    }
}
