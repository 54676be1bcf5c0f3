// Disk, with and without a key, on the real compiled relay: what an upload
// with a garbage signature can put on disk, the spool of all uploads in flight (503), the
// free-disk reserve (507 for new data; reads and burns still served), and /burn on a disk
// that is completely full. Build first: ./build.sh
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import { ErrorBody, FetchResponse, H_NONCE, H_SIG, H_TS, H_UID, UploadResponse } from "../lib/wire.ts";
import { folderBytes, multipart, rawPost } from "./helpers/raw-http.ts";
import { startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, pair, register, signed, signHeaders, type TestUser } from "./helpers/signer.ts";

const MiB = 1024 * 1024;
const relays: RunningRelay[] = [];
afterAll(async () => {
  for (const r of relays) {
    if (r.proc.exitCode === null) expect(await r.stop()).toBe(0);
    r.cleanup();
  }
});

async function relayWith(env: Record<string, string>, dataDir?: string): Promise<RunningRelay> {
  const r = await startRelay({ env, dataDir });
  relays.push(r);
  return r;
}

function upload(base: string, u: TestUser, roomId: string, file: Uint8Array) {
  const { body, contentType } = multipart(roomId, u.uid, file);
  return signed(base, u, "POST", "/file/upload", body, { headers: { "content-type": contentType } });
}

/** §6 headers with the victim's UID, a fresh ts and nonce, and 64 random bytes as signature. */
function garbageHeaders(uid: string, contentType: string): Record<string, string> {
  return {
    "content-type": contentType,
    [H_UID]: uid,
    [H_TS]: String(Math.floor(Date.now() / 1000)),
    [H_NONCE]: b64uencode(c.randomBytes(12)),
    [H_SIG]: b64uencode(c.randomBytes(64)),
  };
}

/** The blob folder's size once it has stopped changing (the relay has read what was sent). */
async function settled(dir: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const now = folderBytes(dir);
    if (now === last) return now;
    last = now;
    await Bun.sleep(300);
  }
  return last;
}

describe("uploads with only a victim's UID and a garbage signature", () => {
  const FILE = 4 * MiB;
  const FIRST = 3 * MiB; // of each body, sent before the test looks at the disk

  test("6 at once: at most 2 (the victim's upload slots) are spooled, none is kept, the victim's files stay", async () => {
    const relay = await relayWith({ MAX_FILE_SIZE_BYTES: String(FILE) });
    const blobs = join(relay.dataDir, "blobs");
    const { a, b, roomId } = await pair(relay.url);
    const keptFile = c.randomBytes(1000);
    const kept = await upload(relay.url, a, roomId, keptFile);
    expect(kept.status).toBe(200);
    const { url } = UploadResponse.parse(await kept.json());
    const before = folderBytes(blobs);

    const { body, contentType } = multipart(roomId, a.uid, c.randomBytes(FILE));
    const held = await Promise.all(
      Array.from({ length: 6 }, () =>
        rawPost(relay.port, "/file/upload", garbageHeaders(a.uid, contentType), body, FIRST),
      ),
    );
    const during = (await settled(blobs)) - before;
    expect(during).toBeGreaterThan(0); // the bound is what is checked, not that nothing streams
    expect(during).toBeLessThanOrEqual(2 * FIRST);
    for (const h of held) h.send();
    for (const h of held) expect((await h.answer()).status).toBe(401);
    expect(folderBytes(blobs)).toBe(before); // every one deleted on failure

    const d = await signed(relay.url, b, "GET", url);
    expect(Buffer.from(await d.arrayBuffer()).equals(Buffer.from(keptFile))).toBe(true);
    expect((await upload(relay.url, a, roomId, c.randomBytes(10))).status).toBe(200); // slots released
  });

  test("uploads cut off mid-body leave no spool file and give their slot back", async () => {
    const relay = await relayWith({ MAX_FILE_SIZE_BYTES: String(FILE) });
    const blobs = join(relay.dataDir, "blobs");
    const { a, roomId } = await pair(relay.url);
    for (let i = 0; i < 3; i++) {
      // Signed properly: only the connection's end stops it.
      const { body, contentType } = multipart(roomId, a.uid, c.randomBytes(FILE));
      const headers = { ...signHeaders(a, "POST", "/file/upload", body), "content-type": contentType };
      const h = await rawPost(relay.port, "/file/upload", headers, body, FIRST);
      expect(await settled(blobs)).toBeGreaterThan(0);
      h.sock.destroy();
      expect(await settled(blobs)).toBe(0);
    }
    expect((await upload(relay.url, a, roomId, c.randomBytes(10))).status).toBe(200); // 3 > 2 slots: all released
  });

  test("naming a room the victim is not in: nothing is spooled at all", async () => {
    const relay = await relayWith({ MAX_FILE_SIZE_BYTES: String(FILE) });
    const blobs = join(relay.dataDir, "blobs");
    const { a } = await pair(relay.url);
    const other = await pair(relay.url);
    const { body, contentType } = multipart(other.roomId, a.uid, c.randomBytes(FILE));
    const h = await rawPost(relay.port, "/file/upload", garbageHeaders(a.uid, contentType), body, FIRST);
    expect(await settled(blobs)).toBe(0);
    h.send();
    expect((await h.answer()).status).toBe(401);
  });

  test("an unknown UID, a stale timestamp or an oversized Content-Length is refused before the body is sent", async () => {
    const relay = await relayWith({ MAX_FILE_SIZE_BYTES: String(FILE) });
    const { a, roomId } = await pair(relay.url);
    const { body, contentType } = multipart(roomId, a.uid, c.randomBytes(1000));
    const stale = { ...garbageHeaders(a.uid, contentType), [H_TS]: String(Math.floor(Date.now() / 1000) - 3600) };
    const cases: [Record<string, string>, Uint8Array, number][] = [
      [garbageHeaders(makeUser().uid, contentType), body, 401],
      [stale, body, 401],
      [
        { ...signHeaders(a, "POST", "/file/upload", body), "content-type": contentType },
        new Uint8Array(FILE + MiB),
        413,
      ],
    ];
    for (const [headers, b, status] of cases) {
      const h = await rawPost(relay.port, "/file/upload", headers, b, 0);
      const answer = await h.answerWithin(10_000);
      expect(answer?.status).toBe(status);
      h.sock.destroy();
    }
  });
});

