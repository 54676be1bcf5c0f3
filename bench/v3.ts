// Protocol v3 benchmark (not a test): `node_modules/.bin/bun bench/v3.ts` or `./build.sh bench v3`.
// Prints the speed of the §V4 handshake, the §V5 ratchet (in a chain, and with a KEM step on every
// message), the wire overhead per message (§V7) and §V9 file streams against v2's file format.
import * as c from "../lib/crypto.ts";
import { utf8 } from "../lib/encoding.ts";
import { checkBundle } from "../lib/v3/bundle.ts";
import { dhPair } from "../lib/v3/dh.ts";
import { decryptFileStream, encryptFileStream } from "../lib/v3/file.ts";
import type { PrekeyStore } from "../lib/v3/handshake.ts";
import { type Session, decrypt, encrypt, initiate } from "../lib/v3/session.ts";
import { VERSION } from "../lib/version.ts";
import { makeBundleBody } from "../tests/helpers/v3fixture.ts";

const draw = (n: number) => c.randomBytes(n);
const row = (name: string, value: string) => console.log(`${name.padEnd(44)} ${value}`);

/** Mean ms per call of fn over `n` calls after 5 warm-up calls. */
function msPer(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 5; i++) fn(i);
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - t) / n;
}
const show = (ms: number) => `${ms.toFixed(3)} ms  (${Math.round(1000 / ms).toLocaleString("en-US")}/s)`;

console.log(`phantom ${VERSION} v3 benchmark — bun ${Bun.version}, ${process.platform}/${process.arch}`);
const f = makeBundleBody();
const bundle = checkBundle(f.body, { uid: f.bob.uid });
const store: PrekeyStore = {
  spk: (id) => (id === f.spk.id ? f.spk.priv : null),
  opk: (id) => (id === f.opk.id ? f.opk.priv : null),
  pqspk: (id) => (id === f.pqspk.id ? f.pqspk.seed : null),
  opqk: (id) => (id === f.opqk.id ? f.opqk.seed : null),
  dropped: () => false,
};
const alice = dhPair(f.alice.encPriv);
const bob = dhPair(f.bob.encPriv);
const ctxBob = (sessions: Session[]) => ({ sessions, ourIk: bob, peerIk: alice.pub, prekeys: store });
const ctxAlice = (sessions: Session[]) => ({ sessions, ourIk: alice, peerIk: bob.pub, prekeys: store });
const small = utf8.encode(JSON.stringify({ t: "text", id: "AAAAAAAAAAAAAAAA", body: "x".repeat(60) })); // ~100 B
const big = new Uint8Array(16384 - 4).fill(0x61); // 16 KiB bucket

row("§V3.3 bundle check (4 sigs, 2 ek checks)", show(msPer(200, () => checkBundle(f.body, { uid: f.bob.uid }))));
row("§V4 initiator (handshake + ratchet init)", show(msPer(200, () => initiate(bundle, alice, draw))));
const first = encrypt(initiate(bundle, alice, draw), small).wire;
row("§V4 responder (handshake + first decrypt)", show(msPer(200, () => decrypt(ctxBob([]), first, draw))));

for (const [label, inner] of [
  ["100 B", small],
  ["16 KiB", big],
] as const) {
  // In a chain: alice sends N messages on one chain, bob decrypts them in order.
  let a = initiate(bundle, alice, draw);
  const wires: Uint8Array[] = [];
  const n = 2000;
  const encMs = msPer(n, () => {
    const r = encrypt(a, inner);
    a = r.session;
    wires.push(r.wire);
  });
  let b = decrypt(ctxBob([]), wires[0]!, draw).session;
  let next = 1;
  const decMs = msPer(n - 10, () => {
    b = decrypt(ctxBob([b]), wires[next++]!, draw).session;
  });
  row(`§V5 in-chain encrypt ${label}`, show(encMs));
  row(`§V5 in-chain decrypt ${label}`, show(decMs));
  // A KEM step on every message: strict ping-pong.
  let sa = initiate(bundle, alice, draw);
  let m = encrypt(sa, inner);
  sa = m.session;
  let sb = decrypt(ctxBob([]), m.wire, draw).session;
  let encT = 0;
  let decT = 0;
  const rounds = 200;
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const rb = encrypt(sb, inner);
    encT += performance.now() - t;
    sb = rb.session;
    t = performance.now();
    sa = decrypt(ctxAlice([sa]), rb.wire, draw).session;
    decT += performance.now() - t;
    t = performance.now();
    const ra = encrypt(sa, inner);
    encT += performance.now() - t;
    sa = ra.session;
    t = performance.now();
    sb = decrypt(ctxBob([sb]), ra.wire, draw).session;
    decT += performance.now() - t;
  }
  row(`§V5 KEM step each message: decrypt ${label}`, show(decT / (2 * rounds)));
  row(`§V5 KEM step each message: encrypt ${label}`, show(encT / (2 * rounds)));
  const type1 = encrypt(sb, inner).wire.length;
  row(
    `§V7 wire overhead ${label} (type 2 / 1 with ct)`,
    `${first.length - small.length} / ${type1 - inner.length} bytes over a ${inner.length}-byte inner`,
  );
}

// §V9 file streams vs v2's one-shot file blob (lib/crypto encryptFile, PROTOCOL §5.3).
const size = 32 * 1024 * 1024;
const plain = c.randomBytes(size);
const key = c.randomBytes(32);
const pieces = (b: Uint8Array) =>
  Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536));
let t = performance.now();
const out: Uint8Array[] = [];
for await (const p of encryptFileStream(key, pieces(plain))) out.push(p);
const v3enc = performance.now() - t;
const blob = new Uint8Array(Buffer.concat(out));
t = performance.now();
let total = 0;
for await (const p of decryptFileStream(key, pieces(blob), size)) total += p.length;
const v3dec = performance.now() - t;
const nonce = c.randomBytes(12);
t = performance.now();
const v2blob = c.encryptFile(key, nonce, plain);
const v2enc = performance.now() - t;
t = performance.now();
c.decryptFile(key, nonce, v2blob);
const v2dec = performance.now() - t;
const mbs = (ms: number) => `${((size / 1048576) * (1000 / ms)).toFixed(0)} MB/s`;
if (total !== size) throw new Error("bench: file round trip");
row("§V9 file encrypt 32 MiB (v3 stream / v2)", `${mbs(v3enc)} / ${mbs(v2enc)}`);
row("§V9 file decrypt 32 MiB (v3 stream / v2)", `${mbs(v3dec)} / ${mbs(v2dec)}`);
