// Negative and property tests of lib/crypto.ts: each failure is a typed error with
// a code, never an exception from a primitive. Known answers are in tests/vectors.test.ts.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import * as c from "./crypto.ts";
import { b64decode, b64encode, concatBytes, hexdecode, utf8 } from "./encoding.ts";
import { CryptoError, PhantomError, WireError } from "./errors.ts";

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

function expectError(fn: () => unknown, cls: typeof PhantomError, code: string) {
  const err = caught(fn);
  expect(err).toBeInstanceOf(cls);
  expect((err as PhantomError).code).toBe(code);
}

async function expectRejects(p: Promise<unknown>, cls: typeof PhantomError, code: string) {
  const err = await p.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  expect((err as PhantomError).code).toBe(code);
}

const key = c.randomBytes(32);
const nonce = c.randomBytes(12);

/** Flip one bit of the decoded ciphertext at `index` (negative counts from the end). */
function tamper(ciphertext: string, index: number): string {
  const raw = b64decode(ciphertext).slice();
  raw[(index + raw.length) % raw.length]! ^= 0x01;
  return b64encode(raw);
}

describe("PROTOCOL §5.1 decryptMessage failures", () => {
  const ct = c.encryptMessage(key, "hello", nonce);

  test("round trip, and a fresh nonce each time", () => {
    expect(c.decryptMessage(key, ct)).toBe("hello");
    expect(c.encryptMessage(key, "hello")).not.toBe(c.encryptMessage(key, "hello"));
    expect(c.decryptMessage(key, c.encryptMessage(key, ""))).toBe("");
  });

  test.each([
    ["tag", -1],
    ["ciphertext", 13],
    ["nonce", 1],
  ])("tampered %s is decrypt-failed", (_, at) =>
    expectError(() => c.decryptMessage(key, tamper(ct, at)), CryptoError, "decrypt-failed"),
  );

  test("wrong key is decrypt-failed", () =>
    expectError(() => c.decryptMessage(c.randomBytes(32), ct), CryptoError, "decrypt-failed"));

  test.each([0x00, 0x02, 0xff])("version byte 0x%s is bad-version", (version) => {
    const raw = b64decode(ct).slice();
    raw[0] = version;
    expectError(() => c.decryptMessage(key, b64encode(raw)), CryptoError, "bad-version");
  });

  test("truncated inputs are truncated", () => {
    const raw = b64decode(ct);
    for (const n of [0, 1, 13, 28]) {
      expectError(() => c.decryptMessage(key, b64encode(raw.subarray(0, n))), CryptoError, "truncated");
    }
    // 29 bytes = version + nonce + tag: long enough to check, so a cut body fails the tag.
    expectError(() => c.decryptMessage(key, b64encode(raw.subarray(0, 29))), CryptoError, "decrypt-failed");
  });

  test("bad base64 is WireError bad-encoding", () => {
    expectError(() => c.decryptMessage(key, ct.replace(/=+$/, "")), WireError, "bad-encoding");
    expectError(() => c.decryptMessage(key, `${ct} `), WireError, "bad-encoding");
  });

  test("a valid tag over invalid UTF-8 is WireError bad-utf8", () => {
    const sealed = chacha20poly1305(key, nonce, utf8.encode(c.MESSAGE_AAD)).encrypt(Uint8Array.of(0xff, 0xfe));
    const ciphertext = b64encode(concatBytes(Uint8Array.of(c.MESSAGE_VERSION), nonce, sealed));
    expectError(() => c.decryptMessage(key, ciphertext), WireError, "bad-utf8");
  });

  test("wrong key and nonce lengths are bad-length", () => {
    for (const n of [0, 16, 31, 33]) {
      expectError(() => c.decryptMessage(new Uint8Array(n), ct), CryptoError, "bad-length");
      expectError(() => c.encryptMessage(new Uint8Array(n), "x"), CryptoError, "bad-length");
    }
    for (const n of [0, 8, 11, 13, 24]) {
      expectError(() => c.encryptMessage(key, "x", new Uint8Array(n)), CryptoError, "bad-length");
    }
    expectError(() => c.decryptMessage("k" as unknown as Uint8Array, ct), CryptoError, "bad-type");
  });
});

