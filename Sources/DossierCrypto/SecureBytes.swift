internal import CSodium
import Foundation

/// Secret bytes in guarded memory (`sodium_malloc`): not swapped where the OS allows,
/// zeroed and freed when the last reference goes. Never prints its content.
public final class SecureBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // Invariant: `pointer` holds `count` bytes; content is only written during initialisation,
    // which is why sharing across threads is safe.
    private let pointer: UnsafeMutableRawPointer
    /// Number of secret bytes.
    public let count: Int

    /// Allocates `count` zeroed bytes and lets `fill` write them.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void = { _ in }) rethrows {
        precondition(count >= 0, "SecureBytes count must not be negative")
        guard Sodium.isReady, let p = sodium_malloc(max(count, 1)) else {
            // Out of guarded memory or no libsodium: there is no safe way to continue holding secrets.
            preconditionFailure("sodium_malloc failed: out of memory for secrets")
        }
        sodium_memzero(p, max(count, 1))
        // Fill before the stored properties are set: if `fill` throws, the object never
        // existed, so deinit does not run and the memory is freed exactly once, here.
        do {
            try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            sodium_memzero(p, max(count, 1))
            sodium_free(p)
            throw error
        }
        pointer = p
        self.count = count
    }

    /// Copies `bytes` into guarded memory. The caller remains responsible for wiping its copy.
    public convenience init<B: ContiguousBytes>(copying bytes: B) {
        let n = bytes.withUnsafeBytes { $0.count }
        self.init(count: n) { dst in
            bytes.withUnsafeBytes { src in
                if let base = src.baseAddress, n > 0 { dst.baseAddress!.copyMemory(from: base, byteCount: n) }
            }
        }
    }

    /// `count` bytes from the given random source.
    public convenience init(randomCount count: Int, using random: any RandomSource = SystemRandom()) {
        self.init(count: count) { random.fill($0) }
    }

    deinit {
        sodium_memzero(pointer, max(count, 1))
        sodium_free(pointer)
    }

    /// Read access to the secret.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// A new SecureBytes holding `range` of this one.
    public func slice(_ range: Range<Int>) -> SecureBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "SecureBytes slice out of range")
        return SecureBytes(count: range.count) { dst in
            if range.count > 0 { dst.baseAddress!.copyMemory(from: pointer + range.lowerBound, byteCount: range.count) }
        }
    }

    /// Concatenation, in guarded memory.
    public static func concatenate(_ parts: [SecureBytes]) -> SecureBytes {
        let total = parts.reduce(0) { $0 + $1.count }
        return SecureBytes(count: total) { dst in
            var offset = 0
            for part in parts where part.count > 0 {
                (dst.baseAddress! + offset).copyMemory(from: part.pointer, byteCount: part.count)
                offset += part.count
            }
        }
    }

    /// The byte-wise exclusive or of two secrets of the same length, in guarded memory: the
    /// combination of a two-of-two secret split (each share alone is uniformly random).
    public static func xor(_ a: SecureBytes, _ b: SecureBytes) -> SecureBytes {
        precondition(a.count == b.count, "SecureBytes.xor needs equal lengths")
        return SecureBytes(count: a.count) { dst in
            for i in 0..<a.count { dst[i] = a.pointer.load(fromByteOffset: i, as: UInt8.self) ^ b.pointer.load(fromByteOffset: i, as: UInt8.self) }
        }
    }

    /// Constant-time comparison.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        if count == 0 { return true }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }

    /// Copies the secret out into an ordinary `Data`. Use only where an API needs it and the
    /// copy is short-lived (for example text that is shown to the staff member who asked).
    public func unsafeCopyToData() -> Data {
        Data(bytes: pointer, count: count)
    }

    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}

/// Overwrites a buffer with zeros in a way the optimiser cannot remove.
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    sodium_memzero(base, buffer.count)
}

/// Overwrites the bytes of a `Data` value in place.
public func secureZero(_ data: inout Data) {
    data.withUnsafeMutableBytes { secureZero($0) }
}
