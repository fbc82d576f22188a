"""Signature oracle for vouch's DSSE tests, over Debian's python3-securesystemslib (0.26).

securesystemslib 0.26 has no DSSE model, so the caller passes the PAE bytes itself. Reads a JSON
list of requests on stdin and writes a JSON list of answers:
  {"op": "verify", "keytype": "ecdsa"|"ed25519", "public": PEM|hex, "data": b64, "sig": hex}
      -> {"ok": bool}        (keys.verify_signature)
  {"op": "sign", "keytype": "ecdsa"|"ed25519", "data": b64}
      -> {"public": PEM|hex, "sig": hex}   (a fresh key; keys.create_signature)
  {"op": "sign_dsse", "keytype": ..., "payloadType": str, "payload": b64}
      -> {"public": ..., "sig": hex, "pae": b64}  (PAE built here, from the DSSE spec, not by vouch)
"""

import base64
import json
import sys

from securesystemslib import keys


def public_key(keytype, public):
    if keytype == "ecdsa":
        return keys.import_ecdsakey_from_public_pem(public, "ecdsa-sha2-nistp256")
    if keytype == "ed25519":
        key, _ = keys.format_metadata_to_key(
            {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": public}}
        )
        return key
    raise ValueError("unknown keytype " + keytype)


def pae(payload_type, payload):
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def answer(req):
    if req["op"] == "sign_dsse":
        data = pae(req["payloadType"], base64.b64decode(req["payload"]))
        out = answer({"op": "sign", "keytype": req["keytype"], "data": base64.b64encode(data).decode()})
        out["pae"] = base64.b64encode(data).decode()
        return out
    data = base64.b64decode(req["data"])
    if req["op"] == "verify":
        key = public_key(req["keytype"], req["public"])
        sig = {"keyid": key["keyid"], "sig": req["sig"]}
        return {"ok": bool(keys.verify_signature(key, sig, data))}
    if req["op"] == "sign":
        if req["keytype"] == "ecdsa":
            key = keys.generate_ecdsa_key("ecdsa-sha2-nistp256")
        else:
            key = keys.generate_ed25519_key()
        sig = keys.create_signature(key, data)
        return {"public": key["keyval"]["public"], "sig": sig["sig"]}
    raise ValueError("unknown op " + req["op"])


json.dump([answer(r) for r in json.load(sys.stdin)], sys.stdout)
