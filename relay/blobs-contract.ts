// The contract of the relay's Blobs interface (relay/blobs.ts) as one bun:test suite that every
// implementation runs: `blobsContract("dir", open)` in relay/blobs.test.ts. It sees blobs only
// through the interface. `open()` gives a new, empty Blobs, and `aged(ms)` a second view of the
// same blobs whose clock runs ms ahead, so that what exists now looks old to its orphan sweep.
import { beforeEach, describe, expect, test } from "bun:test";
import type { Blobs } from "./blobs.ts";
import { newBlobId } from "./file-ids.ts";

/** Over two S3 parts (relay/s3-blobs.ts PART_SIZE), in an odd size. */
const BIG = 11 * 1024 * 1024 + 12_345;
const HOUR_MS = 3600 * 1000;

/** `total` bytes in chunks of `chunk`, from one buffer overwritten between writes (as a stream reuses one). */
async function writeChunks(blobs: Blobs, blobId: string, total: number, chunk: number): Promise<Uint8Array> {
  const all = new Uint8Array(total);
  for (let i = 0; i < total; i++) all[i] = (i * 31 + (i >> 12)) & 0xff;
  const w = await blobs.create(blobId);
  const buf = new Uint8Array(chunk);
  for (let at = 0; at < total; at += chunk) {
    const n = Math.min(chunk, total - at);
    buf.set(all.subarray(at, at + n));
    await w.write(buf.subarray(0, n));
  }
  await w.close();
  return all;
}

async function read(blobs: Blobs, blobId: string): Promise<Uint8Array | null> {
  const body = await blobs.download(blobId);
  return body === null ? null : new Uint8Array(await new Response(body).arrayBuffer());
}

export interface OpenedBlobs {
  blobs: Blobs;
  aged(aheadMs: number): Blobs;
}

export function blobsContract(name: string, open: () => Promise<OpenedBlobs>): void {
  describe(`Blobs contract: ${name}`, () => {
    let blobs: Blobs;
    let aged: (aheadMs: number) => Blobs;
    beforeEach(async () => {
      ({ blobs, aged } = await open());
    });

    test("bytes written in chunks are read back the same", async () => {
      const id = newBlobId();
      const wrote = await writeChunks(blobs, id, BIG, 64 * 1024 + 7);
      const got = await read(blobs, id);
      expect(got?.length).toBe(BIG);
      expect(Bun.hash(got!)).toBe(Bun.hash(wrote));
    });

    test("a small blob and an empty one", async () => {
      const small = newBlobId();
      const empty = newBlobId();
      expect(await read(blobs, small)).toBeNull();
      await writeChunks(blobs, small, 10, 3);
      await (await blobs.create(empty)).close();
      expect(await read(blobs, small)).toEqual(await writeChunks(blobs, newBlobId(), 10, 10));
      expect(await read(blobs, empty)).toEqual(new Uint8Array(0));
    });

    test("remove: gone afterwards; missing ones and none at all are fine", async () => {
      const a = newBlobId();
      const b = newBlobId();
      await writeChunks(blobs, a, 1000, 100);
      await writeChunks(blobs, b, 1000, 100);
      await blobs.remove([a, newBlobId()]);
      expect(await read(blobs, a)).toBeNull();
      expect((await read(blobs, b))?.length).toBe(1000);
      await blobs.remove([a]);
      await blobs.remove([]);
      expect(await read(blobs, newBlobId())).toBeNull();
    });

    test("abort leaves nothing, before or after a write, small or past a part", async () => {
      for (const size of [0, 1000, 6 * 1024 * 1024]) {
        const id = newBlobId();
        const w = await blobs.create(id);
        if (size > 0) await w.write(new Uint8Array(size).fill(9));
        await w.abort();
        expect(await read(blobs, id)).toBeNull();
      }
    });

    test("a blob id that is not 32 hex characters is refused", async () => {
      await expect(blobs.create("../x")).rejects.toThrow();
      await expect(blobs.download("A".repeat(32))).rejects.toThrow();
    });

    test("the orphan sweep removes old blobs without a row, keeps those with one", async () => {
      const kept = newBlobId();
      const orphan = newBlobId();
      await writeChunks(blobs, kept, 100, 100);
      await writeChunks(blobs, orphan, 100, 100);
      const later = aged(2 * HOUR_MS); // the same blobs, seen two hours on
      const asked: string[] = [];
      const removed = await later.removeOrphans(async (id) => {
        asked.push(id);
        return id === kept;
      });
      expect(removed).toBe(1);
      expect(asked.sort()).toEqual([kept, orphan].sort());
      expect(await read(blobs, orphan)).toBeNull();
      expect((await read(blobs, kept))?.length).toBe(100);
    });
  });
}
