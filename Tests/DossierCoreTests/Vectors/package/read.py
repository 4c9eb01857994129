#!/usr/bin/env python3
"""An independent reader of Dossier packages, written from docs/formats/package.md alone.

Runs every vector in this folder and prints what it finds; exits 1 if any case disagrees with
its header. It calls libsodium (the system's libsodium.so, through ctypes) for the primitives
and nothing from the Swift code:

    python3 Tests/DossierCoreTests/Vectors/package/read.py [-v]

With -v it prints the worked example of docs/formats/package.md section 9 for basic.dpkg.
"""

import base64
import ctypes
import ctypes.util
import datetime
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert sodium.sodium_init() >= 0

B32 = "abcdefghijklmnopqrstuvwxyz234567"


class Refused(Exception):
    def __init__(self, keyword, why):
        super().__init__(f"{keyword}: {why}")
        self.keyword = keyword


def b32decode(text):
    bits, value, out = 0, 0, bytearray()
    for c in text:
        if c not in B32:
            raise ValueError("not base32")
        value = (value << 5) | B32.index(c)
        bits += 5
        if bits >= 8:
            out.append((value >> (bits - 8)) & 0xFF)
            bits -= 8
    if bits >= 5 or value & ((1 << bits) - 1):
        raise ValueError("non-zero padding bits")
    return bytes(out)


def b32encode(data):
    bits, value, out = 0, 0, []
    for b in data:
        value = (value << 8) | b
        bits += 8
        while bits >= 5:
            out.append(B32[(value >> (bits - 5)) & 31])
            bits -= 5
    if bits:
        out.append(B32[(value << (5 - bits)) & 31])
    return "".join(out)


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def fingerprint(domain, keys):
    code = b32encode(blake2b256(f"dossier-fingerprint/{domain}\n".encode() + keys)[:10]).upper()
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def org_key(line):
    if not line.startswith("dossierorg1"):
        raise Refused("malformed", "issuer prefix")
    raw = b32decode(line[len("dossierorg1"):])
    if len(raw) != 36 or blake2b256(b"dossierorg1" + raw[:32])[:4] != raw[32:]:
        raise Refused("malformed", "issuer checksum")
    return raw[:32]


def timestamp(text):
    if len(text) != 24 or text[10] != "T" or not text.endswith("Z") or text[19] != ".":
        raise Refused("malformed", "time")
    t = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t + datetime.timedelta(milliseconds=int(text[20:23]))


def kdf(key, i):
    out = ctypes.create_string_buffer(32)
    assert sodium.crypto_kdf_derive_from_key(out, ctypes.c_size_t(32), ctypes.c_uint64(i), b"DOSSPKG1", key) == 0
    return out.raw


def seal_open(stanza, x25519_secret):
    pk = ctypes.create_string_buffer(32)
    sodium.crypto_scalarmult_base(pk, x25519_secret)
    out = ctypes.create_string_buffer(len(stanza) - 48)
    if sodium.crypto_box_seal_open(out, stanza, ctypes.c_ulonglong(len(stanza)), pk.raw, x25519_secret) != 0:
        raise Refused("tampered", "stanza does not open")
    return out.raw


def xchacha_open(sealed, key, ad):
    if len(sealed) < 40:
        raise Refused("tampered", "sealed list too short")
    nonce, ct = sealed[:24], sealed[24:]
    out = ctypes.create_string_buffer(len(ct) - 16)
    mlen = ctypes.c_ulonglong(0)
    if sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(out, ctypes.byref(mlen), None, ct, ctypes.c_ulonglong(len(ct)),
                                                          ad, ctypes.c_ulonglong(len(ad)), nonce, key) != 0:
        raise Refused("tampered", "document list does not authenticate")
    return out.raw


def stream_open(data, key):
    out, i, pos = bytearray(), 0, 0
    while True:
        chunk = data[pos:pos + 65536 + 16]
        pos += len(chunk)
        final = pos == len(data)
        if len(chunk) < 16 or (final and len(chunk) == 16 and i > 0):
            raise Refused("tampered", "bad chunk")
        nonce = i.to_bytes(11, "big") + (b"\x01" if final else b"\x00")
        plain = ctypes.create_string_buffer(len(chunk) - 16)
        if sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plain, None, None, chunk, ctypes.c_ulonglong(len(chunk)),
                                                             None, ctypes.c_ulonglong(0), nonce, key) != 0:
            raise Refused("tampered", f"chunk {i} does not authenticate")
        out += plain.raw
        if final:
            return bytes(out)
        i += 1


