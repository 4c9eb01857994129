internal import CSodium
import Foundation

/// Where random bytes come from. Injected so that tests and vectors can be reproduced.
public protocol RandomSource: Sendable {
    /// Fills `buffer` with random bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    /// `count` random bytes as ordinary (non-secret) data: nonces, salts, ids.
    public func bytes(_ count: Int) -> Data {
        var d = Data(count: count)
        d.withUnsafeMutableBytes { fill($0) }
        return d
    }
}

/// The operating system's CSPRNG through libsodium's `randombytes_buf`.
public struct SystemRandom: RandomSource {
    public init() {}
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        _ = Sodium.isReady
        randombytes_buf(base, buffer.count)
    }
}

/// A reproducible stream from `randombytes_buf_deterministic`: for tests and vectors only,
/// never for real keys.
public final class DeterministicRandom: RandomSource, @unchecked Sendable {
    private let seed: [UInt8]
    private var counter: UInt64 = 0
    private let lock = NSLock()

    /// `seed` is stretched to libsodium's 32-byte seed by BLAKE2b.
    public init(seed: String) {
        self.seed = Array(Hash.blake2b(Data(seed.utf8), length: 32))
    }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        lock.lock(); defer { lock.unlock() }
        // Each call gets its own sub-seed so that successive calls differ.
        var material = seed
        withUnsafeBytes(of: counter.bigEndian) { material.append(contentsOf: $0) }
        counter += 1
        let sub = Array(Hash.blake2b(Data(material), length: 32))
        sub.withUnsafeBufferPointer { s in
            randombytes_buf_deterministic(base, buffer.count, s.baseAddress!)
        }
    }
}
