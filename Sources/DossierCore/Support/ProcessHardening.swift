import Foundation

/// Process-wide protections applied before any secret is handled.
public enum ProcessHardening {
    /// Sets the core-file size limit to zero, so that a crash cannot write keys or plaintext to disk.
    public static func disableCoreDumps() {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        #if os(Linux)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        #else
        _ = setrlimit(RLIMIT_CORE, &limit)
        #endif
    }

    /// Makes every file this process creates private to the user unless it says otherwise.
    public static func restrictFileCreationMask() {
        umask(0o077)
    }

    /// The current soft core-file limit (for tests).
    public static func coreDumpLimit() -> UInt64 {
        var limit = rlimit()
        #if os(Linux)
        _ = getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        #else
        _ = getrlimit(RLIMIT_CORE, &limit)
        #endif
        return UInt64(limit.rlim_cur)
    }
}
