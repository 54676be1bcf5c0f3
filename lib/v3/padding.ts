// PROTOCOL-v3 §V6: padded = u32(L) ‖ inner ‖ zero bytes, to the smallest bucket that holds 4 + L.
import { V3Error } from "./errors.ts";

export const BUCKETS = [256, 1024, 4096, 16384, 61440] as const;
export const MAX_INNER = 61436;

/** The bucket for an inner message of `len` bytes, or null when it cannot be sent. */
export function bucketFor(len: number): number | null {
  return BUCKETS.find((b) => b >= 4 + len) ?? null;
}

/** Sender side; V3Error too-long over 61,436 bytes. */
export function pad(inner: Uint8Array): Uint8Array {
  const size = bucketFor(inner.length);
  if (size === null) throw new V3Error("too-long", `inner message of ${inner.length} bytes (at most ${MAX_INNER})`);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, inner.length, false);
  out.set(inner, 4);
  return out;
}

/** Receiver side: bad-length unless the size is exactly the bucket for L; nonzero-padding for a nonzero pad byte. */
export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < 4) throw new V3Error("bad-length", `padded=${padded.length}`);
  const len = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint32(0, false);
  if (bucketFor(len) !== padded.length) throw new V3Error("bad-length", `len=${len}, padded=${padded.length}`);
  for (let i = 4 + len; i < padded.length; i++) {
    if (padded[i] !== 0) throw new V3Error("nonzero-padding", `byte ${i} = ${padded[i]}`);
  }
  return padded.slice(4, 4 + len);
}
