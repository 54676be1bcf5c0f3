// Test helper (a child process of tests/v3-files-memory.test.ts): sends a file of SIZE bytes through
// a v3 conversation on the relay at URL (PROTOCOL-v3 §V9, client/core/v3-files.ts) and receives
// it again, then prints one JSON line with its peak RSS (VmHWM) before and after the transfer.
//   bun tests/helpers/v3-files-mem.ts <relay url> <work folder with big.bin> <size> [<socks host:port>]
import * as fs from "node:fs";
import { join } from "node:path";
import * as c from "../../lib/crypto.ts";
import { Transport } from "../../lib/transport.ts";
import { RelayClient } from "../../client/net/relay-client.ts";
import { downloadFileV3, prepareFileV3, uploadFileV3 } from "../../client/core/v3-files.ts";
import { makeUser, type TestUser } from "./signer.ts";

const [url, work, sizeText, socks] = process.argv.slice(2);
if (!url || !work || !sizeText) throw new Error("usage: v3-files-mem.ts <relay url> <work folder> <size> [socks]");
const size = Number(sizeText);

/** Peak resident memory of this process so far, in bytes (Linux /proc). */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  if (!m) throw new Error("no VmHWM in /proc/self/status");
  return Number(m[1]) * 1024;
}

const transport = socks
  ? new Transport({ via: "tor", proxyHost: socks.split(":")[0]!, proxyPort: Number(socks.split(":")[1]) })
  : new Transport({ via: "direct" });
const pins = new Set<string>();
const client = (u: TestUser) =>
  new RelayClient({
    baseUrl: url,
    transport,
    signer: { uid: u.uid, signSeed: u.signSeed, encPriv: u.encPriv },
    sigV3: {
      pinned: (o) => pins.has(o),
      pin: (o) => void pins.add(o),
      unpin: (o) => void pins.delete(o),
      confirmDowngrade: async () => false,
    },
  });

const a = makeUser();
const b = makeUser();
const ca = client(a);
const cb = client(b);
await ca.register(a.uid, a.pubB64, a.signPubB64u);
await cb.register(b.uid, b.pubB64, b.signPubB64u);
const { roomId } = c.pairKeys(a, b.encPub);
await ca.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });

// The file to send, made by the test.
const src = join(work, "big.bin");
if (fs.statSync(src).size !== size) throw new Error(`${src} is not ${size} bytes`);

const before = peakRss();
const t0 = performance.now();
const inner = await uploadFileV3(ca, roomId, prepareFileV3(src));
const t1 = performance.now();
const afterUpload = peakRss();
const target = join(work, "received.bin");
await downloadFileV3(cb, inner, target, { force: false });
const t2 = performance.now();
const after = peakRss();
console.log(
  JSON.stringify({
    before,
    afterUpload,
    after,
    url: inner.url,
    src,
    target,
    uploadMs: Math.round(t1 - t0),
    downloadMs: Math.round(t2 - t1),
  }),
);
