"""Verifies Standard Webhooks v1a (ed25519) signatures with PyPI's `cryptography`, an
implementation independent of Hookline's (server/tests/it/signing_v1a.rs runs it).

Reads a JSON list of {"public_key": "whpk_...", "id", "timestamp", "signature", "body"}
on stdin and prints a JSON list: for each, whether a v1a signature in the header verifies.
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def verified(case):
    try:
        raw = base64.b64decode(case["public_key"].removeprefix("whpk_"))
        key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return False
    message = f"{case['id']}.{case['timestamp']}.".encode() + case["body"].encode()
    for part in case["signature"].split(" "):
        version, _, signature = part.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), message)
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


print(json.dumps([verified(c) for c in json.load(sys.stdin)]))
