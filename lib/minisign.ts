// minisign public keys and signatures, for verifying releases (`phantom update`, `phantom-relay
// update`). The format is minisign's own, so anyone checks the same files with `minisign -V`:
//   public key  "untrusted comment: …\n" + base64("Ed" ‖ key id (8) ‖ Ed25519 public key (32))
//   signature   "untrusted comment: …\n" + base64("ED" ‖ key id (8) ‖ Ed25519 signature (64)) + "\n"
//               "trusted comment: <text>\n" + base64(Ed25519 signature of (signature ‖ text))
// Only prehashed signatures ("ED": the signed message is BLAKE2b-512 of the file) are accepted; the
// legacy "Ed" form signs the whole file and is never what `build.sh release` writes.

import { createHash } from "node:crypto";
import { equalBytes, verify as ed25519Verify } from "./crypto.ts";
import { b64decode, concatBytes, utf8 } from "./encoding.ts";
import { PhantomError } from "./errors.ts";

/** A release key or signature that does not parse, or a signature that does not verify. */
export class MinisignError extends PhantomError {}

export interface PublicKey {
  /** minisign's key id: 8 bytes, shown as 16 hex digits of the little-endian number. */
  keyId: Uint8Array;
  key: Uint8Array;
}

/** A signature file is four short lines; anything longer is not one. */
const MAX_SIGNATURE_TEXT = 4096;
const UNTRUSTED = "untrusted comment: ";
const TRUSTED = "trusted comment: ";

/** The key id as minisign prints it: the little-endian number in hex, no leading zeros ("BF56063F367A640"). */
export function keyIdHex(keyId: Uint8Array): string {
  return new DataView(keyId.buffer, keyId.byteOffset, 8).getBigUint64(0, true).toString(16).toUpperCase();
}

function decodeLine(line: string | undefined, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = b64decode((line ?? "").trim(), what);
  } catch {
    throw new MinisignError("bad-minisign", `${what}: not base64`);
  }
  if (bytes.length !== length) throw new MinisignError("bad-minisign", `${what}: ${bytes.length} bytes, not ${length}`);
  return bytes;
}

/** A .pub file's text, or its one base64 line alone (as `minisign -P` takes it). */
export function parsePublicKey(text: string): PublicKey {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const line = lines.length === 1 ? lines[0] : lines[0]?.startsWith(UNTRUSTED) ? lines[1] : undefined;
  const bytes = decodeLine(line, 42, "minisign public key");
  if (bytes[0] !== 0x45 || bytes[1] !== 0x64)
    throw new MinisignError("bad-minisign", "minisign public key: not Ed25519");
  return { keyId: bytes.slice(2, 10), key: bytes.slice(10) };
}

/** The one base64 line of a public key (what `minisign -P` and install.sh take). */
export function publicKeyLine(pub: PublicKey): string {
  return Buffer.from(concatBytes(utf8.encode("Ed"), pub.keyId, pub.key)).toString("base64");
}

/**
 * An incremental BLAKE2b-512, the prehash of a file being streamed. Native (Bun's node:crypto has
 * it, though getHashes() does not list it): about 20 times @noble/hashes' speed, which made the
 * hash the slowest step of an update (2 s for a 48 MB archive). lib/minisign.test.ts checks it
 * against signatures of the real minisign.
 */
export function blake2b512(): { update(chunk: Uint8Array): void; digest(): Uint8Array } {
  const h = createHash("blake2b512");
  return { update: (chunk) => void h.update(chunk), digest: () => new Uint8Array(h.digest()) };
}

/**
 * Checks a signature file over a file whose BLAKE2b-512 is `digest`; returns the trusted comment.
 * Throws MinisignError for anything but a valid prehashed signature by `pub` with a valid trusted comment.
 */
export function verifyDigest(pub: PublicKey, sigText: string, digest: Uint8Array): string {
  if (sigText.length > MAX_SIGNATURE_TEXT) throw new MinisignError("bad-minisign", "signature file: too long");
  const lines = sigText.split(/\r?\n/);
  if (!lines[0]?.startsWith(UNTRUSTED)) throw new MinisignError("bad-minisign", "signature file: no untrusted comment");
  const sig = decodeLine(lines[1], 74, "signature");
  const alg = String.fromCharCode(sig[0]!, sig[1]!);
  if (alg !== "ED")
    throw new MinisignError("bad-minisign", `signature: algorithm '${alg}', not prehashed Ed25519 (ED)`);
  if (!equalBytes(sig.subarray(2, 10), pub.keyId)) {
    throw new MinisignError(
      "wrong-key",
      `signature made by key ${keyIdHex(sig.subarray(2, 10))}, not by the release key ${keyIdHex(pub.keyId)}`,
    );
  }
  const signature = sig.slice(10);
  if (!ed25519Verify(pub.key, digest, signature)) {
    throw new MinisignError("bad-signature", "signature does not match the file");
  }
  const trustedLine = lines[2] ?? "";
  if (!trustedLine.startsWith(TRUSTED)) throw new MinisignError("bad-minisign", "signature file: no trusted comment");
  const trusted = trustedLine.slice(TRUSTED.length);
  const global = decodeLine(lines[3], 64, "trusted comment signature");
  if (!ed25519Verify(pub.key, concatBytes(signature, utf8.encode(trusted)), global)) {
    throw new MinisignError("bad-signature", "trusted comment signature does not match");
  }
  return trusted;
}

/** verifyDigest over bytes in memory (a manifest, SHA256SUMS). */
export function verify(pub: PublicKey, sigText: string, data: Uint8Array): string {
  const h = blake2b512();
  h.update(data);
  return verifyDigest(pub, sigText, h.digest());
}