describe("PROTOCOL §5.3 file blobs", () => {
  const data = c.randomBytes(1000);
  const blob = c.encryptFile(key, nonce, data);

  test("round trip; the blob is the data plus a 16-byte tag; empty files work", () => {
    expect(blob.length).toBe(data.length + c.TAG_LEN);
    expect(c.decryptFile(key, nonce, blob)).toEqual(data);
    expect(c.decryptFile(key, nonce, c.encryptFile(key, nonce, new Uint8Array(0)))).toEqual(new Uint8Array(0));
  });

  test("tampered, wrong key, wrong nonce are decrypt-failed", () => {
    for (const at of [0, 500, blob.length - 1]) {
      const bad = blob.slice();
      bad[at]! ^= 0x80;
      expectError(() => c.decryptFile(key, nonce, bad), CryptoError, "decrypt-failed");
    }
    expectError(() => c.decryptFile(c.randomBytes(32), nonce, blob), CryptoError, "decrypt-failed");
    expectError(() => c.decryptFile(key, c.randomBytes(12), blob), CryptoError, "decrypt-failed");
    expectError(() => c.decryptFile(key, nonce, blob.subarray(0, 999)), CryptoError, "decrypt-failed");
  });

  test("shorter than the tag is truncated", () => {
    expectError(() => c.decryptFile(key, nonce, blob.subarray(0, 15)), CryptoError, "truncated");
    expectError(() => c.decryptFile(key, nonce, new Uint8Array(0)), CryptoError, "truncated");
  });

  test("wrong key and nonce lengths are bad-length", () => {
    expectError(() => c.encryptFile(new Uint8Array(31), nonce, data), CryptoError, "bad-length");
    expectError(() => c.encryptFile(key, new Uint8Array(24), data), CryptoError, "bad-length");
    expectError(() => c.decryptFile(new Uint8Array(33), nonce, blob), CryptoError, "bad-length");
    expectError(() => c.decryptFile(key, new Uint8Array(11), blob), CryptoError, "bad-length");
    // Not "wrong-password": a bad key length is a programming error, not a user's.
    expectError(() => c.openWithVaultKey(new Uint8Array(16), nonce, blob), CryptoError, "bad-length");
  });
});

