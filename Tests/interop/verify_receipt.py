"""An independent verifier for PostalGateway receipts, using only hashlib and an Ed25519 library.

Usage: python3 verify_receipt.py RECEIPT.json VERIFIER_KEY

Checks, without talking to the service:
  1. the checkpoint is a C2SP signed note with a valid Ed25519 signature by the verifier key
     (key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]);
  2. the note text is a C2SP tlog-checkpoint (origin, size, base64 root);
  3. every entry's RFC 6962 inclusion proof (leaf hash SHA-256(0x00 || data)) leads to the root;
  4. every entry names the shipment: its "shipment" field is SHA-256(salt || tracking number).
Prints "OK <n> entries" and exits 0, or prints the problem and exits 1.
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def open_note(note, verifier_key):
    name, key_hash, encoded = verifier_key.split("+", 2)
    raw = base64.b64decode(encoded)
    if len(raw) != 33 or raw[0] != 1:
        fail("not an Ed25519 verifier key")
    public_key = raw[1:]
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_key).digest()[:4]
    if key_id.hex() != key_hash:
        fail("verifier key id does not match")
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not note.endswith("\n"):
        fail("malformed note")
    text += "\n"
    verified = False
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            fail("malformed signature line")
        signer, _, signature = line[2:].rpartition(" ")
        blob = base64.b64decode(signature)
        if signer != name or blob[:4] != key_id:
            continue  # another key's signature: ignored
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(blob[4:], text.encode())
        except InvalidSignature:
            fail("bad signature by " + name)
        verified = True
    if not verified:
        fail("no signature by " + name)
    return text


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf_hash, proof):
    # RFC 9162 section 2.1.3.2
    if index >= size:
        fail("leaf index beyond the tree")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            fail("proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("proof too short")
    return r


def main():
    receipt = json.load(open(sys.argv[1]))
    text = open_note(receipt["checkpoint"], sys.argv[2])
    origin, size, root = text.split("\n")[:3]
    size, root = int(size), base64.b64decode(root)
    salt = base64.b64decode(receipt.get("shipment_salt", ""))
    commitment = hashlib.sha256(salt + receipt["tracking_number"].encode()).hexdigest()
    entries = receipt.get("entries", [])
    for number, entry in enumerate(entries, start=1):
        data = base64.b64decode(entry["data"])
        proof = [base64.b64decode(h) for h in entry.get("inclusion_proof", [])]
        index = int(entry.get("leaf_index", 0))
        if root_from_inclusion(index, size, hashlib.sha256(b"\x00" + data).digest(), proof) != root:
            fail("entry at leaf %d is not in the checkpointed tree" % index)
        fields = dict(line.split(" ", 1) for line in data.decode().splitlines()[1:])
        if fields.get("shipment") != commitment:
            fail("entry at leaf %d is not this shipment's" % index)
        if int(fields.get("sequence", -1)) != number:
            fail("entries are not the shipment's history in order")
    print("OK %d entries at size %d of %s" % (len(entries), size, origin))


if __name__ == "__main__":
    main()
