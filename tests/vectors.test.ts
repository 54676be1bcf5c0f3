// Known-answer vectors of PROTOCOL v2 (tests/vectors/v2.json, computed with
// pyca/cryptography): every value is reproduced from its inputs with lib/.
// The last test checks that every leaf of the JSON was read by a test above, so a
// new or renamed field cannot go untested.
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64decode, b64encode, b64udecode, b64uencode } from "../lib/encoding.ts";
import { CryptoError } from "../lib/errors.ts";
import * as w from "../lib/wire.ts";

const ROOT = resolve(import.meta.dir, "..");
const VECTORS = join(ROOT, "tests/vectors/v2.json");
const SHARED_VECTORS = resolve(ROOT, "../shared/vectors/v2.json");
const SHARED_PROTOCOL = resolve(ROOT, "../shared/PROTOCOL.md");
// Leaves that describe the file rather than the protocol.
const METADATA = new Set(["description"]);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function leafPaths(value: Json, path = ""): string[] {
  if (value === null || typeof value !== "object") return [path];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => leafPaths(v, path ? `${path}.${k}` : k));
}

/** A read-only view of the vectors that records the path of every leaf read through it. */
function tracked(value: Json, seen: Set<string>, path = ""): any {
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as Json;
      if (typeof key !== "string" || !Object.hasOwn(target, key) || (Array.isArray(target) && key === "length"))
        return v;
      const p = path ? `${path}.${key}` : key;
      if (v !== null && typeof v === "object") return tracked(v, seen, p);
      seen.add(p);
      return v;
    },
    set: () => false,
  });
}

const raw = JSON.parse(readFileSync(VECTORS, "utf8")) as Json;
const read = new Set<string>();
const v = tracked(raw, read);
let registered = 0;
let ran = 0;
/** A test that consumes vector fields (counted, so the guard knows whether all of them ran). */
function vtest(name: string, fn: () => void | Promise<void>) {
  registered++;
  test(name, async () => {
    ran++;
    await fn();
  });
}

const users = {} as Record<string, c.Identity & { uid: string }>;
for (const u of v.users) {
  users[u.name] = {
    encPriv: b64decode(u.enc_priv_b64),
    encPub: b64decode(u.enc_pub_b64),
    signSeed: b64udecode(u.sign_seed_b64u),
    signPub: b64udecode(u.sign_pub_b64u),
    uid: u.uid,
  };
}
const alice = users.alice!;
const bob = users.bob!;
const members = [alice.uid, bob.uid] as const;

describe("PROTOCOL §2 identity", () => {
  for (const u of v.users) {
    vtest(`${u.name}: public keys, uid and fingerprint`, () => {
      expect(b64encode(c.x25519Public(b64decode(u.enc_priv_b64)))).toBe(u.enc_pub_b64);
      expect(b64uencode(c.ed25519Public(b64udecode(u.sign_seed_b64u)))).toBe(u.sign_pub_b64u);
      expect(c.uidOf(b64decode(u.enc_pub_b64))).toBe(u.uid);
      expect(u.uid).toHaveLength(28);
      expect(c.fingerprintOf(b64decode(u.enc_pub_b64))).toBe(u.fingerprint);
    });
  }
});

describe("PROTOCOL §4 pairwise keys", () => {
  vtest("shared secret, both directions", () => {
    const ab = c.sharedSecret(alice.encPriv, bob.encPub);
    expect(b64encode(ab)).toBe(v.pair.shared_secret_b64);
    expect(b64encode(c.sharedSecret(bob.encPriv, alice.encPub))).toBe(v.pair.shared_secret_b64);
  });

  vtest("room id and session key, both uid orders", () => {
    const shared = b64decode(v.pair.shared_secret_b64);
    expect(c.roomIdOf(shared)).toBe(v.pair.room_id);
    expect(v.pair.room_id).toHaveLength(22);
    expect(b64encode(c.sessionKeyOf(shared, alice.uid, bob.uid))).toBe(v.pair.session_key_b64);
    expect(b64encode(c.sessionKeyOf(shared, bob.uid, alice.uid))).toBe(v.pair.session_key_b64);
  });

  vtest("pairKeys gives both peers the same room and key", () => {
    for (const [me, peer] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const k = c.pairKeys(me, peer.encPub);
      expect(k.roomId).toBe(v.pair.room_id);
      expect(b64encode(k.sessionKey)).toBe(v.pair.session_key_b64);
    }
  });
});

