"""Phantom protocol v2 primitives (PROTOCOL.md §1–§7.7), written from the spec with pyca/cryptography.

Used by phantom_v2.py. `python3 v2proto.py tests/vectors/v2.json` reproduces the known-answer vectors.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

RAW = serialization.Encoding.Raw
MSG_PREFIX = "PHANTOM_MSG_V1:"
FILE_PREFIX = "PHANTOM_FILE_V1:"


class Fail(Exception):
    pass


# §1 encodings
def b64(b):
    return base64.b64encode(b).decode()


def unb64(s):
    return base64.b64decode(s, validate=True)


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# §2 identity
def uid_of(enc_pub):
    return b64u(hashlib.sha3_256(b"phantom-uid-v2" + enc_pub).digest()[:21])


def fingerprint_of(enc_pub):
    s = base64.b32encode(hashlib.sha256(enc_pub).digest()).decode().rstrip("=")
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


class Identity:
    def __init__(self, enc_priv, sign_seed):
        self.enc = X25519PrivateKey.from_private_bytes(enc_priv)
        self.sign = Ed25519PrivateKey.from_private_bytes(sign_seed)
        self.enc_priv = enc_priv
        self.sign_seed = sign_seed
        self.enc_pub = self.enc.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
        self.sign_pub = self.sign.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
        self.uid = uid_of(self.enc_pub)


# §3 vault
def vault_key(password, salt):
    return Scrypt(salt=salt, length=32, n=2**17, r=8, p=1).derive(password.encode("utf-8"))


def seal_vault(ident, password):
    salt, nonce = os.urandom(32), os.urandom(12)
    plain = json.dumps(  # json.dumps default separators, like the 2.2.x client
        {
            "priv": b64(ident.enc_priv),
            "pub": b64(ident.enc_pub),
            "sign_priv": b64u(ident.sign_seed),
            "sign_pub": b64u(ident.sign_pub),
        }
    )
    ct = ChaCha20Poly1305(vault_key(password, salt)).encrypt(nonce, plain.encode(), b"phantom-v2")
    return json.dumps({"salt": b64(salt), "nonce": b64(nonce), "ct": b64(ct)})


def open_vault(text, password):
    v = json.loads(text)
    aead = ChaCha20Poly1305(vault_key(password, unb64(v["salt"])))
    try:
        plain = aead.decrypt(unb64(v["nonce"]), unb64(v["ct"]), b"phantom-v2")
    except InvalidTag:
        raise Fail("wrong password")
    d = json.loads(plain)
    ident = Identity(unb64(d["priv"]), unb64u(d["sign_priv"]))
    if unb64(d["pub"]) != ident.enc_pub or unb64u(d["sign_pub"]) != ident.sign_pub:
        raise Fail("vault public keys do not match its private keys")
    return ident


# §4 pairwise keys
def hkdf(ikm, info, n):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=None, info=info).derive(ikm)


def pair_keys(me, peer_pub):
    shared = me.enc.exchange(X25519PublicKey.from_public_bytes(peer_pub))
    room = b64u(hkdf(shared, b"phantom-room-id-v3", 16))
    uids = sorted([me.uid, uid_of(peer_pub)])
    key = hkdf(shared, b"phantom-session-v2" + "|".join(uids).encode(), 32)
    return room, key


# §5.1 ciphertext
def encrypt_message(key, text):
    nonce = os.urandom(12)
    return b64(b"\x01" + nonce + ChaCha20Poly1305(key).encrypt(nonce, text.encode("utf-8"), b"phantom-msg-v2"))


def decrypt_message(key, ct):
    raw = unb64(ct)
    if raw[:1] != b"\x01":
        raise Fail("unknown protocol version")
    return ChaCha20Poly1305(key).decrypt(raw[1:13], raw[13:], b"phantom-msg-v2").decode("utf-8")


# §5.3 file blobs
def encrypt_file(key, nonce, data):
    return ChaCha20Poly1305(key).encrypt(nonce, data, b"phantom-file-v1")


def decrypt_file(key, nonce, blob):
    return ChaCha20Poly1305(key).decrypt(nonce, blob, b"phantom-file-v1")


# §6 request signing
def sign_headers(me, method, path, body, ts, nonce):
    canonical = "\n".join([method, path, me.uid, ts, nonce, hashlib.sha256(body).hexdigest()])
    return {
        "x-phantom-uid": me.uid,
        "x-phantom-ts": ts,
        "x-phantom-nonce": nonce,
        "x-phantom-sig": b64u(me.sign.sign(canonical.encode())),
    }


# §7.7 burn authorisation
def burn_hmac(me, auth_pub, room, ts, nonce):
    """hex(HMAC-SHA256(k, "burn:uid:room:ts:nonce")), k = SHA-256(label || X25519(enc_priv, auth_pub) || uid)."""
    shared = me.enc.exchange(X25519PublicKey.from_public_bytes(auth_pub))
    k = hashlib.sha256(b"phantom-relay-auth-v1" + shared + me.uid.encode()).digest()
    msg = "burn:%s:%s:%s:%s" % (me.uid, room, ts, nonce)
    return hmac.new(k, msg.encode(), hashlib.sha256).hexdigest()


def check(cond, what):
    if not cond:
        raise Fail("selfcheck: " + what)


def selfcheck(path):
    """Reproduce the known-answer vectors (computed by the 2.2.x side) with this implementation."""
    with open(path) as f:
        v = json.load(f)
    ua, ub = v["users"]
    a = Identity(unb64(ua["enc_priv_b64"]), unb64u(ua["sign_seed_b64u"]))
    b = Identity(unb64(ub["enc_priv_b64"]), unb64u(ub["sign_seed_b64u"]))
    for u, i in ((ua, a), (ub, b)):
        check(b64(i.enc_pub) == u["enc_pub_b64"] and b64u(i.sign_pub) == u["sign_pub_b64u"], "public keys")
        check(i.uid == u["uid"] and fingerprint_of(i.enc_pub) == u["fingerprint"], "uid and fingerprint")
    room, key = pair_keys(a, b.enc_pub)
    check((room, b64(key)) == (v["pair"]["room_id"], v["pair"]["session_key_b64"]), "room id and session key")
    check(pair_keys(b, a.enc_pub) == (room, key), "pair keys are symmetric")
    for m in v["messages"]:
        check(decrypt_message(key, m["ciphertext"]) == m["envelope_plaintext"], "message decryption")
        if m["envelope_plaintext"].startswith(MSG_PREFIX):
            env = MSG_PREFIX + json.dumps({"from": m["sender_uid"], "body": m["body"]}, separators=(",", ":"))
            check(env == m["envelope_plaintext"], "envelope encoding")
    fv = v["file"]
    blob = encrypt_file(unb64(fv["key_b64"]), unb64(fv["nonce_b64"]), unb64(fv["plaintext_b64"]))
    check(b64(blob) == fv["blob_b64"], "file blob")
    check(decrypt_file(unb64(fv["key_b64"]), unb64(fv["nonce_b64"]), blob) == unb64(fv["plaintext_b64"]), "file")
    iv = v["identity_vault"]
    check(open_vault(json.dumps(iv["identity_json"]), iv["password"]).uid == ua["uid"], "identity vault")
    sr = v["signed_request"]
    signed = sign_headers(a, sr["method"], sr["path"], sr["body"].encode(), sr["ts"], sr["nonce"])
    check(signed == sr["headers"], "signed request")
    ba = v["burn_auth"]
    relay_pub = Identity(unb64(ba["relay_auth_priv_b64"]), os.urandom(32)).enc_pub
    check(b64(relay_pub) == ba["relay_auth_pub_b64"], "relay auth public key")
    check(burn_hmac(a, relay_pub, ba["room_id"], ba["ts"], ba["nonce"]) == ba["x_phantom_signature"], "burn hmac")
    return {"ok": True}


if __name__ == "__main__":
    try:
        print(json.dumps(selfcheck(sys.argv[1])))
    except Fail as e:
        print("v2proto: error: %s" % e, file=sys.stderr)
        sys.exit(1)
