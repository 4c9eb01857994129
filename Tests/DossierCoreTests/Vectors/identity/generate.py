#!/usr/bin/env python3
"""Generates the identity test vectors (docs/formats/identity.md) in this folder.

Run from anywhere:  python3 Tests/DossierCoreTests/Vectors/identity/generate.py

Everything here is built independently of the Swift code, from the specification alone:
X25519 and Ed25519 from the `cryptography` package, BLAKE2b from `hashlib`, Argon2id from
`cryptography`, and XChaCha20-Poly1305 as HChaCha20 (written out below, checked against the
draft-irtf-cfrg-xchacha test vector) followed by `cryptography`'s ChaCha20-Poly1305.

The salt and nonce of passphrase-protected files are drawn from a reimplementation of
DossierCrypto's DeterministicRandom (libsodium's randombytes_buf_deterministic under
BLAKE2b-derived sub-seeds), so that the Swift test can ask the Swift writer for the same file
and compare byte for byte. They are also written in each vector's header, for other readers.

One case per file, in the style of the age test corpus:

    expect: success | failure: <keyword>
    comment: what the case tests
    kind: secret-file | public-line
    <other name: value lines (keys in hex, passphrase, expected public line, fingerprint)>
    <blank line>
    <the bytes: a whole secret identity file, or the text given as a public line>

Failure keywords (the rule of the specification that the input breaks):
    secret files: marker, lines, base64, magic, version, protection, length, parameters,
                  mismatch, wrong-passphrase
    public lines: prefix, secret-file, encoding, length, checksum

Vector files have no extension; this generator deletes and rewrites all of them.
"""

import base64
import hashlib
import os
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

HERE = os.path.dirname(os.path.abspath(__file__))

MARKER = b"DOSSIER-SECRET-KEY-1"
PUBLIC_PREFIX = "dossier1"
B32 = "abcdefghijklmnopqrstuvwxyz234567"


# --- primitives ----------------------------------------------------------------------------

def blake2b256(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def raw(key) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def x25519_from_seed(seed: bytes):
    """libsodium's crypto_box_seed_keypair: secret = first 32 bytes of SHA-512(seed), stored
    unclamped; the public key is the base-point multiple of the (clamped) secret."""
    secret = hashlib.sha512(seed).digest()[:32]
    public = raw(X25519PrivateKey.from_private_bytes(secret).public_key())
    return secret, public


def ed25519_from_seed(seed: bytes) -> bytes:
    return raw(Ed25519PrivateKey.from_private_bytes(seed).public_key())


def chacha20_keystream(key: bytes, nonce12: bytes, length: int, counter: int = 0) -> bytes:
    enc = Cipher(algorithms.ChaCha20(key, struct.pack("<I", counter) + nonce12), mode=None).encryptor()
    return enc.update(bytes(length))


def _rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 7)


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    s = list(struct.unpack("<4I", b"expand 32-byte k") + struct.unpack("<8I", key) + struct.unpack("<4I", nonce16))
    for _ in range(10):
        _quarter(s, 0, 4, 8, 12); _quarter(s, 1, 5, 9, 13); _quarter(s, 2, 6, 10, 14); _quarter(s, 3, 7, 11, 15)
        _quarter(s, 0, 5, 10, 15); _quarter(s, 1, 6, 11, 12); _quarter(s, 2, 7, 8, 13); _quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha20poly1305_seal(key: bytes, nonce24: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """crypto_aead_xchacha20poly1305_ietf_encrypt: ciphertext ‖ tag (without the nonce)."""
    subkey = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(subkey).encrypt(b"\0\0\0\0" + nonce24[16:], plaintext, aad)


def argon2id(passphrase: bytes, salt: bytes, ops: int, mem_kib: int) -> bytes:
    """crypto_pwhash(..., ALG_ARGON2ID13): Argon2id v1.3, one lane, 32-byte output."""
    return Argon2id(salt=salt, length=32, iterations=ops, lanes=1, memory_cost=mem_kib).derive(passphrase)


class DeterministicRandom:
    """DossierCrypto.DeterministicRandom: seed32 = BLAKE2b-256(seed text); call k (from 0)
    yields the ChaCha20-IETF keystream under BLAKE2b-256(seed32 ‖ k as 8 bytes big-endian)
    with the nonce "LibsodiumDRG" (libsodium's randombytes_buf_deterministic)."""

    def __init__(self, seed: str):
        self.seed = blake2b256(seed.encode())
        self.counter = 0

    def bytes(self, n: int) -> bytes:
        sub = blake2b256(self.seed + struct.pack(">Q", self.counter))
        self.counter += 1
        return chacha20_keystream(sub, b"LibsodiumDRG", n)


def self_test():
    # draft-irtf-cfrg-xchacha-03, section 2.2.1.
    k = bytes(range(32))
    n = bytes.fromhex("000000090000004a0000000031415927")
    assert hchacha20(k, n).hex() == "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    # draft-irtf-cfrg-xchacha-03, appendix A.3.1 (AEAD_XChaCha20_Poly1305).
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
          b"sunscreen would be it.")
    aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    key = bytes(range(0x80, 0xA0))
    nonce = bytes(range(0x40, 0x58))
    ct = xchacha20poly1305_seal(key, nonce, pt, aad)
    assert ct[-16:].hex() == "c0875924c1c7987947deafd8780acf49", ct[-16:].hex()
    assert ct[:16].hex() == "bd6d179d3e83d43b9576579493c0e939"
    # RFC 4648 base32 examples, lowercased, without padding.
    for plain, enc in [(b"", ""), (b"f", "my"), (b"fo", "mzxq"), (b"foo", "mzxw6"), (b"foob", "mzxw6yq"),
                       (b"fooba", "mzxw6ytb"), (b"foobar", "mzxw6ytboi")]:
        assert b32(plain) == enc


