// Every cryptographic operation of PROTOCOL §2–§7.7, nothing else.
// Native node:crypto (Bun) for X25519, Ed25519, HKDF, SHA-2/3, HMAC and scrypt;
// @noble/ciphers for ChaCha20-Poly1305, which Bun's node:crypto lacks; @noble/curves
// only to refuse small-order Ed25519 keys.

import * as nc from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CryptoError } from "./errors.ts";
import {
  b64decode,
  b64encode,
  b64udecode,
  b64uencode,
  base32encode,
  concatBytes,
  hexencode,
  utf8,
} from "./encoding.ts";
import { VaultFile, VaultPlaintext, check, parseJson } from "./wire.ts";

// Domain-separation labels (STYLE habit 2): defined once, here.
export const UID_LABEL = "phantom-uid-v2"; // PROTOCOL §2
export const VAULT_AAD = "phantom-v2"; // PROTOCOL §3
export const ROOM_ID_LABEL = "phantom-room-id-v3"; // PROTOCOL §4.1
export const SESSION_LABEL = "phantom-session-v2"; // PROTOCOL §4.2
export const MESSAGE_AAD = "phantom-msg-v2"; // PROTOCOL §5.1
export const FILE_AAD = "phantom-file-v1"; // PROTOCOL §5.3
export const RELAY_AUTH_LABEL = "phantom-relay-auth-v1"; // PROTOCOL §7.7
export const BURN_LIST_AAD = "phantom-burn-list-v1"; // the sealed burn list of an unfinished panic (local only)

export const KEY_LEN = 32;
export const NONCE_LEN = 12;
export const TAG_LEN = 16;
export const SIG_LEN = 64;
export const UID_BYTES = 21; // PROTOCOL §2: 28 b64u characters
export const MESSAGE_VERSION = 0x01; // PROTOCOL §5.1
export const VAULT_SALT_LEN = 32; // PROTOCOL §3
// PROTOCOL §3: scrypt N = 2^17, r = 8, p = 1 (128 MiB of memory).
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1, dkLen: 32, maxmem: 256 * 1024 * 1024 } as const;

export interface Identity {
  encPriv: Uint8Array;
  encPub: Uint8Array;
  signSeed: Uint8Array;
  signPub: Uint8Array;
}