describe("PROTOCOL §2 and §4 keys", () => {
  const me = c.generateIdentity();

  test("generated identities are consistent and distinct", () => {
    expect(c.x25519Public(me.encPriv)).toEqual(me.encPub);
    expect(c.ed25519Public(me.signSeed)).toEqual(me.signPub);
    expect(c.generateIdentity().encPriv).not.toEqual(me.encPriv);
    expect(c.uidOf(me.encPub)).toMatch(/^[A-Za-z0-9_-]{28}$/);
    expect(c.fingerprintOf(me.encPub)).toMatch(/^([A-Z2-7]{4} ){12}[A-Z2-7]{4}$/);
  });

  // Little-endian u-coordinates of the X25519 points of small order, and
  // non-canonical encodings of them (p-1, p, p+1, and with the top bit set, which
  // RFC 7748 ignores).
  const lowOrder = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  ];
  test.each(lowOrder)("low-order X25519 point %s is bad-key", (hex) => {
    const point = hexdecode(hex);
    expectError(() => c.sharedSecret(me.encPriv, point), CryptoError, "bad-key");
    expectError(() => c.pairKeys(me, point), CryptoError, "bad-key");
    expectError(() => c.burnAuthKey(me.encPriv, point, "u"), CryptoError, "bad-key");
  });

  test.each(lowOrder)("checkX25519Public refuses %s", (hex) => {
    expectError(() => c.checkX25519Public(hexdecode(hex)), CryptoError, "bad-key");
  });

  test("checkX25519Public: real keys pass; p itself and above are non-canonical", () => {
    for (let i = 0; i < 20; i++) c.checkX25519Public(c.generateIdentity().encPub);
    const p = hexdecode("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const pMinus1 = hexdecode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const pPlus2 = hexdecode("efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    expectError(() => c.checkX25519Public(p), CryptoError, "bad-key");
    expectError(() => c.checkX25519Public(pPlus2), CryptoError, "bad-key");
    expectError(() => c.checkX25519Public(pMinus1), CryptoError, "bad-key"); // p − 1 is of low order
  });

  test("wrong key lengths are bad-length", () => {
    for (const n of [0, 31, 33, 64]) {
      const k = new Uint8Array(n).fill(9);
      expectError(() => c.x25519Public(k), CryptoError, "bad-length");
      expectError(() => c.ed25519Public(k), CryptoError, "bad-length");
      expectError(() => c.uidOf(k), CryptoError, "bad-length");
      expectError(() => c.fingerprintOf(k), CryptoError, "bad-length");
      expectError(() => c.sharedSecret(k, me.encPub), CryptoError, "bad-length");
      expectError(() => c.sharedSecret(me.encPriv, k), CryptoError, "bad-length");
      expectError(() => c.roomIdOf(k), CryptoError, "bad-length");
      expectError(() => c.sessionKeyOf(k, "a", "b"), CryptoError, "bad-length");
      expectError(() => c.sign(k, "m"), CryptoError, "bad-length");
      expectError(() => c.burnSignature(k, "u", "r", "1", "n"), CryptoError, "bad-length");
    }
  });
});

describe("PROTOCOL §6 signatures", () => {
  const me = c.generateIdentity();
  const other = c.generateIdentity();
  const msg = "POST\n/send\nuid\n1\nnonce\nhash";
  const sig = c.sign(me.signSeed, msg);
  // Group order L of Ed25519, little-endian, to build a malleated S + L.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);
  const toLe = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

  test("a good signature verifies, with raw bytes or a cached KeyObject", () => {
    expect(sig.length).toBe(c.SIG_LEN);
    expect(c.verify(me.signPub, msg, sig)).toBe(true);
    expect(c.verify(c.ed25519VerifyKey(me.signPub), utf8.encode(msg), sig)).toBe(true);
  });

  test("bad signatures return false, never throw", () => {
    const flipped = sig.slice();
    flipped[10]! ^= 0x04;
    const malleated = concatBytes(sig.subarray(0, 32), toLe(le(sig.subarray(32)) + L));
    const cases: [Uint8Array | unknown, string][] = [
      [flipped, msg],
      [sig, `${msg}x`],
      [sig.subarray(0, 63), msg],
      [concatBytes(sig, Uint8Array.of(0)), msg],
      [new Uint8Array(64), msg],
      [new Uint8Array(0), msg],
      [malleated, msg],
      [c.sign(other.signSeed, msg), msg],
      ["not bytes", msg],
    ];
    for (const [s, m] of cases) {
      expect(c.verify(me.signPub, m, s as Uint8Array)).toBe(false);
      expect(c.verify(c.ed25519VerifyKey(me.signPub), m, s as Uint8Array)).toBe(false);
    }
  });

  // The small-order points of edwards25519 (and y = 0 with the sign bit), then
  // non-canonical (y = p, y = p + 1) and off-curve encodings.
  test.each([
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0200000000000000000000000000000000000000000000000000000000000000",
  ])("Ed25519 public key %s is bad-key", (hex) => {
    expectError(() => c.ed25519VerifyKey(hexdecode(hex)), CryptoError, "bad-key");
    // The forgery that native verification would accept under the identity key.
    const forged = concatBytes(hexdecode("01".padEnd(64, "0")), new Uint8Array(32));
    expectError(() => c.verify(hexdecode(hex), msg, forged), CryptoError, "bad-key");
  });

  test("a public key of the wrong length is a typed error", () => {
    expectError(() => c.verify(new Uint8Array(31), msg, sig), CryptoError, "bad-length");
    expectError(() => c.ed25519VerifyKey(new Uint8Array(33)), CryptoError, "bad-length");
  });
});

