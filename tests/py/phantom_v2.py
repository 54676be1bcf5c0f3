#!/usr/bin/env python3
"""Minimal Phantom protocol v2 client, written from PROTOCOL.md only.

An independent implementation (pyca/cryptography + requests, like the Phantom 2.2.x
Python client) used by tests/interop.test.ts to check that our relay and client
speak the same protocol. No WebSocket: messages are read with /fetch (§7.6).
The protocol primitives are in v2proto.py beside this file.

Usage: phantom_v2.py [--home H] [--relay URL] <command> ...   (password in PHANTOM_PASSWORD)
Commands: init whoami register add pop send read send-file get-file burn selfcheck.
Every command prints one JSON object on stdout. Errors: one line on stderr, exit 1.
"""
import argparse
import json
import mimetypes
import os
import sys
import time
from urllib.parse import urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in the work tree

import requests  # noqa: E402
from cryptography.exceptions import InvalidTag  # noqa: E402

from v2proto import (  # noqa: E402
    FILE_PREFIX,
    MSG_PREFIX,
    Fail,
    Identity,
    b64,
    b64u,
    burn_hmac,
    decrypt_file,
    decrypt_message,
    encrypt_file,
    encrypt_message,
    fingerprint_of,
    open_vault,
    pair_keys,
    seal_vault,
    selfcheck,
    sign_headers,
    uid_of,
    unb64,
)


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
    def sign_headers(self, method, path, body):
        return sign_headers(self.me, method, path, body, str(int(time.time())), b64u(os.urandom(12)))

    def answer(self, r, ok=(200,)):
        if r.status_code not in ok:
            path = urlsplit(r.request.url).path
            raise Fail("%s %s -> %d %s" % (r.request.method, path, r.status_code, r.text[:200]))
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
        body = {"uid": m.uid, "pub_key": b64(m.enc_pub), "sign_pub": b64u(m.sign_pub)}
        r = self.post_json("/register", body, signed=False)
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
        blob = encrypt_file(fkey, fnonce, data)  # §5.3
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
        data = decrypt_file(unb64(f["key"]), unb64(f["nonce"]), r.content)
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
        fp = fingerprint_of(m.enc_pub)
        return {"uid": m.uid, "fingerprint": fp, "pub": b64(m.enc_pub), "sign_pub": b64u(m.sign_pub)}
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
