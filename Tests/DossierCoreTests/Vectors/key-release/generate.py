#!/usr/bin/env python3
"""Writes requests.txt: test vectors for the key-release protocol (docs/formats/key-release.md).

Independent of the Swift code: the request text is assembled from the specification, signed
with Ed25519 by the `cryptography` package, and the split-key example is a plain XOR. Run from
this folder: python3 generate.py > requests.txt
"""
import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def seed(label: str) -> bytes:
    return hashlib.sha256(("key-release-vector/" + label).encode()).digest()


def request_text(package, grant, recipient, time, nonce) -> bytes:
    return (f"dossier-release-request/1\npackage {package}\ngrant {grant}\nrecipient {recipient}\n"
            f"time {time}\nnonce {nonce}\n").encode()


out = []
cases = [
    ("basic", "pkg-lqledyeeiymgk", "grant-tmmsj33fwlcgm", "UC3X-L675-L3OW-4V67", "2027-01-02T10:30:00.000Z",
     "00112233445566778899aabbccddeeff"),
    ("second", "pkg-aaaaaaaaaaaaa", "grant-bbbbbbbbbbbba", "2CGM-Q5QB-E3OO-LFUH", "2027-12-31T23:59:59.999Z",
     hashlib.sha256(b"nonce").hexdigest()[:32]),
]
for name, package, grant, recipient, time, nonce in cases:
    key = Ed25519PrivateKey.from_private_bytes(seed(name))
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    text = request_text(package, grant, recipient, time, nonce)
    signature = key.sign(text)
    out += [f"case: {name}", f"signing-seed: {seed(name).hex()}", f"signing-public: {public.hex()}",
            f"package: {package}", f"grant: {grant}", f"recipient: {recipient}", f"time: {time}", f"nonce: {nonce}",
            f"request: {text.hex()}", f"signature: {signature.hex()}",
            f"receipt: {base64.b64encode(text + signature).decode()}", ""]

# Texts a reader must reject (hex of the bytes), each with why.
good = request_text(*cases[0][1:])
bad = [
    ("crlf line ends", good.replace(b"\n", b"\r\n")),
    ("no final newline", good[:-1]),
    ("trailing space", good.replace(b"grant grant-tmmsj33fwlcgm\n", b"grant grant-tmmsj33fwlcgm \n")),
    ("fields out of order", good.replace(b"package pkg-lqledyeeiymgk\ngrant grant-tmmsj33fwlcgm\n",
                                         b"grant grant-tmmsj33fwlcgm\npackage pkg-lqledyeeiymgk\n")),
    ("unknown version", good.replace(b"request/1", b"request/2")),
    ("upper-case nonce", good.replace(b"aabbccddeeff", b"AABBCCDDEEFF")),
    ("short nonce", good.replace(b"00112233445566778899aabbccddeeff", b"00112233445566778899aabbccddee")),
    ("time without milliseconds", good.replace(b"10:30:00.000Z", b"10:30:00Z")),
    ("lower-case fingerprint", good.replace(b"UC3X-L675-L3OW-4V67", b"uc3x-l675-l3ow-4v67")),
    ("bad package id", good.replace(b"pkg-lqledyeeiymgk", b"pkg-lqledyeeiymg1")),
    ("extra line", good + b"admin yes\n"),
    ("missing nonce", good[: good.index(b"nonce ")]),
    ("empty", b""),
]
for why, data in bad:
    out += [f"reject: {data.hex()}", f"why: {why}", ""]

# The split key: stanza secret = K xor v; K = stanza secret xor v.
K = seed("package-key")
v = seed("vault-share")
out += ["split-package-key: " + K.hex(), "split-vault-share: " + v.hex(),
        "split-stanza-secret: " + bytes(a ^ b for a, b in zip(K, v)).hex(), ""]
print("\n".join(out), end="")