describe("the spool of all uploads in flight", () => {
  test("2 uploads fill it exactly; a 3rd is 503 with Retry-After before its body is read; then it passes", async () => {
    const FILE = MiB;
    // UIDs and room ids have fixed lengths, so every such body has this length.
    const [x, y] = [makeUser(), makeUser()];
    const probe = multipart(c.pairKeys(x, y.encPub).roomId, x.uid, c.randomBytes(FILE)).body.length;
    const relay = await relayWith({
      MAX_FILE_SIZE_BYTES: String(FILE),
      PHANTOM_RELAY_UPLOAD_SPOOL_BYTES: String(2 * probe),
    });
    const pairs = [await pair(relay.url), await pair(relay.url), await pair(relay.url)];
    const files = pairs.map(() => c.randomBytes(FILE));
    const bodies = pairs.map((p, i) => multipart(p.roomId, p.a.uid, files[i]!));
    const hold = (i: number) =>
      rawPost(
        relay.port,
        "/file/upload",
        {
          ...signHeaders(pairs[i]!.a, "POST", "/file/upload", bodies[i]!.body),
          "content-type": bodies[i]!.contentType,
        },
        bodies[i]!.body,
        1000,
      );
    expect(bodies.every((x) => x.body.length === probe)).toBe(true);
    const first = [await hold(0), await hold(1)];
    await Bun.sleep(300);
    const third = await hold(2);
    const refused = await third.answerWithin(10_000);
    expect(refused?.status).toBe(503);
    expect(Number(/retry-after: (\d+)/.exec(refused!.headers)?.[1])).toBeGreaterThanOrEqual(1);
    expect(ErrorBody.parse(refused!.json).error).toBe("busy");
    third.sock.destroy();
    for (const h of first) h.send();
    for (const h of first) expect((await h.answer()).status).toBe(200);
    const again = await upload(relay.url, pairs[2]!.a, pairs[2]!.roomId, files[2]!);
    expect(again.status).toBe(200);
  });
});

