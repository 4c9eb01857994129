internal import CSodium

/// One-time libsodium initialisation; every entry point of this module goes through it.
enum Sodium {
    /// `sodium_init()` is thread-safe and idempotent; the result is cached.
    static let isReady: Bool = sodium_init() >= 0

    /// Throws when libsodium could not initialise (no entropy source, for example).
    static func ensureReady() throws(CryptoError) {
        guard isReady else { throw .initializationFailed }
    }
}

/// A few zero bytes to point at when a buffer is empty: libsodium's pointer parameters are
/// non-null even for zero-length input.
nonisolated(unsafe) private let emptyBytes: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
    p.initialize(repeating: 0, count: 16)
    return p
}()

extension UnsafeRawBufferPointer {
    /// The bytes as `UInt8`, never null.
    var u8: UnsafePointer<UInt8> {
        baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(emptyBytes)
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The bytes as `UInt8`, never null.
    var u8: UnsafeMutablePointer<UInt8> {
        baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? emptyBytes
    }
}
