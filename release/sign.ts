// minisign signatures as `minisign -S` writes them (prehashed, "ED"), for the release files:
//   untrusted comment: <text>
//   base64("ED" ‖ key id (8) ‖ Ed25519(BLAKE2b-512(file)))
//   trusted comment: <text>
//   base64(Ed25519(signature ‖ trusted comment))
// lib/minisign.ts verifies the same format inside the binaries.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { sign } from "../lib/crypto.ts";
import { b64encode, concatBytes } from "../lib/encoding.ts";
import { MinisignError } from "../lib/minisign.ts";
import type { SecretKey } from "./secret-key.ts";

const UNTRUSTED = "signature from minisign secret key";

/** The .minisig text of a file whose BLAKE2b-512 is `digest`. */
export function signDigest(key: SecretKey, digest: Uint8Array, trustedComment: string): string {
  if (/[\r\n]/.test(trustedComment)) throw new MinisignError("bad-comment", "trusted comment: must be one line");
  const signature = sign(key.seed, digest);
  const global = sign(key.seed, concatBytes(signature, new TextEncoder().encode(trustedComment)));
  const sigLine = b64encode(concatBytes(new TextEncoder().encode("ED"), key.keyId, signature));
  return `untrusted comment: ${UNTRUSTED}\n${sigLine}\ntrusted comment: ${trustedComment}\n${b64encode(global)}\n`;
}

// BLAKE2b-512 here is node:crypto's (native, ~16 times @noble/hashes' speed on 100 MB archives);
// lib/minisign.ts checks with @noble/hashes, and the tests with the real minisign.
const blake2b512 = () => createHash("blake2b512");

/** signDigest over bytes in memory. */
export function signBytes(key: SecretKey, data: Uint8Array, trustedComment: string): string {
  return signDigest(key, new Uint8Array(blake2b512().update(data).digest()), trustedComment);
}

/** signDigest over a file, streamed. */
export async function signFile(key: SecretKey, path: string, trustedComment: string): Promise<string> {
  const h = blake2b512();
  for await (const chunk of createReadStream(path)) h.update(chunk as Uint8Array);
  return signDigest(key, new Uint8Array(h.digest()), trustedComment);
}
