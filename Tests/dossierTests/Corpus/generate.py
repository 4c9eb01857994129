#!/usr/bin/env python3
"""Generates the hostile-input corpus that HostileInputTests runs through the built `dossier`.

    python3 Tests/dossierTests/Corpus/generate.py [PATH-TO-dossier] [request]

(default: $DOSSIER_BINARY, else .build/debug/dossier; `request` makes that kind alone). It
makes valid inputs with the real command in a throwaway folder (a vault, identities, packages,
checkpoints, an export, a request), then derives the hostile cases from them: truncations, bit
flips in each region, huge length fields, wrong versions, trailing garbage and wrong types.
Some package and checkpoint cases are re-signed by a test organisation key held here (the
tests trust it), so that hostile content gets past the signature and reaches the deeper
parsers; the sealed document list is re-sealed with the counsel's package key for the same
reason. Requests are written again by requestwriter.py, from request.md alone, which seals
and signs them as counsel (fixtures/counsel.key) for the same reason.

One case per file, in the style of the age corpus, in one folder per kind of input:

    package/ identity/ public-identity/ policy/ checkpoint/ export/ request/

Each case is a header NAME.txt and the input NAME.EXT next to it (no input file when the
header says `input: folder`: the test creates an empty folder in its place). The header:

    comment: what the case tests
    input: file | folder            (default file)
    mode: 644                       (mode of the copy the test makes; default 600)
    files: NAME NAME                (for `open: success`: what must appear in the output folder)
    COMMAND: success | failure [EXIT] ["WORDS"]

with one COMMAND line per command to run (HostileInputTests maps each name to its argv):

    package          inspect, open
    identity         show (identity show), load (staff list --identity FILE)
    public-identity  show
    policy           check
    checkpoint       verify (audit verify --export fixtures/log.dlog --checkpoint FILE),
                     proof (audit verify-proof fixtures/entry.proof --checkpoint FILE, org key),
                     proof-test-key (the same with the test organisation's note key)
    export           verify (audit verify --export FILE)
    request          import (requests import FILE, into a fresh copy of fixtures/request-vault.sqlite),
                     show (requests show ID, after the import)

`failure` without a code accepts any non-zero exit. WORDS (between the first and the last double
quote) must appear in the command's `dossier: error:` line; they come from MESSAGES below, which
every failing command of every case must have. fixtures/ holds what the commands need:
the identities, the keys, the export and proof used by checkpoint cases.

The vault's keys are random, so every run rewrites every file; the byte positions of the
mutations are computed from the structure, not fixed. Packages are valid for 3650 days from
generation: when `package/valid` starts failing as expired, run this again.
"""

import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import requestwriter as rw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
KINDS = ["package", "identity", "public-identity", "policy", "checkpoint", "export", "request"]
ORG_NAME = "corpus.example/dossier"
PASSPHRASE = "hostile corpus passphrase"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert sodium.sodium_init() >= 0
rng = random.Random(20261129)


# --- primitives ----------------------------------------------------------------------------

# The encodings and primitives the request writer already has (request.md, identity.md).
b32encode = rw.b32encode


def blake2b256(data):
    return rw.blake2b(data, 32)


def u32(n):
    return struct.pack(">I", n)


def flip(data, offset, mask=0x01):
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)


def put(data, offset, byte):
    """`data` with the byte at `offset` replaced."""
    return data[:offset] + bytes([byte]) + data[offset + 1:]


def other_b64(data, offset):
    """`data` with the base64 character at `offset` replaced by another base64 character."""
    return put(data, offset, ord("A") if data[offset] != ord("A") else ord("B"))


def kdf(key, i):
    out = ctypes.create_string_buffer(32)
    assert sodium.crypto_kdf_derive_from_key(out, ctypes.c_size_t(32), ctypes.c_uint64(i), b"DOSSPKG1", key) == 0
    return out.raw


def seal_open(stanza, pk, sk):
    out = ctypes.create_string_buffer(len(stanza) - 48)
    assert sodium.crypto_box_seal_open(out, stanza, ctypes.c_ulonglong(len(stanza)), pk, sk) == 0
    return out.raw


def xchacha_open(sealed, key, ad):
    nonce, ct = sealed[:24], sealed[24:]
    out = ctypes.create_string_buffer(max(1, len(ct) - 16))
    mlen = ctypes.c_ulonglong(0)
    assert sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(mlen), None, ct, ctypes.c_ulonglong(len(ct)), ad, ctypes.c_ulonglong(len(ad)), nonce, key) == 0
    return out.raw[:mlen.value]


def xchacha_seal(plain, key, ad):
    nonce = bytes(rng.getrandbits(8) for _ in range(24))
    out = ctypes.create_string_buffer(len(plain) + 16)
    clen = ctypes.c_ulonglong(0)
    assert sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, ctypes.byref(clen), plain, ctypes.c_ulonglong(len(plain)), ad, ctypes.c_ulonglong(len(ad)), None, nonce, key) == 0
    return nonce + out.raw[:clen.value]