def ciphertext_size(n):
    return n + 16 * max(1, -(-n // 65536))


def read(data, x25519_secret, my_fingerprint, trusted, now, verbose=False):
    """Follows section 7 of the specification, in order."""
    if len(data) < 8 or data[:3] != b"DPK":
        raise Refused("malformed", "magic")
    if data[3] != 1:
        raise Refused("malformed", "version")
    m = int.from_bytes(data[4:8], "big")
    if not 1 <= m <= 1 << 20 or 8 + m > len(data):
        raise Refused("malformed", "manifest length")
    manifest = data[8:8 + m]
    try:
        text = manifest.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("malformed", "manifest not UTF-8")
    if not text.endswith("\n"):
        raise Refused("malformed", "manifest end")
    lines = text[:-1].split("\n")
    fields = {}
    order = ["dossier-package/1", "organisation", "issuer", "package", "grant", "created", "not-before", "not-after"]
    if lines[0] != order[0]:
        raise Refused("malformed", "header")
    for want, line in zip(order[1:], lines[1:8]):
        key, _, value = line.partition(" ")
        if key != want:
            raise Refused("malformed", f"expected {want}")
        fields[key] = value
    rest = lines[8:]
    online = None
    if rest and rest[0].startswith("online "):
        online = rest.pop(0)[7:]
    recipients = []
    while rest and rest[0].startswith("recipient "):
        recipients.append(rest.pop(0)[10:])
    sizes = []
    while rest and rest[0].startswith("content "):
        s = rest.pop(0)[8:]
        if not s.isdigit() or str(int(s)) != s or int(s) > 1 << 50:
            raise Refused("malformed", "content size")
        sizes.append(int(s))
    if rest or not recipients or not sizes or len(set(recipients)) != len(recipients):
        raise Refused("malformed", "manifest lines")
    issuer = org_key(fields["issuer"])
    not_before, not_after = timestamp(fields["not-before"]), timestamp(fields["not-after"])
    timestamp(fields["created"])
    if not_before > not_after:
        raise Refused("malformed", "window")
    stanzas_at = 8 + m
    content_at = stanzas_at + 80 * len(recipients)
    list_at = content_at + sum(ciphertext_size(s) for s in sizes)
    if list_at + 4 > len(data):
        raise Refused("malformed", "truncated")
    L = int.from_bytes(data[list_at:list_at + 4], "big")
    if not 40 <= L <= 4 << 20:
        raise Refused("malformed", "list length")
    end = list_at + 4 + L + 64
    if end != len(data):
        raise Refused("malformed", "size")
    signature = data[end - 64:]
    signed = data[:content_at] + data[list_at:end - 64]
    if sodium.crypto_sign_verify_detached(signature, signed, ctypes.c_ulonglong(len(signed)), issuer) != 0:
        raise Refused("tampered", "signature")
    if issuer not in trusted:
        raise Refused("untrusted", fingerprint("organisation", issuer))
    if now < not_before:
        raise Refused("not-yet-valid", fields["not-before"])
    if now > not_after:
        raise Refused("expired", fields["not-after"])
    if online is not None:
        raise Refused("online", online)
    if my_fingerprint not in recipients:
        raise Refused("not-a-recipient", my_fingerprint)
    i = recipients.index(my_fingerprint)
    package_key = seal_open(data[stanzas_at + 80 * i:stanzas_at + 80 * (i + 1)], x25519_secret)
    ad = b"dossier-package-documents/1\n" + hashlib.sha256(manifest).digest()
    listing = xchacha_open(data[list_at + 4:end - 64], kdf(package_key, 0), ad).decode("utf-8")
    entries = listing[:-1].split("\n")
    if entries[0] != "dossier-package-documents/1" or len(entries) != len(sizes) + 1:
        raise Refused("tampered", "document list")
    out, pos = [], content_at
    for n, line in enumerate(entries[1:]):
        word, doc_id, kind, language, size, digest, name = line.split(" ")
        if int(size) != sizes[n]:
            raise Refused("tampered", "list disagrees with manifest")
        length = ciphertext_size(sizes[n])
        plain = stream_open(data[pos:pos + length], kdf(package_key, n + 1))
        if blake2b256(plain).hex() != digest:
            raise Refused("tampered", "hash")
        out.append((base64.b64decode(name).decode("utf-8"), kind, language, plain))
        pos += length
    if verbose:
        print(f"manifest ({m} bytes):\n{text}")
        print(f"stanzas at {stanzas_at}, content at {content_at}, list length at {list_at} = {L}, signature at {end - 64}")
        print(f"package key {package_key.hex()}\nlist key {kdf(package_key, 0).hex()}")
        print(f"document list ({len(listing.encode())} bytes):\n{listing}")
    return out


def main():
    verbose = "-v" in sys.argv
    failures = 0
    for name in sorted(f for f in os.listdir(HERE) if f.endswith(".txt")):
        h = dict(line.split(": ", 1) for line in open(os.path.join(HERE, name), encoding="utf-8").read().splitlines())
        data = open(os.path.join(HERE, h["package"]), "rb").read()
        trusted = [org_key(h["trusted"])]
        now = timestamp(h["clock"])
        secret = bytes.fromhex(h["recipient-1-x25519-secret"])
        me = h["recipient-1-fingerprint"]
        try:
            if h["expect"] == "success":
                for r in (1, 2):
                    docs = read(data, bytes.fromhex(h[f"recipient-{r}-x25519-secret"]), h[f"recipient-{r}-fingerprint"],
                                trusted, now, verbose and r == 1)
                    for n, (fname, kind, lang, plain) in enumerate(docs, 1):
                        assert fname == h[f"document-{n}-name"] and kind == h[f"document-{n}-kind"], name
                        assert lang == h[f"document-{n}-language"] and plain.hex() == h[f"document-{n}-plaintext"], name
                print(f"{name}: ok, opened by both recipients")
            else:
                if "opener-seed" in h:
                    secret, me = b"\x01" * 32, "AAAA-AAAA-AAAA-AAAA"   # anyone who is not a recipient
                read(data, secret, me, trusted, now)
                print(f"{name}: NOT refused")
                failures += 1
        except Refused as r:
            ok = h["expect"] == "failure" and r.keyword == h["error"]
            print(f"{name}: refused ({r}){'' if ok else '  <-- expected ' + h.get('error', 'success')}")
            failures += 0 if ok else 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
