// PROTOCOL-v3 §V9 files streamed end to end (core/v3-files.ts, RelayClient.uploadStream and
// downloadStream) against the relay started in this process: round trips at the chunk edges,
// blobs damaged on the relay's disk, the size refusal before any byte is sent, cancelling, a
// retry that re-opens the source, and the Tor route through a real SOCKS5 proxy (microsocks).
// The memory bound on a 50 MB file is tests/v3-files-memory.test.ts (a child process).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { PhantomError } from "../../lib/errors.ts";
import { Transport, TransportError, type RequestOptions, type TransportResponse } from "../../lib/transport.ts";
import { FILE_SEGMENT, fileBlobLength } from "../../lib/v3/file.ts";
import { parseInner, encodeInner, type FileInner } from "../../lib/v3/inner.ts";
import { RelayClient, type SigV3Pins } from "../net/relay-client.ts";
import { startRelay, tempDir, type RunningRelay } from "../../tests/helpers/inproc-relay.ts";
import { pairUp } from "../../tests/helpers/clients.ts";
import { startProxy, type RunningProxy } from "../../tests/helpers/socks.ts";
import type { TestUser } from "../../tests/helpers/signer.ts";
import { downloadFileV3, prepareFileV3, uploadFileV3 } from "./v3-files.ts";

setDefaultTimeout(60_000); // bunfig's [test] timeout is not applied by this Bun

const SMALL_MAX = 100_000;
let relay: RunningRelay;
let small: RunningRelay;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  [relay, small, proxy] = await Promise.all([
    startRelay(),
    startRelay({ env: { MAX_FILE_SIZE_BYTES: String(SMALL_MAX) } }),
    startProxy(),
  ]);
  dir = tempDir("phantom-v3files-");
});

afterAll(async () => {
  await Promise.all([relay?.stop(), small?.stop(), proxy?.stop()]);
  relay?.cleanup();
  small?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** §V11 pins kept in memory: a loopback relay implies its origins, so requests are signed v3. */
function memoryPins(): SigV3Pins & { set: Set<string> } {
  const set = new Set<string>();
  return {
    set,
    pinned: (o) => set.has(o),
    pin: (o) => void set.add(o),
    unpin: (o) => void set.delete(o),
    confirmDowngrade: async () => false,
  };
}

/** A direct transport that counts the requests it is asked for, and can fail the first few before sending. */
class CountingTransport extends Transport {
  readonly seen: string[] = [];
  failFirst = 0;
  constructor() {
    super({ via: "direct" });
  }
  override async request(
    method: string,
    url: string | URL,
    headers: Record<string, string>,
    body: Uint8Array | ReadableStream<Uint8Array> | undefined,
    opts: RequestOptions,
  ): Promise<TransportResponse> {
    const path = new URL(url).pathname;
    this.seen.push(`${method} ${path}`);
    if (path === "/file/upload" && this.failFirst > 0) {
      this.failFirst--;
      // As fetch may: the body's first parts were taken before the connection failed.
      if (body instanceof ReadableStream) {
        const reader = body.getReader();
        await reader.read();
        await reader.read();
        await reader.cancel();
      }
      throw new TransportError("unreachable", "connection refused (test)", false);
    }
    return await super.request(method, url, headers, body, opts);
  }
}

function relayClient(base: string, u: TestUser, transport: Transport = new Transport({ via: "direct" })) {
  const signer = { uid: u.uid, signSeed: u.signSeed, encPriv: u.encPriv };
  return new RelayClient({ baseUrl: base, transport, signer, retryDelayMs: 10, sigV3: memoryPins() });
}

/** Two members of one room, each with a v3-signing client (on `transport` for the sender). */
async function room(r: RunningRelay, transport?: Transport) {
  const { a, b, roomId } = await pairUp(r.url);
  return { roomId, ca: relayClient(r.url, a, transport), cb: relayClient(r.url, b) };
}

let fileNo = 0;
/** A file of `size` pseudo-random bytes in its own folder; its SHA-256. */
function makeFile(size: number): { path: string; sha: string } {
  const folder = join(dir, `in-${++fileNo}`);
  fs.mkdirSync(folder);
  const path = join(folder, `file-${size}.bin`);
  const fd = fs.openSync(path, "w");
  const h = createHash("sha256");
  for (let at = 0; at < size;) {
    const n = Math.min(1 << 20, size - at);
    const part = createHash("sha512").update(`${fileNo}/${at}`).digest();
    const buf = Buffer.alloc(n);
    for (let i = 0; i < n; i += part.length) part.copy(buf, i);
    buf[0] = at & 0xff;
    fs.writeSync(fd, buf);
    h.update(buf);
    at += n;
  }
  fs.closeSync(fd);
  return { path, sha: h.digest("hex") };
}

function shaOf(path: string): string {
  return createHash("sha256").update(fs.readFileSync(path)).digest("hex");
}

/** An empty folder to receive into. */
function outDir(): string {
  const d = join(dir, `out-${++fileNo}`);
  fs.mkdirSync(d);
  return d;
}

function blobs(r: RunningRelay): string[] {
  const d = join(r.dataDir, "blobs");
  return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
}

/** Upload `size` bytes; the inner message and the blob file the relay stored. */
async function uploaded(r: RunningRelay, size: number) {
  const { roomId, ca, cb } = await room(r);
  const src = makeFile(size);
  const before = new Set(blobs(r));
  const inner = await uploadFileV3(ca, roomId, prepareFileV3(src.path));
  const added = blobs(r).filter((b) => !before.has(b));
  expect(added).toHaveLength(1);
  return { inner, cb, src, blob: join(r.dataDir, "blobs", added[0]!) };
}

async function failure(p: Promise<unknown>): Promise<PhantomError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PhantomError);
  expect((e as Error).message).not.toContain("\n");
  return e as PhantomError;
}

