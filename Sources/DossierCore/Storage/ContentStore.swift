import DossierCrypto
import Foundation

/// The documents' encrypted content, one object per document id. Content is encrypted on its
/// way in (`ContentStream`, under the document's own key) and stays encrypted at rest.
///
/// Order of writes, the rule every implementation keeps: `write` stores an object that no
/// catalogue row names yet; `makeDurable` makes it survive a power loss; only then does the
/// transaction that names it commit. A crash in between leaves at worst an orphan object,
/// which `doctor` lists (`inventory`) and removes, never a row without its content.
///
/// The folder implementation is `BlobStore`; reading hands out a file descriptor, which is
/// what the folder has (a database backend would hand out a byte source instead).
protocol ContentStore: Sendable {
    /// Encrypts everything readable from `fd` into the object for `id`; returns the
    /// plaintext's size and BLAKE2b-256. Not yet durable. `progress` hears of each batch read.
    func write(id: String, key: SecureBytes, from fd: Int32, sourcePath: String,
               progress: ProgressMeter?) throws(DossierError) -> (size: UInt64, hash: Data)
    /// Keeps a request file as received, byte for byte (it is already sealed to the intake key),
    /// as the object for the request id `id`; returns its size and SHA-256. Fails with
    /// `fileExists` if there is already an object for `id`. Not yet durable: `makeDurable`.
    func writeRequest(id: String, from fd: Int32, sourcePath: String) throws(DossierError) -> (size: UInt64, sha256: Data)
    /// A seekable, read-only file descriptor holding the request file kept for `id`, at offset 0.
    func openRequest(id: String) throws(DossierError) -> Int32
    /// Stores the ciphertext read from `source` (another store's object, from its
    /// `openForReading`) as the object for `id`, exactly as it is: no key, no decryption
    /// (`vault copy`). Returns the bytes of ciphertext stored. Not yet durable: the same order
    /// of writes as `write`. Memory holds one buffer, whatever the object's size.
    func writeCiphertext<S: ByteSource>(id: String, from source: inout S) throws(DossierError) -> UInt64
    /// Makes the objects written by `write` durable, before a row names them.
    func makeDurable(ids: [String]) throws(DossierError)
    /// Opens an object for reading, positioned at its ciphertext.
    func openForReading(id: String) throws(DossierError) -> Int32
    /// The stored size of an object, or nil if absent.
    func storedSize(id: String) -> UInt64?
    /// The stored size of the object for a plaintext of `size` bytes.
    func expectedSize(plaintextSize size: UInt64) -> UInt64
    func remove(id: String)
    /// Every object (id → where it is) and every leftover of an interrupted write.
    func inventory() -> (objects: [String: String], leftovers: [String])
    /// Deletes a leftover or orphan named by `inventory`; true if it is gone.
    func delete(leftover: String) -> Bool
}

/// Copies bytes from a source to a sink through one buffer of `ContentCopy.bufferBytes`.
enum ContentCopy {
    static let bufferBytes = 1 << 20

    /// Where a copy failed: reading, or writing.
    enum Failure: Error {
        case read(CryptoError)
        case write(CryptoError)
    }

    /// Copies everything `source` holds into `sink`; returns the count.
    static func pump<S: ByteSource, K: ByteSink>(from source: inout S, to sink: inout K) throws(Failure) -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        while true {
            let n: Int
            do { n = try source.read(into: buffer) } catch { throw .read(error) }
            if n > 0 {
                do { try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) } catch { throw .write(error) }
                total += UInt64(n)
            }
            if n < buffer.count { return total }
        }
    }
}