describe("PROTOCOL §5.1–5.2 messages", () => {
  const key = b64decode(v.pair.session_key_b64);
  v.messages.forEach((m: any, i: number) => {
    vtest(`message ${i}: envelope, ciphertext from nonce, decrypt, decode`, () => {
      const legacy = m.sender_uid === null;
      if (!legacy) expect(w.encodeEnvelope(m.sender_uid, m.body)).toBe(m.envelope_plaintext);
      else expect(m.envelope_plaintext).toBe(m.body);
      expect(c.encryptMessage(key, m.envelope_plaintext, b64decode(m.nonce_b64))).toBe(m.ciphertext);
      const pt = c.decryptMessage(key, m.ciphertext);
      expect(pt).toBe(m.envelope_plaintext);
      const env = w.decodeEnvelope(pt, members);
      expect(env).toEqual({ from: m.sender_uid, body: m.body, legacy });
    });
  });
});

describe("PROTOCOL §5.3 file", () => {
  vtest("blob from key, nonce and plaintext; decrypt back", () => {
    const f = v.file;
    const plain = b64decode(f.plaintext_b64);
    const blob = c.encryptFile(b64decode(f.key_b64), b64decode(f.nonce_b64), plain);
    expect(b64encode(blob)).toBe(f.blob_b64);
    expect(c.decryptFile(b64decode(f.key_b64), b64decode(f.nonce_b64), b64decode(f.blob_b64))).toEqual(plain);
  });

  vtest("file message body parses, re-encodes identically and matches the blob", () => {
    const f = v.file;
    const msg = w.decodeFileMessage(f.file_message_body);
    expect(msg).not.toBeNull();
    expect(w.encodeFileMessage(msg!)).toBe(f.file_message_body);
    expect(msg!.key).toBe(f.key_b64);
    expect(msg!.nonce).toBe(f.nonce_b64);
    expect(msg!.size).toBe(b64decode(f.plaintext_b64).length);
    expect(msg!.cipher_size).toBe(b64decode(f.blob_b64).length);
    expect(msg!.cipher_size).toBe(msg!.size + c.TAG_LEN);
    expect(w.filePathOf(msg!.url)).toBe("/file/EXAMPLEFILEID");
  });
});

