// PROTOCOL-v3 §V9: chunked file blobs (after age's STREAM), encrypted and decrypted as streams:
// at most one chunk (plus one segment of look-ahead) is held in memory.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { utf8 } from "../encoding.ts";
import { V3Error } from "./errors.ts";

export const FILE_CHUNK = 65536;
export const FILE_SEGMENT = FILE_CHUNK + 16;
export const LABEL_FILE = "phantom-file-v3";
const AAD = utf8.encode(LABEL_FILE);

/** nonce_i = u88(i) big-endian ‖ last. */
export function fileNonce(i: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  let v = BigInt(i);
  for (let k = 10; k >= 0; k--) {
    n[k] = Number(v & 0xffn);
    v >>= 8n;
  }
  n[11] = last ? 1 : 0;
  return n;
}

/** The blob length of a file of `size` bytes: size + 16 · max(1, ⌈size / 65,536⌉). */
export function fileBlobLength(size: number): number {
  return size + 16 * Math.max(1, Math.ceil(size / FILE_CHUNK));
}

type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Re-cuts a byte stream into pieces of exactly `size` bytes (the last may be shorter or empty-less). */
async function* recut(source: Source, size: number): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(size);
  let fill = 0;
  for await (const part of source) {
    let off = 0;
    while (off < part.length) {
      const take = Math.min(size - fill, part.length - off);
      buf.set(part.subarray(off, off + take), fill);
      fill += take;
      off += take;
      if (fill === size) {
        yield buf;
        buf = new Uint8Array(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.slice(0, fill);
}

/** Encrypts a plaintext stream into the §V9 blob, chunk by chunk. An empty input gives one 16-byte chunk. */
export async function* encryptFileStream(key: Uint8Array, source: Source): AsyncGenerator<Uint8Array> {
  let i = 0;
  let held: Uint8Array | null = null;
  for await (const chunk of recut(source, FILE_CHUNK)) {
    if (held) yield chacha20poly1305(key, fileNonce(i++, false), AAD).encrypt(held);
    held = chunk;
  }
  yield chacha20poly1305(key, fileNonce(i, true), AAD).encrypt(held ?? new Uint8Array(0));
}

function open(key: Uint8Array, i: number, last: boolean, seg: Uint8Array): Uint8Array | null {
  if (seg.length < 16) return null;
  try {
    return chacha20poly1305(key, fileNonce(i, last), AAD).decrypt(seg);
  } catch {
    return null;
  }
}

/**
 * Decrypts a §V9 blob stream, yielding plaintext chunk by chunk. A refusal (file-truncated,
 * file-trailing, file-chunk-auth) is thrown after earlier chunks were yielded: write them to a
 * temporary file and keep it only when the stream ends without error. `size`, when given, is the
 * announced size of the inner file message, and the blob length must match it (§V9).
 */
export async function* decryptFileStream(key: Uint8Array, source: Source, size?: number): AsyncGenerator<Uint8Array> {
  let i = 0;
  let held: Uint8Array | null = null;
  let total = 0;
  for await (const seg of recut(source, FILE_SEGMENT)) {
    if (held) {
      const pt = open(key, i, false, held);
      if (!pt) {
        if (open(key, i, true, held)) throw new V3Error("file-trailing", `data after final chunk ${i}`);
        throw new V3Error("file-chunk-auth", `chunk ${i}`);
      }
      total += held.length;
      i++;
      yield pt;
    }
    held = seg;
  }
  if (!held) throw new V3Error("file-truncated", "no final chunk");
  const pt = open(key, i, true, held);
  if (!pt) {
    if (open(key, i, false, held)) throw new V3Error("file-truncated", `blob ends after non-final chunk ${i}`);
    throw new V3Error("file-chunk-auth", `chunk ${i}`);
  }
  if (i > 0 && pt.length === 0) throw new V3Error("file-chunk-auth", `empty final chunk ${i} after a full one`);
  total += held.length;
  if (size !== undefined && total !== fileBlobLength(size)) {
    throw new V3Error(
      total < fileBlobLength(size) ? "file-truncated" : "file-trailing",
      `blob of ${total} bytes for size ${size}`,
    );
  }
  yield pt;
}
