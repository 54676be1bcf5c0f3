// Benchmark load client: registered users joined in pair rooms, §6 request
// signing with a cached native Ed25519 key, and the /send throughput run.
import * as nc from "node:crypto";
import * as c from "../lib/crypto.ts";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import { canonicalRequest, H_NONCE, H_SIG, H_TS, H_UID } from "../lib/wire.ts";
import { cpuSeconds, ownCpuSeconds, percentile } from "./relay-proc.ts";

export interface BenchUser {
  uid: string;
  pubB64: string;
  signPubB64u: string;
  key: nc.KeyObject;
}

export interface Pair {
  roomId: string;
  members: [BenchUser, BenchUser];
}

function newUser(): { user: BenchUser; id: c.Identity } {
  const id = c.generateIdentity();
  const key = nc.createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: b64uencode(id.signSeed), x: b64uencode(id.signPub) },
    format: "jwk",
  });
  const user = { uid: c.uidOf(id.encPub), pubB64: b64encode(id.encPub), signPubB64u: b64uencode(id.signPub), key };
  return { user, id };
}

const enc = new TextEncoder();

/** PROTOCOL §6 headers for one request, signed now with a fresh nonce. */
export function sign(u: BenchUser, method: string, path: string, body: Uint8Array): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = b64uencode(new Uint8Array(nc.randomBytes(12)));
  const digest = new Uint8Array(nc.createHash("sha256").update(body).digest());
  const sig = nc.sign(null, enc.encode(canonicalRequest(method, path, u.uid, ts, nonce, digest)), u.key);
  return { [H_UID]: u.uid, [H_TS]: ts, [H_NONCE]: nonce, [H_SIG]: b64uencode(new Uint8Array(sig)) };
}

async function post(base: string, path: string, body: unknown, u?: BenchUser): Promise<void> {
  const bytes = enc.encode(JSON.stringify(body));
  const headers = { "content-type": "application/json", ...(u ? sign(u, "POST", path, bytes) : {}) };
  const r = await fetch(base + path, { method: "POST", headers, body: bytes });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

/** `n` pairs of registered users, each pair joined in its §4.1 room by /ke/push. */
export async function makePairs(base: string, n: number, register: boolean): Promise<Pair[]> {
  const pairs: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = [newUser(), newUser()];
    pairs.push({ roomId: c.pairKeys(x.id, y.id.encPub).roomId, members: [x.user, y.user] });
  }
  if (!register) return pairs;
  const jobs = pairs.map((p) => async () => {
    for (const u of p.members)
      await post(base, "/register", { uid: u.uid, pub_key: u.pubB64, sign_pub: u.signPubB64u });
    const [a, b] = p.members;
    await post(base, "/ke/push", { from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: p.roomId }, a);
  });
  await runLimited(jobs, 16);
  return pairs;
}

export async function runLimited(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

/** A signed /send request, ready to go (its signature is made when this is called). */
export interface Prepared {
  headers: Record<string, string>;
  body: Uint8Array;
}

export function prepareSend(u: BenchUser, roomId: string, ciphertext: string): Prepared {
  const body = enc.encode(JSON.stringify({ room_id: roomId, ciphertext }));
  return { headers: { "content-type": "application/json", ...sign(u, "POST", "/send", body) }, body };
}

export async function postPrepared(base: string, p: Prepared): Promise<void> {
  const r = await fetch(`${base}/send`, { method: "POST", headers: p.headers, body: p.body });
  if (r.status !== 200) throw new Error(`/send: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

export interface Throughput {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  clientCpu: number; // share of one core used by the load client
  serverCpu: number; // share of one core used by the server
}

/** A 100-byte §5.1-sized message body, b64 (the relay never decrypts it). */
export const ciphertext = () => b64encode(c.randomBytes(100));

/**
 * `clients` concurrent loops, each sending /send for its own user and room for
 * `seconds`. `presigned` requests are signed before the clock starts (the
 * replay window is 300 s, so they stay valid), otherwise each is signed just
 * before it is sent and the signing cost is part of the run.
 */
export async function sendThroughput(
  base: string,
  serverPid: number,
  pairs: Pair[],
  clients: number,
  seconds: number,
  presigned: number,
): Promise<Throughput> {
  const senders = Array.from({ length: clients }, (_, i) => {
    const p = pairs[Math.floor(i / 2) % pairs.length]!;
    return { user: p.members[i % 2]!, roomId: p.roomId };
  });
  const queues = senders.map((s) =>
    Array.from({ length: Math.ceil(presigned / clients) }, () => prepareSend(s.user, s.roomId, ciphertext())),
  );
  const latencies: number[] = [];
  const cpu0 = [ownCpuSeconds(), cpuSeconds(serverPid)];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    senders.map(async (s, i) => {
      const queue = queues[i]!;
      while (performance.now() < end) {
        const req = queue.pop() ?? prepareSend(s.user, s.roomId, ciphertext());
        const start = performance.now();
        await postPrepared(base, req);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = [ownCpuSeconds(), cpuSeconds(serverPid)];
  latencies.sort((x, y) => x - y);
  return {
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests: latencies.length,
    clientCpu: (cpu1[0]! - cpu0[0]!) / elapsed,
    serverCpu: (cpu1[1]! - cpu0[1]!) / elapsed,
  };
}