def ciphertext_size(n):
    return n + 16 * max(1, -(-n // 65536))


class TestOrganisation:
    """An organisation key held by this generator, so that hostile content can be signed."""

    def __init__(self):
        seed = hashlib.sha256(b"dossier hostile corpus: test organisation").digest()
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.line = "dossierorg1" + b32encode(self.public + blake2b256(b"dossierorg1" + self.public)[:4])
        self.key_id = hashlib.sha256(ORG_NAME.encode() + b"\n\x01" + self.public).digest()[:4]
        self.note_key = ORG_NAME + "+" + self.key_id.hex() + "+" + base64.b64encode(b"\x01" + self.public).decode()

    def sign(self, data):
        return self.key.sign(data)

    def note(self, text):
        payload = base64.b64encode(self.key_id + self.sign(text.encode())).decode()
        return f"{text}\n\u2014 {ORG_NAME} {payload}\n".encode()


TEST_ORG = TestOrganisation()


# --- the corpus ----------------------------------------------------------------------------

class Corpus:
    def __init__(self, kinds):
        """Empties the folders of `kinds`, and fixtures/ when every kind is made again."""
        self.count = 0
        self.kinds = kinds
        for kind in kinds:
            folder = os.path.join(HERE, kind)
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
        if set(kinds) == set(KINDS):
            shutil.rmtree(os.path.join(HERE, "fixtures"), ignore_errors=True)
            os.makedirs(os.path.join(HERE, "fixtures"))

    def add(self, kind, name, ext, data, comment, input="file", mode=None, files=None, **expect):
        assert kind in self.kinds and expect, name
        path = os.path.join(HERE, kind, name)
        assert not os.path.exists(path + ".txt"), f"duplicate case {kind}/{name}"
        lines = [f"comment: {comment}"]
        if input != "file":
            lines.append(f"input: {input}")
        if mode:
            lines.append(f"mode: {mode}")
        if files:
            lines.append("files: " + " ".join(files))
        for command, outcome in expect.items():
            if outcome.startswith("failure"):
                words = expected_words(kind, name, command)
                assert "\n" not in words, (kind, name, words)
                outcome += f' "{words}"'
            lines.append(f"{command.replace('_', '-')}: {outcome}")
        with open(path + ".txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        if input == "file":
            with open(f"{path}.{ext}", "wb") as f:
                f.write(data)
        self.count += 1

    def fixture(self, name, data, mode=0o644):
        path = os.path.join(HERE, "fixtures", name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(path, mode)


def fail(code=None):
    return "failure" if code is None else f"failure {code}"


OK = "success"


# --- running the command -------------------------------------------------------------------

class Dossier:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
        self.env["XDG_CONFIG_HOME"] = os.path.join(work, "config")
        self.env["HOME"] = work

    def __call__(self, *args):
        r = subprocess.run([self.binary, *args], cwd=self.work, env=self.env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=300)
        if r.returncode != 0:
            sys.exit(f"dossier {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
        return r.stdout

    def path(self, name):
        return os.path.join(self.work, name)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return self.path(name)


PERMISSIVE_POLICY = "version = 1\n" + "".join(f"""
[kinds.{kind}]
max_window = "3650d"
default_window = "3650d"
approvals = 1
max_recipients = 10
require_vetted = false
require_online = false
max_opens = 0
""" for kind in ["expert-report", "witness-testimony", "assurance-rebuttal", "supporting-material"])


def make_vault(d, folder, staff_key, pass_file, counsel_pubs):
    """A vault with the permissive policy and the given counsel; returns (org json, counsel ids)."""
    d("init", "--vault", folder, "--org", ORG_NAME, "--identity", staff_key, "--passphrase-file", pass_file, "--name", "Corpus Staff",
      "--root-out", folder + ".root", "--no-passphrase")
    staff = ["--vault", folder, "--identity", staff_key, "--passphrase-file", pass_file]
    d("policy", "set", d.write("permissive.toml", PERMISSIVE_POLICY), *staff)
    ids = [d("counsel", "add", pub, "--name", f"Counsel {i + 1}", *staff).strip() for i, pub in enumerate(counsel_pubs)]
    return json.loads(d("org", "show", "--vault", folder, "--json")), ids, staff


# --- packages ------------------------------------------------------------------------------

class Package:
    """A package split into its parts (docs/formats/package.md section 1)."""

    def __init__(self, data):
        assert data[:4] == b"DPK\x01"
        m = struct.unpack(">I", data[4:8])[0]
        self.manifest = data[8:8 + m]
        lines = self.manifest.decode().splitlines()
        self.recipients = [l.split(" ", 1)[1] for l in lines if l.startswith("recipient ")]
        self.sizes = [int(l.split(" ", 1)[1]) for l in lines if l.startswith("content ")]
        s = 8 + m
        self.stanzas = data[s:s + 80 * len(self.recipients)]
        c = s + len(self.stanzas)
        self.content = data[c:c + sum(ciphertext_size(n) for n in self.sizes)]
        l_off = c + len(self.content)
        n = struct.unpack(">I", data[l_off:l_off + 4])[0]
        self.sealed_list = data[l_off + 4:l_off + 4 + n]
        self.signature = data[l_off + 4 + n:]
        assert len(self.signature) == 64
        # Offsets of each region in the file.
        self.at = {"manifest": 8, "stanzas": s, "content": c, "list-length": l_off, "list": l_off + 4,
                   "signature": l_off + 4 + n, "end": len(data)}

    def bytes(self, manifest=None, stanzas=None, sealed_list=None, signature=None, signer=None):
        manifest = self.manifest if manifest is None else manifest
        stanzas = self.stanzas if stanzas is None else stanzas
        sealed_list = self.sealed_list if sealed_list is None else sealed_list
        signed = b"DPK\x01" + u32(len(manifest)) + manifest + stanzas + u32(len(sealed_list)) + sealed_list
        if signer is not None:
            signature = signer.sign(signed)
        signature = self.signature if signature is None else signature
        return signed[:8 + len(manifest) + len(stanzas)] + self.content + signed[8 + len(manifest) + len(stanzas):] + signature

    def replace_line(self, prefix, new_value):
        lines = self.manifest.decode().split("\n")
        lines = [f"{prefix} {new_value}" if l.startswith(prefix + " ") else l for l in lines]
        return "\n".join(lines).encode()


def list_ad(manifest):
    return b"dossier-package-documents/1\n" + hashlib.sha256(manifest).digest()


def package_cases(c, d, valid, other_recipient, other_org, counsel, doc_ids, names, identity_file, public_line_file,
                  policy_text, export_text, note):
    p = Package(valid)
    at = p.at
    size = len(valid)
    both = lambda code: dict(inspect=fail(code), open=fail(code))
    c.add("package", "valid", "dpkg", valid, "a valid package sealed to fixtures/counsel.key (control)",
          files=names, inspect=OK, open=OK)
    c.add("package", "not-a-recipient", "dpkg", other_recipient, "valid, but sealed to another counsel only",
          inspect=OK, open=fail(77))
    c.add("package", "untrusted-issuer", "dpkg", other_org, "valid, from a vault of the same name whose key is not trusted",
          inspect=OK, open=fail(77))

    # Truncations, at the start and inside every region.
    for name, n in [("truncated-1", 1), ("truncated-3", 3), ("truncated-in-length", 6), ("truncated-after-framing", 8),
                    ("truncated-in-manifest", 8 + len(p.manifest) // 2), ("truncated-after-manifest", at["stanzas"]),
                    ("truncated-in-stanza", at["stanzas"] + 40), ("truncated-before-content", at["content"]),
                    ("truncated-in-content", at["content"] + 10), ("truncated-before-list-length", at["list-length"]),
                    ("truncated-in-list-length", at["list-length"] + 2), ("truncated-in-list", at["list"] + 20),
                    ("truncated-before-signature", at["signature"]), ("truncated-in-signature", at["signature"] + 32),
                    ("truncated-last-byte", size - 1)]:
        c.add("package", name, "dpkg", valid[:n], f"the valid package cut to {n} of its {size} bytes", **both(65))

    # One bit flipped in each region.
    c.add("package", "flip-magic", "dpkg", flip(valid, 0), "the magic's first byte flipped", **both(65))
    c.add("package", "version-2", "dpkg", valid[:3] + b"\x02" + valid[4:], "magic version byte 2 on a format-1 manifest", **both(65))
    c.add("package", "version-0", "dpkg", valid[:3] + b"\x00" + valid[4:], "magic version byte 0", **both(65))
    c.add("package", "version-255", "dpkg", valid[:3] + b"\xff" + valid[4:], "magic version byte 255", **both(65))
    c.add("package", "flip-manifest-length", "dpkg", flip(valid, 7), "the manifest length's low bit flipped", **both(65))
    text = p.manifest.decode()
    mpos = lambda s, k=0: 8 + text.index(s) + k
    c.add("package", "flip-manifest-header", "dpkg", flip(valid, mpos("dossier-package/1", 16), 0x02),
          "manifest first line dossier-package/3 (an unknown version)", **both(65))
    c.add("package", "flip-manifest-keyword", "dpkg", flip(valid, mpos("organisation "), 0x20),
          "manifest 'Organisation' instead of 'organisation'", **both(65))
    c.add("package", "flip-organisation-name", "dpkg", flip(valid, mpos("organisation ", 13), 0x20),
          "organisation name still well formed but changed: the signature fails", **both(3))
    c.add("package", "flip-issuer-key", "dpkg", flip(valid, mpos("issuer ", 20), 0x01),
          "a character of the issuer key line changed: its checksum fails", **both(65))
    c.add("package", "package-id-invalid", "dpkg", put(valid, mpos("package pkg-", 12), ord("0")),
          "a character of the package id outside base32", **both(65))
    c.add("package", "flip-time", "dpkg", flip(valid, mpos("created ", 13), 0x08),
          "the created time's month made invalid", **both(65))
    year = text.index("not-after ") + len("not-after ") + 3
    c.add("package", "window-shifted", "dpkg", flip(valid, 8 + year, 0x01),
          "not-after's year changed by one: well formed, but the signature fails", **both(3))
    c.add("package", "flip-recipient-case", "dpkg", flip(valid, mpos("recipient ", 10), 0x20),
          "a recipient fingerprint in lower case (not canonical)", **both(65))
    c.add("package", "flip-content-size", "dpkg", flip(valid, mpos("content ", 8), 0x01),
          "a content size changed: the framing no longer adds up", **both(65))
    c.add("package", "flip-stanza", "dpkg", flip(valid, at["stanzas"] + 50), "a stanza byte flipped", **both(3))
    c.add("package", "flip-content-first", "dpkg", flip(valid, at["content"]),
          "the first content byte flipped (content is not signed: inspect passes, open must not)", inspect=OK, open=fail(3))
    c.add("package", "flip-content-last", "dpkg", flip(valid, at["list-length"] - 1),
          "the last byte of the last document's tag flipped", inspect=OK, open=fail(3))
    c.add("package", "flip-list-length", "dpkg", flip(valid, at["list-length"] + 3), "the list length's low bit flipped",
          **both(65))
    c.add("package", "flip-list", "dpkg", flip(valid, at["list"] + 30), "a sealed list byte flipped", **both(3))
    c.add("package", "flip-signature-first", "dpkg", flip(valid, at["signature"]), "the signature's first byte flipped",
          **both(3))
    c.add("package", "flip-signature-last", "dpkg", flip(valid, size - 1, 0x80), "the signature's last byte flipped",
          **both(3))
    stanzas_swapped = p.stanzas[80:] + p.stanzas[:80]
    c.add("package", "stanzas-swapped", "dpkg", p.bytes(stanzas=stanzas_swapped), "the two stanzas swapped", **both(3))

    # Huge and out-of-range length fields.
    for name, m in [("manifest-length-max", 0xFFFFFFFF), ("manifest-length-zero", 0),
                    ("manifest-length-over-1mib", (1 << 20) + 1), ("manifest-length-1mib", 1 << 20)]:
        c.add("package", name, "dpkg", valid[:4] + u32(m) + valid[8:], f"manifest length {m:#x}", **both(65))
    ll = at["list-length"]
    for name, n in [("list-length-max", 0xFFFFFFFF), ("list-length-zero", 0), ("list-length-39", 39),
                    ("list-length-over-4mib", (4 << 20) + 1)]:
        c.add("package", name, "dpkg", valid[:ll] + u32(n) + valid[ll + 4:], f"sealed list length {n:#x}", **both(65))
    for name, value in [("content-size-huge", str(1 << 50)), ("content-size-over-limit", str((1 << 50) + 1)),
                        ("content-size-leading-zero", "0" + str(p.sizes[0])), ("content-size-negative", "-1"),
                        ("content-size-overflow", "18446744073709551616")]:
        lines = text.split("\n")
        i = next(k for k, l in enumerate(lines) if l.startswith("content "))
        lines[i] = "content " + value
        c.add("package", name, "dpkg", p.bytes(manifest="\n".join(lines).encode()), f"a content size of {value}", **both(65))
    many = text.replace("content ", "".join(f"recipient {fp}\n" for fp in fake_fingerprints(1001)) + "content ", 1)
    many = "\n".join(l for l in many.split("\n") if not (l.startswith("recipient ") and l[10:] in p.recipients)).encode()
    c.add("package", "manifest-1001-recipients", "dpkg", p.bytes(manifest=many), "1001 recipient lines (at most 1000)", **both(65))
    docs = text.rstrip("\n").split("\n")
    docs = "\n".join([l for l in docs if not l.startswith("content ")] + ["content 0"] * 10001) + "\n"
    c.add("package", "manifest-10001-documents", "dpkg", p.bytes(manifest=docs.encode()), "10001 content lines (at most 10000)",
          **both(65))
    dup = text.replace("recipient ", f"recipient {p.recipients[0]}\nrecipient ", 1)
    c.add("package", "manifest-duplicate-recipient", "dpkg", p.bytes(manifest=dup.encode()), "a recipient listed twice", **both(65))

    # Wrong versions and forms of the manifest text.
    c.add("package", "manifest-version-2", "dpkg", p.bytes(manifest=p.manifest.replace(b"dossier-package/1", b"dossier-package/2")),
          "manifest first line dossier-package/2 without its certificate line", **both(65))
    c.add("package", "manifest-crlf", "dpkg", p.bytes(manifest=p.manifest.replace(b"\n", b"\r\n")), "CR LF line endings",
          **both(65))
    c.add("package", "manifest-bom", "dpkg", p.bytes(manifest=b"\xef\xbb\xbf" + p.manifest), "a byte-order mark before the manifest",
          **both(65))
    c.add("package", "manifest-not-utf8", "dpkg", p.bytes(manifest=p.manifest.replace(b"organisation ", b"organisation \xff", 1)),
          "invalid UTF-8 in the organisation name", **both(65))
    c.add("package", "manifest-unknown-line", "dpkg", p.bytes(manifest=p.manifest + b"comment hello\n"),
          "an unknown line at the end of the manifest", **both(65))
    c.add("package", "manifest-escape-in-unknown-line", "dpkg",
          p.bytes(manifest=p.manifest + b"\x1b]0;owned\x07\x1b[2J\x1b[1;1Hsignature: valid, trusted\n"),
          "terminal escape sequences in an unknown manifest line: refused, and never echoed to the terminal", **both(65))
    c.add("package", "manifest-escape-in-version", "dpkg",
          p.bytes(manifest=p.manifest.replace(b"dossier-package/1", b"dossier-package/\x1b[2J\x1b[31m9")),
          "terminal escape sequences in the version line: refused, and never echoed", **both(65))
    c.add("package", "manifest-no-final-newline", "dpkg", p.bytes(manifest=p.manifest[:-1]), "the manifest's last LF missing",
          **both(65))
    swapped = text.replace("not-before ", "not-after§", 1).replace("not-after ", "not-before ", 1).replace("not-after§", "not-after ")
    c.add("package", "manifest-fields-swapped", "dpkg", p.bytes(manifest=swapped.encode()),
          "not-before and not-after lines in the wrong order", **both(65))
    c.add("package", "window-reversed", "dpkg",
          p.bytes(manifest=p.replace_line("not-before", "2099-01-01T00:00:00.000Z"), signer=TEST_ORG),
          "not-before later than not-after (re-signed)", **both(65))

    # Trailing garbage.
    c.add("package", "trailing-zero-byte", "dpkg", valid + b"\x00", "one zero byte after the signature", **both(65))
    c.add("package", "trailing-newline", "dpkg", valid + b"\n", "a newline after the signature", **both(65))
    c.add("package", "trailing-package", "dpkg", valid + valid, "the package twice in a row", **both(65))

    # Re-signed by the test organisation (trusted by the test): the deeper checks.
    me = counsel["fingerprint"]
    index = p.recipients.index(me)
    package_key = seal_open(p.stanzas[80 * index:80 * index + 80], counsel["x25519_public"], counsel["x25519_secret"])
    list_key = kdf(package_key, 0)
    plain_list = xchacha_open(p.sealed_list, list_key, list_ad(p.manifest))
    manifest = p.replace_line("issuer", TEST_ORG.line)

    def resigned(plain=None, manifest=manifest, stanzas=None, reseal=True):
        sealed = xchacha_seal(plain if plain is not None else plain_list, list_key, list_ad(manifest)) if reseal else None
        return p.bytes(manifest=manifest, stanzas=stanzas, sealed_list=sealed, signer=TEST_ORG)

    c.add("package", "resigned-valid", "dpkg", resigned(),
          "re-issued by the test organisation, list re-sealed: valid (control for the re-signed cases)",
          files=names, inspect=OK, open=OK)
    c.add("package", "resigned-list-not-rebound", "dpkg", resigned(reseal=False),
          "re-signed by another trusted key, but the list is still bound to the original manifest", inspect=OK, open=fail(3))
    c.add("package", "resigned-online", "dpkg",
          resigned(manifest=manifest.replace(b"\nrecipient ", b"\nonline http://127.0.0.1:1/\nrecipient ", 1)),
          "an online line whose service (a closed port on this machine) cannot be reached: refused, nothing written",
          inspect=OK, open=fail(69))
    expired = Package(valid)
    expired.manifest = manifest
    m_exp = expired.replace_line("created", "2020-01-01T00:00:00.000Z")
    expired.manifest = m_exp
    m_exp = expired.replace_line("not-before", "2020-01-01T00:00:00.000Z")
    expired.manifest = m_exp
    m_exp = expired.replace_line("not-after", "2020-01-08T00:00:00.000Z")
    c.add("package", "resigned-expired", "dpkg", resigned(manifest=m_exp), "window ended in 2020", inspect=OK, open=fail(77))
    future = Package(valid)
    future.manifest = manifest
    future.manifest = future.replace_line("not-before", "2098-01-01T00:00:00.000Z")
    m_fut = future.replace_line("not-after", "2099-01-01T00:00:00.000Z")
    c.add("package", "resigned-not-yet-valid", "dpkg", resigned(manifest=m_fut), "window starts in 2098", inspect=OK,
          open=fail(77))
    garbage = bytearray(p.stanzas)
    garbage[80 * index:80 * index + 80] = bytes(rng.getrandbits(8) for _ in range(80))
    c.add("package", "resigned-stanza-garbage", "dpkg", resigned(stanzas=bytes(garbage)),
          "the counsel's stanza replaced by random bytes", inspect=OK, open=fail(3))

    entries = [l.split(" ") for l in plain_list.decode().rstrip("\n").split("\n")[1:]]

    def doc_list(rows, header="dossier-package-documents/1"):
        return (header + "\n" + "".join(" ".join(r) + "\n" for r in rows)).encode()

    def with_names(*file_names):
        rows = [list(r) for r in entries]
        for r, n in zip(rows, file_names):
            r[6] = base64.b64encode(n).decode()
        return doc_list(rows)

    ids = [r[1] for r in entries]
    c.add("package", "list-path-traversal", "dpkg", resigned(with_names(b"../../escape-a.txt", b"/tmp/escape-b.txt")),
          "file names with ../ and an absolute path: made safe, written inside the output folder only",
          files=[ids[0], "tmpescape-b.txt"], inspect=OK, open=OK)
    c.add("package", "list-hidden-names", "dpkg", resigned(with_names(b".profile", b"..")),
          "file names that are hidden or '..': replaced by the document ids", files=ids, inspect=OK, open=OK)
    c.add("package", "list-duplicate-names", "dpkg", resigned(with_names(b"same.txt", b"same.txt")),
          "two documents with the same file name: the second is prefixed with its id",
          files=["same.txt", f"{ids[1]}-same.txt"], inspect=OK, open=OK)
    c.add("package", "list-control-characters", "dpkg",
          resigned(with_names(b"a\x1b[2Jb\n.txt", b"c\x07\r\td.txt")),
          "control characters in file names: removed", files=["a[2Jb.txt", "cd.txt"], inspect=OK, open=OK)
    c.add("package", "list-long-and-empty-names", "dpkg", resigned(with_names(b"n" * 300, b"")),
          "a 300-byte file name and an empty one: replaced by the document ids", files=ids, inspect=OK, open=OK)
    rows = [list(r) for r in entries]
    rows[0][4] = str(int(rows[0][4]) + 1)
    c.add("package", "list-size-mismatch", "dpkg", resigned(doc_list(rows)), "the list's size for document 1 differs from the manifest",
          inspect=OK, open=fail(3))
    rows = [list(r) for r in entries]
    rows[1][5] = "00" * 32
    c.add("package", "list-wrong-hash", "dpkg", resigned(doc_list(rows)),
          "document 2's signed hash is wrong: both documents decrypt, then nothing may be left", inspect=OK, open=fail(3))
    c.add("package", "list-not-canonical", "dpkg", resigned(doc_list(entries).replace(b" ", b"  ", 1)),
          "two spaces between fields in the list", inspect=OK, open=fail(3))
    c.add("package", "list-version-2", "dpkg", resigned(doc_list(entries, "dossier-package-documents/2")),
          "the list's header names version 2", inspect=OK, open=fail(3))
    rows = [list(r) for r in entries]
    rows[0][6] = base64.b64encode(b"\xff\xfe.txt").decode()
    c.add("package", "list-name-not-utf8", "dpkg", resigned(doc_list(rows)), "a file name that is not UTF-8", inspect=OK,
          open=fail(3))
    c.add("package", "list-missing-document", "dpkg", resigned(doc_list(entries[:1])), "the list names one of two documents",
          inspect=OK, open=fail(3))
    c.add("package", "list-extra-document", "dpkg", resigned(doc_list(entries + entries[:1])),
          "the list names three documents, the manifest two", inspect=OK, open=fail(3))
    c.add("package", "list-empty", "dpkg", resigned(b""), "an empty sealed list (40 bytes: nonce and tag)", inspect=OK,
          open=fail(3))
    c.add("package", "list-binary", "dpkg", resigned(bytes(rng.getrandbits(8) for _ in range(200))),
          "random bytes sealed as the list", inspect=OK, open=fail(3))

    # Wrong types.
    c.add("package", "type-empty", "dpkg", b"", "an empty file", **both(65))
    c.add("package", "type-png", "dpkg", PNG, "a PNG header", **both(65))
    c.add("package", "type-identity", "dpkg", identity_file, "a secret identity file given as a package", **both(65))
    c.add("package", "type-public-line", "dpkg", public_line_file, "a public identity line given as a package", **both(65))
    c.add("package", "type-policy", "dpkg", policy_text, "a policy file given as a package", **both(65))
    c.add("package", "type-export", "dpkg", export_text, "a log export given as a package", **both(65))
    c.add("package", "type-checkpoint", "dpkg", note, "a checkpoint given as a package", **both(65))
    c.add("package", "type-folder", "dpkg", None, "a folder given as a package", input="folder", **both(65))


def fake_fingerprints(n):
    out = []
    for i in range(n):
        code = b32encode(hashlib.sha256(b"fake %d" % i).digest()[:10]).upper()
        out.append("-".join(code[k:k + 4] for k in range(0, 16, 4)))
    return out


# --- secret identity files -----------------------------------------------------------------

def identity_cases(c, protected, unprotected, package, policy_text, public_line_file, export_text):
    body = base64.b64decode(protected.split(b"\n")[1])
    assert len(body) == 197 and body[:5] == b"DSK\x01\x01"
    plain = base64.b64decode(unprotected.split(b"\n")[1])
    assert len(plain) == 133 and plain[:5] == b"DSK\x01\x00"

    def text(b, marker=b"DOSSIER-SECRET-KEY-1"):
        return marker + b"\n" + base64.b64encode(b) + b"\n"

    both = lambda code: dict(show=fail(code), load=fail(code))
    c.add("identity", "valid-protected", "key", protected, "fixtures/staff.key: passphrase-protected, staff of the test vault",
          show=OK, load=OK)
    c.add("identity", "valid-unprotected", "key", unprotected,
          "fixtures/counsel.key: unprotected, well formed, but not staff of the test vault", show=OK, load=fail(77))
    c.add("identity", "mode-644", "key", protected, "valid, but readable by others: refused before anything else, even by show",
          mode="644", show=fail(77), load=fail(77))
    c.add("identity", "mode-604", "key", protected, "valid, but readable by others", mode="604", show=fail(77), load=fail(77))

    # Body bit flips, region by region (re-encoded, so that the base64 stays canonical).
    for name, offset, mask, show, load, why in [
        ("flip-magic", 0, 0x01, fail(65), fail(65), "magic"),
        ("flip-version", 3, 0x03, fail(65), fail(65), "version byte (1 -> 2)"),
        ("flip-protection", 4, 0x03, fail(65), fail(65), "protection byte (1 -> 2)"),
        ("flip-protection-to-none", 4, 0x01, fail(65), fail(65), "protection byte (1 -> 0: then the length is wrong)"),
        ("flip-x25519-public", 10, 0x10, OK, fail(77), "X25519 public key (authenticated as associated data)"),
        ("flip-ed25519-public", 40, 0x10, OK, fail(77), "Ed25519 public key"),
        ("flip-ops-low", 72, 0x01, OK, fail(77), "Argon2id pass count (3 -> 2)"),
        ("flip-ops-high", 69, 0x80, OK, fail(65), "Argon2id pass count's high bit (over the maximum)"),
        ("flip-memory-high", 73, 0x80, OK, fail(65), "Argon2id memory's high bit (over the maximum)"),
        ("flip-salt", 80, 0x01, OK, fail(77), "salt"),
        ("flip-nonce", 100, 0x01, OK, fail(77), "nonce"),
        ("flip-ciphertext", 140, 0x01, OK, fail(77), "sealed secret keys"),
        ("flip-tag", 196, 0x80, OK, fail(77), "authentication tag"),
    ]:
        c.add("identity", name, "key", text(flip(body, offset, mask)), f"one bit flipped in the {why}", show=show, load=load)
    for name, offset, why in [("unprotected-flip-x25519-public", 10, "X25519 public key"),
                              ("unprotected-flip-x25519-secret", 80, "X25519 secret key"),
                              ("unprotected-flip-ed25519-seed", 110, "Ed25519 seed")]:
        c.add("identity", name, "key", text(flip(plain, offset, 0x04)),
              f"unprotected file, one bit flipped in the {why}: the keys no longer match", show=OK, load=fail(65))
    c.add("identity", "unprotected-marked-protected", "key", text(plain[:4] + b"\x01" + plain[5:]),
          "an unprotected body whose protection byte says passphrase", **both(65))

    # Argon2id costs out of range: refused before the key derivation (bounded time and memory).
    for name, ops, mem in [("cost-ops-0", 0, 262144), ("cost-ops-17", 17, 262144), ("cost-ops-max", 0xFFFFFFFF, 262144),
                           ("cost-memory-0", 3, 0), ("cost-memory-7", 3, 7), ("cost-memory-over-2gib", 3, 2097153),
                           ("cost-memory-max", 3, 0xFFFFFFFF), ("cost-both-max", 0xFFFFFFFF, 0xFFFFFFFF)]:
        c.add("identity", name, "key", text(body[:69] + struct.pack(">II", ops, mem) + body[77:]),
              f"Argon2id costs {ops} passes, {mem} KiB: refused before any key derivation", show=OK, load=fail(65))
    # The highest costs accepted are tried by HostileInputTests.testIdentityAtTheHighestAcceptedCost,
    # which reads the limits from DossierCrypto.

    # Lengths of the body.
    c.add("identity", "body-one-byte-more", "key", text(body + b"\x00"), "one byte appended to the body", **both(65))
    c.add("identity", "body-one-byte-less", "key", text(body[:-1]), "the body's last byte missing", **both(65))
    c.add("identity", "body-magic-only", "key", text(body[:4]), "a 4-byte body", **both(65))
    c.add("identity", "body-header-only", "key", text(body[:5]), "a 5-byte body (magic, version, protection)", **both(65))
    c.add("identity", "body-empty", "key", b"DOSSIER-SECRET-KEY-1\n\n", "an empty body line", **both(65))

    # Truncations of the file text.
    for n in [5, 19, 20, 21, 60, len(protected) - 2, len(protected) - 1]:
        c.add("identity", f"truncated-{n}", "key", protected[:n], f"the file cut to {n} of its {len(protected)} bytes",
              **both(65))

    # The text around the body.
    line = protected.split(b"\n")[1]
    wrapped = b"\n".join(line[i:i + 64] for i in range(0, len(line), 64))
    for name, data, show, load, why in [
        ("crlf", protected.replace(b"\n", b"\r\n"), fail(65), fail(65), "CR LF line endings"),
        ("bom", b"\xef\xbb\xbf" + protected, fail(74), fail(74), "a UTF-8 byte-order mark"),
        ("marker-lowercase", protected.replace(b"DOSSIER-SECRET-KEY-1", b"dossier-secret-key-1"), fail(65), fail(65),
         "the marker in lower case"),
        ("marker-version-2", protected.replace(b"KEY-1", b"KEY-2"), fail(65), fail(65), "marker DOSSIER-SECRET-KEY-2"),
        ("marker-trailing-space", protected.replace(b"KEY-1\n", b"KEY-1 \n"), fail(65), fail(65), "a space after the marker"),
        ("marker-only", b"DOSSIER-SECRET-KEY-1\n", fail(65), fail(65), "the marker line alone"),
        ("leading-blank-line", b"\n" + protected, fail(65), fail(65), "a blank line before the marker"),
        ("extra-line", protected + b"# comment\n", fail(65), fail(65), "a third line"),
        ("trailing-garbage", protected + b"garbage", fail(65), fail(65), "bytes after the final LF"),
        ("trailing-binary", protected + bytes(range(0x80, 0xa0)), fail(74), fail(74), "binary bytes after the final LF"),
        ("base64-wrapped", b"DOSSIER-SECRET-KEY-1\n" + wrapped + b"\n", fail(65), fail(65), "the body wrapped at 64 columns"),
        ("base64-space", protected.replace(line, line[:40] + b" " + line[40:]), fail(65), fail(65), "a space in the body"),
        ("base64-url-alphabet", protected.replace(line, line.replace(b"+", b"-").replace(b"/", b"_"))
         if (b"+" in line or b"/" in line) else protected.replace(line, line[:10] + b"-" + line[11:]), fail(65), fail(65),
         "base64url characters in the body"),
        ("base64-unpadded", protected.replace(line, line.rstrip(b"=")), fail(65), fail(65), "padding removed"),
        ("base64-noncanonical", protected.replace(line, noncanonical(line)), fail(65), fail(65),
         "non-zero unused bits in the last character"),
        ("nul-byte", protected.replace(line, line[:30] + b"\x00" + line[30:]), fail(65), fail(65), "a NUL byte in the body"),
        ("not-utf8", protected.replace(line, line[:30] + b"\xc3\x28" + line[30:]), fail(74), fail(74), "invalid UTF-8"),
    ]:
        c.add("identity", name, "key", data, why, show=show, load=load)

    # Wrong types.
    c.add("identity", "type-empty", "key", b"", "an empty file", **both(65))
    c.add("identity", "type-png", "key", PNG, "a PNG header", **both(74))
    c.add("identity", "type-package", "key", package, "a package given as an identity", **both(74))
    c.add("identity", "type-policy", "key", policy_text, "a policy file given as an identity", **both(65))
    c.add("identity", "type-export", "key", export_text, "a log export given as an identity", **both(65))
    c.add("identity", "type-public-line", "key", public_line_file,
          "a public identity line: `identity show` accepts it, loading it as a secret identity must not", show=OK, load=fail(65))
    c.add("identity", "type-folder", "key", None, "a folder given as an identity", input="folder", **both(65))


def noncanonical(line):
    """The same base64 with a non-zero unused bit in the last data character."""
    stripped = line.rstrip(b"=")
    assert stripped != line, "without padding there are no unused bits"
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(stripped[-1:])
    return stripped[:-1] + alphabet[last ^ 1:(last ^ 1) + 1] + line[len(stripped):]


# --- public identity lines -----------------------------------------------------------------

def public_cases(c, public_line, org_line, identity_file, package, policy_text, export_text):
    line = public_line.encode()
    n = len(line)
    f = lambda why: dict(show=fail(65))
    c.add("public-identity", "valid", "pub", line + b"\n", "a valid public line (control)", show=OK)
    c.add("public-identity", "valid-with-comments", "pub", b"# Counsel 1\n\n" + line + b"\n# end\n",
          "a valid line between comments (control)", show=OK)
    for k in [8, 30, n // 2, n - 5, n - 1]:
        c.add("public-identity", f"truncated-{k}", "pub", line[:k] + b"\n", f"the line cut to {k} of its {n} characters", **f(""))
    for name, pos, why in [("flip-prefix", 0, "the prefix"), ("flip-first", 8, "the first key character"),
                           ("flip-middle", n // 2, "a middle character"), ("flip-checksum", n - 3, "the checksum"),
                           ("flip-last", n - 1, "the last character")]:
        b = bytearray(line)
        b[pos] = ord("a") if b[pos] != ord("a") else ord("b")
        c.add("public-identity", name, "pub", bytes(b) + b"\n", f"a changed character in {why}", **f(""))
    for name, data, code, why in [
        ("one-character-more", line + b"a\n", 65, "one character appended"),
        ("uppercase", line.upper() + b"\n", 65, "the whole line in upper case"),
        ("uppercase-one", upper_one(line) + b"\n", 65, "one letter in upper case"),
        ("inner-space", line[:40] + b" " + line[40:] + b"\n", 65, "a space inside the line"),
        ("trailing-word", line + b" counsel\n", 65, "a word after the line"),
        ("two-lines", line + b"\n" + line + b"\n", 65, "the line twice"),
        ("comments-only", b"# nothing here\n", 65, "only a comment"),
        ("bom", b"\xef\xbb\xbf" + line + b"\n", 74, "a UTF-8 byte-order mark"),
        ("not-utf8", line[:20] + b"\xff" + line[20:] + b"\n", 74, "invalid UTF-8"),
        ("nul-byte", line[:20] + b"\x00" + line[20:] + b"\n", 65, "a NUL character"),
        ("escape-sequence", line[:20] + b"\x1b[2J" + line[20:] + b"\n", 65, "a terminal escape sequence: refused, not echoed"),
        ("organisation-key", org_line.encode() + b"\n", 65, "an organisation key line instead"),
        ("secret-marker-only", b"DOSSIER-SECRET-KEY-1\n", 65, "the secret identity marker alone"),
        ("long-line", b"dossier1" + b"a" * 60000 + b"\n", 65, "a 60 000-character line"),
        ("prefix-only", b"dossier1\n", 65, "the prefix alone"),
    ]:
        c.add("public-identity", name, "pub", data, why, show=fail(code))
    c.add("public-identity", "type-empty", "pub", b"", "an empty file", show=fail(65))
    c.add("public-identity", "type-png", "pub", PNG, "a PNG header", show=fail(74))
    c.add("public-identity", "type-package", "pub", package, "a package", show=fail(74))
    c.add("public-identity", "type-policy", "pub", policy_text, "a policy file", show=fail(65))
    c.add("public-identity", "type-export", "pub", export_text, "a log export", show=fail(65))
    c.add("public-identity", "type-folder", "pub", None, "a folder", input="folder", show=fail(65))


def upper_one(line):
    i = next(k for k in range(8, len(line)) if chr(line[k]).isalpha())
    return line[:i] + line[i:i + 1].upper() + line[i + 1:]


# --- policies ------------------------------------------------------------------------------

def policy_cases(c, default, strict, package, identity_file, export_text):
    text = default.decode()
    c.add("policy", "valid-default", "toml", default, "policies/default.toml (control)", check=OK)
    c.add("policy", "valid-strict", "toml", strict, "policies/strict.toml (control)", check=OK)
    last = text.rindex("max_opens = 0")
    for name, n, why in [("truncated-in-comment", 40, "inside the first comment"),
                         ("truncated-after-version", text.index("version = 1") + 12, "after the version line"),
                         ("truncated-in-table-header", text.index("[kinds.expert") + 10, "inside a table header"),
                         ("truncated-in-string", text.index('max_window = "30d"') + 15, "inside a string"),
                         ("truncated-after-first-kind", text.index("[kinds.witness"), "after the first kind's table"),
                         ("truncated-in-last-value", last + len("max_opens = "), "before the last value")]:
        c.add("policy", name, "toml", default[:n], f"cut {why} ({n} of {len(default)} bytes)", check=fail(65))
    flips = [("flip-version-key", text.index("version = 1"), 0x01, "'wersion' for 'version'"),
             ("flip-equals", text.index("version = 1") + 8, 0x01, "'<' for '='"),
             ("flip-version-value", text.index("version = 1") + 10, 0x01, "version 0"),
             ("flip-kind-name", text.index("[kinds.expert") + 7, 0x01, "an unknown kind name"),
             ("flip-duration-unit", text.index('max_window = "30d"') + 16, 0x01, "'30e' for '30d'"),
             ("flip-approvals", text.index("approvals = 1") + 12, 0x01, "approvals 0"),
             ("flip-boolean", text.index("require_vetted = true") + 20, 0x20, "'truE' for 'true'"),
             ("flip-bracket", text.index("[kinds.expert"), 0x01, "'Z' for '['")]
    for name, pos, mask, why in flips:
        c.add("policy", name, "toml", flip(default, pos, mask), f"one bit flipped: {why}", check=fail(65))

    def sub(old, new, count=1):
        assert old in text, old
        return text.replace(old, new, count).encode()

    for name, data, code, why in [
        ("version-2", sub("version = 1", "version = 2"), 65, "version 2"),
        ("version-string", sub("version = 1", 'version = "1"'), 65, "version as a string"),
        ("version-float", sub("version = 1", "version = 1.0"), 65, "version as a float"),
        ("version-missing", sub("version = 1\n", ""), 65, "no version"),
        ("version-huge", sub("version = 1", "version = 99999999999999999999"), 65, "a version that overflows 64 bits"),
        ("approvals-huge", sub("approvals = 1", "approvals = 9223372036854775807"), 65, "approvals Int64.max"),
        ("approvals-negative", sub("approvals = 1", "approvals = -1"), 65, "approvals -1"),
        ("approvals-string", sub("approvals = 1", 'approvals = "1"'), 65, "approvals as a string"),
        ("max-opens-overflow", sub("max_opens = 0", "max_opens = 18446744073709551616"), 65, "max_opens over 64 bits"),
        ("duration-overflow-days", sub('max_window = "30d"', 'max_window = "200000000000000d"'), 65,
         "a duration whose seconds overflow Int64 (200 000 000 000 000 days): must be refused, not trap"),
        ("duration-overflow-minutes", sub('max_window = "30d"', 'max_window = "9223372036854775807m"'), 65,
         "Int64.max minutes"),
        ("duration-zero", sub('max_window = "30d"', 'max_window = "0d"'), 65, "a zero duration"),
        ("duration-negative", sub('max_window = "30d"', 'max_window = "-1d"'), 65, "a negative duration"),
        ("duration-plus", sub('max_window = "30d"', 'max_window = "+30d"'), 65, "a duration with a sign"),
        ("duration-unit", sub('max_window = "30d"', 'max_window = "4w"'), 65, "an unknown unit"),
        ("duration-empty", sub('max_window = "30d"', 'max_window = ""'), 65, "an empty duration"),
        ("duration-over-ten-years", sub('max_window = "30d"', 'max_window = "3651d"'), 65, "over ten years"),
        ("duration-number", sub('max_window = "30d"', "max_window = 30"), 65, "a number instead of a string"),
        ("default-over-max", sub('default_window = "14d"', 'default_window = "31d"'), 65, "default_window over max_window"),
        ("unknown-top-level-key", sub("version = 1\n", "version = 1\nowner = \"x\"\n"), 65, "an unknown top-level key"),
        ("unknown-kind-key", sub("max_opens = 0", "max_opens = 0\nmax_copies = 1"), 65, "an unknown key in a kind"),
        ("unknown-kind", text.encode() + b"\n[kinds.diary]\nmax_window = \"1d\"\n", 65, "an unknown kind"),
        ("missing-kind", text[:text.index("[kinds.supporting")].encode(), 65, "one kind missing"),
        ("duplicate-table", text.encode() + text[text.index("[kinds.supporting"):].encode(), 65, "a table twice"),
        ("duplicate-key", sub("approvals = 1", "approvals = 1\napprovals = 1"), 65, "a key twice"),
        ("kinds-not-table", b"version = 1\nkinds = 1\n", 65, "kinds as a number"),
        ("kinds-array-of-tables", sub("[kinds.expert-report]", "[[kinds.expert-report]]"), 65, "an array of tables"),
        ("kind-not-table", sub("[kinds.expert-report]\n", 'kinds.expert-report = "x"\n[kinds.unused]\n'), 65,
         "a kind as a string"),
        ("escape-in-key", sub("version = 1\n", 'version = 1\n"\\u001b]0;owned\\u0007\\u001b[2J" = 1\n'), 65,
         "a terminal escape sequence in an unknown key: refused, never echoed"),
        ("escape-in-kind", text.encode() + b'\n["kinds"."\\u001b[2J\\u001b[31mred"]\n', 65,
         "a terminal escape sequence in a kind name: refused, never echoed"),
        ("escape-in-duration", sub('max_window = "30d"', 'max_window = "\\u001b[2J\\u001b[1;1H30d"'), 65,
         "a terminal escape sequence in a duration: refused, never echoed"),
        ("nested-arrays", b"version = 1\nx = " + b"[" * 100000 + b"]" * 100000 + b"\n", 65, "arrays nested 100 000 deep"),
        ("nested-inline-tables", b"version = 1\nx = " + b"{a=" * 20000 + b"1" + b"}" * 20000 + b"\n", 65,
         "inline tables nested 20 000 deep"),
        ("long-key", b"version = 1\n" + b"k" * 100000 + b" = 1\n", 65, "a 100 000-character key"),
        ("bom", b"\xef\xbb\xbf" + default, 74, "a UTF-8 byte-order mark"),
        ("not-utf8", default.replace(b"# Dossier", b"# Dossier \xff", 1), 74, "invalid UTF-8 in a comment"),
        ("nul-byte", default.replace(b"version = 1", b"version = 1\x00"), 65, "a NUL byte"),
        ("trailing-garbage", default + b"garbage\n", 65, "a line of garbage at the end"),
        ("trailing-binary", default + bytes(range(0x80, 0xa0)), 74, "binary bytes at the end"),
    ]:
        c.add("policy", name, "toml", data, why, check=fail(code))
    c.add("policy", "type-empty", "toml", b"", "an empty file", check=fail(65))
    c.add("policy", "type-png", "toml", PNG, "a PNG header", check=fail(74))
    c.add("policy", "type-package", "toml", package, "a package given as a policy", check=fail(74))
    c.add("policy", "type-identity", "toml", identity_file, "a secret identity file given as a policy", check=fail(65))
    c.add("policy", "type-export", "toml", export_text, "a log export given as a policy", check=fail(65))
    c.add("policy", "type-folder", "toml", None, "a folder given as a policy", input="folder", check=fail(65))


# --- checkpoints ---------------------------------------------------------------------------

def checkpoint_cases(c, valid, older, later, other_vault, package, identity_file, export_text, entries):
    note = valid.decode()
    text, sig = note.split("\n\n", 1)
    text += "\n"
    size = len(valid)
    v = lambda verify, proof: dict(verify=verify, proof=proof)
    c.add("checkpoint", "valid", "note", valid, "the newest checkpoint in fixtures/log.dlog (control)", verify=OK, proof=OK)
    c.add("checkpoint", "older", "note", older, "an older checkpoint: consistent; the proof is for another size",
          verify=OK, proof=fail(3))
    c.add("checkpoint", "from-a-longer-log", "note", later,
          "a checkpoint made after the export: it covers entries the export does not have", verify=fail(3), proof=fail(3))
    c.add("checkpoint", "other-vault", "note", other_vault,
          "a checkpoint by another vault of the same organisation name", verify=fail(3), proof=fail(3))
    c.add("checkpoint", "extra-cosignature", "note", valid + "\u2014 witness.example AAAAAAA=\n".encode(),
          "an extra signature line by another key: ignored (control)", verify=OK, proof=OK)
    blank = note.index("\n\n")
    for name, n, proof, why in [("truncated-10", 10, fail(65), "inside the origin"),
                                ("truncated-text", len(text.encode()), fail(65), "after the text"),
                                ("truncated-in-signature", len(valid) - 10, fail(65), "inside the signature"),
                                ("truncated-last-byte", size - 1, fail(65), "without the final LF")]:
        c.add("checkpoint", name, "note", valid[:n], f"cut {why} ({n} of {size} bytes)", **v(proof, proof))
    # The signature's base64 must stay decodable for the signature to be what fails.
    sig_b64 = valid.rindex(b" ") + 1
    for name, pos, mask, verify, proof, why in [
        ("flip-origin", 0, 0x01, fail(3), fail(3), "the origin"),
        ("flip-size", text.index("\n") + 1, 0x01, fail(3), fail(3), "the tree size"),
        ("flip-root", text.index("\n", text.index("\n") + 1) + 5, 0x01, fail(3), fail(3), "the root hash"),
        ("flip-blank-line", blank + 1, 0x20, fail(65), fail(65), "the blank line (no blank line before the signatures)"),
        ("flip-em-dash", blank + 4, 0x01, fail(65), fail(65), "the em dash (U+2015 horizontal bar instead)"),
        ("flip-signer-name", blank + 6, 0x01, fail(3), fail(3), "the signer's name"),
    ]:
        c.add("checkpoint", name, "note", flip(valid, pos, mask), f"one bit flipped in {why}", **v(verify, proof))
    c.add("checkpoint", "changed-key-id", "note", other_b64(valid, sig_b64 + 1), "a base64 character of the key id changed",
          **v(fail(3), fail(3)))
    c.add("checkpoint", "changed-signature", "note", other_b64(valid, sig_b64 + 40), "a base64 character of the signature changed",
          **v(fail(3), fail(3)))
    for name, data, verify, proof, why in [
        ("trailing-garbage", valid + b"garbage\n", fail(65), fail(65), "a garbage line after the signature"),
        ("crlf", valid.replace(b"\n", b"\r\n"), fail(65), fail(65), "CR LF line endings"),
        ("bom", b"\xef\xbb\xbf" + valid, fail(74), fail(74), "a UTF-8 byte-order mark"),
        ("not-utf8", valid.replace("\u2014".encode(), b"\xe2\x80"), fail(74), fail(74), "a broken em dash (invalid UTF-8)"),
        ("signature-short", valid[:sig_b64] + base64.b64encode(b"\x00" * 4) + b"\n", fail(65), fail(65),
         "a 4-byte signature payload"),
        ("signature-base64-broken", valid[:sig_b64] + b"!!!!\n", fail(65), fail(65), "a signature that is not base64"),
        ("no-signature", text.encode() + b"\n", fail(65), fail(65), "the text and the blank line, no signature"),
        ("text-only", text.encode(), fail(65), fail(65), "the checkpoint text without any note"),
    ]:
        c.add("checkpoint", name, "note", data, why, **v(verify, proof))

    # Bodies signed by the test organisation: proof-test-key reaches the checkpoint parser.
    lines = text.rstrip("\n").split("\n")
    origin, n, root = lines
    n = int(n)
    t = lambda key, why: dict(verify=fail(3), proof=fail(3), proof_test_key=key)
    c.add("checkpoint", "resigned-valid", "note", TEST_ORG.note(text),
          "the valid body signed by the test organisation (control for the re-signed cases)", **t(OK, ""))
    for name, body, key, why in [
        ("resigned-size-overflow", f"{origin}\n18446744073709551616\n{root}\n", fail(65), "a size of 2^64"),
        ("resigned-size-max", f"{origin}\n18446744073709551615\n{root}\n", fail(3), "a size of 2^64-1 (well formed; the proof is for another)"),
        ("resigned-size-negative", f"{origin}\n-1\n{root}\n", fail(65), "a size of -1"),
        ("resigned-size-leading-zero", f"{origin}\n0{n}\n{root}\n", fail(65), "a size with a leading zero"),
        ("resigned-size-plus", f"{origin}\n+{n}\n{root}\n", fail(65), "a size with a sign"),
        ("resigned-size-space", f"{origin}\n {n}\n{root}\n", fail(65), "a size with a space"),
        ("resigned-root-short", f"{origin}\n{n}\n{base64.b64encode(base64.b64decode(root)[:31]).decode()}\n", fail(65),
         "a 31-byte root"),
        ("resigned-root-long", f"{origin}\n{n}\n{base64.b64encode(base64.b64decode(root) + b'x').decode()}\n", fail(65),
         "a 33-byte root"),
        ("resigned-root-noncanonical", f"{origin}\n{n}\n{noncanonical(root.encode()).decode()}\n", fail(65),
         "a root with non-zero unused bits"),
        ("resigned-root-empty", f"{origin}\n{n}\n\n", fail(65), "an empty root"),
        ("resigned-extension-line", f"{origin}\n{n}\n{root}\nextension\n", fail(65), "an extension line"),
        ("resigned-two-lines", f"{origin}\n{n}\n", fail(65), "no root line"),
        ("resigned-origin-empty", f"\n{n}\n{root}\n", fail(65), "an empty origin"),
        ("resigned-origin-other", f"other.example/log\n{n}\n{root}\n", fail(65),
         "an origin other than the organisation name (log.md section 8: MUST reject)"),
        ("resigned-origin-escape", f"{origin}\x1b[2J\n{n}\n{root}\n", fail(65),
         "terminal escape sequences in the origin (not printable ASCII)"),
    ]:
        c.add("checkpoint", name, "note", TEST_ORG.note(body), f"signed by the test organisation: {why}", **t(key, why))

    both = lambda code: dict(verify=fail(code), proof=fail(code))
    c.add("checkpoint", "type-empty", "note", b"", "an empty file", **both(65))
    c.add("checkpoint", "type-png", "note", PNG, "a PNG header", verify=fail(74), proof=fail(74))
    c.add("checkpoint", "type-package", "note", package, "a package given as a checkpoint", verify=fail(74), proof=fail(74))
    c.add("checkpoint", "type-identity", "note", identity_file, "a secret identity file given as a checkpoint", **both(65))
    c.add("checkpoint", "type-export", "note", export_text, "a log export given as a checkpoint", **both(65))
    c.add("checkpoint", "type-folder", "note", None, "a folder given as a checkpoint", input="folder",
          verify=fail(65), proof=fail(65))


# --- log exports ---------------------------------------------------------------------------

def export_cases(c, valid, checkpoint_size, package, identity_file, note, policy_text):
    text = valid.decode()
    lines = text.rstrip("\n").split("\n")
    entry_lines = [i for i, l in enumerate(lines) if l.startswith("entry ")]
    cp_lines = [i for i, l in enumerate(lines) if l.startswith("checkpoint ")]
    assert len(entry_lines) >= checkpoint_size >= 3 and len(cp_lines) >= 1
    join = lambda ls: ("\n".join(ls) + "\n").encode()
    size = len(valid)
    bad = dict(verify=fail(65))
    forged = dict(verify=fail(3))
    c.add("export", "valid", "dlog", valid, "an export made by `dossier audit export` (control)", verify=OK)
    line_start = lambda i: len(join(lines[:i]))
    last = lines[entry_lines[-1]]
    for name, n, why in [("truncated-in-header", 5, "inside the header"),
                         ("truncated-after-header", line_start(1), "after the header line"),
                         ("truncated-in-key", line_start(2) + 30, "inside the organisation key line"),
                         ("truncated-in-checkpoint", line_start(cp_lines[0]) + 30, "inside a checkpoint line"),
                         ("truncated-in-entry", line_start(entry_lines[-1]) + 6 + 41, "inside the last entry's base64"),
                         ("truncated-last-byte", size - 1, "without the final LF")]:
        c.add("export", name, "dlog", valid[:n], f"cut {why} ({n} of {size} bytes)", **bad)
    # Whole entries missing at the end, below the newest checkpoint's size.
    keep = checkpoint_size - 1
    c.add("export", "entries-cut-below-checkpoint", "dlog", join(lines[:entry_lines[keep]]),
          f"only the first {keep} entries, while the newest checkpoint covers {checkpoint_size}", **forged)
    order = lines[:]
    order[entry_lines[1]], order[entry_lines[2]] = order[entry_lines[2]], order[entry_lines[1]]
    c.add("export", "entries-swapped", "dlog", join(order), "entries 2 and 3 swapped", **forged)
    c.add("export", "entry-repeated", "dlog", join(lines[:entry_lines[2]] + [lines[entry_lines[1]]] + lines[entry_lines[2]:]),
          "entry 2 twice", **forged)
    c.add("export", "entry-removed", "dlog", join(lines[:entry_lines[1]] + lines[entry_lines[2]:]), "entry 2 left out", **forged)
    c.add("export", "checkpoint-after-entries", "dlog", join([l for i, l in enumerate(lines) if i not in cp_lines] +
                                                              [lines[i] for i in cp_lines]),
          "the checkpoint lines after the entries", **bad)

    def change_decoded(i, offset, mask):
        """Line i with one bit of its decoded bytes flipped (ASCII stays ASCII), canonically re-encoded."""
        keyword, b64 = lines[i].split(" ", 1)
        raw = base64.b64decode(b64)
        assert raw[offset] < 0x80
        ls = lines[:]
        ls[i] = keyword + " " + base64.b64encode(flip(raw, offset, mask)).decode()
        return join(ls)

    def flipped(substr, k, mask, nth=0):
        return flip(valid, text.index(substr) + k, mask)

    c.add("export", "flip-header", "dlog", flip(valid, 3, 0x01), "one bit flipped in the header", **bad)
    c.add("export", "flip-keyword", "dlog", flipped("organisation ", 0, 0x20), "'Organisation' for 'organisation'", **bad)
    c.add("export", "flip-organisation-name", "dlog", flipped("organisation ", 13, 0x20),
          "the organisation name changed (still well formed): the checkpoints no longer verify", **forged)
    key_char = text.index("organisation-key ") + len("organisation-key dossierorg1") + 20
    c.add("export", "flip-organisation-key", "dlog", put(valid, key_char, ord("a") if valid[key_char] != ord("a") else ord("b")),
          "a character of the organisation key line changed: its checksum fails", **bad)
    cp_note = base64.b64decode(lines[cp_lines[-1]].split(" ", 1)[1])
    c.add("export", "flip-checkpoint", "dlog", change_decoded(cp_lines[-1], cp_note.index(b"\n") + 1, 0x01),
          "one bit of the newest checkpoint's tree size flipped", **forged)
    c.add("export", "flip-entry", "dlog", change_decoded(entry_lines[1], 40, 0x01), "one bit flipped in the text of entry 2",
          **forged)
    entry3 = base64.b64decode(lines[entry_lines[2]].split(" ", 1)[1])
    c.add("export", "flip-entry-signature", "dlog", change_decoded(entry_lines[2], len(entry3) - 10, 0x01),
          "one bit flipped in entry 3's signature line", **forged)
    c.add("export", "entry-empty", "dlog", join(lines + ["entry "]),
          "an empty entry line at the end (decodes to no bytes: not a valid entry)", **forged)
    ls = lines[:]
    i = next(k for k in entry_lines if ls[k].endswith("="))
    ls[i] = "entry " + noncanonical(ls[i][6:].encode()).decode()
    c.add("export", "entry-base64-noncanonical", "dlog", join(ls),
          f"entry {entry_lines.index(i) + 1} with non-zero unused base64 bits (the same bytes, another encoding)", **bad)
    c.add("export", "version-2", "dlog", valid.replace(b"dossier-log-export/1", b"dossier-log-export/2"), "header version 2", **bad)
    for name, data, why in [
        ("crlf", valid.replace(b"\n", b"\r\n"), "CR LF line endings"),
        ("bom", b"\xef\xbb\xbf" + valid, "a UTF-8 byte-order mark"),
        ("not-utf8", valid + b"\xff\n", "an invalid UTF-8 line at the end"),
        ("blank-line", join(lines[:3] + [""] + lines[3:]), "a blank line"),
        ("unknown-line", join(lines[:3] + ["comment made by hand"] + lines[3:]), "an unknown line"),
        ("trailing-garbage", valid + b"garbage\n", "a garbage line at the end"),
        ("entry-not-base64", join(lines + ["entry !!!!"]), "an entry line that is not base64"),
        ("checkpoint-not-utf8", join(lines[:3] + ["checkpoint " + base64.b64encode(b"\xff\xfe").decode()] + lines[3:]),
         "a checkpoint that is not UTF-8"),
    ]:
        c.add("export", name, "dlog", data, why, **bad)
    c.add("export", "organisation-escape", "dlog",
          valid.replace(b"\norganisation " + ORG_NAME.encode(), b"\norganisation \x1b]0;owned\x07\x1b[2J" + ORG_NAME.encode(), 1),
          "terminal escape sequences in the organisation name (not a valid name): refused as malformed, never echoed", **bad)
    c.add("export", "organisation-space", "dlog",
          valid.replace(b"\norganisation " + ORG_NAME.encode(), b"\norganisation Corpus Org", 1),
          "an organisation name with a space (not a valid name)", **bad)
    c.add("export", "other-organisation-key", "dlog",
          re_key(valid, TEST_ORG.line), "the test organisation's key instead of the vault's", **forged)
    c.add("export", "type-empty", "dlog", b"", "an empty file", **bad)
    c.add("export", "type-png", "dlog", PNG, "a PNG header", **bad)
    c.add("export", "type-package", "dlog", package, "a package given as an export", **bad)
    c.add("export", "type-identity", "dlog", identity_file, "a secret identity file given as an export", **bad)
    c.add("export", "type-checkpoint", "dlog", note, "a checkpoint given as an export", **bad)
    c.add("export", "type-policy", "dlog", policy_text, "a policy given as an export", **bad)
    c.add("export", "type-folder", "dlog", None, "a folder given as an export", input="folder", **bad)


def re_key(export, line):
    ls = export.decode().split("\n")
    ls = [f"organisation-key {line}" if l.startswith("organisation-key ") else l for l in ls]
    return "\n".join(ls).encode()


# --- requests from counsel -----------------------------------------------------------------

REQUEST_MESSAGE = b"Please send an expert on prison conditions to the hearing of 15 March.\n"
REQUEST_ATTACHMENTS = [("order.txt", b"Order of 2 January 2027: hearing fixed for 15 March.\n"),
                       ("d\u00e9cision.txt", "La demande d'extradition est recevable.\n".encode())]
REQUEST_FIELDS = dict(need="expert-witness", languages=["en", "fr"], jurisdiction="England and Wales",
                      court="Westminster Magistrates' Court", case="EXT-2027-0042", hearing="2027-03-15")


def request_cases(c, d):
    """Requests from counsel (docs/formats/request.md), for `requests import` into a copy of the
    vault saved as fixtures/request-vault.sqlite, whose staff member is fixtures/request-staff.key
    (unprotected: each case runs dossier several times, and Argon2id would make that minutes).

    `valid` is written by `dossier request new`; every other case by requestwriter.py, written
    from request.md alone, so that forged requests get past the outer checks to the one each
    case is about: the Python writer holds the request key, counsel's keys and the intake
    public key, and re-seals and re-signs what it changes."""
    fixtures = os.path.join(HERE, "fixtures")

    def fixture(name):
        with open(os.path.join(fixtures, name), "rb") as f:
            return f.read()

    def corpus_file(path):
        with open(os.path.join(HERE, path), "rb") as f:
            return f.read()

    staff_key, counsel_key = d.path("request-staff.key"), d.write("request-counsel.key", fixture("counsel.key"))
    os.chmod(counsel_key, 0o600)
    d("identity", "new", "-o", staff_key, "--no-passphrase")
    c.fixture("request-staff.key", d.read("request-staff.key"), 0o600)

    def new_vault(folder):
        # The staff certificate is not needed to import requests; 366 days is the longest there is.
        d("init", "--vault", folder, "--org", ORG_NAME, "--identity", staff_key, "--name", "Corpus Staff",
          "--root-out", folder + ".root", "--no-passphrase", "--certify-for", "366d")
        return json.loads(d("org", "show", "--vault", folder, "--json"))["intakeKey"]

    vault = d.path("request-vault")
    intake_line = new_vault(vault)
    other_line = new_vault(d.path("request-other-vault"))
    # The test makes the vault folder from the database alone: nothing else may be in it.
    assert sorted(os.listdir(vault)) == ["blobs", "vault.sqlite"] and not os.listdir(os.path.join(vault, "blobs")), os.listdir(vault)
    with open(os.path.join(vault, "vault.sqlite"), "rb") as f:
        c.fixture("request-vault.sqlite", f.read(), 0o600)

    intake, other = rw.intake_public_key(intake_line), rw.intake_public_key(other_line)
    counsel = rw.Sender.from_secret_file(fixture("counsel.key"))
    stranger = rw.Sender.fresh()
    accepted = {"import": OK, "show": OK}

    def refused(code):
        return {"import": fail(code)}

    def request(**fields):
        values = dict(REQUEST_FIELDS, message=REQUEST_MESSAGE, attachments=REQUEST_ATTACHMENTS)
        values.update(fields)
        return rw.Request(intake, counsel, **values)

    def add(name, data, comment, expect):
        c.add("request", name, "drq", data, comment, **expect)

    # The control written by dossier itself.
    os.makedirs(d.path("request-attachments"))
    files = []
    for name, data in REQUEST_ATTACHMENTS:
        files += ["--attach", d.write(os.path.join("request-attachments", name), data)]
    d("request", "new", "--org", intake_line, "--identity", counsel_key, "--need", "expert-witness", "--lang", "en", "--lang", "fr",
      "--jurisdiction", REQUEST_FIELDS["jurisdiction"], "--court", REQUEST_FIELDS["court"], "--case", REQUEST_FIELDS["case"],
      "--hearing", REQUEST_FIELDS["hearing"], "--message-file", d.write("request-message.txt", REQUEST_MESSAGE), *files,
      "-o", d.path("valid.drq"))
    valid = d.read("valid.drq")
    add("valid", valid, "written by `dossier request new` with every field and two attachments (control)", accepted)

    # The independent writer's requests must import as dossier's do.
    base = request()
    python = base.bytes()
    at = base.offsets()
    size = len(python)
    add("valid-python", python, "the same request written by requestwriter.py from request.md alone (control)", accepted)
    add("valid-minimal", request(need="other", languages=["ar"], jurisdiction=None, court=None, case=None, hearing=None,
                                 message=b"?", attachments=[]).bytes(),
        "no optional field, a 1-byte message, no attachment (control)", accepted)
    add("valid-empty-attachment", request(attachments=[("empty.txt", b"")]).bytes(),
        "an empty attachment: one empty final chunk (control)", accepted)
    two_chunks = b"x" * 65536 + b"\n"
    add("valid-two-chunks", request(message=two_chunks).bytes(), "a message of 65 537 bytes: a full chunk and a final one (control)",
        accepted)
    add("valid-limits", request(languages=[f"x-lang{i:03d}" for i in range(16)],
                                attachments=[(f"a{i:03d}.txt", b"") for i in range(100)]).bytes(),
        "16 languages and 100 attachments, the most there may be (control)", accepted)
    add("valid-hostile-message", request(
        message="\x1b]0;owned\x07\x1b[2J\x1b[1;1H\u202esignature: valid\u2066 \u0085 \u200f\r\nend\n".encode(),
        court="\u0645\u062d\u0643\u0645\u0629 \u0627\u0644\u0627\u0633\u062a\u0626\u0646\u0627\u0641",
        case="Cour d'appel de Lyon, arre\u0302t 2027/12", attachments=[("\u5224\u6c7a.pdf", b"%PDF-1.7\n")]).bytes(),
        "terminal escapes and bidirectional controls in the message (any text), Arabic court, a decomposed accent, a CJK "
        "name: accepted, and shown with the controls made visible (control)", accepted)
    add("replay-same-id", request(request_id=base.request_id, message=b"A different request under the same id.\n").bytes(),
        "another request with valid-python's id: imports alone; after valid-python it is a replay "
        "(HostileInputTests.testReplayedRequestIsRefused)", accepted)

    # Sealed to another organisation, or signed by another key than the one inside.
    add("sealed-to-another-organisation", rw.Request(other, counsel, **REQUEST_FIELDS, message=REQUEST_MESSAGE).bytes(),
        "a valid request for another organisation's intake key", refused(77))
    r = request()
    r.stanza_override = rw.box_seal(r.key, other)
    add("stanza-for-another-organisation", r.bytes(), "the header names this intake key, the stanza is sealed to another's",
        refused(3))
    r = request()
    r.stanza_override = rw.random_bytes(80)
    add("stanza-random", r.bytes(), "80 random bytes for the stanza", refused(3))
    r = request()
    r.signer = stranger
    add("signed-by-another-key", r.bytes(), "signed by another identity than the from line's", refused(3))
    r = request()
    r.sender = stranger
    r.signer = counsel
    add("from-another-identity", r.bytes(), "signed by counsel, but the from line names another identity", refused(3))
    r = request()
    r.signature_override = counsel.sign(rw.blake2b(r.signed_part(), 64))
    add("signature-without-label", r.bytes(), "the digest signed without the dossier-request-signature/1 label", refused(3))
    r = request()
    r.signature_override = counsel.sign(rw.SIGNATURE_LABEL + hashlib.sha512(r.signed_part()).digest())
    add("signature-over-sha512", r.bytes(), "the label and a SHA-512 digest signed instead of BLAKE2b-512", refused(3))
    r = request()
    r.sealed_signature_override = bytes(104)
    add("signature-zeroed", r.bytes(), "the sealed signature all zero bytes", refused(3))
    r = request()
    signed = r.signed_part()
    sig = counsel.sign(rw.SIGNATURE_LABEL + rw.blake2b(signed, 64))
    r.sealed_signature_override = rw.xchacha_seal(sig, r.subkey(0), rw.SIGNATURE_LABEL, rw.random_bytes(24))
    add("signature-sealed-with-details-key", r.bytes(), "a good signature sealed under the details key", refused(3))
    r = request()
    r.sealed_signature_override = bytes(24) + counsel.sign(rw.SIGNATURE_LABEL + rw.blake2b(r.signed_part(), 64)) + bytes(16)
    add("signature-in-the-clear", r.bytes(), "a good signature, not sealed, between a zero nonce and a zero tag", refused(3))

    # Framing: magic, version, lengths (step 1).
    add("flip-magic", flip(python, 0), "one bit flipped in the magic", refused(65))
    for v in [0, 2, 255]:
        add(f"version-{v}", python[:3] + bytes([v]) + python[4:], f"magic version byte {v}", refused(65))
    for name, m in [("header-length-zero", 0), ("header-length-4097", 4097), ("header-length-max", 0xFFFFFFFF),
                    ("header-length-152", 152), ("header-length-154", 154)]:
        add(name, python[:4] + u32(m) + python[8:], f"header length {m}", refused(65))
    ll = at["details-length"]
    for name, n in [("details-length-zero", 0), ("details-length-40", 40), ("details-length-65577", 65577),
                    ("details-length-max", 0xFFFFFFFF), ("details-length-past-end", 65576)]:
        add(name, python[:ll] + u32(n) + python[ll + 4:], f"sealed details length {n}", refused(65))

    # The header: every line, its order and form (step 1).
    header = base.header().decode()
    to_value = intake_line

    def with_header(text, name, comment):
        r = request()
        r.header_override = text if isinstance(text, bytes) else text.encode()
        add(name, r.bytes(), comment + " (details bound to it and re-signed)", refused(65))

    lines = header.split("\n")
    for name, text, comment in [
        ("header-version-2", header.replace("dossier-request/1", "dossier-request/2"), "first line dossier-request/2"),
        ("header-first-line-unknown", header.replace("dossier-request/1", "dossier-package/1"), "first line dossier-package/1"),
        ("header-escape-in-version", header.replace("dossier-request/1", "dossier-request/\x1b[2J\x1b[31m9"),
         "terminal escapes in the version line: refused, and never echoed"),
        ("header-lines-swapped", "\n".join([lines[0], lines[2], lines[1], lines[3], ""]), "request line before to line"),
        ("header-missing-created", "\n".join(lines[:3] + [""]), "no created line"),
        ("header-extra-line", header + "comment hello\n", "an unknown fifth line"),
        ("header-crlf", header.replace("\n", "\r\n"), "CR LF line endings"),
        ("header-two-spaces", header.replace("request ", "request  "), "two spaces after 'request'"),
        ("header-trailing-space", header.replace("\ncreated", " \ncreated"), "a space after the request id"),
        ("header-no-final-newline", header[:-1], "the header's last LF missing"),
        ("header-blank-line", header.replace("\nrequest", "\n\nrequest"), "a blank line inside"),
        ("header-to-checksum", header.replace(to_value, to_value[:40] + ("a" if to_value[40] != "a" else "b") + to_value[41:]),
         "a character of the intake line changed: its checksum fails"),
        ("header-to-uppercase", header.replace(to_value, to_value.upper()), "the intake line in upper case"),
        ("header-to-organisation-key", header.replace(to_value, "dossierorg1" + rw.b32encode(intake + rw.blake2b(b"dossierorg1" + intake, 32)[:4])),
         "an organisation key line (same 32 bytes) in place of the intake line"),
        ("header-id-uppercase", header.replace(base.request_id, base.request_id.upper().replace("REQ-", "req-")), "the request id in upper case"),
        ("header-id-short", header.replace(base.request_id, base.request_id[:-1]), "a request id of 12 characters"),
        ("header-id-unused-bit", header.replace(base.request_id, base.request_id[:-1] + rw.B32[rw.B32.index(base.request_id[-1]) | 1]),
         "the id's last character with its unused low bit set"),
        ("header-time-impossible", header.replace("2027-01-01T", "2027-02-29T"), "created on 29 February 2027"),
        ("header-time-no-millis", header.replace("00:00:00.000Z", "00:00:00Z"), "a time without milliseconds"),
        ("header-time-offset", header.replace("00:00:00.000Z", "01:00:00.000+01:00"), "a time with an offset instead of Z"),
        ("header-bom", "\ufeff" + header, "a byte-order mark before the first line"),
    ]:
        with_header(text, name, comment)
    with_header(header.encode().replace(b"created", b"cr\xe9ated"), "header-not-utf8", "invalid UTF-8 in a line name")

    # The sealed details: each rule of section 4, sealed and signed as a writer would (step 4).
    details = base.details().decode()

    def with_details(text, name, comment, code=65):
        r = request()
        r.details_override = text if isinstance(text, bytes) else text.encode()
        add(name, r.bytes(), comment + " (sealed and signed)", refused(code))

    def field(**changes):
        return request(**changes).details().decode()

    dl = details.split("\n")
    for name, text, comment in [
        ("details-version-2", details.replace("dossier-request-details/1", "dossier-request-details/2"), "first line names version 2"),
        ("details-crlf", details.replace("\n", "\r\n"), "CR LF line endings"),
        ("details-bom", "\ufeff" + details, "a byte-order mark before the first line"),
        ("details-no-final-newline", details[:-1], "the last LF missing"),
        ("details-unknown-line", details + "comment hello\n", "an unknown last line"),
        ("details-repeated-line", details.replace("court ", "court Another court\ncourt ", 1), "two court lines"),
        ("details-misplaced-line", "\n".join(l for l in dl if not l.startswith("court ")).replace("jurisdiction ", f"court {REQUEST_FIELDS['court']}\njurisdiction "),
         "court before jurisdiction"),
        ("details-missing-from", "\n".join(l for l in dl if not l.startswith("from ")), "no from line"),
        ("details-two-spaces", details.replace("need ", "need  "), "two spaces after 'need'"),
        ("details-blank-line", details.replace("\nmessage", "\n\nmessage"), "a blank line before the message line"),
        ("from-checksum", details.replace(counsel.line, counsel.line[:50] + ("a" if counsel.line[50] != "a" else "b") + counsel.line[51:]),
         "a character of the from line changed: its checksum fails"),
        ("from-organisation-key", details.replace(counsel.line, "dossierorg1" + rw.b32encode(counsel.ed25519_public + rw.blake2b(b"dossierorg1" + counsel.ed25519_public, 32)[:4])),
         "an organisation key line as the sender"),
        ("need-unknown", field(need="expert"), "need 'expert'"),
        ("need-uppercase", field(need="Reports"), "need 'Reports'"),
        ("language-none", field(languages=[]), "no language line"),
        ("language-17", field(languages=[f"x-lang{i:03d}" for i in range(17)]), "17 languages"),
        ("language-not-bcp47", field(languages=["en_GB"]), "language 'en_GB'"),
        ("language-case", field(languages=["en-gb"]), "language 'en-gb' (canonical: en-GB)"),
        ("language-duplicate", field(languages=["fr", "en", "fr"]), "French twice"),
        ("language-256-bytes", field(languages=["en-x-" + "-".join(["abcdefgh"] * 28) + "-abc"]), "a well-formed tag of 256 bytes"),
        ("language-escape", field(languages=["en\x1b[2J"]), "terminal escapes in a language: refused, never echoed"),
        ("hearing-impossible", field(hearing="2027-02-29"), "hearing on 29 February 2027"),
        ("hearing-month-13", field(hearing="2027-13-01"), "hearing in month 13"),
        ("hearing-short", field(hearing="2027-3-15"), "hearing 2027-3-15"),
        ("hearing-with-time", field(hearing="2027-03-15T10:00:00.000Z"), "hearing with a time"),
        ("text-bidi-override", field(court="Westminster \u202eMagistrates' Court"), "a right-to-left override in the court"),
        ("text-escape", field(case="EXT-2027\x1b[2J-0042"), "a terminal escape in the case reference"),
        ("text-next-line", field(jurisdiction="England\u0085Wales"), "U+0085 (a C1 control) in the jurisdiction"),
        ("text-tab", field(court="Westminster\tCourt"), "a TAB in the court"),
        ("text-leading-space", field(jurisdiction=" England and Wales"), "a jurisdiction starting with a space"),
        ("text-empty", field(court=""), "an empty court"),
        ("text-257-bytes", field(case="C" * 257), "a case reference of 257 bytes"),
        ("message-size-zero", field(message=b""), "message size 0"),
        ("message-size-over-1mib", details.replace(f"message {len(REQUEST_MESSAGE)}\n", "message 1048577\n"), "message size 1 MiB + 1"),
        ("message-size-leading-zero", details.replace(f"message {len(REQUEST_MESSAGE)}\n", f"message 0{len(REQUEST_MESSAGE)}\n"),
         "message size with a leading zero"),
        ("message-size-negative", details.replace(f"message {len(REQUEST_MESSAGE)}\n", "message -1\n"), "message size -1"),
        ("message-size-missing", "\n".join(l for l in dl if not l.startswith("message ")), "no message line"),
        ("attachment-size-over-2-50", details.replace("attachment 53 ", f"attachment {(1 << 50) + 1} "), "an attachment size of 2^50 + 1"),
        ("attachment-size-leading-zero", details.replace("attachment 53 ", "attachment 053 "), "an attachment size with a leading zero"),
        ("attachment-size-overflow", details.replace("attachment 53 ", "attachment 18446744073709551669 "),
         "an attachment size past 64 bits"),
        ("attachment-name-slash", field(attachments=[("../order.txt", b"x")]), "attachment name '../order.txt'"),
        ("attachment-name-backslash", field(attachments=[("..\\order.txt", b"x")]), "attachment name '..\\order.txt'"),
        ("attachment-name-dot", field(attachments=[(".profile", b"x")]), "attachment name '.profile'"),
        ("attachment-name-control", field(attachments=[("order\x07.txt", b"x")]), "a BEL in an attachment name"),
        ("attachment-name-isolate", field(attachments=[("order\u2066.txt", b"x")]), "a bidirectional isolate in an attachment name"),
        ("attachment-name-trailing-space", field(attachments=[("order.txt ", b"x")]), "an attachment name ending in a space"),
        ("attachment-name-empty", field(attachments=[("", b"x")]), "an empty attachment name"),
        ("attachment-name-256-bytes", field(attachments=[("n" * 252 + ".txt", b"x")]), "an attachment name of 256 bytes"),
        ("attachment-names-equivalent", field(attachments=[("r\u00e9sum\u00e9.pdf", b"x"), ("re\u0301sume\u0301.pdf", b"y")]),
         "two attachment names equal under canonical equivalence (NFC and NFD)"),
        ("attachments-101", field(attachments=[(f"a{i:03d}.txt", b"") for i in range(101)]), "101 attachments"),
    ]:
        with_details(text, name, comment)
    with_details(details.encode().replace(b"England", b"Engl\xe4nd"), "details-not-utf8", "invalid UTF-8 in the jurisdiction")
    with_details(details.encode().replace(b"England", b"Engl\xed\xa0\x80nd"), "details-surrogate",
                 "an encoded surrogate (CESU-8) in the jurisdiction")

    # Sizes that disagree with the file (step 5): details sealed and signed as they are.
    two = base.attachments
    for name, text, comment in [
        ("size-message-larger", details.replace(f"message {len(REQUEST_MESSAGE)}\n", f"message {len(REQUEST_MESSAGE) + 1}\n"),
         "the message declared one byte longer than its stream"),
        ("size-attachment-smaller", details.replace(f"attachment {len(two[1][1])} ", f"attachment {len(two[1][1]) - 1} "),
         "attachment 2 declared one byte shorter than its stream"),
        ("size-attachment-missing", "\n".join(l for l in dl if not l.startswith(f"attachment {len(two[1][1])} ")),
         "one attachment declared, two streams"),
        ("size-attachment-extra", details + "attachment 10 more.txt\n", "three attachments declared, two streams"),
        ("size-attachment-huge", details.replace("attachment 53 ", f"attachment {1 << 50} "), "an attachment of 2^50 bytes declared"),
    ]:
        with_details(text, name, comment)
    r = request(message=b"x" * 65536)
    r.streams_override = [rw.stream(b"", r.subkey(1), pieces=[b"x" * 65536, b""])] + r.streams()[1:]
    add("stream-empty-final-chunk", r.bytes(), "a full chunk, then an empty final chunk: not the layout the size gives (signed)",
        refused(65))

    # The content: streams altered, swapped or under another key (step 6), each signed again.
    r = request(attachments=[("a.txt", b"first attachment\n"), ("b.txt", b"other attachment\n")])
    s = r.streams()
    r.streams_override = [s[0], s[2], s[1]]
    add("attachments-swapped", r.bytes(), "two attachments of one size, their streams swapped (signed)", refused(3))
    r = request()
    r.streams_override = r.streams()[:1] + [rw.stream(two[0][1], r.subkey(1))] + r.streams()[2:]
    add("attachment-under-message-key", r.bytes(), "attachment 1 encrypted under the message key (signed)", refused(3))
    r = request(message=b"\xff\xfe not text\n")
    add("message-not-utf8", r.bytes(), "a message that is not UTF-8 (signed)", refused(65))
    r = request(message=two_chunks)
    s = r.streams()
    r.streams_override = [s[0][65552:] + s[0][:65552]] + s[1:]
    add("stream-chunks-swapped", r.bytes(), "the message's two chunks in the other order (signed)", refused(3))
    r = request(message=b"x" * 65536)
    r.streams_override = [rw.stream(two_chunks, r.subkey(1))[:65552]] + r.streams()[1:]
    add("stream-truncated-at-chunk", r.bytes(), "the first, non-final chunk of a longer message alone (signed)", refused(3))
    r = request(message=two_chunks)
    key1 = r.subkey(1)
    r.streams_override = [rw.chacha_seal(two_chunks[:65536], key1, bytes(10) + b"\x00\x01") +
                          rw.chacha_seal(two_chunks[65536:], key1, bytes(10) + b"\x01\x01")] + r.streams()[1:]
    add("stream-both-chunks-final", r.bytes(), "both chunks sealed as final (signed)", refused(3))
    r = request(message=two_chunks)
    # Changed, then signed again: the signature is good, the chunk is not.
    r.streams_override = [flip(r.streams()[0], 65552 + 3)] + r.streams()[1:]
    add("stream-chunk-altered", r.bytes(), "one bit flipped in the message's second chunk (signed)", refused(3))

    # One bit flipped in each region (nothing signed again).
    cut = header.index("created 2027") + len("created 202")
    # A character of the intake line whose flipped bit leaves it in the base32 alphabet: the
    # checksum, not the alphabet, must be what fails.
    to_at = header.index("to ") + 3
    to_at += next(k for k in range(30, 60) if chr(ord(intake_line[k]) ^ 0x01) in rw.B32)
    for name, offset, mask, code, comment in [
        ("flip-header-length", 7, 0x01, 65, "the header length's low bit (152: the header ends without its LF)"),
        ("flip-header-to", 8 + to_at, 0x01, 65, "a character of the intake line"),
        ("flip-header-created", 8 + cut, 0x01, 3, "the created year (2027 -> 2026): well formed, but the details are bound to it"),
        ("flip-stanza-ephemeral-key", at["stanza"], 0x01, 3, "the stanza's ephemeral public key"),
        ("flip-stanza", at["stanza"] + 50, 0x01, 3, "the stanza's ciphertext"),
        ("flip-details-length", at["details-length"] + 3, 0x01, 3, "the details length's low bit"),
        ("flip-details-nonce", at["details"], 0x01, 3, "the details nonce"),
        ("flip-details", at["details"] + 60, 0x01, 3, "the details ciphertext"),
        ("flip-details-tag", at["message"] - 1, 0x80, 3, "the details tag"),
        ("flip-message", at["message"], 0x01, 3, "the message's first byte"),
        ("flip-message-tag", at["attachment-1"] - 1, 0x80, 3, "the message's tag"),
        ("flip-attachment-1", at["attachment-1"] + 5, 0x01, 3, "attachment 1"),
        ("flip-attachment-2", at["attachment-2"] + 5, 0x01, 3, "attachment 2"),
        ("flip-signature-nonce", at["signature"], 0x01, 3, "the sealed signature's nonce"),
        ("flip-signature", at["signature"] + 60, 0x01, 3, "the sealed signature"),
        ("flip-signature-tag", size - 1, 0x80, 3, "the sealed signature's tag"),
    ]:
        add(name, flip(python, offset, mask), f"one bit flipped in {comment}", refused(code))
    # A replayer who changes the public id to get past the inbox changes what the details are bound to.
    rid = 8 + header.index(base.request_id) + 6
    add("replay-id-changed", put(python, rid, ord("a") if python[rid] != ord("a") else ord("b")),
        "valid-python with one character of its request id changed (to dodge replay detection)", refused(3))

    # Truncations, at the start and in every region.
    for name, n in [("truncated-1", 1), ("truncated-7", 7), ("truncated-in-header", 8 + 60), ("truncated-in-stanza", at["stanza"] + 40),
                    ("truncated-in-details-length", at["details-length"] + 2), ("truncated-in-details", at["details"] + 100),
                    ("truncated-after-details", at["message"]), ("truncated-in-message", at["message"] + 20),
                    ("truncated-in-attachment", at["attachment-1"] + 10), ("truncated-before-signature", at["signature"]),
                    ("truncated-in-signature", at["signature"] + 52), ("truncated-last-byte", size - 1)]:
        add(name, python[:n], f"valid-python cut to {n} of its {size} bytes", refused(65))

    # Trailing bytes.
    add("trailing-zero-byte", python + b"\x00", "one zero byte after the sealed signature", refused(65))
    add("trailing-newline", python + b"\n", "a newline after the sealed signature", refused(65))
    add("trailing-request", python + python, "the request twice in a row", refused(65))

    # Wrong types.
    add("type-empty", b"", "an empty file", refused(65))
    add("type-png", PNG, "a PNG header", refused(65))
    add("type-package", corpus_file("package/valid.dpkg"), "a package given as a request", refused(65))
    add("type-identity", fixture("counsel.key"), "a secret identity file given as a request", refused(65))
    add("type-public-line", corpus_file("public-identity/valid.pub"), "a public identity line given as a request", refused(65))
    add("type-intake-line", (intake_line + "\n").encode(), "the intake line given as a request", refused(65))
    add("type-policy", corpus_file("policy/valid-default.toml"), "a policy file given as a request", refused(65))
    add("type-export", fixture("log.dlog"), "a log export given as a request", refused(65))
    c.add("request", "type-folder", "drq", None, "a folder given as a request", input="folder", **refused(65))


# --- expected messages ---------------------------------------------------------------------

# The words the `dossier: error:` line of each failing command must contain (HostileInputTests
# checks them), so that a case fails for the reason it was made for and not, say, on an earlier
# check. Each was taken from what dossier prints and cut to the part that names this case's
# damage, without what changes from one generation to the next (ids, fingerprints, file paths).
# A string applies to every failing command of the case; a dict gives one per command. Every
# failing command of every case needs words: add them here when you add a case.
SIGNATURE = "the signature does not verify"
TRUNCATED = "truncated (it ends before its"
NOT_A_PACKAGE = "does not start with the package magic 'DPK'"
LIST_LENGTH = "the document list length is out of range"
NOT_UTF8 = "it is not UTF-8 text"
BOM = "it starts with a UTF-8 byte-order mark"
NOT_A_FILE = "is not a regular file"
TWO_LINES = "it must have exactly two lines, each ending in a newline"
MARKER = "the first line is not DOSSIER-SECRET-KEY-1"
ONE_LINE = "must hold exactly one public line"
ALTERED = "wrong passphrase for"
NOT_CANONICAL_B64 = "line 2 is not canonical base64"
BAD_CHARACTER = "it contains a character outside a–z and 2–7"
CHECKSUM = "its checksum does not match"
LAST_CHARACTER = "its last character is impossible there"
NO_BLANK_LINE = "not a signed note (no blank line before the signatures)"
EM_DASH = "a signature line must start with an em dash and a space"
UNSIGNED = dict(verify="checkpoint 1 given: the checkpoint carries no valid signature by the organisation key",
                proof="the checkpoint carries no valid signature by the organisation key 'corpus.example/dossier'")
EXPORT_HEADER = "unknown header (expected dossier-log-export/1)"
EXPORT_TEXT = "not UTF-8 text ending in a newline"
NOT_A_REQUEST = "it does not start with the request magic 'DRQ'"
REQUEST_FRAMING_CUT = "not a valid Dossier request: truncated (it ends before its"
REQUEST_CUT = "not a valid Dossier request: truncated: it has"
REQUEST_TRAILING = "unexpected bytes after the signature"
NOT_THIS_INTAKE = "is sealed to the intake key"
FORGED_SENDER = "(the signature does not verify under the sender key named inside"


def bad_request(why):
    return "is not a valid Dossier request: " + why


def tampered_request(why):
    return "was corrupted, forged or tampered with (" + why


def resigned_checkpoint(words):
    return dict(UNSIGNED, proof_test_key=words)


MESSAGES = {
    "package": {
        **{name: TRUNCATED for name in [
            "truncated-1", "truncated-3", "truncated-in-length", "truncated-after-framing", "truncated-in-manifest",
            "truncated-after-manifest", "truncated-in-stanza", "truncated-before-content", "truncated-in-content",
            "truncated-before-list-length", "truncated-in-list-length", "truncated-in-list", "truncated-before-signature",
            "truncated-in-signature", "truncated-last-byte",
            # A length that fits the limits, but the file ends before what it announces.
            "content-size-huge", "flip-list-length", "manifest-length-1mib"]},
        "type-empty": "truncated (it ends before its 8 bytes)",
        "flip-magic": NOT_A_PACKAGE,
        **{name: NOT_A_PACKAGE for name in ["type-png", "type-identity", "type-public-line", "type-policy", "type-export",
                                            "type-checkpoint"]},
        "type-folder": NOT_A_FILE,
        "version-0": "package format version 0 is not supported",
        "version-2": "the manifest is of format 1 but the file says 2",
        "version-255": "package format version 255 is not supported",
        "flip-manifest-length": "manifest: not UTF-8 text ending in a newline",
        "manifest-no-final-newline": "manifest: not UTF-8 text ending in a newline",
        "manifest-not-utf8": "manifest: not UTF-8 text ending in a newline",
        "flip-manifest-header": "manifest: unsupported version 'dossier-package/3'",
        "manifest-version-2": "manifest: expected 'certificate'",
        # The CR and the escape sequences are shown escaped, never sent to the terminal.
        "manifest-crlf": "manifest: unsupported version 'dossier-package/1\\x0d'",
        "manifest-escape-in-version": "manifest: unsupported version 'dossier-package/\\x1b[2J\\x1b[31m9'",
        "flip-manifest-keyword": "manifest: expected 'organisation'",
        "manifest-fields-swapped": "manifest: expected 'not-before'",
        "manifest-unknown-line": "manifest: unexpected line",
        "manifest-escape-in-unknown-line": "manifest: unexpected line",
        "manifest-bom": "manifest: not in canonical form",
        "flip-issuer-key": "manifest: bad issuer key (not a valid organisation key: its checksum does not match",
        "package-id-invalid": "manifest: bad ids",
        "flip-time": "manifest: bad times",
        "window-reversed": "manifest: bad times",
        "flip-recipient-case": "manifest: bad recipient fingerprint",
        "manifest-1001-recipients": "manifest: bad recipient list",
        "manifest-duplicate-recipient": "manifest: bad recipient list",
        "manifest-10001-documents": "manifest: bad document count",
        **{name: "manifest: bad content size" for name in ["content-size-over-limit", "content-size-leading-zero",
                                                           "content-size-negative", "content-size-overflow"]},
        "manifest-length-max": "the manifest length 4294967295 is out of range",
        "manifest-length-over-1mib": "the manifest length 1048577 is out of range",
        "manifest-length-zero": "the manifest length 0 is out of range",
        "flip-content-size": LIST_LENGTH,
        **{name: LIST_LENGTH for name in ["list-length-max", "list-length-zero", "list-length-39", "list-length-over-4mib"]},
        **{name: SIGNATURE for name in ["flip-organisation-name", "window-shifted", "flip-stanza", "flip-list",
                                        "flip-signature-first", "flip-signature-last", "stanzas-swapped"]},
        "trailing-zero-byte": "1 unexpected bytes after the signature",
        "trailing-newline": "1 unexpected bytes after the signature",
        "trailing-package": "unexpected bytes after the signature",
        "not-a-recipient": "this package was not sealed to your identity",
        "untrusted-issuer": "which you do not trust",
        "flip-content-first": "document 1 does not authenticate",
        "flip-content-last": "document 2 does not authenticate",
        "resigned-list-not-rebound": "the document list does not authenticate",
        "resigned-online": "cannot get the key from the key-release service at http://127.0.0.1:1/",
        "resigned-expired": "this package expired at 2020-01-08",
        "resigned-not-yet-valid": "this package is not valid before 2098-01-01",
        "resigned-stanza-garbage": "your key stanza does not open",
        "list-size-mismatch": "the document list disagrees with the manifest",
        "list-missing-document": "the document list disagrees with the manifest",
        "list-extra-document": "the document list disagrees with the manifest",
        "list-wrong-hash": "document 2 does not match its signed hash",
        "list-not-canonical": "document list: malformed line",
        "list-name-not-utf8": "document list: malformed line",
        "list-version-2": "document list: unknown header",
        "list-empty": "document list: not text",
        "list-binary": "document list: not text",
    },
    "identity": {
        "mode-644": "is readable by other users (mode 644)",
        "mode-604": "is readable by other users (mode 604)",
        "flip-magic": "the body does not start with the DSK magic",
        "flip-version": "format version 2 is not supported",
        "flip-protection": "unknown protection type 2",
        "flip-protection-to-none": "the body has the wrong length",
        **{name: "or the file was altered" for name in ["flip-x25519-public", "flip-ed25519-public", "flip-ops-low",
                                                         "flip-salt", "flip-nonce", "flip-ciphertext", "flip-tag"]},
        "flip-ops-high": "refusing key-derivation parameters: pass count 2147483651 is outside",
        "flip-memory-high": "refusing key-derivation parameters: memory 2147745792 KiB is outside",
        **{name: "the secret keys do not match the public keys in the file" for name in [
            "unprotected-flip-x25519-public", "unprotected-flip-x25519-secret", "unprotected-flip-ed25519-seed"]},
        "unprotected-marked-protected": "the body has the wrong length",
        "cost-ops-0": "refusing key-derivation parameters: pass count 0 is outside",
        "cost-ops-17": "refusing key-derivation parameters: pass count 17 is outside",
        "cost-ops-max": "refusing key-derivation parameters: pass count 4294967295 is outside",
        "cost-memory-0": "refusing key-derivation parameters: memory 0 KiB is outside",
        "cost-memory-7": "refusing key-derivation parameters: memory 7 KiB is outside",
        "cost-memory-over-2gib": "refusing key-derivation parameters: memory 2097153 KiB is outside",
        "cost-memory-max": "refusing key-derivation parameters: memory 4294967295 KiB is outside",
        "cost-both-max": "refusing key-derivation parameters: pass count 4294967295 is outside",
        "body-one-byte-more": "the body has the wrong length",
        "body-one-byte-less": "the body has the wrong length",
        "body-magic-only": "the body does not start with the DSK magic",
        "body-header-only": "the body has the wrong length",
        "body-empty": "the body does not start with the DSK magic",
        # `identity show` reads a file without the secret marker as a public line.
        "truncated-5": dict(show="it must start with 'dossier1'", load=MARKER),
        "truncated-19": dict(show="it must start with 'dossier1'", load=MARKER),
        **{name: TWO_LINES for name in ["truncated-20", "truncated-21", "truncated-60", "truncated-284", "truncated-285",
                                        "marker-only", "extra-line", "trailing-garbage", "base64-wrapped"]},
        "crlf": MARKER,
        "bom": BOM,
        "marker-lowercase": dict(show=ONE_LINE, load=MARKER),
        "marker-version-2": dict(show=ONE_LINE, load=MARKER),
        "marker-trailing-space": MARKER,
        "leading-blank-line": dict(show=ONE_LINE, load=MARKER),
        "trailing-binary": NOT_UTF8,
        **{name: NOT_CANONICAL_B64 for name in ["base64-space", "base64-url-alphabet", "base64-unpadded",
                                                "base64-noncanonical", "nul-byte"]},
        "not-utf8": NOT_UTF8,
        "type-empty": dict(show=ONE_LINE, load=MARKER),
        "type-png": NOT_UTF8,
        "type-package": NOT_UTF8,
        "type-policy": dict(show=ONE_LINE, load=MARKER),
        "type-export": dict(show=ONE_LINE, load=MARKER),
        "type-public-line": MARKER,
        "type-folder": NOT_A_FILE,
        "valid-unprotected": "is not staff of this vault",
    },
    "public-identity": {
        "truncated-8": "it has the wrong length (8 characters",
        "truncated-30": LAST_CHARACTER,
        "truncated-58": "it has the wrong length (58 characters",
        "truncated-112": "it has the wrong length (112 characters",
        "truncated-116": LAST_CHARACTER,
        "flip-prefix": "it must start with 'dossier1'",
        **{name: CHECKSUM for name in ["flip-first", "flip-middle", "flip-checksum", "flip-last"]},
        "one-character-more": LAST_CHARACTER,
        "uppercase": "it must start with 'dossier1'",
        **{name: BAD_CHARACTER for name in ["uppercase-one", "inner-space", "trailing-word", "nul-byte", "escape-sequence"]},
        "two-lines": ONE_LINE,
        "comments-only": ONE_LINE,
        "bom": BOM,
        "not-utf8": NOT_UTF8,
        "organisation-key": "it must start with 'dossier1'",
        "secret-marker-only": TWO_LINES,
        "long-line": "it has the wrong length (60008 characters",
        "prefix-only": "it has the wrong length (8 characters",
        "type-empty": ONE_LINE,
        "type-png": NOT_UTF8,
        "type-package": NOT_UTF8,
        "type-policy": ONE_LINE,
        "type-export": ONE_LINE,
        "type-folder": NOT_A_FILE,
    },
    "policy": {
        "truncated-in-comment": "'version = 1' is required",
        "truncated-after-version": "no [kinds.*] tables",
        "truncated-in-table-header": "malformed table header",
        "truncated-in-string": "Error while parsing string: encountered end-of-file",
        "truncated-after-first-kind": "no [kinds.witness-testimony] table",
        "truncated-in-last-value": "Error while parsing key-value pair: encountered end-of-file",
        "flip-version-key": "unknown key 'wersion'",
        "flip-equals": "expected '=', saw '<'",
        "flip-version-value": "version 0 is not supported",
        "flip-kind-name": "unknown document kind 'dxpert-report'",
        "flip-duration-unit": 'max_window = "30e" is not a duration',
        "flip-approvals": "approvals = 0 is outside",
        "flip-boolean": "expected 'true', saw 'truE'",
        "flip-bracket": "expected '=', saw ']'",
        "version-2": "version 2 is not supported",
        "version-string": "'version = 1' is required",
        "version-float": "'version = 1' is required",
        "version-missing": "'version = 1' is required",
        "version-huge": "'99999999999999999999' is not representable in 64 bits",
        "approvals-huge": "approvals = 9223372036854775807 is outside",
        "approvals-negative": "approvals = -1 is outside",
        "approvals-string": "approvals is required in [kinds.expert-report], as a whole number",
        "max-opens-overflow": "'18446744073709551616' is not representable in 64 bits",
        "duration-overflow-days": 'max_window = "200000000000000d" is not a duration',
        "duration-overflow-minutes": 'max_window = "9223372036854775807m" is not a duration',
        "duration-zero": 'max_window = "0d" is not a duration',
        "duration-negative": 'max_window = "-1d" is not a duration',
        "duration-plus": 'max_window = "+30d" is not a duration',
        "duration-unit": 'max_window = "4w" is not a duration',
        "duration-empty": 'max_window = "" is not a duration',
        "duration-over-ten-years": 'max_window = "3651d" is not a duration',
        "duration-number": "max_window is required in [kinds.expert-report], as a string",
        "default-over-max": "default_window is longer than max_window in [kinds.expert-report]",
        "unknown-top-level-key": "unknown key 'owner'",
        "unknown-kind-key": "unknown key 'max_copies' in [kinds.expert-report]",
        "unknown-kind": "unknown document kind 'diary'",
        "missing-kind": "no [kinds.supporting-material] table",
        "duplicate-table": "cannot redefine existing table 'kinds.supporting-material'",
        "duplicate-key": "cannot redefine existing integer 'approvals'",
        "kinds-not-table": "no [kinds.*] tables",
        "kinds-array-of-tables": "malformed table header",
        "kind-not-table": "[kinds.expert-report] must be a table",
        # The escape sequences are shown escaped, never sent to the terminal.
        "escape-in-key": "unknown key '\\x1b]0;owned\\x07\\x1b[2J'",
        "escape-in-kind": "malformed table header",
        "escape-in-duration": 'max_window = "\\x1b[2J\\x1b[1;1H30d" is not a duration',
        "nested-arrays": "exceeded maximum nested value depth",
        "nested-inline-tables": "exceeded maximum nested value depth",
        "long-key": "unknown key 'kkkkkkkkkk",
        "bom": BOM,
        "not-utf8": NOT_UTF8,
        # TOML ends a key at the NUL: what follows is no [kinds.*] table.
        "nul-byte": "no [kinds.*] tables",
        "trailing-garbage": "Error while parsing key-value pair: expected '=', saw '\\\\n'",
        "trailing-binary": NOT_UTF8,
        "type-empty": "'version = 1' is required",
        "type-png": NOT_UTF8,
        "type-package": NOT_UTF8,
        "type-identity": "Error while parsing key-value pair: expected '=', saw '\\\\n'",
        "type-export": "Error while parsing key-value pair: expected '=', saw '/'",
        "type-folder": NOT_A_FILE,
    },
    "checkpoint": {
        "older": "the proof is for a tree of 11 entries, the checkpoint for 10",
        "from-a-longer-log": dict(verify="checkpoint 1 given covers 12 entries but the log has only 11",
                                  proof="the proof is for a tree of 11 entries, the checkpoint for 12"),
        "other-vault": UNSIGNED,
        **{name: NO_BLANK_LINE for name in ["truncated-10", "truncated-text", "truncated-in-signature",
                                            "truncated-last-byte", "flip-blank-line", "crlf", "text-only"]},
        **{name: UNSIGNED for name in ["flip-origin", "flip-size", "flip-root", "flip-signer-name", "changed-key-id",
                                       "changed-signature"]},
        "flip-em-dash": EM_DASH,
        "trailing-garbage": EM_DASH,
        "no-signature": EM_DASH,
        "bom": BOM,
        "not-utf8": NOT_UTF8,
        "signature-short": "malformed signature line",
        "signature-base64-broken": "malformed signature line",
        # Signed by the test organisation: refused as unsigned with the vault's key, and for the
        # damage itself with the test organisation's (proof-test-key).
        "resigned-valid": UNSIGNED,
        "resigned-size-overflow": resigned_checkpoint("bad tree size"),
        "resigned-size-max": resigned_checkpoint("the proof is for a tree of 11 entries, the checkpoint for 18446744073709551615"),
        "resigned-size-negative": resigned_checkpoint("bad tree size"),
        "resigned-size-leading-zero": resigned_checkpoint("bad tree size"),
        "resigned-size-plus": resigned_checkpoint("bad tree size"),
        "resigned-size-space": resigned_checkpoint("bad tree size"),
        "resigned-root-short": resigned_checkpoint("bad root hash"),
        "resigned-root-long": resigned_checkpoint("bad root hash"),
        "resigned-root-noncanonical": resigned_checkpoint("bad root hash"),
        "resigned-root-empty": resigned_checkpoint("bad root hash"),
        "resigned-extension-line": resigned_checkpoint("expected 3 lines (origin, size, root), found 4"),
        "resigned-two-lines": resigned_checkpoint("expected 3 lines (origin, size, root), found 2"),
        "resigned-origin-empty": resigned_checkpoint("bad origin"),
        "resigned-origin-other": resigned_checkpoint("is a checkpoint of another log, not of corpus.example/dossier"),
        "resigned-origin-escape": resigned_checkpoint("bad origin"),
        "type-empty": NO_BLANK_LINE,
        "type-png": NOT_UTF8,
        "type-package": NOT_UTF8,
        "type-identity": NO_BLANK_LINE,
        "type-export": NO_BLANK_LINE,
        "type-folder": NOT_A_FILE,
    },
    "export": {
        # A cut anywhere leaves a last line without its LF.
        **{name: EXPORT_TEXT for name in ["truncated-in-header", "truncated-in-key", "truncated-in-checkpoint",
                                          "truncated-in-entry", "truncated-last-byte"]},
        "truncated-after-header": "expected 'organisation' at line 2",
        "entries-cut-below-checkpoint": "the vault's checkpoint covers 11 entries but the log has only 10",
        "entries-swapped": "entry 2: out of order (found seq 3 in its place",
        "entry-repeated": "entry 3: out of order (found seq 2): entries were reordered or duplicated",
        "entry-removed": "entry 2: missing (the next entry is 3)",
        "checkpoint-after-entries": "unexpected content at line",
        "flip-header": EXPORT_HEADER,
        "flip-keyword": "expected 'organisation' at line 2",
        "flip-organisation-name": "the vault's checkpoint: the checkpoint carries no valid signature by the organisation key 'Corpus.example/dossier'",
        "flip-organisation-key": "not a valid organisation key: its checksum does not match",
        "flip-checkpoint": "the vault's checkpoint: the checkpoint carries no valid signature by the organisation key 'corpus.example/dossier'",
        "flip-entry": "entry 2: its signature does not verify",
        "flip-entry-signature": "entry 3: its signature does not verify",
        "entry-empty": "edited (log entry is malformed",
        "entry-base64-noncanonical": "not in canonical form",
        "version-2": EXPORT_HEADER,
        "crlf": EXPORT_HEADER,
        "bom": EXPORT_HEADER,
        "not-utf8": EXPORT_TEXT,
        "blank-line": "unexpected content at line 4",
        "unknown-line": "unexpected content at line 4",
        "trailing-garbage": "unexpected content at line",
        "entry-not-base64": "bad entry encoding",
        "checkpoint-not-utf8": "line 4: bad checkpoint",
        "organisation-escape": "bad organisation name (printable ASCII without spaces or '+')",
        "organisation-space": "bad organisation name (printable ASCII without spaces or '+')",
        "other-organisation-key": "the organisation key has fingerprint",
        "type-empty": EXPORT_TEXT,
        "type-png": EXPORT_TEXT,
        "type-package": EXPORT_TEXT,
        "type-identity": EXPORT_HEADER,
        "type-checkpoint": EXPORT_HEADER,
        "type-policy": EXPORT_HEADER,
        "type-folder": NOT_A_FILE,
    },
    "request": {
        "sealed-to-another-organisation": NOT_THIS_INTAKE,
        **{name: tampered_request("the key stanza does not open")
           for name in ["stanza-for-another-organisation", "stanza-random", "flip-stanza", "flip-stanza-ephemeral-key"]},
        **{name: FORGED_SENDER for name in ["signed-by-another-key", "from-another-identity", "signature-without-label",
                                            "signature-over-sha512"]},
        **{name: tampered_request("the sealed signature does not authenticate")
           for name in ["signature-zeroed", "signature-sealed-with-details-key", "signature-in-the-clear", "flip-signature-nonce",
                        "flip-signature", "flip-signature-tag"]},
        "flip-magic": NOT_A_REQUEST,
        **{f"version-{v}": bad_request(f"request format version {v} is not supported") for v in [0, 2, 255]},
        "header-length-zero": bad_request("the header length 0 is out of range"),
        "header-length-4097": bad_request("the header length 4097 is out of range"),
        "header-length-max": bad_request("the header length 4294967295 is out of range"),
        "details-length-zero": bad_request("the details length 0 is out of range"),
        "details-length-40": bad_request("the details length 40 is out of range"),
        "details-length-65577": bad_request("the details length 65577 is out of range"),
        "details-length-max": bad_request("the details length 4294967295 is out of range"),
        "details-length-past-end": REQUEST_FRAMING_CUT,
        **{name: bad_request("header: not UTF-8 text ending in a newline")
           for name in ["header-length-152", "header-length-154", "header-no-final-newline", "header-not-utf8", "flip-header-length"]},
        "header-version-2": bad_request("header: unsupported version 'dossier-request/2'"),
        "header-first-line-unknown": bad_request("header: unknown first line"),
        # The escapes are shown escaped (the terminal check proves they are not sent); the words
        # stop before them, since how many backslashes they get is a matter of display.
        "header-escape-in-version": bad_request("header: unsupported version 'dossier-request/"),
        # The line starts like a version line (its CR is part of it), so it is reported as one.
        "header-crlf": bad_request("header: unsupported version 'dossier-request/1"),
        "header-lines-swapped": bad_request("header: expected 'to'"),
        "header-missing-created": bad_request("header: expected 'created'"),
        "header-extra-line": bad_request("header: unexpected line 5"),
        "header-blank-line": bad_request("header: expected 'request'"),
        # The value of a line is everything after the first space, so these spaces spoil the id.
        "header-two-spaces": bad_request("header: bad request id"),
        "header-trailing-space": bad_request("header: bad request id"),
        **{name: bad_request("header: bad request id") for name in ["header-id-uppercase", "header-id-short", "header-id-unused-bit"]},
        **{name: bad_request("header: bad intake key (not a valid intake key: its checksum does not match")
           for name in ["header-to-checksum", "flip-header-to"]},
        "header-to-uppercase": bad_request("header: bad intake key (not a valid intake key: it must start with 'dossierintake1')"),
        "header-to-organisation-key": bad_request("header: bad intake key (not a valid intake key: this is the organisation's signing key"),
        **{name: bad_request("header: bad time") for name in ["header-time-impossible", "header-time-no-millis", "header-time-offset"]},
        # The byte-order mark is dropped when the text is decoded: the re-serialised header lacks it.
        "header-bom": bad_request("header: not in canonical form"),
        "details-version-2": bad_request("details: unknown first line"),
        "details-crlf": bad_request("details: unknown first line"),
        "details-bom": bad_request("details: not in canonical form"),
        **{name: bad_request("details: not UTF-8 text ending in a newline")
           for name in ["details-no-final-newline", "details-not-utf8", "details-surrogate"]},
        "details-unknown-line": bad_request("details: line 13: unknown line 'comment'; expected 'attachment' or the end"),
        # The optional lines are taken in order: a line out of place is met where the next
        # required one must be, and named there with the order.
        "details-repeated-line": bad_request("details: line 8: 'court' is repeated or out of order; expected 'message' (the order: from, need, language, jurisdiction, court, case, hearing, message, attachment)"),
        "details-misplaced-line": bad_request("details: line 7: 'jurisdiction' is repeated or out of order; expected 'message' (the order: from, need, language, jurisdiction, court, case, hearing, message, attachment)"),
        "message-size-missing": bad_request("details: line 10: 'attachment' is repeated or out of order; expected 'message' (the order: from, need, language, jurisdiction, court, case, hearing, message, attachment)"),
        "details-missing-from": bad_request("details: line 2: 'need' is repeated or out of order; expected 'from' (the order: from, need, language, jurisdiction, court, case, hearing, message, attachment)"),
        "details-blank-line": bad_request("details: line 10 is empty; expected 'message'"),
        "message-size-leading-zero": bad_request(f"details: line 10: the message size '0{len(REQUEST_MESSAGE)}' is not a size (decimal digits, no leading zero)"),
        "message-size-negative": bad_request("details: line 10: the message size '-1' is not a size (decimal digits, no leading zero)"),
        "details-two-spaces": bad_request("details: line 3: unknown need ' expert-witness' (known: reports, expert-report, expert-witness, other)"),
        "need-unknown": bad_request("details: line 3: unknown need 'expert' (known: reports, expert-report, expert-witness, other)"),
        "need-uppercase": bad_request("details: line 3: unknown need 'Reports' (known: reports, expert-report, expert-witness, other)"),
        "from-checksum": bad_request("details: bad sender line (not a valid public identity: its checksum does not match"),
        "from-organisation-key": bad_request("details: bad sender line (not a valid public identity: it must start with 'dossier1')"),
        "language-none": bad_request("details: no language is given"),
        "language-17": bad_request("details: more than 16 languages"),
        "language-not-bcp47": bad_request("details: 'en_GB' is not a BCP 47 language tag"),
        "language-case": bad_request("details: the language tag 'en-gb' is not in canonical case ('en-GB')"),
        "language-duplicate": bad_request("details: a language is given twice"),
        "language-256-bytes": "-abc' is not a BCP 47 language tag",
        "language-escape": "' is not a BCP 47 language tag",
        **{name: bad_request(f"details: the hearing date '{date}' is not a day of the calendar written YYYY-MM-DD")
           for name, date in [("hearing-impossible", "2027-02-29"), ("hearing-month-13", "2027-13-01"), ("hearing-short", "2027-3-15"),
                              ("hearing-with-time", "2027-03-15T10:00:00.000Z")]},
        "text-bidi-override": bad_request("details: the court holds a control or bidirectional character (U+202E)"),
        "text-escape": bad_request("details: the case holds a control or bidirectional character (U+001B)"),
        "text-next-line": bad_request("details: the jurisdiction holds a control or bidirectional character (U+0085)"),
        "text-tab": bad_request("details: the court holds a control or bidirectional character (U+0009)"),
        "text-leading-space": bad_request("details: the jurisdiction starts or ends with a space"),
        "text-empty": bad_request("details: the court is empty"),
        "text-257-bytes": bad_request("details: the case is longer than 256 bytes"),
        "message-size-zero": bad_request("details: the message is empty"),
        "message-size-over-1mib": bad_request("details: the message is larger than 1 MiB"),
        **{name: bad_request("details: line 11: malformed attachment line (expected a size, a space and a name)")
           for name in ["attachment-size-over-2-50", "attachment-size-leading-zero", "attachment-size-overflow"]},
        "attachment-name-slash": bad_request("details: the attachment name '../order.txt' holds a path separator"),
        "attachment-name-backslash": "order.txt' holds a path separator",
        "attachment-name-dot": bad_request("details: the attachment name '.profile' starts with '.'"),
        "attachment-name-control": ".txt' holds a control or bidirectional character (U+0007)",
        "attachment-name-isolate": ".txt' holds a control or bidirectional character (U+2066)",
        "attachment-name-trailing-space": bad_request("details: the attachment name 'order.txt ' starts or ends with a space"),
        "attachment-name-empty": bad_request("details: the attachment name '' is empty"),
        "attachment-name-256-bytes": ".txt' is longer than 255 bytes",
        "attachment-names-equivalent": bad_request("details: two attachments are named '"),
        "attachments-101": bad_request("details: more than 100 attachments"),
        **{name: REQUEST_CUT for name in ["size-message-larger", "size-attachment-extra", "size-attachment-huge", "truncated-after-details",
                                          "truncated-in-message", "truncated-in-attachment", "truncated-before-signature",
                                          "truncated-in-signature", "truncated-last-byte"]},
        **{name: REQUEST_TRAILING for name in ["size-attachment-smaller", "size-attachment-missing", "stream-empty-final-chunk",
                                               "trailing-zero-byte", "trailing-newline", "trailing-request"]},
        **{name: REQUEST_FRAMING_CUT for name in ["truncated-1", "truncated-7", "truncated-in-header", "truncated-in-stanza",
                                                  "truncated-in-details-length", "truncated-in-details", "type-empty"]},
        "attachments-swapped": tampered_request("attachment 1 does not authenticate"),
        "attachment-under-message-key": tampered_request("attachment 1 does not authenticate"),
        "flip-attachment-1": tampered_request("attachment 1 does not authenticate"),
        "flip-attachment-2": tampered_request("attachment 2 does not authenticate"),
        "message-not-utf8": bad_request("the message is not UTF-8 text"),
        **{name: tampered_request("the message does not authenticate")
           for name in ["stream-chunks-swapped", "flip-message", "flip-message-tag"]},
        "stream-truncated-at-chunk": tampered_request("the message does not authenticate: the encrypted stream is truncated"),
        "stream-both-chunks-final": tampered_request("the message does not authenticate: the encrypted stream is malformed: "
                                                     "data follows the final chunk"),
        "stream-chunk-altered": tampered_request("the message does not authenticate: chunk 1 failed to authenticate"),
        **{name: tampered_request("the details do not authenticate")
           for name in ["flip-header-created", "flip-details-length", "flip-details-nonce", "flip-details", "flip-details-tag",
                        "replay-id-changed"]},
        **{name: NOT_A_REQUEST for name in ["type-png", "type-package", "type-identity", "type-public-line", "type-intake-line",
                                            "type-policy", "type-export"]},
        "type-folder": NOT_A_FILE,
    },
}


def expected_words(kind, name, command):
    """The words for one failing command (see MESSAGES); stops the generator when there are none."""
    words = MESSAGES.get(kind, {}).get(name)
    if isinstance(words, dict):
        words = words.get(command)
    if not words:
        sys.exit(f"no expected message words for {kind}/{name} ({command}): add them to MESSAGES")
    return words


# --- main ----------------------------------------------------------------------------------

def main():
    args = sys.argv[1:]
    kinds = [a for a in args if a in KINDS] or KINDS
    others = [a for a in args if a not in KINDS]
    if len(others) > 1 or (kinds != KINDS and kinds != ["request"]):
        sys.exit("usage: generate.py [DOSSIER] [request]  (the request kind alone, or every kind: the others share one vault)")
    binary = others[0] if others else os.environ.get("DOSSIER_BINARY") or os.path.join(ROOT, ".build/debug/dossier")
    if not os.access(binary, os.X_OK):
        sys.exit(f"no dossier executable at {binary}; build it (swift build) or pass its path")
    binary = os.path.abspath(binary)
    work = tempfile.mkdtemp(prefix="dossier-corpus.")
    try:
        d = Dossier(binary, work)
        c = Corpus(kinds)
        if kinds == KINDS:
            generate(c, d)
        request_cases(c, d)
        print(f"wrote {c.count} cases under {HERE}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def generate(c, d):
    pass_file = d.write("staff.pass", PASSPHRASE + "\n")
    d("identity", "new", "-o", d.path("staff.key"), "--passphrase-file", pass_file)
    d("identity", "new", "-o", d.path("counsel.key"), "--no-passphrase")
    d("identity", "new", "-o", d.path("counsel2.key"), "--no-passphrase")
    counsel_info = json.loads(d("identity", "show", d.path("counsel.key"), "--json"))
    counsel_body = base64.b64decode(d.read("counsel.key").split(b"\n")[1])
    counsel = {"fingerprint": counsel_info["fingerprint"], "x25519_public": counsel_body[5:37],
               "x25519_secret": counsel_body[69:101]}
    pubs = []
    for name in ["counsel", "counsel2"]:
        pubs.append(d.write(f"{name}.pub", d("identity", "show", d.path(f"{name}.key")).split("\n")[0] + "\n"))

    vault = d.path("vault")
    org, counsel_ids, staff = make_vault(d, vault, d.path("staff.key"), pass_file, pubs)
    names = ["exhibit-a.txt", "exhibit-b.txt"]
    d.write(names[0], "Exhibit A: the diplomatic assurances of 3 March cannot be verified.\n")
    d.write(names[1], "Exhibit B: prison conditions report, annex 4.\n")
    doc_ids = d("deposit", d.path(names[0]), d.path(names[1]), "--kind", "supporting-material", "--title", "Corpus exhibits",
                "--lang", "en", *staff).split()
    d("grant", *doc_ids, "--to", *counsel_ids, "--for", "3650d", "-o", d.path("valid.dpkg"), *staff)
    d("grant", doc_ids[0], "--to", counsel_ids[1], "--for", "3650d", "-o", d.path("other-recipient.dpkg"), *staff)
    cp_old = d("audit", "checkpoint", *staff)
    d.write("later.txt", "a later deposit\n")
    d("deposit", d.path("later.txt"), "--kind", "supporting-material", "--title", "Later", *staff)
    cp_mid = d("audit", "checkpoint", *staff)
    d("audit", "export", "--vault", vault, "-o", d.path("log.dlog"))
    proof = d("audit", "prove", "2", "--vault", vault)
    d("deposit", d.path("later.txt"), "--kind", "supporting-material", "--title", "Later still", *staff)
    cp_late = d("audit", "checkpoint", *staff)

    # A second vault under the same organisation name, with its own key.
    os.makedirs(d.path("other"))
    org2, other_ids, staff2 = make_vault(d, d.path("other/vault"), d.path("staff.key"), pass_file, [pubs[0]])
    doc2 = d("deposit", d.path(names[0]), "--kind", "supporting-material", "--title", "Other", *staff2).split()
    d("grant", *doc2, "--to", other_ids[0], "--for", "3650d", "-o", d.path("other-org.dpkg"), *staff2)
    cp_other = d("audit", "checkpoint", *staff2)

    export = d.read("log.dlog")
    cp_size = int(cp_mid.split("\n")[1])
    public_line = d.read("counsel.pub").decode().strip()
    valid_package = d.read("valid.dpkg")
    with open(os.path.join(ROOT, "policies/default.toml"), "rb") as f:
        default_policy = f.read()
    with open(os.path.join(ROOT, "policies/strict.toml"), "rb") as f:
        strict_policy = f.read()

    c.fixture("staff.key", d.read("staff.key"), 0o600)
    c.fixture("staff.pass", PASSPHRASE + "\n")
    c.fixture("counsel.key", d.read("counsel.key"), 0o600)
    c.fixture("log.dlog", export)
    c.fixture("entry.proof", proof)
    c.fixture("keys.txt", "".join(f"{k}: {v}\n" for k, v in [
        ("org-key", org["publicKey"]), ("org-fingerprint", org["fingerprint"]), ("note-key", org["noteKey"]),
        ("test-org-key", TEST_ORG.line), ("test-note-key", TEST_ORG.note_key)]))

    package_cases(c, d, valid_package, d.read("other-recipient.dpkg"), d.read("other-org.dpkg"), counsel, doc_ids, names,
                  d.read("staff.key"), d.read("counsel.pub"), default_policy, export, cp_mid.encode())
    identity_cases(c, d.read("staff.key"), d.read("counsel.key"), valid_package, default_policy, d.read("counsel.pub"), export)
    public_cases(c, public_line, org["publicKey"], d.read("staff.key"), valid_package, default_policy, export)
    policy_cases(c, default_policy, strict_policy, valid_package, d.read("staff.key"), export)
    checkpoint_cases(c, cp_mid.encode(), cp_old.encode(), cp_late.encode(), cp_other.encode(), valid_package,
                     d.read("staff.key"), export, None)
    export_cases(c, export, cp_size, valid_package, d.read("staff.key"), cp_mid.encode(), default_policy)


if __name__ == "__main__":
    main()
