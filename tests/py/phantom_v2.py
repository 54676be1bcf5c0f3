#!/usr/bin/env python3
"""Minimal Phantom protocol v2 client, written from PROTOCOL.md only.

An independent implementation (pyca/cryptography + requests, like the Phantom 2.2.x
Python client) used by tests/interop.test.ts to check that our relay and client
speak the same protocol. No WebSocket: messages are read with /fetch (§7.6).

Usage: phantom_v2.py [--home H] [--relay URL] <command> ...   (password in PHANTOM_PASSWORD)
Every command prints one JSON object on stdout. Errors: one line on stderr, exit 1.
"""
import argparse
import base64
import hashlib
import hmac
import json
import mimetypes
import os
import sys
import time
from urllib.parse import urlsplit

import requests
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
    plain = json.dumps(
        {"priv": b64(ident.enc_priv), "pub": b64(ident.enc_pub), "sign_priv": b64u(ident.sign_seed), "sign_pub": b64u(ident.sign_pub)}
    )
    ct = ChaCha20Poly1305(vault_key(password, salt)).encrypt(nonce, plain.encode(), b"phantom-v2")
    return json.dumps({"salt": b64(salt), "nonce": b64(nonce), "ct": b64(ct)})


def open_vault(text, password):
    v = json.loads(text)
    try:
        plain = ChaCha20Poly1305(vault_key(password, unb64(v["salt"]))).decrypt(unb64(v["nonce"]), unb64(v["ct"]), b"phantom-v2")
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


def burn_hmac(me, auth_pub, room, ts, nonce):
    """§7.7: hex(HMAC-SHA256(k, "burn:uid:room:ts:nonce")), k = SHA-256(label || X25519(enc_priv, auth_pub) || uid)."""
    shared = me.enc.exchange(X25519PublicKey.from_public_bytes(auth_pub))
    k = hashlib.sha256(b"phantom-relay-auth-v1" + shared + me.uid.encode()).digest()
    msg = "burn:%s:%s:%s:%s" % (me.uid, room, ts, nonce)
    return hmac.new(k, msg.encode(), hashlib.sha256).hexdigest()