# --- Dossier formats -----------------------------------------------------------------------

def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def public_line(x_pk: bytes, ed_pk: bytes) -> str:
    keys = x_pk + ed_pk
    checksum = blake2b256(PUBLIC_PREFIX.encode() + keys)[:4]
    return PUBLIC_PREFIX + b32(keys + checksum)


def fingerprint(x_pk: bytes, ed_pk: bytes) -> str:
    digest = blake2b256(b"dossier-fingerprint/identity\n" + x_pk + ed_pk)
    code = base64.b32encode(digest[:10]).decode()  # 80 bits: 16 characters, no padding
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def file_text(body: bytes) -> bytes:
    return MARKER + b"\n" + base64.b64encode(body) + b"\n"


class Identity:
    def __init__(self, name: str):
        self.x_seed = blake2b256(f"dossier identity vector {name} x25519".encode())
        self.ed_seed = blake2b256(f"dossier identity vector {name} ed25519".encode())
        self.x_sk, self.x_pk = x25519_from_seed(self.x_seed)
        self.ed_pk = ed25519_from_seed(self.ed_seed)

    def key_headers(self):
        return [
            ("x25519-seed", self.x_seed.hex()),
            ("x25519-secret", self.x_sk.hex()),
            ("x25519-public", self.x_pk.hex()),
            ("ed25519-seed", self.ed_seed.hex()),
            ("ed25519-public", self.ed_pk.hex()),
            ("public", public_line(self.x_pk, self.ed_pk)),
            ("fingerprint", fingerprint(self.x_pk, self.ed_pk)),
        ]

    def unprotected_body(self, magic=b"DSK", version=1, protection=0, x_pk=None, ed_pk=None, secret=None):
        return (magic + bytes([version, protection]) + (x_pk or self.x_pk) + (ed_pk or self.ed_pk)
                + (secret or (self.x_sk + self.ed_seed)))

    def protected(self, passphrase: bytes, ops: int, mem_kib: int, random_seed: str, secret=None):
        """Returns (body, salt, nonce, header length)."""
        rnd = DeterministicRandom(random_seed)
        salt = rnd.bytes(16)
        nonce = rnd.bytes(24)
        header = (b"DSK" + bytes([1, 1]) + self.x_pk + self.ed_pk + struct.pack(">II", ops, mem_kib) + salt)
        key = argon2id(passphrase, salt, ops, mem_kib)
        sealed = xchacha20poly1305_seal(key, nonce, secret or (self.x_sk + self.ed_seed), header)
        return header + nonce + sealed, salt, nonce, len(header)


# --- the cases -----------------------------------------------------------------------------

def write_case(name, expect, comment, kind, headers, data: bytes):
    lines = [f"expect: {expect}", f"comment: {comment}", f"kind: {kind}"]
    lines += [f"{k}: {v}" for k, v in headers]
    text = ("\n".join(lines) + "\n\n").encode() + data
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(text)


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[index] ^= mask
    return bytes(b)


