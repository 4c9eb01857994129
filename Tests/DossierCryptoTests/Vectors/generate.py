#!/usr/bin/env python3
"""Generates the DossierCrypto known-answer corpus from an implementation other than libsodium.

Run from anywhere:  python3 Tests/DossierCryptoTests/Vectors/generate.py
Needs only the `cryptography` package (>= 44, for Argon2id). The output is deterministic:
running it again rewrites the same files, and removes case files it no longer makes.

Format (after age's test corpus): one case per file, named after what it tests. A header of
`name: value` lines, a blank line, then the body.

    expect: success | failure
    comment: what the case tests
    primitive: stream | aead | ed25519 | x25519 | sha256 | blake2b | argon2id
    <field>: <hex>           inputs, and expected values that are not the body
    <field>: <decimal>       lengths and costs (named *-length, length, ops, memory-kib)
    error: <code>            failures only: the refusal the decoder must give
    body: <field>            which field the body holds

    <the body field as hex, 64 digits a line; it may be empty>

The body is the expected output of a success case, or the input a failure case must refuse.
Large STREAM outputs are stored as `sha256(ciphertext)` plus `ciphertext-length`.
"""

import hashlib
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.exceptions import InvalidSignature

HERE = os.path.dirname(os.path.abspath(__file__))

CHUNK = 64 * 1024
TAG = 16
# The plaintext every STREAM case uses; the Swift runner checks this exact text and computes
# the same bytes.
PATTERN_RULE = "byte i = i % 251"
# Ed25519 group order, for the non-canonical signature case.
L = 2**252 + 27742317777372353535851937790883648493


def pattern(n):
    return bytes(i % 251 for i in range(n))


def label_bytes(label, n=32):
    """Fixed, unremarkable-looking bytes named by a label (so keys are not 00 01 02 ...)."""
    return hashlib.sha256(label.encode()).digest()[:n]


# --- STREAM (age's payload construction over ChaCha20-Poly1305 IETF) -----------------------

def stream_nonce(index, final):
    return b"\x00" * 3 + struct.pack(">Q", index) + (b"\x01" if final else b"\x00")


def stream_seal_chunk(key, index, final, plain, ad=None):
    return ChaCha20Poly1305(key).encrypt(stream_nonce(index, final), plain, ad)


def stream_encrypt(key, plaintext):
    chunks = [plaintext[i:i + CHUNK] for i in range(0, len(plaintext), CHUNK)] or [b""]
    out = b""
    for i, c in enumerate(chunks):
        out += stream_seal_chunk(key, i, i == len(chunks) - 1, c)
    return out


# --- XChaCha20-Poly1305 (IETF): HChaCha20 subkey, then ChaCha20-Poly1305 --------------------

def _rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    s = list(struct.unpack("<4I", b"expand 32-byte k") + struct.unpack("<8I", key)
             + struct.unpack("<4I", nonce16))
    for _ in range(10):
        _quarter(s, 0, 4, 8, 12); _quarter(s, 1, 5, 9, 13)
        _quarter(s, 2, 6, 10, 14); _quarter(s, 3, 7, 11, 15)
        _quarter(s, 0, 5, 10, 15); _quarter(s, 1, 6, 11, 12)
        _quarter(s, 2, 7, 8, 13); _quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha_seal(key, nonce24, plaintext, ad):
    sub = hchacha20(key, nonce24[:16])
    return nonce24 + ChaCha20Poly1305(sub).encrypt(b"\x00" * 4 + nonce24[16:], plaintext, ad)


# --- X25519 as crypto_box_seed_keypair does it ----------------------------------------------

def box_seed_keypair(seed):
    sk = hashlib.sha512(seed).digest()[:32]
    pk = X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


def ed25519_from_seed(seed):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pk = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, pk


def argon2id(passphrase, salt, ops, memory_kib, length):
    # libsodium's crypto_pwhash: one lane, memlimit/1024 KiB, opslimit passes, no secret or ad.
    return Argon2id(salt=salt, length=length, iterations=ops, lanes=1,
                    memory_cost=memory_kib).derive(passphrase)