describe("round trips", () => {
  for (const size of [0, 1, 65_535, 65_536, 65_537, 3_000_001]) {
    test(`${size} bytes`, async () => {
      const { inner, cb, src, blob } = await uploaded(relay, size);
      expect(fs.statSync(blob).size).toBe(fileBlobLength(size));
      expect(inner).toMatchObject({ t: "file", name: `file-${size}.bin`, size, mime: "application/octet-stream" });
      expect(inner.url.startsWith(`${relay.url}/file/`)).toBe(true);
      expect(inner.key).toHaveLength(32);
      // It goes through the ratchet as a §V7.1 inner message.
      const back = parseInner(encodeInner(inner)) as FileInner;
      const out = outDir();
      const target = join(out, back.name);
      const progress: number[] = [];
      expect(await downloadFileV3(cb, back, target, { force: false, onProgress: (got) => progress.push(got) })).toBe(
        target,
      );
      expect(shaOf(target)).toBe(src.sha);
      expect(fs.statSync(target).mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(out)).toEqual([back.name]); // no temp file left
      expect(progress.at(-1)).toBe(fileBlobLength(size));
    });
  }

  test("signed v2 (no §V11 pins) works the same", async () => {
    const { a, b, roomId } = await pairUp(relay.url);
    const direct = new Transport({ via: "direct" });
    const mk = (u: TestUser) =>
      new RelayClient({ baseUrl: relay.url, transport: direct, signer: { ...u, encPriv: u.encPriv } });
    const src = makeFile(70_000);
    const inner = await uploadFileV3(mk(a), roomId, prepareFileV3(src.path));
    const target = join(outDir(), "x.bin");
    await downloadFileV3(mk(b), inner, target, { force: false });
    expect(shaOf(target)).toBe(src.sha);
  });

  test("upload progress counts the file's bytes, up to its size", async () => {
    const { roomId, ca } = await room(relay);
    const src = makeFile(500_000);
    const seen: [number, number][] = [];
    await uploadFileV3(ca, roomId, prepareFileV3(src.path), { onProgress: (s, t) => seen.push([s, t]) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every(([s, t]) => t === 500_000 && s <= t)).toBe(true);
    expect(seen.at(-1)![0]).toBe(500_000);
  });
});

describe("a blob damaged on the relay is refused, and nothing is left at the target", () => {
  const SIZE = 150_000; // chunks of 65,536, 65,536 and 18,928 bytes
  const cases: [string, (blob: string) => void, string][] = [
    ["cut after a whole chunk", (b) => fs.truncateSync(b, 2 * FILE_SEGMENT), "file-truncated"],
    ["cut inside the last chunk", (b) => fs.truncateSync(b, fileBlobLength(SIZE) - 10), "file-chunk-auth"],
    ["with bytes appended", (b) => fs.appendFileSync(b, Buffer.alloc(100, 7)), "file-trailing"],
    [
      "with one byte flipped",
      (b) => {
        const fd = fs.openSync(b, "r+");
        const one = Buffer.alloc(1);
        fs.readSync(fd, one, 0, 1, 70_000);
        one[0]! ^= 0x01;
        fs.writeSync(fd, one, 0, 1, 70_000);
        fs.closeSync(fd);
      },
      "file-chunk-auth",
    ],
  ];
  for (const [what, damage, reason] of cases) {
    test(`${what}: ${reason}`, async () => {
      const { inner, cb, blob } = await uploaded(relay, SIZE);
      damage(blob);
      const out = outDir();
      const target = join(out, "got.bin");
      const e = await failure(downloadFileV3(cb, inner, target, { force: false }));
      expect(e.code).toBe("file-check");
      expect(e.message).toStartWith(`the file failed its check: ${reason} — `);
      expect(fs.readdirSync(out)).toEqual([]);
    });
  }

  test("an existing target is kept when the new file fails its check, even with force", async () => {
    const { inner, cb, blob } = await uploaded(relay, SIZE);
    fs.truncateSync(blob, FILE_SEGMENT);
    const out = outDir();
    const target = join(out, "keep.bin");
    fs.writeFileSync(target, "old");
    await failure(downloadFileV3(cb, inner, target, { force: true }));
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    expect(fs.readdirSync(out)).toEqual(["keep.bin"]);
  });
});

describe("the target", () => {
  test("an existing file is refused without force (before the download), replaced with it", async () => {
    const { inner, cb, src } = await uploaded(relay, 1000);
    const out = outDir();
    const target = join(out, "there.bin");
    fs.writeFileSync(target, "old");
    const e = await failure(downloadFileV3(cb, inner, target, { force: false }));
    expect(e.message).toBe(`${target} already exists (use --force to overwrite)`);
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    await downloadFileV3(cb, inner, target, { force: false, confirmOverwrite: async () => true });
    expect(shaOf(target)).toBe(src.sha);
    fs.writeFileSync(target, "old");
    await downloadFileV3(cb, inner, target, { force: true });
    expect(shaOf(target)).toBe(src.sha);
    expect(fs.readdirSync(out)).toEqual(["there.bin"]);
  });

  test("a URL that is not a relay file path is refused", async () => {
    const { inner, cb } = await uploaded(relay, 10);
    const e = await failure(
      downloadFileV3(cb, { ...inner, url: `${relay.url}/health` }, join(outDir(), "x"), { force: false }),
    );
    expect(e.message).toMatch(/not a relay file path/);
  });
});

describe("sending", () => {
  test("a file too large for the relay is refused before any byte is sent (the blob counts)", async () => {
    const counting = new CountingTransport();
    const { roomId, ca } = await room(small, counting);
    // The file fits under the limit; its blob (16 bytes per chunk more) does not.
    const src = makeFile(SMALL_MAX - 8);
    const e = await failure(uploadFileV3(ca, roomId, prepareFileV3(src.path)));
    expect(e.code).toBe("too-large");
    expect(e.message).toBe("the relay accepts files up to 97.7 KiB; this one is 97.6 KiB");
    expect(counting.seen.filter((s) => s === "POST /file/upload")).toEqual([]);
    expect(blobs(small)).toEqual([]);
    // One whose blob fits goes through.
    const ok = makeFile(SMALL_MAX - 32);
    expect(fileBlobLength(SMALL_MAX - 32)).toBe(SMALL_MAX);
    await uploadFileV3(ca, roomId, prepareFileV3(ok.path));
    expect(blobs(small)).toHaveLength(1);
  });

  test("not a regular file, or missing: the one-line errors of readLocalFile", async () => {
    expect(() => prepareFileV3(dir)).toThrow(`${dir} is not a regular file`);
    expect(() => prepareFileV3(join(dir, "nope"))).toThrow(/^cannot read .*nope: /);
    const p = prepareFileV3(makeFile(3).path);
    expect(p).toMatchObject({ name: "file-3.bin", size: 3, mime: "application/octet-stream" });
    const txt = join(outDir(), ".hidden.txt");
    fs.writeFileSync(txt, "hi");
    expect(prepareFileV3(txt)).toMatchObject({ name: "_hidden.txt", mime: "text/plain" });
  });

  test("cancelling through the signal: the one cancel error, nothing stored", async () => {
    const { roomId, ca } = await room(relay);
    const src = makeFile(3_000_000);
    const stop = new AbortController();
    const before = blobs(relay).length;
    const e = await failure(
      uploadFileV3(ca, roomId, prepareFileV3(src.path), {
        signal: stop.signal,
        onProgress: (s) => s > 500_000 && stop.abort(),
      }),
    );
    expect(e.message).toBe("upload cancelled: the file was not sent");
    await settledAt(() => blobs(relay).length, before);
    expect(blobs(relay).length).toBe(before);
  });

  test("a file that changes between the two passes is refused", async () => {
    const { roomId, ca } = await room(relay);
    const src = makeFile(300_000);
    let once = false;
    const e = await failure(
      uploadFileV3(ca, roomId, prepareFileV3(src.path), {
        onProgress: () => {
          if (!once) fs.appendFileSync(src.path, "more");
          once = true;
        },
      }),
    );
    expect(e.code).toBe("file-changed");
    expect(e.message).toMatch(/changed while it was being sent: try again$/);
    const changed = makeFile(1000);
    const prepared = prepareFileV3(changed.path);
    fs.appendFileSync(changed.path, "x");
    expect((await failure(uploadFileV3(ca, roomId, prepared))).code).toBe("file-changed");
  });

  test("uploadStream: a source that gives other bytes the second time is refused, and not stored", async () => {
    const { roomId, ca } = await room(relay);
    const before = blobs(relay).length;
    const e = await failure(
      ca.uploadStream(roomId, {
        size: 200_000,
        async *open() {
          yield crypto.getRandomValues(new Uint8Array(100_000));
          yield crypto.getRandomValues(new Uint8Array(100_000));
        },
      }),
    );
    expect(e.code).toBe("file-changed");
    await settledAt(() => blobs(relay).length, before);
    expect(blobs(relay).length).toBe(before);
  });

  test("a failure before sending is retried, and the retry opens the source again", async () => {
    const counting = new CountingTransport();
    const { roomId, ca, cb } = await room(relay, counting);
    counting.failFirst = 1;
    let opens = 0;
    const data = crypto.getRandomValues(new Uint8Array(150_000));
    const up = await ca.uploadStream(roomId, {
      size: data.length,
      async *open() {
        opens++;
        for (let at = 0; at < data.length; at += 40_000) yield data.subarray(at, at + 40_000);
      },
    });
    expect(counting.seen.filter((s) => s === "POST /file/upload")).toHaveLength(2);
    expect(opens).toBe(3); // the hash pass, the failed attempt, the retry
    expect(up.size).toBe(data.length);
    const parts: Uint8Array[] = [];
    for await (const p of cb.downloadStream(up.url, { expectedBytes: data.length })) parts.push(p);
    expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true);
  });

  test("downloadStream: a consumer that stops early cancels the download", async () => {
    const { inner, cb } = await uploaded(relay, 3_000_000);
    const path = new URL(inner.url).pathname;
    let got = 0;
    for await (const p of cb.downloadStream(path, { expectedBytes: fileBlobLength(3_000_000) })) {
      got += p.length;
      if (got > 100_000) break;
    }
    expect(got).toBeLessThan(3_000_000);
    expect(() => cb.downloadStream("/health", { expectedBytes: 1 })).toThrow("file path must look like /file/<id>");
  });
});

