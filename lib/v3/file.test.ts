// PROTOCOL-v3 §V9 edge cases beyond the vectors: chunk boundaries, the announced size, and an
// empty final chunk after a full one.
import { expect, test } from "bun:test";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { randomBytes } from "../crypto.ts";
import { utf8 } from "../encoding.ts";
import { V3Error } from "./errors.ts";
import { FILE_CHUNK, decryptFileStream, encryptFileStream, fileBlobLength, fileNonce } from "./file.ts";

const key = randomBytes(32);
async function all(it: AsyncIterable<Uint8Array>) {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}
async function reason(it: AsyncIterable<Uint8Array>) {
  try {
    await all(it);
    return "accepted";
  } catch (e) {
    return (e as V3Error).reason;
  }
}

test("sizes around the chunk boundary round-trip with the §V9 blob length", async () => {
  for (const size of [0, 1, FILE_CHUNK - 1, FILE_CHUNK, FILE_CHUNK + 1, 2 * FILE_CHUNK]) {
    const pt = randomBytes(size);
    const blob = await all(encryptFileStream(key, [pt]));
    expect(blob.length).toBe(fileBlobLength(size));
    expect(Buffer.from(await all(decryptFileStream(key, [blob], size))).equals(pt)).toBe(true);
    expect(await reason(decryptFileStream(key, [blob], size + 1))).toBe("file-truncated");
  }
});

test("an empty final chunk after a full one is refused; a wrong key is file-chunk-auth", async () => {
  const pt = randomBytes(FILE_CHUNK);
  const aad = utf8.encode("phantom-file-v3");
  const c0 = chacha20poly1305(key, fileNonce(0, false), aad).encrypt(pt);
  const c1 = chacha20poly1305(key, fileNonce(1, true), aad).encrypt(new Uint8Array(0));
  expect(await reason(decryptFileStream(key, [c0, c1]))).toBe("file-chunk-auth");
  const blob = await all(encryptFileStream(key, [pt]));
  expect(await reason(decryptFileStream(randomBytes(32), [blob]))).toBe("file-chunk-auth");
  expect(await reason(decryptFileStream(key, [blob.subarray(0, 15)]))).toBe("file-chunk-auth");
  expect(await reason(decryptFileStream(key, []))).toBe("file-truncated");
});
