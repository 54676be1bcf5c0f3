// PROTOCOL §1 encodings: strict b64, b64u, hex, and the base32 of §2 fingerprints.
// Decoders refuse every non-canonical form (wrong alphabet, bad or missing
// padding, stray bits) so that one value has exactly one encoding.

import { WireError } from "./errors.ts";

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64U_RE = /^[A-Za-z0-9_-]*$/;
const HEX_RE = /^(?:[0-9a-f]{2})*$/;

export function b64encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function b64uencode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

export function hexencode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function canonical(decoded: Buffer, text: string, encode: (b: Uint8Array) => string, what: string): Uint8Array {
  // Re-encoding catches non-zero trailing bits, which the regexes cannot.
  if (encode(decoded) !== text) throw new WireError("bad-encoding", `${what}: non-canonical encoding`);
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}

/** Strict standard base64 with padding (RFC 4648 §4). */
export function b64decode(text: string, what = "b64"): Uint8Array {
  if (typeof text !== "string" || !B64_RE.test(text)) {
    throw new WireError("bad-encoding", `${what}: not valid base64`);
  }
  return canonical(Buffer.from(text, "base64"), text, b64encode, what);
}

/** Strict URL-safe base64 without padding (RFC 4648 §5). */
export function b64udecode(text: string, what = "b64u"): Uint8Array {
  if (typeof text !== "string" || !B64U_RE.test(text) || text.length % 4 === 1) {
    throw new WireError("bad-encoding", `${what}: not valid unpadded base64url`);
  }
  return canonical(Buffer.from(text, "base64url"), text, b64uencode, what);
}

/** Strict lowercase hex. */
export function hexdecode(text: string, what = "hex"): Uint8Array {
  if (typeof text !== "string" || !HEX_RE.test(text)) {
    throw new WireError("bad-encoding", `${what}: not valid lowercase hex`);
  }
  const b = Buffer.from(text, "hex");
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32, upper case, no padding. */
export function base32encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  /** Fatal decoder: invalid UTF-8 is an error, not U+FFFD. */
  decode: (b: Uint8Array, what = "text"): string => {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b);
    } catch (cause) {
      throw new WireError("bad-utf8", `${what}: not valid UTF-8`, { cause });
    }
  },
};

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
