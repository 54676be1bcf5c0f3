// File encryption benchmark (not a test): `./build.sh bench files`. PROTOCOL-v3 §V9 chunked
// encryption (lib/v3/file.ts, streamed 64 KiB at a time) against the v2 §5.3 one-shot
// encryptFile/decryptFile of lib/crypto.ts, on 50 MB in memory; best of 3 runs each, MB/s.
import * as c from "../lib/crypto.ts";
import { decryptFileStream, encryptFileStream, fileBlobLength } from "../lib/v3/file.ts";
import { VERSION } from "../lib/version.ts";

const SIZE = 50_000_000;
const RUNS = 3;
const PART = 1 << 20; // the stream's input, as a reader would hand it over

function row(name: string, value: string) {
  console.log(`${name.padEnd(40)} ${value}`);
}

/** Best of RUNS; MB/s of SIZE bytes. */
async function mbPerSecond(fn: () => unknown | Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return SIZE / 1e6 / (best / 1000);
}

function* parts(data: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += PART) yield data.subarray(at, at + PART);
}

async function drain(source: AsyncIterable<Uint8Array>, keep?: Uint8Array[]): Promise<number> {
  let n = 0;
  for await (const p of source) {
    n += p.length;
    keep?.push(p);
  }
  return n;
}

console.log(
  `phantom ${VERSION} file benchmark — bun ${Bun.version}, ${process.platform}/${process.arch}, ${SIZE} bytes`,
);

const data = new Uint8Array(SIZE);
for (let at = 0; at < SIZE; at += 65536) data.set(c.randomBytes(Math.min(65536, SIZE - at)), at);
const key = c.randomBytes(32);
const nonce = c.randomBytes(12);

// v2 §5.3: one AEAD over the whole file, in memory.
const v2blob = c.encryptFile(key, nonce, data);
row("v2 encryptFile (one shot)", `${(await mbPerSecond(() => c.encryptFile(key, nonce, data))).toFixed(0)} MB/s`);
row("v2 decryptFile (one shot)", `${(await mbPerSecond(() => c.decryptFile(key, nonce, v2blob))).toFixed(0)} MB/s`);

// v3 §V9: 65,536-byte chunks, each its own AEAD, as a stream.
const chunks: Uint8Array[] = [];
const blobLen = await drain(encryptFileStream(key, parts(data)), chunks);
if (blobLen !== fileBlobLength(SIZE)) throw new Error(`blob of ${blobLen} bytes, expected ${fileBlobLength(SIZE)}`);
row(
  "v3 encryptFileStream (§V9 chunks)",
  `${(await mbPerSecond(() => drain(encryptFileStream(key, parts(data))))).toFixed(0)} MB/s`,
);
row(
  "v3 decryptFileStream (§V9 chunks)",
  `${(await mbPerSecond(() => drain(decryptFileStream(key, chunks, SIZE)))).toFixed(0)} MB/s`,
);
row("v3 blob overhead", `${blobLen - SIZE} bytes (16 per chunk)`);
