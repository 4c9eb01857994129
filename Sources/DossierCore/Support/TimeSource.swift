import Foundation

/// Where the current time comes from. Injected so that tests can fix it.
public protocol TimeSource: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's clock.
public struct SystemClock: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that always says the same time (tests, vectors).
public struct FixedClock: TimeSource {
    public let date: Date
    public init(_ date: Date) { self.date = date }
    public func now() -> Date { date }
}

/// UTC timestamps as written in logs and manifests: RFC 3339, millisecond precision, `Z`.
public enum Timestamp {
    /// Formats `date` as `2026-11-29T03:40:43.123Z`.
    public static func format(_ date: Date) -> String {
        // Round to the microsecond first: a Double of seconds is often a hair below a whole
        // millisecond (0.002 is 0.00199999…), and rounding that down would lose one.
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let ms = Int64((micros / 1000).rounded(.down))
        let seconds = ms / 1000 - (ms % 1000 < 0 ? 1 : 0)
        let millis = ((ms % 1000) + 1000) % 1000
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis))
    }

    /// Parses a time a person typed: RFC 3339 `date-time` (section 5.6), with or without a
    /// fraction of a second, and `Z` or a numeric offset (`2026-12-04T23:00:49Z`,
    /// `2026-12-04T23:00:49.5+01:00`); `T` and `Z` in either case. A fraction finer than a
    /// millisecond is cut to the millisecond, as times are stored. A leap second (`:60`) is
    /// refused. Stored and signed times are read with `parse`, which accepts one form only.
    public static func parseRFC3339(_ text: some StringProtocol) -> Date? {
        let s = Array(text.utf8)
        guard s.count >= 20, s[4] == 45, s[7] == 45, s[10] == 84 || s[10] == 116, s[13] == 58, s[16] == 58 else { return nil }
        func digit(_ i: Int) -> Int? { i < s.count && (48...57).contains(s[i]) ? Int(s[i] - 48) : nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard let d = digit(i) else { return nil }; v = v * 10 + d }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let se = num(17..<19) else { return nil }
        var i = 19
        var millis = 0
        if s[i] == 46 {
            i += 1
            let start = i
            while let d = digit(i) {
                if i - start < 3 { millis = millis * 10 + d }
                i += 1
            }
            guard i > start else { return nil }
            for _ in 0..<max(0, 3 - (i - start)) { millis *= 10 }
        }
        guard i < s.count else { return nil }
        var offset = 0
        if s[i] == 90 || s[i] == 122 {
            i += 1
        } else if s[i] == 43 || s[i] == 45 {
            guard i + 6 == s.count, s[i + 3] == 58, let oh = num(i + 1..<i + 3), let om = num(i + 4..<i + 6), oh < 24, om < 60 else { return nil }
            offset = (s[i] == 43 ? 1 : -1) * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == s.count, (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 60 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900); parts.tm_mon = Int32(mo - 1); parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h); parts.tm_min = Int32(mi); parts.tm_sec = Int32(se)
        let t = timegm(&parts)
        // Refuse dates that timegm normalised (31 February and the like).
        guard parts.tm_mday == Int32(d), parts.tm_mon == Int32(mo - 1) else { return nil }
        return Date(timeIntervalSince1970: Double(Int(t) - offset) + Double(millis) / 1000)
    }

    /// Parses exactly the form `format` writes; nil otherwise.
    public static func parse(_ text: some StringProtocol) -> Date? {
        let s = Array(text.utf8)
        guard s.count == 24, s[4] == 45, s[7] == 45, s[10] == 84, s[13] == 58, s[16] == 58,
              s[19] == 46, s[23] == 90 else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard s[i] >= 48 && s[i] <= 57 else { return nil }
                v = v * 10 + Int(s[i] - 48)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let se = num(17..<19), let ms = num(20..<23),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 60 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900); parts.tm_mon = Int32(mo - 1); parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h); parts.tm_min = Int32(mi); parts.tm_sec = Int32(se)
        let t = timegm(&parts)
        let date = Date(timeIntervalSince1970: Double(t) + Double(ms) / 1000)
        // Reject dates that timegm normalised (31 February and the like).
        return format(date) == String(text) ? date : nil
    }
}