describe("PROTOCOL §3 identity vault", () => {
  const iv = v.identity_vault;
  const file = () => ({ salt: iv.identity_json.salt, nonce: iv.identity_json.nonce, ct: iv.identity_json.ct });

  vtest("scrypt key", async () => {
    expect(b64encode(await c.vaultKey(iv.password, b64decode(iv.identity_json.salt)))).toBe(iv.scrypt_key_b64);
  });

  vtest("opens with the password to alice's keys; the inner JSON is Python's", async () => {
    expect(await c.openVault(file(), iv.password)).toEqual({
      encPriv: alice.encPriv,
      encPub: alice.encPub,
      signSeed: alice.signSeed,
      signPub: alice.signPub,
    });
    // The Python client writes json.dumps with ", " and ": " separators; we write
    // compact JSON. Readers accept both (PROTOCOL §3), so the sealed bytes differ
    // while the contents are equal.
    const key = b64decode(iv.scrypt_key_b64);
    const inner = new TextDecoder().decode(
      c.openWithVaultKey(key, b64decode(iv.identity_json.nonce), b64decode(iv.identity_json.ct)),
    );
    const ours = await c.sealVault(
      alice,
      iv.password,
      b64decode(iv.identity_json.salt),
      b64decode(iv.identity_json.nonce),
    );
    const oursInner = new TextDecoder().decode(c.openWithVaultKey(key, b64decode(ours.nonce), b64decode(ours.ct)));
    expect(JSON.parse(oursInner)).toEqual(JSON.parse(inner));
    expect(inner).toContain('", "');
    expect(await c.openVault(ours, iv.password)).toEqual(await c.openVault(file(), iv.password));
  });

  vtest("a wrong password is CryptoError wrong-password", async () => {
    const err = await c.openVault(file(), `${iv.password}!`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe("wrong-password");
  });
});

describe("PROTOCOL §6 signed request", () => {
  vtest("canonical string, signature and headers", () => {
    const r = v.signed_request;
    const canonical = w.canonicalRequest(r.method, r.path, r.uid, r.ts, r.nonce, c.sha256(r.body));
    expect(canonical).toBe(r.canonical);
    expect(r.uid).toBe(alice.uid);
    const sig = b64uencode(c.sign(alice.signSeed, canonical));
    expect(sig).toBe(r.headers[w.H_SIG]);
    expect(c.verify(alice.signPub, r.canonical, b64udecode(r.headers[w.H_SIG]))).toBe(true);
    expect(c.verify(c.ed25519VerifyKey(alice.signPub), r.canonical, b64udecode(sig))).toBe(true);
    expect(r.headers[w.H_UID]).toBe(r.uid);
    expect(r.headers[w.H_TS]).toBe(r.ts);
    expect(r.headers[w.H_NONCE]).toBe(r.nonce);
    const headers = { ...w.check(w.SignedHeaders, { ...r.headers }, "headers") };
    expect(Object.keys(headers).sort()).toEqual([w.H_NONCE, w.H_SIG, w.H_TS, w.H_UID].sort());
    // The signed body is a valid /send body for the vectors' room and first message.
    const body = w.parseJson(w.SendBody, r.body, "send body");
    expect(body).toEqual({ room_id: v.pair.room_id, ciphertext: v.messages[0].ciphertext, sender_id: alice.uid });
  });
});

describe("PROTOCOL §7.7 burn authorisation", () => {
  vtest("relay key, HMAC key from both sides, signature", () => {
    const b = v.burn_auth;
    const relayPriv = b64decode(b.relay_auth_priv_b64);
    const relayPub = b64decode(b.relay_auth_pub_b64);
    expect(b64encode(c.x25519Public(relayPriv))).toBe(b.relay_auth_pub_b64);
    expect(b.uid).toBe(alice.uid);
    const relaySide = c.burnAuthKey(relayPriv, alice.encPub, b.uid);
    const userSide = c.burnAuthKey(alice.encPriv, relayPub, b.uid);
    expect(userSide).toEqual(relaySide);
    expect(c.burnSignature(relaySide, b.uid, b.room_id, b.ts, b.nonce)).toBe(b.x_phantom_signature);
    expect(c.burnSignature(userSide, b.uid, b.room_id, b.ts, b.nonce)).toBe(b.x_phantom_signature);
    expect(b.hmac_message).toBe(`burn:${b.uid}:${b.room_id}:${b.ts}:${b.nonce}`);
    expect(createHmac("sha256", relaySide).update(b.hmac_message).digest("hex")).toBe(b.x_phantom_signature);
  });
});

describe("vector file", () => {
  test.skipIf(!existsSync(SHARED_VECTORS))("is byte-identical to ../shared/vectors/v2.json", () => {
    expect(readFileSync(VECTORS).equals(readFileSync(SHARED_VECTORS))).toBe(true);
  });

  test.skipIf(!existsSync(SHARED_PROTOCOL))("PROTOCOL.md is byte-identical to ../shared/PROTOCOL.md", () => {
    expect(readFileSync(join(ROOT, "PROTOCOL.md")).equals(readFileSync(SHARED_PROTOCOL))).toBe(true);
  });

  // Must stay the last test of this file: it needs the tests above to have run.
  test("every leaf field is consumed by a test", () => {
    if (ran < registered) {
      console.warn(`vectors guard: only ${ran} of ${registered} vector tests ran (filtered run); not checked`);
      return;
    }
    const all = leafPaths(raw).filter((p) => !METADATA.has(p));
    const unread = all.filter((p) => !read.has(p));
    expect(unread).toEqual([]);
    expect([...read].filter((p) => !all.includes(p))).toEqual([]);
  });
});
