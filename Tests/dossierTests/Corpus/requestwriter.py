"""A writer of request files made from the text of docs/formats/request.md alone.

It shares no code with dossier: libsodium through ctypes, hashlib for BLAKE2b and SHA-256.
If a request it writes imports, the document is enough to write a compatible writer. The
generator also uses its parts to forge requests that pass the outer checks and fail a deep
one: every region can be replaced, and the whole re-signed, with the keys it holds.

    sender = Sender.from_secret_file(open("counsel.key", "rb").read())
    r = Request(intake_public_key(line), sender, message=b"...", attachments=[("a.txt", b"...")])
    data = r.bytes()
"""

import ctypes
import ctypes.util
import hashlib
import struct
from base64 import b64decode

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert _sodium.sodium_init() >= 0

B32 = "abcdefghijklmnopqrstuvwxyz234567"
MAGIC = b"DRQ\x01"
CHUNK = 65536
HEADER_FIRST = "dossier-request/1"
DETAILS_FIRST = "dossier-request-details/1"
DETAILS_AD = b"dossier-request-details/1\n"
SIGNATURE_LABEL = b"dossier-request-signature/1\n"


# --- encodings (section 2.1; identity.md section 3) ------------------------------------------

def b32encode(data):
    """RFC 4648 base32, lowercase, unpadded; the unused low bits of the last character are zero."""
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


def b32decode(text):
    bits, value, out = 0, 0, bytearray()
    for ch in text:
        value = (value << 5) | B32.index(ch)
        bits += 5
        if bits >= 8:
            out.append((value >> (bits - 8)) & 0xFF)
            bits -= 8
    assert value & ((1 << bits) - 1) == 0, "unused bits are not zero"
    return bytes(out)


def blake2b(data, size):
    return hashlib.blake2b(data, digest_size=size).digest()


def keyed_line(prefix, key):
    """`prefix ‖ base32(key ‖ first 4 bytes of BLAKE2b-256(prefix ‖ key))`."""
    return prefix + b32encode(key + blake2b(prefix.encode() + key, 32)[:4])


def intake_line(public_key):
    return keyed_line("dossierintake1", public_key)


def intake_public_key(line):
    """The 32-byte key of an intake line, with the checks of section 2.1."""
    line = line.strip()
    assert line.startswith("dossierintake1") and len(line) == 72, line
    raw = b32decode(line[len("dossierintake1"):])
    assert len(raw) == 36 and blake2b(b"dossierintake1" + raw[:32], 32)[:4] == raw[32:], "bad intake line"
    return raw[:32]


def fingerprint(label, key):
    code = b32encode(blake2b(b"dossier-fingerprint/" + label.encode() + b"\n" + key, 32)[:10]).upper()
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def u32(n):
    return struct.pack(">I", n)


# --- libsodium ---------------------------------------------------------------------------------

def random_bytes(n):
    out = ctypes.create_string_buffer(n)
    _sodium.randombytes_buf(out, ctypes.c_size_t(n))
    return out.raw


def box_keypair():
    """A fresh X25519 key pair (public, secret), as crypto_box makes them."""
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    assert _sodium.crypto_box_keypair(pk, sk) == 0
    return pk.raw, sk.raw


def box_seal(message, public_key):
    out = ctypes.create_string_buffer(len(message) + 48)
    assert _sodium.crypto_box_seal(out, message, ctypes.c_ulonglong(len(message)), public_key) == 0
    return out.raw


def kdf(key, subkey_id, context):
    """crypto_kdf_derive_from_key(32, subkey_id, context, key)."""
    out = ctypes.create_string_buffer(32)
    assert _sodium.crypto_kdf_derive_from_key(out, ctypes.c_size_t(32), ctypes.c_uint64(subkey_id), context, key) == 0
    return out.raw


def xchacha_seal(plain, key, ad, nonce):
    """nonce (24) ‖ crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad) (ciphertext ‖ tag)."""
    out = ctypes.create_string_buffer(len(plain) + 16)
    n = ctypes.c_ulonglong(0)
    assert _sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, ctypes.byref(n), plain, ctypes.c_ulonglong(len(plain)), ad, ctypes.c_ulonglong(len(ad)), None, nonce, key) == 0
    return nonce + out.raw[:n.value]


def chacha_seal(plain, key, nonce):
    out = ctypes.create_string_buffer(len(plain) + 16)
    n = ctypes.c_ulonglong(0)
    assert _sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
        out, ctypes.byref(n), plain, ctypes.c_ulonglong(len(plain)), None, ctypes.c_ulonglong(0), None, nonce, key) == 0
    return out.raw[:n.value]


def chunks(plain):
    """The chunks of stream.md section 3: full 64 KiB chunks, then the rest (empty only if all is)."""
    if not plain:
        return [b""]
    return [plain[i:i + CHUNK] for i in range(0, len(plain), CHUNK)]


def stream(plain, key, pieces=None):
    """The STREAM encryption of stream.md. `pieces` overrides the chunking (for forged streams)."""
    pieces = chunks(plain) if pieces is None else pieces
    return b"".join(chacha_seal(p, key, i.to_bytes(11, "big") + (b"\x01" if i == len(pieces) - 1 else b"\x00"))
                    for i, p in enumerate(pieces))


