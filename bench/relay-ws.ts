// Benchmark of live delivery (PROTOCOL §7.9): many signed room sockets, the
// server's memory per idle socket, and the time from /send to the frame at
// the other member's socket.
import { DEFAULTS } from "../relay/defaults.ts";
import { ciphertext, postPrepared, prepareSend, runLimited, sign, type Pair } from "./relay-load.ts";
import { percentile, rssBytes } from "./relay-proc.ts";

export interface RoomSocket {
  ws: WebSocket;
  pair: number;
  member: number;
}

/** Pending sends by ciphertext: when the send started and which socket must receive it. */
type Pending = Map<string, { t0: number; pair: number; member: number; done: (ms: number) => void }>;

/** One socket per member of every pair: 2 × pairs.length sockets. */
export async function openSockets(base: string, pairs: Pair[], pending: Pending): Promise<RoomSocket[]> {
  const wsBase = base.replace(/^http/, "ws");
  const sockets: RoomSocket[] = [];
  const jobs = pairs.flatMap((p, pair) =>
    p.members.map((u, member) => async () => {
      const path = `/ws/${p.roomId}`;
      const ws = new WebSocket(wsBase + path, { headers: sign(u, "GET", path, new Uint8Array(0)) });
      ws.onmessage = (e) => {
        const at = performance.now();
        const ct = (JSON.parse(String(e.data)) as { ciphertext?: string }).ciphertext ?? "";
        const want = pending.get(ct);
        if (want && want.pair === pair && want.member === member) {
          pending.delete(ct);
          want.done(at - want.t0);
        }
      };
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`socket ${pair}/${member} failed to open`));
      });
      sockets.push({ ws, pair, member });
    }),
  );
  await runLimited(jobs, 64);
  return sockets;
}

export interface IdleMemory {
  sockets: number;
  before: number;
  after: number;
  perSocket: number;
}

/** Median of RSS samples over ~2 s, so a garbage collection in between does not decide the result. */
async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    await Bun.sleep(200);
    samples.push(rssBytes(pid));
  }
  return samples.sort((x, y) => x - y)[samples.length >> 1]!;
}

/** The relay's default cap of live sockets per room (PROTOCOL §7.10); the idle sockets respect it. */
export const SOCKETS_PER_ROOM = DEFAULTS.wsMaxPerRoom;

/**
 * Server RSS before and after opening `total` idle sockets: one per member of
 * every pair (kept open for the latency run), and extra sockets of the same
 * members to reach `total`, closed again afterwards. The extra sockets fill the
 * pairs' rooms up to SOCKETS_PER_ROOM (SOCKETS_PER_ROOM / 2 per member, within the
 * per-UID cap too), then rooms of `spare` pairs.
 */
export async function idleSocketMemory(
  base: string,
  pid: number,
  pairs: Pair[],
  pending: Pending,
  total: number,
  spare: Pair[] = [],
): Promise<{ mem: IdleMemory; sockets: RoomSocket[] }> {
  const before = await settledRss(pid);
  const sockets = await openSockets(base, pairs, pending);
  const slots: Pair[] = [];
  for (let round = 1; round < SOCKETS_PER_ROOM / 2; round++) slots.push(...pairs);
  for (let round = 0; round < SOCKETS_PER_ROOM / 2; round++) slots.push(...spare);
  const want = Math.ceil((total - sockets.length) / 2);
  if (want > slots.length) {
    throw new Error(
      `${total} idle sockets need ${Math.ceil(total / SOCKETS_PER_ROOM)} rooms (${SOCKETS_PER_ROOM} per room)`,
    );
  }
  const extra = want > 0 ? await openSockets(base, slots.slice(0, want), new Map()) : [];
  const after = await settledRss(pid);
  closeAll(extra);
  const n = sockets.length + extra.length;
  return { mem: { sockets: n, before, after, perSocket: (after - before) / n }, sockets };
}

/** Pairs beyond `pairs` that `total` idle sockets need at SOCKETS_PER_ROOM per room. */
export function sparePairsFor(total: number, pairs: number): number {
  return Math.max(0, Math.ceil(total / SOCKETS_PER_ROOM) - pairs);
}

export interface Delivery {
  p50: number;
  p99: number;
  max: number;
  messages: number;
  /** Frames that never reached the other member within LOST_AFTER_MS. */
  lost: number;
}

const LOST_AFTER_MS = 5000;

/**
 * One send from a random member of a random pair; resolves with the time from
 * just before the signed /send leaves to the frame's arrival at the other
 * member's socket (one clock: the load client's), or -1 if it never came.
 */
async function deliverOne(base: string, pairs: Pair[], pending: Pending): Promise<number> {
  const pair = Math.floor(Math.random() * pairs.length);
  const from = Math.floor(Math.random() * 2);
  const p = pairs[pair]!;
  const ct = ciphertext();
  const req = prepareSend(p.members[from]!, p.roomId, ct);
  const received = new Promise<number>((done) => pending.set(ct, { t0: 0, pair, member: 1 - from, done }));
  pending.get(ct)!.t0 = performance.now();
  await postPrepared(base, req);
  const ms = await Promise.race([received, Bun.sleep(LOST_AFTER_MS).then(() => -1)]);
  if (ms < 0) pending.delete(ct);
  return ms;
}

function summary(results: number[]): Delivery {
  const latencies = results.filter((x) => x >= 0).sort((x, y) => x - y);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1)!,
    messages: latencies.length,
    lost: results.length - latencies.length,
  };
}

/** `messages` sends, one at a time. */
export async function deliverySequential(base: string, pairs: Pair[], pending: Pending, messages: number) {
  const results: number[] = [];
  for (let i = 0; i < messages; i++) results.push(await deliverOne(base, pairs, pending));
  return summary(results);
}

/**
 * Open loop: sends start on a fixed schedule of `rate` per second for
 * `seconds`, whether or not earlier ones finished, so a slow server cannot
 * hide its queueing by slowing the client down.
 */
export async function deliveryAtRate(base: string, pairs: Pair[], pending: Pending, rate: number, seconds: number) {
  const runs: Promise<number>[] = [];
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  while (runs.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
    while (runs.length < due) runs.push(deliverOne(base, pairs, pending));
    await Bun.sleep(2);
  }
  return summary(await Promise.all(runs));
}

export function closeAll(sockets: RoomSocket[]): void {
  for (const s of sockets) s.ws.close();
}