describe("PROTOCOL §7.7 burn key", () => {
  test("relay and user derive the same key; it depends on the uid", () => {
    const relay = c.generateIdentity();
    const user = c.generateIdentity();
    const k = c.burnAuthKey(relay.encPriv, user.encPub, "uid-a");
    expect(c.burnAuthKey(user.encPriv, relay.encPub, "uid-a")).toEqual(k);
    expect(c.burnAuthKey(user.encPriv, relay.encPub, "uid-b")).not.toEqual(k);
    expect(c.burnSignature(k, "u", "r", "1", "n")).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("PROTOCOL §3 vault failures", () => {
  const me = c.generateIdentity();
  const salt = c.randomBytes(c.VAULT_SALT_LEN);
  const vaultNonce = c.randomBytes(c.NONCE_LEN);
  const file = { salt: b64encode(salt), nonce: b64encode(vaultNonce), ct: b64encode(new Uint8Array(100)) };

  test.each([
    ["missing ct", { salt: file.salt, nonce: file.nonce }],
    ["unknown key", { ...file, extra: 1 }],
    ["short salt", { ...file, salt: b64encode(new Uint8Array(31)) }],
    ["long nonce", { ...file, nonce: b64encode(new Uint8Array(24)) }],
    ["b64u ct", { ...file, ct: "-_-_" }],
    ["not an object", "identity"],
    ["null", null],
  ])("malformed vault file (%s) is WireError bad-request, before any scrypt", async (_, bad) => {
    await expectRejects(c.openVault(bad, "pw"), WireError, "bad-request");
  });

  test("vault key salt of the wrong length is bad-length", async () => {
    await expectRejects(c.vaultKey("pw", new Uint8Array(16)), CryptoError, "bad-length");
  });

  test("wrong password, keys that do not match, and bad contents are typed errors", async () => {
    const k = await c.vaultKey("pw", salt);
    const seal = (inner: string) => ({ ...file, ct: b64encode(c.sealWithVaultKey(k, vaultNonce, utf8.encode(inner))) });
    const inner = (id: c.Identity) =>
      JSON.stringify({
        priv: b64encode(id.encPriv),
        pub: b64encode(id.encPub),
        sign_priv: Buffer.from(id.signSeed).toString("base64url"),
        sign_pub: Buffer.from(id.signPub).toString("base64url"),
      });
    await expectRejects(c.openVault(seal(inner(me)), "PW"), CryptoError, "wrong-password");
    const other = c.generateIdentity();
    await expectRejects(c.openVault(seal(inner({ ...me, encPub: other.encPub })), "pw"), CryptoError, "bad-vault");
    await expectRejects(c.openVault(seal("not json"), "pw"), WireError, "bad-json");
  });
});

test("equalBytes", () => {
  expect(c.equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
  expect(c.equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
  expect(c.equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
});

describe("messageId: b64u(SHA-256(decoded ciphertext))", () => {
  // Known answers computed independently with Python's hashlib and base64.
  test.each([
    ["AgABAgMEBQYHCAkKC2hlbGxvLCBwaGFudG9t", "ze-uHPN-xCsTTqa3EeTGctA7g7DWkJq5sjd-YRhZa6A"],
    ["", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"],
  ])("%j → %j", (ciphertext, id) => expect(c.messageId(ciphertext)).toBe(id));

  test("hashes the decoded bytes, not the base64 text; 43 characters whatever the size", () => {
    const big = new Uint8Array(65_536).fill(7);
    const expected = createHash("sha256").update(big).digest("base64url");
    expect(c.messageId(b64encode(big))).toBe(expected);
    expect(c.messageId(b64encode(big))).toHaveLength(43);
  });
});