def stream_size(n):
    return n + 16 * max(1, -(-n // CHUNK))


class Sender:
    """Counsel's identity: the keys of an unprotected secret identity file (identity.md section 2.2)."""

    def __init__(self, x25519_public, ed25519_public, ed25519_seed):
        self.x25519_public, self.ed25519_public, self.seed = x25519_public, ed25519_public, ed25519_seed

    @classmethod
    def from_secret_file(cls, text):
        lines = text.split(b"\n")
        assert lines[0] == b"DOSSIER-SECRET-KEY-1", "not a secret identity file"
        body = b64decode(lines[1], validate=True)
        assert len(body) == 133 and body[:5] == b"DSK\x01\x00", "only unprotected identity files"
        return cls(body[5:37], body[37:69], body[101:133])

    @classmethod
    def fresh(cls):
        x_pk, _ = box_keypair()
        seed = random_bytes(32)
        return cls(x_pk, cls._keypair(seed)[0], seed)

    @staticmethod
    def _keypair(seed):
        pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
        assert _sodium.crypto_sign_seed_keypair(pk, sk, seed) == 0
        return pk.raw, sk.raw

    @property
    def line(self):
        return keyed_line("dossier1", self.x25519_public + self.ed25519_public)

    @property
    def fingerprint(self):
        return fingerprint("identity", self.x25519_public + self.ed25519_public)

    def sign(self, message):
        _, sk = self._keypair(self.seed)
        sig = ctypes.create_string_buffer(64)
        assert _sodium.crypto_sign_detached(sig, None, message, ctypes.c_ulonglong(len(message)), sk) == 0
        return sig.raw


class Request:
    """One request, built region by region (section 1). Every field can be overridden after
    construction; `bytes()` then assembles, hashes and signs what is there."""

    def __init__(self, intake_key, sender, *, request_id=None, created="2027-01-01T00:00:00.000Z", need="expert-witness",
                 languages=("en",), jurisdiction=None, court=None, case=None, hearing=None, message=b"Please.\n",
                 attachments=(), key=None):
        self.intake_key = intake_key
        self.sender = sender
        self.signer = sender
        self.request_id = request_id or "req-" + b32encode(random_bytes(8))
        self.created = created
        self.need, self.languages = need, list(languages)
        self.jurisdiction, self.court, self.case, self.hearing = jurisdiction, court, case, hearing
        self.message = message
        self.attachments = list(attachments)
        self.key = key or random_bytes(32)
        # Set any of these to replace a whole region with raw bytes.
        self.magic = MAGIC
        self.header_override = None
        self.header_length = None
        self.stanza_override = None
        self.details_override = None     # the details text, before sealing
        self.sealed_details_override = None
        self.details_length = None
        self.streams_override = None     # list of encrypted streams
        self.signature_override = None   # the 64-byte signature, before sealing
        self.sealed_signature_override = None
        self.details_nonce = random_bytes(24)
        self.signature_nonce = random_bytes(24)

    # Section 2.2.
    def header(self):
        if self.header_override is not None:
            return self.header_override
        return (f"{HEADER_FIRST}\nto {intake_line(self.intake_key)}\nrequest {self.request_id}\n"
                f"created {self.created}\n").encode()

    # Section 4.
    def details(self):
        if self.details_override is not None:
            return self.details_override
        lines = [DETAILS_FIRST, f"from {self.sender.line}", f"need {self.need}"]
        lines += [f"language {tag}" for tag in self.languages]
        for name, value in [("jurisdiction", self.jurisdiction), ("court", self.court), ("case", self.case),
                            ("hearing", self.hearing)]:
            if value is not None:
                lines.append(f"{name} {value}")
        lines.append(f"message {len(self.message)}")
        lines += [f"attachment {len(data)} {name}" for name, data in self.attachments]
        return ("\n".join(lines) + "\n").encode()

    # Section 1, keys.
    def subkey(self, i, context=b"DOSSREQ1"):
        return kdf(self.key, i, context)

    def stanza(self):
        return self.stanza_override if self.stanza_override is not None else box_seal(self.key, self.intake_key)

    def sealed_details(self):
        if self.sealed_details_override is not None:
            return self.sealed_details_override
        ad = DETAILS_AD + hashlib.sha256(self.header()).digest()
        return xchacha_seal(self.details(), self.subkey(0), ad, self.details_nonce)

    # Section 5.
    def streams(self):
        if self.streams_override is not None:
            return self.streams_override
        return [stream(self.message, self.subkey(1))] + [stream(data, self.subkey(j + 2))
                                                         for j, (_, data) in enumerate(self.attachments)]

    def signed_part(self):
        header, sealed = self.header(), self.sealed_details()
        m = len(header) if self.header_length is None else self.header_length
        n = len(sealed) if self.details_length is None else self.details_length
        return self.magic + u32(m) + header + self.stanza() + u32(n) + sealed + b"".join(self.streams())

    # Section 6.
    def sealed_signature(self, signed):
        if self.sealed_signature_override is not None:
            return self.sealed_signature_override
        signature = self.signature_override
        if signature is None:
            signature = self.signer.sign(SIGNATURE_LABEL + blake2b(signed, 64))
        return xchacha_seal(signature, kdf(self.key, 0, b"DOSSRSIG"), SIGNATURE_LABEL, self.signature_nonce)

    def bytes(self):
        signed = self.signed_part()
        return signed + self.sealed_signature(signed)

    def offsets(self):
        """Where each region starts in `bytes()`, and the end."""
        header, sealed, streams = self.header(), self.sealed_details(), self.streams()
        at = {"magic": 0, "header-length": 4, "header": 8, "stanza": 8 + len(header)}
        at["details-length"] = at["stanza"] + len(self.stanza())
        at["details"] = at["details-length"] + 4
        at["message"] = at["details"] + len(sealed)
        pos = at["message"] + len(streams[0]) if streams else at["message"]
        for j, s in enumerate(streams[1:]):
            at[f"attachment-{j + 1}"] = pos
            pos += len(s)
        at["signature"] = pos
        at["end"] = pos + 104
        return at
