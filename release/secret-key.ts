// minisign secret keys, for signing releases at build time (never part of the binaries).
// Written from minisign's file format (minisign 0.11), not from its code:
//   "untrusted comment: …\n" + base64 of 158 bytes:
//   sig_alg "Ed" (2) ‖ kdf_alg (2: "Sc" scrypt, or 0 0 unencrypted as `minisign -G -W`) ‖ chk_alg "B2" (2) ‖
//   kdf_salt (32) ‖ opslimit (8, LE) ‖ memlimit (8, LE) ‖ [key id (8) ‖ secret key (64) ‖ checksum (32)]
// The bracketed 104 bytes are XORed with scrypt(password, salt) when kdf_alg is "Sc"; scrypt is
// libsodium's crypto_pwhash_scryptsalsa208sha256, whose N, r, p come from opslimit and memlimit
// (scryptParams below). The checksum is BLAKE2b-256(sig_alg ‖ key id ‖ secret key): a wrong
// password shows as a bad checksum. The secret key is libsodium's: Ed25519 seed (32) ‖ public key (32).
import * as nc from "node:crypto";
import { blake2b } from "@noble/hashes/blake2.js";
import { ed25519Public, equalBytes, randomBytes } from "../lib/crypto.ts";
import { b64decode, b64encode, concatBytes } from "../lib/encoding.ts";
import { keyIdHex, MinisignError, type PublicKey } from "../lib/minisign.ts";

const SK_LEN = 158;
const KEYNUM_OFFSET = 54; // 2 + 2 + 2 + 32 + 8 + 8
const KEYNUM_LEN = 104; // key id 8 + secret key 64 + checksum 32
const SALT_OFFSET = 6;
const SALT_LEN = 32;
const KDF_SCRYPT = "Sc";
const KDF_NONE = "\0\0";
/** libsodium's crypto_pwhash_scryptsalsa208sha256 *_SENSITIVE limits, what `minisign -G` uses. */
export const SENSITIVE: ScryptLimits = { opslimit: 33554432n, memlimit: 1073741824n };

export interface ScryptLimits {
  opslimit: bigint;
  memlimit: bigint;
}

export interface SecretKey {
  keyId: Uint8Array;
  /** Ed25519 seed (32 bytes). */
  seed: Uint8Array;
  /** Ed25519 public key (32 bytes). */
  publicKey: Uint8Array;
}

/** Whether a secret key file is encrypted (needs a password). */
export function isEncrypted(text: string): boolean {
  return kdfOf(decodeSecretKey(text)) === KDF_SCRYPT;
}

function decodeSecretKey(text: string): Uint8Array {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const line = lines[0]?.startsWith("untrusted comment: ") ? lines[1] : lines[0];
  let bytes: Uint8Array;
  try {
    bytes = b64decode((line ?? "").trim(), "minisign secret key");
  } catch {
    throw new MinisignError("bad-secret-key", "minisign secret key: not base64");
  }
  if (bytes.length !== SK_LEN)
    throw new MinisignError("bad-secret-key", `minisign secret key: ${bytes.length} bytes, not ${SK_LEN}`);
  const alg = String.fromCharCode(bytes[0]!, bytes[1]!);
  const chk = String.fromCharCode(bytes[4]!, bytes[5]!);
  if (alg !== "Ed" || chk !== "B2")
    throw new MinisignError("bad-secret-key", "minisign secret key: not an Ed25519 key with a BLAKE2b checksum");
  const kdf = kdfOf(bytes);
  if (kdf !== KDF_SCRYPT && kdf !== KDF_NONE)
    throw new MinisignError("bad-secret-key", "minisign secret key: unknown key derivation");
  return bytes;
}

const kdfOf = (bytes: Uint8Array) => String.fromCharCode(bytes[2]!, bytes[3]!);

/**
 * libsodium's parameter picking for crypto_pwhash_scryptsalsa208sha256 (pickparams): r = 8; when
 * the time limit is the tighter one, p = 1 and N the largest power of two ≤ opslimit / (4r) / 2… ;
 * otherwise N from memlimit / (128 r) and p from what opslimit leaves.
 */
export function scryptParams(opslimit: bigint, memlimit: bigint): { N: number; r: number; p: number } {
  const ops = opslimit < 32768n ? 32768n : opslimit;
  const r = 8n;
  const logN = (maxN: bigint) => {
    let n = 1n;
    while (n < 63n && 1n << n <= maxN / 2n) n++;
    return n;
  };
  if (ops < memlimit / 32n) {
    const n = logN(ops / (r * 4n));
    return { N: Number(1n << n), r: Number(r), p: 1 };
  }
  const n = logN(memlimit / (r * 128n));
  let maxrp = ops / 4n / (1n << n);
  if (maxrp > 0x3fffffffn) maxrp = 0x3fffffffn;
  return { N: Number(1n << n), r: Number(r), p: Number(maxrp / r) };
}