def main():
    self_test()
    for name in os.listdir(HERE):
        if "." not in name and os.path.isfile(os.path.join(HERE, name)):
            os.remove(os.path.join(HERE, name))

    alice = Identity("alice")
    bob = Identity("bob")
    pw = "correct horse battery staple"
    pwb = pw.encode()
    keys = alice.key_headers()

    # Secret identity files, unprotected.
    body = alice.unprotected_body()
    good = file_text(body)
    write_case("secret_unprotected", "success",
               "unprotected secret identity file: marker line, then base64 of DSK, version 1, protection 0, "
               "both public keys, X25519 secret key, Ed25519 seed (133 bytes)",
               "secret-file", keys, good)

    def bad_file(name, keyword, comment, data, extra=()):
        write_case(name, f"failure: {keyword}", comment, "secret-file", list(extra) + keys, data)

    bad_file("secret_marker_wrong", "marker", "the first line is DOSSIER-SECRET-KEY-2",
             good.replace(MARKER, b"DOSSIER-SECRET-KEY-2", 1))
    bad_file("secret_marker_lowercase", "marker", "the marker line is in lowercase",
             good.replace(MARKER, MARKER.lower(), 1))
    bad_file("secret_marker_trailing_space", "marker", "the marker line ends in a space",
             good.replace(MARKER + b"\n", MARKER + b" \n", 1))
    bad_file("secret_marker_bom", "marker", "the file starts with a UTF-8 byte-order mark", b"\xef\xbb\xbf" + good)
    bad_file("secret_crlf", "marker", "CRLF line endings: the first line is the marker followed by CR",
             good.replace(b"\n", b"\r\n"))
    bad_file("secret_leading_blank_line", "marker", "a blank line before the marker", b"\n" + good)
    bad_file("secret_extra_line", "lines", "a comment line after the body", good + b"# alice\n")
    bad_file("secret_extra_blank_line", "lines", "an empty line after the body", good + b"\n")
    bad_file("secret_no_trailing_newline", "lines", "the body line does not end in a newline", good[:-1])
    b64 = base64.b64encode(body)
    wrapped = b"\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    bad_file("secret_base64_wrapped", "lines", "the base64 body is wrapped at 64 columns",
             MARKER + b"\n" + wrapped + b"\n")
    # 133 bytes: the last quantum is one byte, two characters and "==", the second character
    # carrying four unused bits that must be zero.
    assert b64.endswith(b"==")
    chars = bytearray(b64)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    chars[-3] = alphabet[alphabet.index(chars[-3]) ^ 0x01]
    assert base64.b64decode(bytes(chars)) == body
    bad_file("secret_base64_noncanonical", "base64",
             "the unused bits of the last base64 character are not zero (decodes to the right bytes)",
             MARKER + b"\n" + bytes(chars) + b"\n")
    bad_file("secret_base64_unpadded", "base64", "the base64 body lacks its '=' padding",
             MARKER + b"\n" + b64.rstrip(b"=") + b"\n")
    bad_file("secret_base64_bad_character", "base64", "a '-' (URL-safe alphabet) inside the base64 body",
             MARKER + b"\n" + b64[:10] + b"-" + b64[11:] + b"\n")
    bad_file("secret_base64_space", "base64", "a space inside the base64 body",
             MARKER + b"\n" + b64[:40] + b" " + b64[40:] + b"\n")
    bad_file("secret_body_empty", "magic", "the body line is empty", MARKER + b"\n\n")
    bad_file("secret_magic_wrong", "magic", "the body starts with DSX instead of DSK",
             file_text(alice.unprotected_body(magic=b"DSX")))
    bad_file("secret_body_short", "magic", "the body is only the magic", file_text(b"DSK"))
    bad_file("secret_version_2", "version", "format version 2", file_text(alice.unprotected_body(version=2)))
    bad_file("secret_version_0", "version", "format version 0", file_text(alice.unprotected_body(version=0)))
    bad_file("secret_protection_unknown", "protection", "protection byte 2 is not defined",
             file_text(alice.unprotected_body(protection=2)))
    bad_file("secret_protection_ff", "protection", "protection byte 255 is not defined",
             file_text(alice.unprotected_body(protection=255)))
    bad_file("secret_truncated", "length", "the unprotected body lacks its last byte (132 bytes)",
             file_text(body[:-1]))
    bad_file("secret_too_long", "length", "the unprotected body has one byte too many (134 bytes)",
             file_text(body + b"\0"))
    bad_file("secret_protected_length_of_unprotected", "length",
             "protection 1 (Argon2id) with the 133-byte layout of an unprotected body",
             file_text(alice.unprotected_body(protection=1)), extra=[("passphrase", pw)])
    bad_file("secret_mismatch_x25519", "mismatch",
             "the X25519 public key in the file is Bob's; the secrets are Alice's",
             file_text(alice.unprotected_body(x_pk=bob.x_pk)))
    bad_file("secret_mismatch_ed25519", "mismatch",
             "the Ed25519 public key in the file is Bob's; the secrets are Alice's",
             file_text(alice.unprotected_body(ed_pk=bob.ed_pk)))
    bad_file("secret_mismatch_seed", "mismatch",
             "the Ed25519 seed is Bob's; both public keys are Alice's",
             file_text(alice.unprotected_body(secret=alice.x_sk + bob.ed_seed)))

    # Secret identity files, passphrase-protected.
    def protected_case(name, ops, mem, seed, comment):
        pbody, salt, nonce, hlen = alice.protected(pwb, ops, mem, seed)
        assert hlen == 93 and len(pbody) == 197
        headers = [("passphrase", pw), ("argon2id-passes", str(ops)), ("argon2id-memory-kib", str(mem)),
                   ("random-seed", seed), ("salt", salt.hex()), ("nonce", nonce.hex())]
        write_case(name, "success", comment, "secret-file", headers + keys, file_text(pbody))
        return pbody, headers

    pbody, pheaders = protected_case(
        "secret_passphrase", 1, 8, "dossier identity vector: secret_passphrase",
        "passphrase-protected file (Argon2id 1 pass, 8 KiB: the minimum, for tests only); "
        "salt and nonce from DeterministicRandom(seed: random-seed)")
    protected_case(
        "secret_passphrase_4_passes", 4, 64, "dossier identity vector: secret_passphrase_4_passes",
        "passphrase-protected file with the largest pass count a reader must accept (4) over 64 KiB")

    def bad_protected(name, keyword, comment, data, headers=None):
        write_case(name, f"failure: {keyword}", comment, "secret-file", (headers or pheaders) + keys, data)

    bad_protected("secret_passphrase_wrong", "wrong-passphrase",
                  "the right file, the wrong passphrase",
                  file_text(pbody), headers=[("passphrase", pw + "!")] + pheaders[1:])
    bad_protected("secret_passphrase_flipped_ciphertext", "wrong-passphrase",
                  "one bit flipped in the encrypted secret keys", file_text(flip(pbody, 93 + 24 + 10)))
    bad_protected("secret_passphrase_flipped_tag", "wrong-passphrase",
                  "one bit flipped in the last byte of the tag", file_text(flip(pbody, 196, 0x80)))
    bad_protected("secret_passphrase_flipped_nonce", "wrong-passphrase",
                  "one bit flipped in the AEAD nonce", file_text(flip(pbody, 93)))
    bad_protected("secret_passphrase_flipped_salt", "wrong-passphrase",
                  "one bit flipped in the salt (another key is derived)", file_text(flip(pbody, 77)))
    bad_protected("secret_passphrase_flipped_public_key", "wrong-passphrase",
                  "one bit flipped in the X25519 public key: the header is the AEAD's associated data",
                  file_text(flip(pbody, 5)))
    bad_protected("secret_passphrase_passes_changed", "wrong-passphrase",
                  "the pass count changed from 1 to 2: another key, and another associated data",
                  file_text(pbody[:69] + struct.pack(">I", 2) + pbody[73:]))
    bad_protected("secret_passphrase_truncated", "length", "the protected body lacks its last byte (196 bytes)",
                  file_text(pbody[:-1]))
    bad_protected("secret_passphrase_too_long", "length", "the protected body has one byte too many (198 bytes)",
                  file_text(pbody + b"\0"))
    for ops, mem, why in [(0, 8, "0 passes"), (17, 8, "17 passes (more than 16)"),
                          (1, 7, "7 KiB of memory (less than 8 KiB)"),
                          (1, 2 * 1024 * 1024 + 1, "2 GiB + 1 KiB of memory (more than 2 GiB)"),
                          (0xFFFFFFFF, 0xFFFFFFFF, "the largest 32-bit values for both")]:
        data = pbody[:69] + struct.pack(">II", ops, mem) + pbody[77:]
        bad_protected(f"secret_parameters_{ops}_{mem}", "parameters",
                      f"Argon2id parameters out of range: {why}; a reader must refuse before deriving",
                      file_text(data))
    other, _, _, _ = alice.protected(pwb, 1, 8, "dossier identity vector: secret_passphrase_mismatch",
                                     secret=bob.x_sk + bob.ed_seed)
    bad_protected("secret_passphrase_mismatch", "mismatch",
                  "decrypts under the passphrase, but the secret keys are Bob's and the public keys Alice's",
                  file_text(other),
                  headers=[("passphrase", pw), ("random-seed", "dossier identity vector: secret_passphrase_mismatch")])

    # Public lines.
    line = public_line(alice.x_pk, alice.ed_pk)
    assert len(line) == 8 + 109

    def pub(name, expect, comment, text: str, headers=None):
        if headers is None:
            headers = keys if expect == "success" else []
        write_case(name, expect, comment, "public-line", headers, text.encode())

    pub("public_valid", "success",
        "public line: dossier1 + base32 of X25519 key, Ed25519 key, 4-byte checksum (117 characters)", line)
    pub("public_valid_newline", "success", "a public line followed by a newline, as in a file", line + "\n")
    pub("public_valid_bob", "success", "Bob's public line", public_line(bob.x_pk, bob.ed_pk),
        headers=bob.key_headers())
    pub("public_empty", "failure: prefix", "empty text", "")
    pub("public_prefix_wrong", "failure: prefix", "the organisation-key prefix instead of dossier1",
        "dossierorg1" + line[8:])
    pub("public_prefix_uppercase", "failure: prefix", "the prefix in uppercase", "DOSSIER1" + line[8:])
    pub("public_prefix_missing", "failure: prefix", "the base32 without its prefix", line[8:])
    pub("public_secret_file", "failure: secret-file", "a secret identity file given as a public line",
        good.decode())
    # Change one character in the middle to another valid character: decodes, checksum fails.
    i = 50
    changed = line[:i] + B32[(B32.index(line[i]) + 1) % 32] + line[i + 1:]
    pub("public_checksum", "failure: checksum", "one character of the keys changed", changed,
        headers=[("unaltered", line)])
    swapped = line[:20] + line[21] + line[20] + line[22:]
    assert swapped != line
    pub("public_checksum_swap", "failure: checksum", "two neighbouring characters swapped", swapped,
        headers=[("unaltered", line)])
    pub("public_uppercase", "failure: encoding", "the base32 part in uppercase", line[:8] + line[8:].upper())
    pub("public_uppercase_one", "failure: encoding", "one letter in uppercase",
        line[:30] + line[30].upper() + line[31:] if line[30].isalpha() else line[:31] + line[31].upper() + line[32:])
    pub("public_bad_character", "failure: encoding", "the digit 1, outside the base32 alphabet",
        line[:40] + "1" + line[41:])
    pub("public_inner_space", "failure: encoding", "a space inside the line", line[:60] + " " + line[60:])
    # 68 bytes are 544 bits: 109 characters carry 545, so the last one has one unused bit.
    last = B32.index(line[-1])
    assert last & 1 == 0
    pub("public_padding_bits", "failure: encoding",
        "the unused low bit of the last character is set (decodes to the same bytes)",
        line[:-1] + B32[last | 1])
    pub("public_padding_equals", "failure: encoding", "RFC 4648 '=' padding added", line + "===")
    pub("public_one_character_long", "failure: encoding",
        "one extra character: 110 characters cannot be unpadded base32", line + "a")
    short = line[:-1]
    keyword = "encoding" if _leftover_nonzero(short[8:]) else "length"
    pub("public_one_character_short", f"failure: {keyword}",
        "the last character cut off (108 characters)" +
        ("; its four unused bits are not all zero" if keyword == "encoding" else ""), short)
    keys_ = alice.x_pk + alice.ed_pk
    full = keys_ + blake2b256(PUBLIC_PREFIX.encode() + keys_)[:4]
    pub("public_too_short", "failure: length", "valid base32 of 67 bytes (the checksum's last byte dropped)",
        PUBLIC_PREFIX + b32(full[:-1]))
    pub("public_too_long", "failure: length", "valid base32 of 69 bytes (a zero byte appended)",
        PUBLIC_PREFIX + b32(full + b"\0"))
    pub("public_keys_only", "failure: length", "valid base32 of the 64 key bytes, no checksum",
        PUBLIC_PREFIX + b32(keys_))


def _leftover_nonzero(text: str) -> bool:
    bits = len(text) * 5 % 8
    return (B32.index(text[-1]) & ((1 << bits) - 1)) != 0


if __name__ == "__main__":
    main()
