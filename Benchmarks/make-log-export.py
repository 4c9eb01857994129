#!/usr/bin/env python3
"""Writes a synthetic, validly signed Dossier log export with N entries, for benchmarking
`dossier audit verify --export`. Follows docs/formats/vault.md (entries) and docs/formats/log.md
(export, checkpoint). Prints the organisation fingerprint on stdout.

Usage: make-log-export.py N OUT
"""
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
B32 = "abcdefghijklmnopqrstuvwxyz234567"

def b32(data):
    bits, value, out = 0, 0, []
    for byte in data:
        value = (value << 8) | byte; bits += 8
        while bits >= 5:
            out.append(B32[(value >> (bits - 5)) & 31]); bits -= 5
    if bits: out.append(B32[(value << (5 - bits)) & 31])
    return "".join(out)

def fingerprint(domain, keys):
    d = hashlib.blake2b(f"dossier-fingerprint/{domain}\n".encode() + keys, digest_size=32).digest()
    code = b32(d[:10]).upper()
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))

def line(prefix, keys):
    return prefix + b32(keys + hashlib.blake2b(prefix.encode() + keys, digest_size=32).digest()[:4])

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    name = "example.org/bench"
    org = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    org_pub = org.public_key().public_bytes(**RAW)
    staff = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    staff_sign = staff.public_key().public_bytes(**RAW)
    staff_box = X25519PrivateKey.from_private_bytes(bytes(range(2, 34))).public_key().public_bytes(**RAW)
    actor = fingerprint("identity", staff_box + staff_sign)
    org_line = line("dossierorg1", org_pub)
    prev = bytes(32)
    leaves = []
    with open(out, "w") as f:
        f.write(f"dossier-log-export/1\norganisation {name}\norganisation-key {org_line}\n")
        entries = []
        for seq in range(1, n + 1):
            ms = seq % 1000
            t = f"2026-01-{1 + (seq // 86400000) % 28:02d}T{(seq // 3600000) % 24:02d}:{(seq // 60000) % 60:02d}:{(seq // 1000) % 60:02d}.{ms:03d}Z"
            body = f"dossier-log-entry/1\nseq {seq}\ntime {t}\nactor {actor}\n"
            if seq == 1:
                body += f"action init\nsubject org:{fingerprint('organisation', org_pub)}\nsubject staff:{actor}\n"
                body += f"detail organisation-key={org_line}\ndetail identity={line('dossier1', staff_box + staff_sign)}\n"
            else:
                body += f"action deposit\nsubject doc:doc-{b32(seq.to_bytes(8, 'big'))}\ndetail kind=expert-report\ndetail size={seq}\n"
            body += f"prev {prev.hex()}\n"
            entry = body.encode() + b"sig " + base64.b64encode(staff.sign(body.encode())) + b"\n"
            prev = hashlib.sha256(entry).digest()
            leaves.append(hashlib.sha256(b"\x00" + entry).digest())
            entries.append(entry)
        # One checkpoint over the whole log (RFC 6962 root, C2SP signed note).
        def root(hs):
            stack = []
            for h in hs:
                stack.append((h, 1))
                while len(stack) > 1 and stack[-1][1] == stack[-2][1]:
                    r, l = stack.pop(), stack.pop()
                    stack.append((hashlib.sha256(b"\x01" + l[0] + r[0]).digest(), l[1] * 2))
            acc = stack.pop()[0]
            while stack: acc = hashlib.sha256(b"\x01" + stack.pop()[0] + acc).digest()
            return acc
        text = f"{name}\n{n}\n{base64.b64encode(root(leaves)).decode()}\n"
        key_id = hashlib.sha256(name.encode() + b"\n\x01" + org_pub).digest()[:4]
        note = text + "\n\u2014 " + name + " " + base64.b64encode(key_id + org.sign(text.encode())).decode() + "\n"
        f.write("checkpoint " + base64.b64encode(note.encode()).decode() + "\n")
        for e in entries:
            f.write("entry " + base64.b64encode(e).decode() + "\n")
    print(fingerprint("organisation", org_pub))

main()
