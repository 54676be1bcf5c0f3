// PROTOCOL-v3 §V9: a v3 file is streamed, never held whole. A child `bun` process
// (tests/helpers/v3-files-mem.ts: RelayClient + client/core/v3-files.ts) sends a file through a
// v3 conversation on a relay started here and receives it again, then prints its peak RSS
// (VmHWM). Bun itself with the client code loaded already takes some 47 MB, and the crypto and
// fetch leave allocator slack that grows to some 50 MB whatever the size, so the bound is on what
// the file's size adds: a 100,000,000-byte transfer must peak less than 25 MB (half of the 50 MB
// file) above a 50,000,000-byte one. Holding the file or the blob would add all 50 MB, or more.
// Memory bounds, not timings.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { startRelay, tempDir, type RunningRelay } from "./helpers/inproc-relay.ts";
import { startProxy, type RunningProxy } from "./helpers/socks.ts";

setDefaultTimeout(120_000);

const BIG = 50_000_000;
const DOUBLE = 2 * BIG;
const BUN = join(import.meta.dir, "../node_modules/.bin/bun");
const HELPER = join(import.meta.dir, "helpers/v3-files-mem.ts");
let relay: RunningRelay;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  [relay, proxy] = await Promise.all([startRelay({ env: { MAX_FILE_SIZE_BYTES: String(200_000_000) } }), startProxy()]);
  dir = tempDir("phantom-v3mem-");
});

afterAll(async () => {
  await Promise.all([relay?.stop(), proxy?.stop()]);
  relay?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  before: number;
  afterUpload: number;
  after: number;
  url: string;
  src: string;
  target: string;
  uploadMs: number;
  downloadMs: number;
}

/** A file of `size` random bytes (written 1 MiB at a time) in a fresh folder; its SHA-256. */
function bigFile(size: number): { work: string; sha: string } {
  const work = fs.mkdtempSync(join(dir, "run-"));
  const h = createHash("sha256");
  const fd = fs.openSync(join(work, "big.bin"), "w");
  for (let at = 0; at < size; at += 1 << 20) {
    const part = randomBytes(Math.min(1 << 20, size - at));
    h.update(part);
    fs.writeSync(fd, part);
  }
  fs.closeSync(fd);
  return { work, sha: h.digest("hex") };
}

function sha256File(path: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(path, "r");
  const buf = Buffer.alloc(1 << 20);
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return h.digest("hex");
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** One child run: the file arrives intact, and the relay stored a blob of the §V9 length. */
async function run(size: number, socks?: string): Promise<Run> {
  const { work, sha } = bigFile(size);
  const blobsBefore = new Set(fs.readdirSync(join(relay.dataDir, "blobs")));
  const child = Bun.spawn([BUN, HELPER, relay.url, work, String(size), ...(socks ? [socks] : [])], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect({ code, err: err.trim() }).toEqual({ code: 0, err: "" });
  const r = JSON.parse(out) as Run;
  const added = fs.readdirSync(join(relay.dataDir, "blobs")).filter((b) => !blobsBefore.has(b));
  expect(added).toHaveLength(1);
  const blobBytes = fs.statSync(join(relay.dataDir, "blobs", added[0]!)).size;
  expect(sha256File(r.target)).toBe(sha);
  console.log(
    `${size} bytes${socks ? " through SOCKS5" : ""}: blob ${blobBytes} bytes; peak RSS ${mb(r.after)} ` +
      `(${mb(r.before)} before the transfer, ${mb(r.afterUpload)} after the upload); ` +
      `upload ${r.uploadMs} ms, download ${r.downloadMs} ms`,
  );
  fs.rmSync(work, { recursive: true, force: true });
  return { ...r, blobBytes } as Run & { blobBytes: number };
}

for (const socks of [false, true]) {
  const route = socks ? "through a real SOCKS5 proxy (the Tor route, lib/http1.ts)" : "direct (fetch)";
  test(`${route}: 50,000,000 bytes more add less than 25 MB to the peak RSS`, async () => {
    const via = socks ? `${proxy.host}:${proxy.port}` : undefined;
    const big = (await run(BIG, via)) as Run & { blobBytes: number };
    expect(big.blobBytes).toBe(50_012_208);
    const double = await run(DOUBLE, via);
    const growth = double.after - big.after;
    console.log(`peak RSS ${mb(big.after)} for ${BIG} bytes, ${mb(double.after)} for ${DOUBLE}: ${mb(growth)} more`);
    expect(growth).toBeLessThan(BIG / 2);
  });
}
