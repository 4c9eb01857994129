internal import CSodium
import Foundation

/// XChaCha20-Poly1305 (IETF) for small secrets and metadata under a 32-byte key.
/// Sealed form: 24-byte random nonce ‖ ciphertext ‖ 16-byte tag.
public enum AEAD {
    public static let keyBytes = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    public static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    public static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

    /// Encrypts `plaintext`, binding `additionalData`. The nonce comes from `random`.
    public static func seal<P: ContiguousBytes>(
        _ plaintext: P, key: SecureBytes, additionalData: Data = Data(),
        random: any RandomSource = SystemRandom()
    ) throws(CryptoError) -> Data {
        try Sodium.ensureReady()
        guard key.count == keyBytes else { throw .invalidLength(what: "AEAD key", expected: keyBytes, actual: key.count) }
        let nonce = random.bytes(nonceBytes)
        return plaintext.withUnsafeBytes { p in
            var out = Data(count: nonceBytes + p.count + tagBytes)
            out.withUnsafeMutableBytes { o in
                let ob = o.u8
                nonce.withUnsafeBytes { ob.update(from: $0.u8, count: nonceBytes) }
                key.withUnsafeBytes { k in
                    additionalData.withUnsafeBytes { ad in
                        var clen: UInt64 = 0
                        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                            ob + nonceBytes, &clen,
                            p.u8, UInt64(p.count),
                            ad.u8, UInt64(ad.count),
                            nil, ob, k.u8)
                    }
                }
            }
            return out
        }
    }

    /// Decrypts a value made by `seal` into `out` (exactly `sealed.count − 40` bytes); false if
    /// it does not authenticate. For many small values (a catalogue listing): no guarded
    /// allocation per value. The caller wipes `out` when done.
    public static func open(_ sealed: UnsafeRawBufferPointer, key: SecureBytes, additionalData: UnsafeRawBufferPointer,
                            into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard Sodium.isReady, key.count == keyBytes, sealed.count >= nonceBytes + tagBytes,
              out.count == sealed.count - nonceBytes - tagBytes else { return false }
        return key.withUnsafeBytes { k in
            var mlen: UInt64 = 0
            return crypto_aead_xchacha20poly1305_ietf_decrypt(
                out.u8, &mlen, nil,
                sealed.u8 + nonceBytes, UInt64(sealed.count - nonceBytes),
                additionalData.u8, UInt64(additionalData.count),
                sealed.u8, k.u8) == 0
        }
    }

    /// Decrypts a value made by `seal`; the plaintext is returned in guarded memory.
    public static func open(_ sealed: Data, key: SecureBytes, additionalData: Data = Data()) throws(CryptoError) -> SecureBytes {
        try Sodium.ensureReady()
        guard key.count == keyBytes else { throw .invalidLength(what: "AEAD key", expected: keyBytes, actual: key.count) }
        guard sealed.count >= nonceBytes + tagBytes else { throw .authenticationFailed }
        let plainCount = sealed.count - nonceBytes - tagBytes
        var ok = false
        let result = SecureBytes(count: plainCount) { dst in
            sealed.withUnsafeBytes { s in
                let sb = s.u8
                key.withUnsafeBytes { k in
                    additionalData.withUnsafeBytes { ad in
                        var mlen: UInt64 = 0
                        ok = crypto_aead_xchacha20poly1305_ietf_decrypt(
                            dst.u8,
                            &mlen, nil,
                            sb + nonceBytes, UInt64(sealed.count - nonceBytes),
                            ad.u8, UInt64(ad.count),
                            sb, k.u8) == 0
                    }
                }
            }
        }
        guard ok else { throw .authenticationFailed }
        return result
    }
}