describe("the free-disk reserve", () => {
  test("below it new data is 507; fetch, download, ke/pop, burn and /health still work", async () => {
    const first = await relayWith({ MAX_FILE_SIZE_BYTES: "4096" });
    const { a, b, roomId } = await pair(first.url);
    const msg = b64encode(c.randomBytes(100));
    expect((await signed(first.url, a, "POST", "/send", { room_id: roomId, ciphertext: msg })).status).toBe(200);
    const file = c.randomBytes(4096);
    const { url } = UploadResponse.parse(await (await upload(first.url, a, roomId, file)).json());
    expect(await first.stop()).toBe(0);

    // The same data folder with a reserve larger than any disk: the free space is always below it.
    const relay = await relayWith(
      { MAX_FILE_SIZE_BYTES: "4096", PHANTOM_RELAY_DISK_RESERVE_BYTES: String(2 ** 52) },
      first.dataDir,
    );
    const base = relay.url;
    const refusedWith507 = async (r: Response) => {
      expect(r.status).toBe(507);
      expect(ErrorBody.parse(await r.json()).error).toBe("insufficient_storage");
    };
    await refusedWith507(await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: msg }));
    await refusedWith507(await upload(base, a, roomId, c.randomBytes(10)));
    await refusedWith507(await register(base, makeUser()));
    const stranger = makeUser();
    await refusedWith507(
      await signed(base, a, "POST", "/ke/push", {
        from_uid: a.uid,
        to_uid: b.uid,
        pub_key: a.pubB64,
        room_id: "x".repeat(43),
      }),
    );
    expect(stranger.uid).not.toBe(a.uid);

    const f = await signed(base, b, "POST", "/fetch", { room_id: roomId });
    expect(FetchResponse.parse(await f.json()).messages.map((m) => m.ciphertext)).toEqual([msg]);
    const d = await signed(base, b, "GET", url);
    expect(Buffer.from(await d.arrayBuffer()).equals(Buffer.from(file))).toBe(true);
    expect((await signed(base, b, "GET", `/ke/pop/${b.uid}`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const burn = await signed(base, a, "POST", "/burn", { room_id: roomId });
    expect(burn.status).toBe(200);
    expect(((await burn.json()) as { deleted: number }).deleted).toBe(1);
  });
});

// A real full disk needs a file system of our own: a small tmpfs, which only root can mount.
const root = process.getuid?.() === 0;
describe.skipIf(!root)("a completely full disk (tmpfs, as root)", () => {
  // With no reserve the relay fills the disk itself, as a relay without the reserve did: SQLite then
  // cannot even delete (a delete goes to the WAL, and a checkpoint must grow the database file),
  // and /burn answered 500. The reserve normally stops short of this; the ballast is for when it did not.
  test("the relay filled the disk: new data is 507 (was 500), /fetch works, /burn frees the ballast and works", async () => {
    const mnt = tempDir("phantom-full-");
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt]).status === 0;
    if (!mounted) return; // a container without mount rights: nothing to test here
    try {
      const dataDir = join(mnt, "data");
      const relay = await relayWith({ PHANTOM_RELAY_DISK_RESERVE_BYTES: "0" }, dataDir);
      const { a, b, roomId } = await pair(relay.url);
      let accepted = 0;
      for (;;) {
        const r = await signed(relay.url, a, "POST", "/send", {
          room_id: roomId,
          ciphertext: b64encode(c.randomBytes(65_536)),
        });
        if (r.status !== 200) {
          expect(r.status).toBe(507);
          break;
        }
        accepted++;
        expect(accepted).toBeLessThan(1000);
      }
      expect(accepted).toBeGreaterThan(0);
      // Every accepted row is still there: paged by seq (PROTOCOL §7.6.1; one answer holds at most 4 MiB).
      let stored = 0;
      for (let after = 0, more = true; more;) {
        const f = await signed(relay.url, b, "POST", "/fetch", { room_id: roomId, after_seq: after, limit: 200 });
        expect(f.status).toBe(200);
        const page = (await f.json()) as { messages: { seq: number }[]; more: boolean };
        stored += page.messages.length;
        after = page.messages.at(-1)?.seq ?? after;
        more = page.more;
      }
      expect(stored).toBe(accepted);
      const burn = await signed(relay.url, a, "POST", "/burn", { room_id: roomId });
      expect(burn.status).toBe(200);
      expect(((await burn.json()) as { deleted: number }).deleted).toBe(accepted);
      // It was a full disk indeed: the delete could only run once the ballast was freed.
      console.log("burned", JSON.stringify(relay.logs.slice(-3)));
      const line = "warn: disk full: ballast freed for a burn";
      for (let i = 0; i < 50 && !relay.logs.includes(line); i++) await Bun.sleep(100); // the log is written after the answer
      expect(relay.logs).toContain(line);
      expect((await fetch(`${relay.url}/health`)).status).toBe(200);
      expect(await relay.stop()).toBe(0);
    } finally {
      spawnSync("umount", ["-l", mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