describe("through a real SOCKS5 proxy (microsocks), as with Tor", () => {
  test("upload and download of a 3 MB file", async () => {
    const base = relay.url.replace("127.0.0.1", "localhost");
    const tor = new Transport({ via: "tor", proxyHost: proxy.host, proxyPort: proxy.port });
    const { a, b, roomId } = await pairUp(relay.url);
    const ca = relayClient(base, a, tor);
    const cb = relayClient(base, b, tor);
    const dest = `localhost:${relay.port}`;
    const before = proxy.connects.filter((d) => d === dest).length;
    const src = makeFile(3_000_000);
    const seen: number[] = [];
    const inner = await uploadFileV3(ca, roomId, prepareFileV3(src.path), { onProgress: (s) => seen.push(s) });
    expect(seen.at(-1)).toBe(3_000_000);
    const target = join(outDir(), "tor.bin");
    await downloadFileV3(cb, inner, target, { force: false });
    expect(shaOf(target)).toBe(src.sha);
    // Both went through the proxy (health for the §V11 origin, the upload, the download).
    expect(await proxy.waitForConnects(dest, before + 3)).toBeGreaterThanOrEqual(before + 3);
  });
});

/**
 * Wait (up to 10 s: a loaded machine) until `count()` is `want` three readings in a row: an aborted
 * upload's spool file may appear only after the client gave up, and then goes.
 */
async function settledAt(count: () => number, want: number): Promise<void> {
  let same = 0;
  for (let i = 0; i < 500 && same < 3; i++) {
    same = count() === want ? same + 1 : 0;
    if (same < 3) await Bun.sleep(20);
  }
}
