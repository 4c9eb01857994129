import DossierCrypto
import Foundation

/// The one folding of search (docs/staff-guide.md, "How search compares text"): a query word
/// matches where its folded form occurs in the folded metadata. Folding works scalar by
/// scalar; the folded form of a text is the folded forms of its Unicode scalars, one after
/// another. The folded form of one scalar `c`:
///
/// 1. its compatibility decomposition (NFKD): width variants become their usual forms
///    (`Ａ` → `A`, half-width `ｶ` → `カ`), ligatures and presentation forms their letters,
///    precomposed letters a base letter and combining marks (`é` → `e` + U+0301);
/// 2. each scalar of that lowered by its Unicode lowercase mapping (`Ё` → `ё`, `İ` → `i̇`),
///    and the result decomposed again (NFKD);
/// 3. every scalar whose canonical combining class is not 0 dropped (accents, the Cyrillic
///    breve and diaeresis, the dakuten, Arabic harakat), and also the Arabic marks U+064B–U+065F
///    and U+0670 and the tatweel U+0640;
/// 4. the alef wasla U+0671 `ٱ` made U+0627 `ا` (the other alef forms, `أ إ آ`, are `ا` by 1 and 3).
///
/// ASCII folds to ASCII by lowering A–Z alone, so ASCII text needs none of this (the matcher's
/// shortcut). Folding a folded text changes nothing (tests check every scalar).
public enum SearchFolding {
    /// The folded form of `text`.
    public static func fold(_ text: String) -> String {
        String(decoding: foldedBytes(text), as: UTF8.self)
    }

    /// The folded form of `text`, as UTF-8.
    static func foldedBytes(_ text: String) -> [UInt8] {
        var folds = ScalarFolds(), text = text
        return text.withUTF8 { folds.fold($0) }
    }

    /// The folded form of one scalar, by the rule above, ASCII included (uncached: `ScalarFolds`
    /// keeps them, and lowers ASCII itself).
    static func fold(_ c: Unicode.Scalar) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for d in String(c).decomposedStringWithCompatibilityMapping.unicodeScalars {
            for l in d.properties.lowercaseMapping.decomposedStringWithCompatibilityMapping.unicodeScalars where !dropped(l) {
                out.append(l == "\u{0671}" ? "\u{0627}" : l)
            }
        }
        return out
    }

    /// Step 3: combining marks, the Arabic short vowels and other marks, the tatweel.
    static func dropped(_ s: Unicode.Scalar) -> Bool {
        s.properties.canonicalCombiningClass != .notReordered
            || (0x064b...0x065f).contains(s.value) || s.value == 0x0670 || s.value == 0x0640
    }
}

/// The folded forms of the scalars one search has met, each worked out once (most searches
/// meet a few hundred distinct scalars; a Chinese catalogue a few thousand). One per core.
/// What it holds tells which characters the titles use: `wipe` zeroes it with the haystack.
struct ScalarFolds {
    /// For scalars below U+10000: 0 if not yet known, else `known | offset << 7 | length`
    /// of the folded UTF-8 in `pool`.
    private var bmp: [UInt32] = []
    private var others: [UInt32: UInt32] = [:]
    private var pool: [UInt8] = []
    private static let known: UInt32 = 1 << 31

    /// No scalar's folded form is longer than this many bytes per byte of its UTF-8 (the
    /// longest, U+FDFA's, is 11 times; tests check every scalar).
    static let maximumGrowth = 16

    /// Writes the folded UTF-8 of `text` to `out`, which has room for `maximumGrowth` bytes per
    /// byte of `text`, and returns how many bytes it wrote. `text` is UTF-8; a malformed
    /// sequence folds as U+FFFD.
    mutating func fold(_ text: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0, i = 0
        while i < text.count {
            let b = text[i]
            if b < 0x80 {
                out[n] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b
                n += 1
                i += 1
                continue
            }
            let (scalar, width) = Self.decode(text, at: i)
            i += width
            let e = entry(scalar)
            let offset = Int(e & ~Self.known) >> 7, length = Int(e & 0x7f)
            if length > 0 {
                pool.withUnsafeBufferPointer { p in (out + n).update(from: p.baseAddress! + offset, count: length) }
                n += length
            }
        }
        return n
    }

    /// `fold(_:to:)` into an array (the query's words, tests).
    mutating func fold(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: text.count * Self.maximumGrowth) { out, count in
            count = text.isEmpty ? 0 : fold(text, to: out.baseAddress!)
        }
    }

    /// The scalar that starts at `i` (not ASCII) and its length in bytes; U+FFFD and 1 if the
    /// bytes there are not UTF-8.
    private static func decode(_ t: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int) {
        let b = t[i]
        let count = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0
        guard count > 0, i + count <= t.count else { return ("\u{fffd}", 1) }
        var v = UInt32(b) & (count == 2 ? 0x1f : count == 3 ? 0x0f : 0x07)
        for k in 1..<count {
            let c = t[i + k]
            guard c & 0xc0 == 0x80 else { return ("\u{fffd}", 1) }
            v = v << 6 | UInt32(c & 0x3f)
        }
        let minimum: UInt32 = count == 2 ? 0x80 : count == 3 ? 0x800 : 0x10000
        guard v >= minimum, let s = Unicode.Scalar(v) else { return ("\u{fffd}", 1) }
        return (s, count)
    }

    private mutating func entry(_ s: Unicode.Scalar) -> UInt32 {
        if s.value < 0x10000 {
            if bmp.isEmpty { bmp = [UInt32](repeating: 0, count: 0x10000) }
            let e = bmp[Int(s.value)]
            if e != 0 { return e }
            let made = make(s)
            bmp[Int(s.value)] = made
            return made
        }
        if let e = others[s.value] { return e }
        let made = make(s)
        others[s.value] = made
        return made
    }

    private mutating func make(_ s: Unicode.Scalar) -> UInt32 {
        let offset = pool.count
        for f in SearchFolding.fold(s) { pool.append(contentsOf: UTF8.encode(f)!) }
        precondition(pool.count - offset <= Self.maximumGrowth * UTF8.width(s) && offset < 1 << 24)
        return Self.known | UInt32(offset) << 7 | UInt32(pool.count - offset)
    }

    /// Zeroes what it has kept.
    mutating func wipe() {
        pool.withUnsafeMutableBytes { secureZero($0) }
        bmp.withUnsafeMutableBytes { secureZero($0) }
        pool.removeAll(keepingCapacity: true)
        others.removeAll()
    }
}