class Client:
    def __init__(self, home, relay):
        self.home, self.relay = home, relay.rstrip("/")
        self.http = requests.Session()

    # local state
    def path(self, name):
        return os.path.join(self.home, name)

    def load(self):
        with open(self.path("identity.json")) as f:
            self.me = open_vault(f.read(), os.environ["PHANTOM_PASSWORD"])
        return self.me

    def peers(self):
        try:
            with open(self.path("peers.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def save_peer(self, uid, pub_b64):
        if uid_of(unb64(pub_b64)) != uid:  # §2: a UID commits to its key
            raise Fail("key does not match UID " + uid)
        p = self.peers()
        p[uid] = pub_b64
        with open(self.path("peers.json"), "w") as f:
            json.dump(p, f)

    def pair(self, peer):
        pub = self.peers().get(peer)
        if pub is None:
            raise Fail("unknown peer " + peer)
        return pair_keys(self.me, unb64(pub))

    # §6 signing
    def sign_headers(self, method, path, body, ts=None, nonce=None):
        ts = str(int(time.time())) if ts is None else ts
        nonce = b64u(os.urandom(12)) if nonce is None else nonce
        canonical = "\n".join([method, path, self.me.uid, ts, nonce, hashlib.sha256(body).hexdigest()])
        return {
            "x-phantom-uid": self.me.uid,
            "x-phantom-ts": ts,
            "x-phantom-nonce": nonce,
            "x-phantom-sig": b64u(self.me.sign.sign(canonical.encode())),
        }

    def answer(self, r, ok=(200,)):
        if r.status_code not in ok:
            raise Fail("%s %s -> %d %s" % (r.request.method, urlsplit(r.request.url).path, r.status_code, r.text[:200]))
        return r.json()

    def post_json(self, path, obj, signed=True, extra=None):
        body = json.dumps(obj).encode("utf-8")  # json.dumps default separators: ", " and ": "
        headers = {"content-type": "application/json"}
        if signed:
            headers.update(self.sign_headers("POST", path, body))
        headers.update(extra(headers) if extra else {})
        return self.http.post(self.relay + path, data=body, headers=headers)

    def get(self, path):
        return self.http.get(self.relay + path, headers=self.sign_headers("GET", path, b""))

    # commands
    def register(self):
        m = self.me
        r = self.post_json("/register", {"uid": m.uid, "pub_key": b64(m.enc_pub), "sign_pub": b64u(m.sign_pub)}, signed=False)
        return {"exists": True} if r.status_code == 409 else self.answer(r)

    def add(self, peer, push=True):
        r = self.http.get(self.relay + "/pubkey/" + peer)
        self.save_peer(peer, self.answer(r)["pub_key"])
        room, _ = self.pair(peer)
        if not push:
            return {"uid": peer, "room_id": room}
        body = {"from_uid": self.me.uid, "to_uid": peer, "pub_key": b64(self.me.enc_pub), "room_id": room}
        self.answer(self.post_json("/ke/push", body))
        return {"uid": peer, "room_id": room}

    def pop(self):
        entries = self.answer(self.get("/ke/pop/" + self.me.uid))["entries"]
        for e in entries:
            self.save_peer(e["from_uid"], e["pub_key"])
            if self.pair(e["from_uid"])[0] != e["room_id"]:
                raise Fail("ke entry room id is not ours")
        return {"entries": entries}

    def send_text(self, peer, text, legacy=False, spaced=False):
        room, key = self.pair(peer)
        if spaced:  # §5.2 "readers accept any valid JSON": spaces, other key order, raw UTF-8
            text = MSG_PREFIX + json.dumps({"body": text, "from": self.me.uid}, ensure_ascii=False)
        elif not legacy:  # §5.2, compact JSON with \uXXXX escapes like the 2.2.x client
            text = MSG_PREFIX + json.dumps({"from": self.me.uid, "body": text}, separators=(",", ":"))
        body = {"room_id": room, "ciphertext": encrypt_message(key, text), "sender_id": self.me.uid}
        return self.answer(self.post_json("/send", body))

    def messages(self, peer):
        room, key = self.pair(peer)
        rows = self.answer(self.post_json("/fetch", {"room_id": room, "limit": 200}))["messages"]
        out, files = [], 0
        for row in rows:
            try:
                plain = decrypt_message(key, row["ciphertext"])
            except (Fail, InvalidTag):
                continue
            if plain.startswith(MSG_PREFIX):
                env = json.loads(plain[len(MSG_PREFIX) :])
                sender, body = env["from"], env["body"]
                if sender not in (self.me.uid, peer):
                    continue
            else:
                sender, body = row.get("sender_id"), plain  # §5.2 legacy
            msg = {"ts": row["ts"], "from": sender, "body": body}
            if body.startswith(FILE_PREFIX):
                files += 1
                msg["file"] = dict(json.loads(body[len(FILE_PREFIX) :]), n=files)
            out.append(msg)
        return out

    def send_file(self, peer, path):
        room, key = self.pair(peer)
        with open(path, "rb") as f:
            data = f.read()
        fkey, fnonce = os.urandom(32), os.urandom(12)
        blob = ChaCha20Poly1305(fkey).encrypt(fnonce, data, b"phantom-file-v1")  # §5.3
        # §7.8: multipart built by requests; prepared first so the exact body bytes are signed (§6).
        req = requests.Request(
            "POST",
            self.relay + "/file/upload",
            files={"file": ("blob.bin", blob, "application/octet-stream")},
            data={"room_id": room, "sender_id": self.me.uid},
        ).prepare()
        req.headers.update(self.sign_headers("POST", "/file/upload", req.body))
        up = self.answer(self.http.send(req))
        name = os.path.basename(path)
        info = {
            "type": "file",
            "name": name,
            "size": len(data),
            "cipher_size": len(blob),
            "mime": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "url": self.relay + up["url"],
            "key": b64(fkey),
            "nonce": b64(fnonce),
        }
        self.send_text(peer, FILE_PREFIX + json.dumps(info, separators=(",", ":")))
        return {"upload": up, "file": info}

    def get_file(self, peer, n, out):
        f = next((m["file"] for m in self.messages(peer) if m.get("file", {}).get("n") == n), None)
        if f is None:
            raise Fail("no file %d" % n)
        path = urlsplit(f["url"]).path  # §5.3: only the path, on our own relay
        r = self.get(path)
        if r.status_code != 200:
            raise Fail("GET %s -> %d" % (path, r.status_code))
        data = ChaCha20Poly1305(unb64(f["key"])).decrypt(unb64(f["nonce"]), r.content, b"phantom-file-v1")
        with open(out, "wb") as fh:
            fh.write(data)
        return {"path": out, "size": len(data), "name": f["name"], "downloaded_path": path}

    def burn(self, peer, quirk=False):
        room, _ = self.pair(peer)
        health = self.answer(self.http.get(self.relay + "/health"))

        def burn_sig(headers):
            if not health["auth_required"]:
                return {}
            ts, nonce = headers["x-phantom-ts"], headers["x-phantom-nonce"]
            if quirk:  # the 2.2.x bug: the HMAC uses its own timestamp and nonce, not the ones sent
                ts, nonce = str(int(ts) - 1), b64u(os.urandom(12))
            return {"x-phantom-signature": burn_hmac(self.me, unb64(health["auth_pub"]), room, ts, nonce)}

        r = self.post_json("/burn", {"room_id": room, "sender_id": self.me.uid}, extra=burn_sig)
        return {"status": r.status_code, "answer": r.json()}


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
    blob = ChaCha20Poly1305(unb64(fv["key_b64"])).encrypt(unb64(fv["nonce_b64"]), unb64(fv["plaintext_b64"]), b"phantom-file-v1")
    check(b64(blob) == fv["blob_b64"], "file blob")
    iv = v["identity_vault"]
    check(open_vault(json.dumps(iv["identity_json"]), iv["password"]).uid == ua["uid"], "identity vault")
    sr = v["signed_request"]
    c = Client("", "")
    c.me = a
    check(c.sign_headers(sr["method"], sr["path"], sr["body"].encode(), sr["ts"], sr["nonce"]) == sr["headers"], "signed request")
    ba = v["burn_auth"]
    relay_pub = Identity(unb64(ba["relay_auth_priv_b64"]), os.urandom(32)).enc_pub
    check(b64(relay_pub) == ba["relay_auth_pub_b64"], "relay auth public key")
    check(burn_hmac(a, relay_pub, ba["room_id"], ba["ts"], ba["nonce"]) == ba["x_phantom_signature"], "burn hmac")
    return {"ok": True}


def main(argv):
    ap = argparse.ArgumentParser(prog="phantom_v2.py")
    ap.add_argument("--home", default=os.environ.get("PHANTOM_HOME", os.path.expanduser("~/.phantom")))
    ap.add_argument("--relay", default=os.environ.get("PHANTOM_RELAY", "http://127.0.0.1:8787"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init")
    sub.add_parser("whoami")
    sub.add_parser("register")
    sub.add_parser("add").add_argument("peer")
    sub.choices["add"].add_argument("--no-push", action="store_true")
    sub.add_parser("pop")
    s = sub.add_parser("send")
    s.add_argument("peer")
    s.add_argument("text", nargs="?")
    s.add_argument("--legacy", action="store_true", help="plaintext without the PHANTOM_MSG_V1 envelope")
    s.add_argument("--spaced", action="store_true", help="envelope JSON with spaces, keys reversed, no escapes")
    sub.add_parser("read").add_argument("peer")
    s = sub.add_parser("send-file")
    s.add_argument("peer")
    s.add_argument("path")
    s = sub.add_parser("get-file")
    s.add_argument("peer")
    s.add_argument("n", type=int)
    s.add_argument("out")
    s = sub.add_parser("burn")
    s.add_argument("peer")
    s.add_argument("--quirk", action="store_true", help="HMAC over another ts/nonce than sent (2.2.x, §7.7)")
    sub.add_parser("selfcheck").add_argument("vectors")
    a = ap.parse_args(argv)

    c = Client(a.home, a.relay)
    if a.cmd == "selfcheck":
        return selfcheck(a.vectors)
    if a.cmd == "init":
        os.makedirs(a.home, mode=0o700, exist_ok=True)
        ident = Identity(os.urandom(32), os.urandom(32))
        fd = os.open(c.path("identity.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(seal_vault(ident, os.environ["PHANTOM_PASSWORD"]))
        c.me = ident
    else:
        c.load()
    if a.cmd in ("init", "whoami"):
        m = c.me
        return {"uid": m.uid, "fingerprint": fingerprint_of(m.enc_pub), "pub": b64(m.enc_pub), "sign_pub": b64u(m.sign_pub)}
    if a.cmd == "register":
        return c.register()
    if a.cmd == "add":
        return c.add(a.peer, push=not a.no_push)
    if a.cmd == "pop":
        return c.pop()
    if a.cmd == "send":
        text = sys.stdin.read() if a.text is None else a.text
        return c.send_text(a.peer, text, legacy=a.legacy, spaced=a.spaced)
    if a.cmd == "read":
        return {"messages": c.messages(a.peer)}
    if a.cmd == "send-file":
        return c.send_file(a.peer, a.path)
    if a.cmd == "get-file":
        return c.get_file(a.peer, a.n, a.out)
    if a.cmd == "burn":
        return c.burn(a.peer, quirk=a.quirk)


if __name__ == "__main__":
    try:
        print(json.dumps(main(sys.argv[1:])))
    except Fail as e:
        print("phantom_v2: error: %s" % e, file=sys.stderr)
        sys.exit(1)