function kdfStream(password: string, salt: Uint8Array, opslimit: bigint, memlimit: bigint): Uint8Array {
  const { N, r, p } = scryptParams(opslimit, memlimit);
  const out = nc.scryptSync(password.normalize("NFC"), salt, KEYNUM_LEN, {
    N,
    r,
    p,
    maxmem: 128 * N * r + 128 * r * p + 64 * 1024 * 1024,
  });
  return new Uint8Array(out);
}

function checksum(keyId: Uint8Array, sk: Uint8Array): Uint8Array {
  return blake2b(concatBytes(new TextEncoder().encode("Ed"), keyId, sk), { dkLen: 32 });
}

function xorInto(target: Uint8Array, stream: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i]! ^= stream[i]!;
}

/**
 * Parses a secret key file; an encrypted one needs its password. Throws MinisignError (one line)
 * on a bad file and "wrong password" when the checksum does not match.
 */
export function parseSecretKey(text: string, password?: string): SecretKey {
  const bytes = decodeSecretKey(text);
  const keynum = bytes.slice(KEYNUM_OFFSET, KEYNUM_OFFSET + KEYNUM_LEN);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const encrypted = kdfOf(bytes) === KDF_SCRYPT;
  if (encrypted) {
    if (password === undefined)
      throw new MinisignError("password-needed", "the release key is encrypted: a password is needed");
    const salt = bytes.subarray(SALT_OFFSET, SALT_OFFSET + SALT_LEN);
    const stream = kdfStream(password, salt, view.getBigUint64(38, true), view.getBigUint64(46, true));
    xorInto(keynum, stream);
    stream.fill(0);
  }
  const keyId = keynum.slice(0, 8);
  const sk = keynum.subarray(8, 72);
  const chk = keynum.subarray(72, 104);
  // `minisign -G -W` leaves the checksum of an unencrypted key zero.
  const check = encrypted || chk.some((b) => b !== 0);
  if (check && !equalBytes(checksum(keyId, sk), chk)) {
    keynum.fill(0);
    throw new MinisignError(
      encrypted ? "wrong-password" : "bad-secret-key",
      encrypted ? "wrong password for the release key" : "minisign secret key: bad checksum",
    );
  }
  const seed = sk.slice(0, 32);
  const publicKey = sk.slice(32, 64);
  keynum.fill(0);
  if (!equalBytes(ed25519Public(seed), publicKey)) {
    seed.fill(0);
    throw new MinisignError("bad-secret-key", "minisign secret key: public half does not match the secret half");
  }
  return { keyId, seed, publicKey };
}

/** Refuses a secret key whose public key is not `pub` (the one compiled into the binaries). */
export function checkKeyMatches(sk: SecretKey, pub: PublicKey): void {
  if (!equalBytes(sk.keyId, pub.keyId) || !equalBytes(sk.publicKey, pub.key)) {
    throw new MinisignError(
      "wrong-key",
      `the release key ${keyIdHex(sk.keyId)} is not the public key compiled in (${keyIdHex(pub.keyId)})`,
    );
  }
}

export interface KeyPairFiles {
  keyId: Uint8Array;
  publicKey: Uint8Array;
  /** The .key file's text. */
  secretText: string;
  /** The .pub file's text. */
  publicText: string;
}

/**
 * A new key pair as minisign writes it: encrypted with `password` (scrypt at `limits`, default
 * minisign's), or unencrypted as `minisign -G -W` when password is undefined.
 */
export function generateKeyPair(password?: string, limits = SENSITIVE): KeyPairFiles {
  const seed = randomBytes(32);
  const publicKey = ed25519Public(seed);
  const keyId = randomBytes(8);
  const sk = concatBytes(seed, publicKey);
  const bytes = new Uint8Array(SK_LEN);
  const enc = new TextEncoder();
  bytes.set(enc.encode("Ed"), 0);
  bytes.set(enc.encode("B2"), 4);
  const view = new DataView(bytes.buffer);
  const keynum = concatBytes(keyId, sk, password === undefined ? new Uint8Array(32) : checksum(keyId, sk));
  if (password !== undefined) {
    bytes.set(enc.encode(KDF_SCRYPT), 2);
    const salt = randomBytes(SALT_LEN);
    bytes.set(salt, SALT_OFFSET);
    view.setBigUint64(38, limits.opslimit, true);
    view.setBigUint64(46, limits.memlimit, true);
    const stream = kdfStream(password, salt, limits.opslimit, limits.memlimit);
    xorInto(keynum, stream);
    stream.fill(0);
  }
  bytes.set(keynum, KEYNUM_OFFSET);
  const secretText = `untrusted comment: minisign encrypted secret key\n${b64encode(bytes)}\n`;
  bytes.fill(0);
  sk.fill(0);
  seed.fill(0);
  const pubLine = b64encode(concatBytes(enc.encode("Ed"), keyId, publicKey));
  const publicText = `untrusted comment: minisign public key ${keyIdHex(keyId)}\n${pubLine}\n`;
  return { keyId, publicKey, secretText, publicText };
}
