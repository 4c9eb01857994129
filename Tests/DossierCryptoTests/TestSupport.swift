import DossierCrypto
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

// Helpers shared by the DossierCrypto tests: hex, the fixed plaintext pattern, assertions on
// typed errors, and STREAM in memory.

extension Data {
    /// Parses hex digits (whitespace between them is ignored); nil if anything else is present.
    init?(hex: String) {
        var bytes = [UInt8]()
        var high: UInt8?
        for scalar in hex.unicodeScalars where !CharacterSet.whitespacesAndNewlines.contains(scalar) {
            guard let nibble = UInt8(String(scalar), radix: 16) else { return nil }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil else { return nil }
        self.init(bytes)
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }

    /// A copy with bit `bit` of byte `offset` inverted.
    func flippingBit(at offset: Int, bit: Int = 0) -> Data {
        var copy = self
        copy[copy.startIndex + offset] ^= UInt8(1) << UInt8(bit)
        return copy
    }
}

/// The plaintext every STREAM test and vector uses: byte i = i % 251 (a prime, so chunk
/// boundaries never line up with the pattern). generate.py states the same rule.
func pattern(_ count: Int) -> Data {
    Data((0..<count).map { UInt8($0 % 251) })
}

let chunk = ContentStream.chunkSize
let sealedChunk = ContentStream.chunkSize + ContentStream.tagBytes

/// A fixed 32-byte key, different for each label.
func fixedKey(_ label: String) -> SecureBytes {
    SecureBytes(copying: Hash.blake2b(Data(label.utf8), length: 32))
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(
    _ expected: CryptoError, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws(CryptoError) -> T
) {
    do {
        _ = try body()
        XCTFail("expected \(expected), but it succeeded", file: file, line: line)
    } catch {
        XCTAssertEqual(error, expected, file: file, line: line)
    }
}

/// Asserts that `body` throws an error for which `matches` holds (for cases whose message is free text).
func assertThrows<T>(
    _ what: String, file: StaticString = #filePath, line: UInt = #line,
    matching matches: (CryptoError) -> Bool, _ body: () throws(CryptoError) -> T
) {
    do {
        _ = try body()
        XCTFail("expected \(what), but it succeeded", file: file, line: line)
    } catch {
        XCTAssertTrue(matches(error), "expected \(what), got \(error)", file: file, line: line)
    }
}

func isStreamMalformed(_ error: CryptoError) -> Bool {
    if case .streamMalformed = error { return true }
    return false
}

func isInvalidParameters(_ error: CryptoError) -> Bool {
    if case .invalidKeyDerivationParameters = error { return true }
    return false
}

/// STREAM-encrypts bytes in memory.
func streamEncrypt(_ plaintext: Data, key: SecureBytes) throws(CryptoError) -> Data {
    var source = DataSource(plaintext)
    var sink = DataSink()
    let count = try ContentStream.encrypt(key: key, from: &source, to: &sink)
    XCTAssertEqual(count, UInt64(plaintext.count))
    return sink.data
}

/// STREAM-decrypts bytes in memory.
func streamDecrypt(_ ciphertext: Data, key: SecureBytes) throws(CryptoError) -> Data {
    var source = DataSource(ciphertext)
    var sink = DataSink()
    let count = try ContentStream.decrypt(key: key, from: &source, to: &sink)
    XCTAssertEqual(count, UInt64(sink.data.count))
    return sink.data
}

/// Decrypts and reports both the outcome and what reached the sink before it.
func streamDecryptCapturing(_ ciphertext: Data, key: SecureBytes) -> (error: CryptoError?, written: Data) {
    var source = DataSource(ciphertext)
    var sink = DataSink()
    do {
        try ContentStream.decrypt(key: key, from: &source, to: &sink)
        return (nil, sink.data)
    } catch {
        return (error, sink.data)
    }
}

/// The sealed chunks of a STREAM ciphertext (every chunk but the last is full).
func sealedChunks(_ ciphertext: Data) -> [Data] {
    stride(from: 0, to: ciphertext.count, by: sealedChunk).map {
        Data(ciphertext[$0..<min($0 + sealedChunk, ciphertext.count)])
    }
}

#if canImport(Glibc)
/// How a forked child ended.
enum ChildEnd: Equatable {
    case exited(Int32)
    case signalled(Int32)
}

/// Runs `body` in a forked child, for behaviour that may end a process (preconditions, memory
/// errors) and so cannot run in the test process. The child's result is its exit status.
func runInChild(_ body: () -> Int32) -> ChildEnd {
    fflush(nil)
    let pid = fork()
    if pid == 0 {
        // A crash here is an expected outcome: leave no core file in the working tree.
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        // Nor pages of crash report in the test log.
        let devNull = open("/dev/null", O_WRONLY)
        dup2(devNull, STDOUT_FILENO)
        dup2(devNull, STDERR_FILENO)
        _exit(body())
    }
    precondition(pid > 0, "fork failed")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
    let signal = status & 0x7f
    return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
}
#endif