export function expectBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoError("bad-type", `${what}: expected bytes`);
  if (value.length !== length) {
    throw new CryptoError("bad-length", `${what}: expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

export function randomBytes(n: number): Uint8Array {
  return new Uint8Array(nc.randomBytes(n));
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(nc.createHash("sha256").update(data).digest());
}

/**
 * The identity of a stored message: b64u(SHA-256(the bytes of its base64 ciphertext)),
 * the key of every de-duplication layer (the same id names a row of history in
 * protocol v3). Two rows have the same id exactly when they carry the same ciphertext,
 * whatever ts the relay stamped: a nonce is random per message (§5.1), so that is one
 * message stored or delivered twice. Any base64 the wire schema accepts decodes; stray
 * trailing bits are ignored, as the bytes are the same.
 */
export function messageId(ciphertextB64: string): string {
  return b64uencode(sha256(Buffer.from(ciphertextB64, "base64")));
}

function hkdf(ikm: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  // PROTOCOL §4: salt = none is RFC 5869's default (HashLen zero bytes); an empty
  // HMAC key is padded with zeros, so both spellings give the same PRK.
  return new Uint8Array(nc.hkdfSync("sha256", ikm, new Uint8Array(0), info, length));
}

// DER wrappers so raw 32-byte keys become native KeyObjects (RFC 8410).
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

function privateKey(prefix: Buffer, raw: Uint8Array): nc.KeyObject {
  return nc.createPrivateKey({ key: Buffer.concat([prefix, raw]), format: "der", type: "pkcs8" });
}

function publicKey(prefix: Buffer, raw: Uint8Array, what: string): nc.KeyObject {
  try {
    return nc.createPublicKey({ key: Buffer.concat([prefix, raw]), format: "der", type: "spki" });
  } catch (cause) {
    throw new CryptoError("bad-key", `${what}: not a valid public key`, { cause });
  }
}

function rawPublic(key: nc.KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** X25519 public key of a 32-byte private key. */
export function x25519Public(encPriv: Uint8Array): Uint8Array {
  expectBytes(encPriv, KEY_LEN, "X25519 private key");
  return rawPublic(nc.createPublicKey(privateKey(PKCS8_X25519, encPriv)));
}

/** Ed25519 public key of a 32-byte seed. */
export function ed25519Public(signSeed: Uint8Array): Uint8Array {
  expectBytes(signSeed, KEY_LEN, "Ed25519 seed");
  return rawPublic(nc.createPublicKey(privateKey(PKCS8_ED25519, signSeed)));
}

/** PROTOCOL §2: a fresh identity. */
export function generateIdentity(): Identity {
  const encPriv = randomBytes(KEY_LEN);
  const signSeed = randomBytes(KEY_LEN);
  return { encPriv, encPub: x25519Public(encPriv), signSeed, signPub: ed25519Public(signSeed) };
}

/** PROTOCOL §2: UID = b64u(SHA3-256("phantom-uid-v2" ‖ enc_pub)[0..21]). */
export function uidOf(encPub: Uint8Array): string {
  expectBytes(encPub, KEY_LEN, "X25519 public key");
  const digest = nc.createHash("sha3-256").update(UID_LABEL).update(encPub).digest();
  return b64uencode(new Uint8Array(digest.subarray(0, UID_BYTES)));
}

/** PROTOCOL §2: base32(SHA-256(enc_pub)) in 13 groups of 4. */
export function fingerprintOf(encPub: Uint8Array): string {
  expectBytes(encPub, KEY_LEN, "X25519 public key");
  return base32encode(sha256(encPub)).match(/.{4}/g)!.join(" ");
}

/** PROTOCOL §4: shared = X25519(a, B). Rejects low-order peer keys (all-zero output). */
export function sharedSecret(encPriv: Uint8Array, peerPub: Uint8Array): Uint8Array {
  expectBytes(encPriv, KEY_LEN, "X25519 private key");
  expectBytes(peerPub, KEY_LEN, "X25519 public key");
  let out: Uint8Array;
  try {
    out = new Uint8Array(
      nc.diffieHellman({
        privateKey: privateKey(PKCS8_X25519, encPriv),
        publicKey: publicKey(SPKI_X25519, peerPub, "X25519 public key"),
      }),
    );
  } catch (cause) {
    throw new CryptoError("bad-key", "X25519: key agreement failed", { cause });
  }
  if (out.every((b) => b === 0)) throw new CryptoError("bad-key", "X25519: low-order public key");
  return out;
}

/**
 * A public key someone could actually hold: canonical (top bit clear, below
 * 2^255 − 19) and not of low order. The relay refuses other keys at §7.2 so that
 * nobody registers a UID that no pair could ever talk to.
 */
export function checkX25519Public(pub: Uint8Array): void {
  expectBytes(pub, KEY_LEN, "X25519 public key");
  const top = pub[31]!;
  const tooBig = top === 0x7f && pub.subarray(1, 31).every((b) => b === 0xff) && pub[0]! >= 0xed;
  if (top & 0x80 || tooBig) throw new CryptoError("bad-key", "X25519 public key: not a canonical encoding");
  // Any scalar works: X25519 clamps it to a multiple of the cofactor, so a low-order point gives zero.
  sharedSecret(PROBE_SCALAR, pub).fill(0);
}
const PROBE_SCALAR = new Uint8Array(KEY_LEN).fill(0x42);

/** PROTOCOL §4.1 room id. */
export function roomIdOf(shared: Uint8Array): string {
  expectBytes(shared, KEY_LEN, "shared secret");
  return b64uencode(hkdf(shared, ROOM_ID_LABEL, 16));
}

/** PROTOCOL §4.2 session key; uids sorted by code point. */
export function sessionKeyOf(shared: Uint8Array, uidMe: string, uidPeer: string): Uint8Array {
  expectBytes(shared, KEY_LEN, "shared secret");
  const sorted = [uidMe, uidPeer].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return hkdf(shared, SESSION_LABEL + sorted.join("|"), KEY_LEN);
}

export interface PairKeys {
  roomId: string;
  sessionKey: Uint8Array;
}

/** PROTOCOL §4: everything a pair derives from my private key and the peer's public key. */
export function pairKeys(me: Identity, peerPub: Uint8Array): PairKeys {
  const shared = sharedSecret(me.encPriv, peerPub);
  const keys = { roomId: roomIdOf(shared), sessionKey: sessionKeyOf(shared, uidOf(me.encPub), uidOf(peerPub)) };
  shared.fill(0);
  return keys;
}

function aead(key: Uint8Array, nonce: Uint8Array, aad: string) {
  expectBytes(key, KEY_LEN, "ChaCha20-Poly1305 key");
  expectBytes(nonce, NONCE_LEN, "ChaCha20-Poly1305 nonce");
  return chacha20poly1305(key, nonce, utf8.encode(aad));
}

function open(key: Uint8Array, nonce: Uint8Array, aad: string, sealed: Uint8Array, code: string, message: string) {
  const cipher = aead(key, nonce, aad); // a bad key or nonce length is bad-length, not a failed tag
  if (sealed.length < TAG_LEN) throw new CryptoError("truncated", `${message}: input shorter than the tag`);
  try {
    return cipher.decrypt(sealed);
  } catch (cause) {
    throw new CryptoError(code, message, { cause });
  }
}

/** PROTOCOL §5.1: b64(0x01 ‖ nonce ‖ AEAD(session_key, nonce, plaintext, "phantom-msg-v2")). */
export function encryptMessage(sessionKey: Uint8Array, plaintext: string, nonce = randomBytes(NONCE_LEN)): string {
  const sealed = aead(sessionKey, nonce, MESSAGE_AAD).encrypt(utf8.encode(plaintext));
  return b64encode(concatBytes(Uint8Array.of(MESSAGE_VERSION), nonce, sealed));
}

/** PROTOCOL §5.1 inverse. Typed errors: bad-encoding, truncated, bad-version, decrypt-failed. */
export function decryptMessage(sessionKey: Uint8Array, ciphertext: string): string {
  expectBytes(sessionKey, KEY_LEN, "session key");
  const raw = b64decode(ciphertext, "ciphertext");
  if (raw.length < 1 + NONCE_LEN + TAG_LEN) throw new CryptoError("truncated", "ciphertext: too short");
  if (raw[0] !== MESSAGE_VERSION) throw new CryptoError("bad-version", "unknown protocol version");
  const pt = open(
    sessionKey,
    raw.subarray(1, 1 + NONCE_LEN),
    MESSAGE_AAD,
    raw.subarray(1 + NONCE_LEN),
    "decrypt-failed",
    "decryption failed",
  );
  return utf8.decode(pt, "message plaintext");
}

/** PROTOCOL §5.3 file blob. */
export function encryptFile(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Uint8Array {
  return aead(key, nonce, FILE_AAD).encrypt(data);
}

export function decryptFile(key: Uint8Array, nonce: Uint8Array, blob: Uint8Array): Uint8Array {
  return open(key, nonce, FILE_AAD, blob, "decrypt-failed", "file decryption failed");
}

/** PROTOCOL §3: scrypt(password, salt, N=2^17, r=8, p=1) → 32-byte vault key. */
export async function vaultKey(password: string, salt: Uint8Array): Promise<Uint8Array> {
  expectBytes(salt, VAULT_SALT_LEN, "vault salt");
  const { N, r, p, dkLen, maxmem } = SCRYPT;
  return await new Promise((resolve, reject) =>
    nc.scrypt(utf8.encode(password), salt, dkLen, { N, r, p, maxmem }, (err, key) =>
      err ? reject(new CryptoError("scrypt", "scrypt failed", { cause: err })) : resolve(new Uint8Array(key)),
    ),
  );
}

/** PROTOCOL §3 AEAD with the vault key. */
export function sealWithVaultKey(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return aead(key, nonce, VAULT_AAD).encrypt(plaintext);
}

/** PROTOCOL §3: a failed tag with the vault key is a wrong password. */
export function openWithVaultKey(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  return open(key, nonce, VAULT_AAD, sealed, "wrong-password", "wrong password");
}

/**
 * The burn list of an unfinished panic, sealed like the vault (§3: a scrypt key from the
 * password, ChaCha20-Poly1305) under its own label, so neither file opens as the other.
 */
export function sealBurnList(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return aead(key, nonce, BURN_LIST_AAD).encrypt(plaintext);
}

/** A failed tag is a wrong password, as for the vault. */
export function openBurnList(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  return open(key, nonce, BURN_LIST_AAD, sealed, "wrong-password", "wrong password");
}

/** PROTOCOL §3: seal an identity under a password. Salt and nonce are fresh unless given (tests). */
export async function sealVault(
  id: Identity,
  password: string,
  salt = randomBytes(VAULT_SALT_LEN),
  nonce = randomBytes(NONCE_LEN),
): Promise<VaultFile> {
  const { vault, key } = await sealVaultKeyed(id, password, salt, nonce);
  key.fill(0);
  return vault;
}

/**
 * sealVault that also returns the scrypt output (the vault key), which PROTOCOL-v3 §V8 derives
 * the state key of state.db from. The caller zeroes `key` when done with it.
 */
export async function sealVaultKeyed(
  id: Identity,
  password: string,
  salt = randomBytes(VAULT_SALT_LEN),
  nonce = randomBytes(NONCE_LEN),
): Promise<{ vault: VaultFile; key: Uint8Array }> {
  const plaintext = JSON.stringify({
    priv: b64encode(id.encPriv),
    pub: b64encode(id.encPub),
    sign_priv: b64uencode(id.signSeed),
    sign_pub: b64uencode(id.signPub),
  });
  const key = await vaultKey(password, salt);
  const ct = sealWithVaultKey(key, nonce, utf8.encode(plaintext));
  return { vault: { salt: b64encode(salt), nonce: b64encode(nonce), ct: b64encode(ct) }, key };
}

/**
 * PROTOCOL §3: open an identity vault (already-parsed JSON). Wrong password →
 * CryptoError("wrong-password"); keys that do not belong together → "bad-vault".
 */
export async function openVault(file: unknown, password: string): Promise<Identity> {
  const { id, key } = await openVaultKeyed(file, password);
  key.fill(0);
  return id;
}

/**
 * openVault that also returns the scrypt output (the vault key), which PROTOCOL-v3 §V8 derives
 * the state key of state.db from. The caller zeroes `key` when done with it.
 */
export async function openVaultKeyed(file: unknown, password: string): Promise<{ id: Identity; key: Uint8Array }> {
  const vault = check(VaultFile, file, "identity vault");
  const key = await vaultKey(password, b64decode(vault.salt));
  let pt: Uint8Array;
  try {
    pt = openWithVaultKey(key, b64decode(vault.nonce), b64decode(vault.ct));
  } catch (e) {
    key.fill(0);
    throw e;
  }
  try {
    return { id: identityOfVault(pt), key };
  } catch (e) {
    key.fill(0);
    throw e;
  }
}

function identityOfVault(pt: Uint8Array): Identity {
  const inner = parseJson(VaultPlaintext, utf8.decode(pt, "identity vault"), "identity vault contents");
  pt.fill(0);
  const id: Identity = {
    encPriv: b64decode(inner.priv),
    encPub: b64decode(inner.pub),
    signSeed: b64udecode(inner.sign_priv),
    signPub: b64udecode(inner.sign_pub),
  };
  if (!equalBytes(x25519Public(id.encPriv), id.encPub) || !equalBytes(ed25519Public(id.signSeed), id.signPub)) {
    throw new CryptoError("bad-vault", "identity vault: public keys do not match private keys");
  }
  return id;
}

/** PROTOCOL §6: Ed25519 signature of the canonical request string, raw 64 bytes. */
export function sign(signSeed: Uint8Array, message: Uint8Array | string): Uint8Array {
  expectBytes(signSeed, KEY_LEN, "Ed25519 seed");
  return new Uint8Array(
    nc.sign(null, typeof message === "string" ? utf8.encode(message) : message, privateKey(PKCS8_ED25519, signSeed)),
  );
}

/**
 * A native Ed25519 verification key; the relay caches these per UID. Refuses
 * encodings that are not a canonical point, and the small-order points: native
 * verification accepts a forged signature (R = identity, S = 0) under those.
 */
export function ed25519VerifyKey(signPub: Uint8Array): nc.KeyObject {
  expectBytes(signPub, KEY_LEN, "Ed25519 public key");
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(signPub).isSmallOrder();
  } catch (cause) {
    throw new CryptoError("bad-key", "Ed25519 public key: not a valid point", { cause });
  }
  if (smallOrder) throw new CryptoError("bad-key", "Ed25519 public key: small-order point");
  return publicKey(SPKI_ED25519, signPub, "Ed25519 public key");
}

/** PROTOCOL §6 verification; false (never a throw) for any bad signature. */
export function verify(
  signPub: Uint8Array | nc.KeyObject,
  message: Uint8Array | string,
  signature: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIG_LEN) return false;
  const key = signPub instanceof Uint8Array ? ed25519VerifyKey(signPub) : signPub;
  try {
    return nc.verify(null, typeof message === "string" ? utf8.encode(message) : message, key, signature);
  } catch {
    return false;
  }
}

/** PROTOCOL §7.7: k = SHA-256("phantom-relay-auth-v1" ‖ X25519(priv, pub) ‖ uid). */
export function burnAuthKey(ourPriv: Uint8Array, theirPub: Uint8Array, uid: string): Uint8Array {
  const shared = sharedSecret(ourPriv, theirPub);
  const k = sha256(concatBytes(utf8.encode(RELAY_AUTH_LABEL), shared, utf8.encode(uid)));
  shared.fill(0);
  return k;
}

/** PROTOCOL §7.7: hex(HMAC-SHA256(k, "burn:" uid ":" room_id ":" ts ":" nonce)). */
export function burnSignature(k: Uint8Array, uid: string, roomId: string, ts: string, nonce: string): string {
  expectBytes(k, KEY_LEN, "burn auth key");
  return hexencode(new Uint8Array(nc.createHmac("sha256", k).update(`burn:${uid}:${roomId}:${ts}:${nonce}`).digest()));
}

/** Constant-time comparison of two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && nc.timingSafeEqual(a, b);
}
