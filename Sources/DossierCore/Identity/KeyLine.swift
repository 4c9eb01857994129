import DossierCrypto
import Foundation

/// The one-line form of a 32-byte public key with a checksum, shared by the organisation key
/// (`dossierorg1…`, vault.md section 4) and the intake key (`dossierintake1…`, request.md):
/// `prefix` + lowercase base32 of key ‖ first 4 bytes of BLAKE2b-256(prefix ‖ key).
enum KeyLine {
    static func encode(prefix: String, _ key: Data) -> String { prefix + Base32.encode(key + checksum(prefix: prefix, key)) }

    static func checksum(prefix: String, _ key: Data) -> Data { Hash.blake2b(Data(prefix.utf8) + key, length: 32).prefix(4) }

    /// The key of a line that starts with `prefix` (white space around it ignored), or why not.
    /// The caller has checked the prefix.
    static func decode(prefix: String, _ text: String) -> Result<Data, SecretFileBody.Reason> {
        guard let bytes = Base32.decode(text.dropFirst(prefix.count)), bytes.count == 36 else {
            return .failure(.init("wrong length or a character outside a–z, 2–7"))
        }
        let key = Data(bytes.prefix(32))
        guard checksum(prefix: prefix, key) == bytes.suffix(4) else {
            return .failure(.init("its checksum does not match: a character was mistyped or changed"))
        }
        return .success(key)
    }
}
