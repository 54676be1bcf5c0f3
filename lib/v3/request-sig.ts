// PROTOCOL-v3 §V11: relay-bound request signatures. The canonical string names the relay's origin,
// so a signed request cannot be replayed to another relay. Used by the client (signing) and the
// relay (verifying against each of its public origins).
import type { KeyObject } from "node:crypto";
import { sign, verify } from "../crypto.ts";
import { WireError } from "../errors.ts";
import { canonicalRequest } from "../wire.ts";

/** PROTOCOL-v3 §V11: the header that selects the v3 canonical string, and its one accepted value. */
export const H_SIGV = "x-phantom-sigv";
export const SIGV_V3 = "3";
export const REQUEST_SIG_LABEL = "phantom-sig-v3";

/**
 * PROTOCOL-v3 §V11: a base URL → its origin: scheme, host in lower case (IDN in its `xn--` form,
 * IPv6 in brackets), the port only when not the scheme's default; any path, query or fragment is
 * dropped. Only http and https; credentials in the URL are refused. Throws WireError.
 */
export function normaliseOrigin(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WireError("origin", `'${url}' is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new WireError("origin", `'${url}' is not an http or https URL`);
  }
  if (u.username !== "" || u.password !== "") throw new WireError("origin", "a relay URL must not carry credentials");
  if (u.hostname === "") throw new WireError("origin", `'${url}' has no host`);
  // WHATWG URL parsing already lower-cases, applies IDNA (xn--), brackets IPv6 and drops a default port.
  return `${u.protocol}//${u.host}`;
}

/** PROTOCOL-v3 §V11: "phantom-sig-v3" \n origin \n <the PROTOCOL §6 canonical string>. */
export function canonicalRequestV3(
  origin: string,
  method: string,
  path: string,
  uid: string,
  ts: string,
  nonce: string,
  bodySha256: Uint8Array,
): string {
  return `${REQUEST_SIG_LABEL}\n${origin}\n${canonicalRequest(method, path, uid, ts, nonce, bodySha256)}`;
}

/** The 64-byte Ed25519 signature of the §V11 canonical string (`origin` already normalised). */
export function signRequestV3(
  signSeed: Uint8Array,
  origin: string,
  method: string,
  path: string,
  uid: string,
  ts: string,
  nonce: string,
  bodySha256: Uint8Array,
): Uint8Array {
  return sign(signSeed, canonicalRequestV3(origin, method, path, uid, ts, nonce, bodySha256));
}

/**
 * PROTOCOL-v3 §V11, relay side: the first of `origins` under which `sig` verifies, or null.
 * `origins` must be normalised (normaliseOrigin); the relay tries each.
 */
export function verifyRequestV3(
  signPub: KeyObject | Uint8Array,
  origins: readonly string[],
  method: string,
  path: string,
  uid: string,
  ts: string,
  nonce: string,
  bodySha256: Uint8Array,
  sig: Uint8Array,
): string | null {
  for (const origin of origins) {
    if (verify(signPub, canonicalRequestV3(origin, method, path, uid, ts, nonce, bodySha256), sig)) return origin;
  }
  return null;
}