# --- Self-checks against published vectors, so a broken generator cannot write a corpus -----

def self_check():
    # draft-irtf-cfrg-xchacha-03, 2.2.1 (HChaCha20).
    assert hchacha20(bytes(range(32)), bytes.fromhex("000000090000004a0000000031415927")) == \
        bytes.fromhex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")
    # draft-irtf-cfrg-xchacha-03, A.3.1 (AEAD_XChaCha20_Poly1305): the tag.
    sealed = xchacha_seal(bytes(range(0x80, 0xA0)), bytes(range(0x40, 0x58)),
                          b"Ladies and Gentlemen of the class of '99: If I could offer you only "
                          b"one tip for the future, sunscreen would be it.",
                          bytes.fromhex("50515253c0c1c2c3c4c5c6c7"))
    assert sealed[-16:] == bytes.fromhex("c0875924c1c7987947deafd8780acf49")
    # RFC 8032, 7.1, TEST 1.
    key, pk = ed25519_from_seed(bytes.fromhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    assert pk == bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert key.sign(b"")[:8] == bytes.fromhex("e5564300c360ac72")
    # RFC 7748, 6.1: Alice's public key.
    alice = X25519PrivateKey.from_private_bytes(bytes.fromhex(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
    assert alice.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == \
        bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    # RFC 9106, 5.3 (Argon2id, with secret and associated data).
    assert Argon2id(salt=b"\x02" * 16, length=32, iterations=3, lanes=4, memory_cost=32,
                    ad=b"\x04" * 12, secret=b"\x03" * 8).derive(b"\x01" * 32) == \
        bytes.fromhex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    # FIPS 180-2, "abc"; RFC 7693, appendix A ("abc", BLAKE2b-512).
    assert hashlib.sha256(b"abc").hexdigest().startswith("ba7816bf")
    assert hashlib.blake2b(b"abc").hexdigest().startswith("ba80a53f981c4d0d")


# --- Writing cases --------------------------------------------------------------------------

class Case:
    def __init__(self, name, expect, comment, primitive):
        self.name, self.lines, self.body = name, [], None
        self.add("expect", expect)
        self.add("comment", comment)
        self.add("primitive", primitive)

    def add(self, field, value):
        if isinstance(value, bytes):
            value = value.hex()
        self.lines.append(f"{field}: {value}")
        return self

    def set_body(self, field, value):
        self.add("body", field)
        self.body = value
        return self

    def render(self):
        hexed = self.body.hex()
        rows = [hexed[i:i + 64] for i in range(0, len(hexed), 64)]
        return "\n".join(self.lines) + "\n\n" + "".join(r + "\n" for r in rows)


def stream_cases():
    key = label_bytes("dossier stream vector key")
    cases = []
    for size, what in [
        (0, "empty plaintext: a single empty final chunk"),
        (1, "one byte: a single short final chunk"),
        (CHUNK - 1, "one byte short of a chunk: a single short final chunk"),
        (CHUNK, "exactly one chunk: a single full final chunk, no empty chunk after it"),
        (CHUNK + 1, "one byte over a chunk: a full chunk then a one-byte final chunk"),
        (3 * CHUNK + 5, "three full chunks then a five-byte final chunk (counter in the nonce)"),
    ]:
        ct = stream_encrypt(key, pattern(size))
        c = Case(f"stream-size-{size}", "success", f"STREAM, {what}", "stream")
        c.add("key", key).add("plaintext-pattern", PATTERN_RULE).add("plaintext-length", size)
        c.add("ciphertext-length", len(ct))
        if len(ct) <= 256:
            c.set_body("ciphertext", ct)
        else:
            c.set_body("sha256(ciphertext)", hashlib.sha256(ct).digest())
        cases.append(c)

    def failure(name, comment, error, ct, k=key):
        c = Case(name, "failure", comment, "stream")
        c.add("key", k).add("error", error)
        cases.append(c.set_body("ciphertext", ct))

    full = pattern(CHUNK)
    failure("stream-empty-final-chunk-after-full",
            "a full non-final chunk then an empty final chunk: the final chunk may be empty "
            "only when it is the only one",
            "stream-malformed",
            stream_seal_chunk(key, 0, False, full) + stream_seal_chunk(key, 1, True, b""))
    failure("stream-empty-ciphertext", "no bytes at all: not even the final chunk",
            "stream-truncated", b"")
    failure("stream-shorter-than-tag", "15 bytes: less than one tag where a chunk should be",
            "stream-malformed", stream_encrypt(key, b"")[:15])
    failure("stream-short-chunk-not-final",
            "a single short chunk sealed without the final flag",
            "chunk-authentication-failed 0", stream_seal_chunk(key, 0, False, pattern(5)))
    failure("stream-wrong-chunk-index",
            "a single final chunk sealed with counter 1 instead of 0",
            "chunk-authentication-failed 0", stream_seal_chunk(key, 1, True, pattern(5)))
    failure("stream-associated-data",
            "a final chunk sealed with associated data: STREAM chunks have none",
            "chunk-authentication-failed 0", stream_seal_chunk(key, 0, True, pattern(5), b"dossier"))
    failure("stream-wrong-key", "a valid stream under another key",
            "chunk-authentication-failed 0",
            stream_encrypt(label_bytes("another stream key"), pattern(5)))
    return cases


def aead_cases():
    key = label_bytes("dossier aead vector key")
    nonce = label_bytes("dossier aead vector nonce", 24)
    cases = []
    for name, comment, pt, ad in [
        ("aead-with-additional-data", "XChaCha20-Poly1305 opens a value with associated data",
         b"the file key of deposit 42", b"dossier deposit 42"),
        ("aead-empty-plaintext", "XChaCha20-Poly1305 opens an empty plaintext, no associated data",
         b"", b""),
        ("aead-multiblock", "XChaCha20-Poly1305 opens a plaintext over several ChaCha blocks",
         pattern(300), b"\x00"),
    ]:
        c = Case(name, "success", comment, "aead")
        c.add("key", key).add("additional-data", ad).add("sealed", xchacha_seal(key, nonce, pt, ad))
        cases.append(c.set_body("plaintext", pt))
    sealed = xchacha_seal(key, nonce, b"the file key of deposit 42", b"dossier deposit 42")
    c = Case("aead-wrong-additional-data", "failure",
             "XChaCha20-Poly1305 refuses a value opened with other associated data", "aead")
    c.add("key", key).add("additional-data", b"dossier deposit 43").add("error", "authentication-failed")
    cases.append(c.set_body("sealed", sealed))
    c = Case("aead-chacha-nonce", "failure",
             "a value sealed with plain ChaCha20-Poly1305 (first 12 nonce bytes, no HChaCha20) "
             "is refused", "aead")
    c.add("key", key).add("additional-data", b"").add("error", "authentication-failed")
    cases.append(c.set_body("sealed", nonce + ChaCha20Poly1305(key).encrypt(nonce[:12], b"x", b"")))
    return cases


def signature_cases():
    seed = label_bytes("dossier ed25519 vector seed")
    key, pk = ed25519_from_seed(seed)
    cases = []
    for name, comment, msg in [
        ("ed25519-empty-message", "Ed25519 public key and signature from a fixed seed, empty message", b""),
        ("ed25519-message", "Ed25519 public key and signature from a fixed seed", b"dossier checkpoint 7\n"),
        ("ed25519-long-message", "Ed25519 signature over 1000 bytes (byte i = i % 251)", pattern(1000)),
    ]:
        c = Case(name, "success", comment, "ed25519")
        c.add("seed", seed).add("message", msg).add("public-key", pk)
        cases.append(c.set_body("signature", key.sign(msg)))
    # S + L verifies under a naive check; RFC 8032 and libsodium require S < L.
    msg = b"dossier checkpoint 7\n"
    sig = key.sign(msg)
    s = int.from_bytes(sig[32:], "little") + L
    bad = sig[:32] + s.to_bytes(32, "little")
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(bad, msg)
        raise AssertionError("OpenSSL accepted a non-canonical S")
    except InvalidSignature:
        pass
    c = Case("ed25519-noncanonical-s", "failure",
             "a signature whose S is replaced by S + L (malleability) is refused", "ed25519")
    c.add("seed", seed).add("message", msg).add("public-key", pk).add("error", "invalid-signature")
    cases.append(c.set_body("signature", bad))
    return cases


def x25519_cases():
    cases = []
    for name, seed in [("x25519-seed-keypair", label_bytes("dossier x25519 vector seed")),
                       ("x25519-seed-keypair-zero-seed", b"\x00" * 32)]:
        sk, pk = box_seed_keypair(seed)
        c = Case(name, "success",
                 "crypto_box_seed_keypair: secret key = SHA-512(seed)[0..<32], public key = X25519 base point times it",
                 "x25519")
        c.add("seed", seed).add("secret-key", sk)
        cases.append(c.set_body("public-key", pk))
    return cases


def hash_cases():
    cases = []
    for name, msg in [("sha256-empty", b""), ("sha256-abc", b"abc"),
                      ("sha256-1000-bytes", pattern(1000))]:
        c = Case(name, "success", f"SHA-256 of {len(msg)} bytes", "sha256").add("message", msg)
        cases.append(c.set_body("digest", hashlib.sha256(msg).digest()))
    key32 = label_bytes("dossier blake2b vector key")
    key64 = hashlib.sha512(b"dossier blake2b vector key").digest()
    for name, comment, msg, length, key in [
        ("blake2b-256-empty", "BLAKE2b-256, unkeyed, empty message", b"", 32, None),
        ("blake2b-256-unkeyed", "BLAKE2b-256, unkeyed", b"abc", 32, None),
        ("blake2b-256-keyed", "BLAKE2b-256 with a 32-byte key", b"abc", 32, key32),
        ("blake2b-256-keyed-long", "BLAKE2b-256 with a 64-byte key over 1000 bytes", pattern(1000), 32, key64),
        ("blake2b-128-keyed", "BLAKE2b with the shortest output (16) and shortest key (16)", b"abc", 16, key32[:16]),
        ("blake2b-512-unkeyed", "BLAKE2b with the longest output (64)", pattern(200), 64, None),
    ]:
        c = Case(name, "success", comment, "blake2b").add("message", msg).add("length", length)
        if key is not None:
            c.add("key", key)
        digest = hashlib.blake2b(msg, digest_size=length, key=key or b"").digest()
        cases.append(c.set_body("digest", digest))
    return cases


def argon2_cases():
    salt = label_bytes("dossier argon2id vector salt", 16)
    cases = []
    for name, comment, pw, ops, mem, length in [
        ("argon2id-ops1-mem8", "Argon2id at libsodium's minimum cost (1 pass, 8 KiB)",
         b"correct horse battery staple", 1, 8, 32),
        ("argon2id-ops2-mem64", "Argon2id, 2 passes over 64 KiB", b"correct horse battery staple", 2, 64, 32),
        ("argon2id-ops3-mem256", "Argon2id, 3 passes over 256 KiB", b"correct horse battery staple", 3, 256, 32),
        ("argon2id-ops3-mem256-64-bytes", "Argon2id, a 64-byte output", b"correct horse battery staple", 3, 256, 64),
        ("argon2id-empty-passphrase", "Argon2id of an empty passphrase", b"", 1, 8, 32),
    ]:
        c = Case(name, "success", comment, "argon2id")
        c.add("passphrase", pw).add("salt", salt).add("ops", ops).add("memory-kib", mem).add("length", length)
        cases.append(c.set_body("key", argon2id(pw, salt, ops, mem, length)))
    return cases


def main():
    self_check()
    cases = (stream_cases() + aead_cases() + signature_cases() + x25519_cases()
             + hash_cases() + argon2_cases())
    names = {c.name for c in cases}
    assert len(names) == len(cases), "two cases share a name"
    for existing in os.listdir(HERE):
        path = os.path.join(HERE, existing)
        if existing not in names and os.path.isfile(path):
            with open(path, "rb") as f:
                if f.read(8) == b"expect: ":
                    os.remove(path)
    for c in cases:
        with open(os.path.join(HERE, c.name), "w", newline="\n") as f:
            f.write(c.render())
    print(f"wrote {len(cases)} cases to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
