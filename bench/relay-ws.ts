// Benchmark of live delivery (PROTOCOL §7.9): many signed room sockets, the
// server's memory per idle socket, and the time from /send to the frame at
// the other member's socket.
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

/** Server RSS before and after opening the sockets (they then stay open for the latency run). */
export async function idleSocketMemory(
  base: string,
  pid: number,
  pairs: Pair[],
  pending: Pending,
): Promise<{ mem: IdleMemory; sockets: RoomSocket[] }> {
  await Bun.sleep(1000);
  const before = rssBytes(pid);
  const sockets = await openSockets(base, pairs, pending);
  await Bun.sleep(1500); // let the server settle (allocator, GC) with every socket idle
  const after = rssBytes(pid);
  return { mem: { sockets: sockets.length, before, after, perSocket: (after - before) / sockets.length }, sockets };
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
 * `messages` sends from random pairs, `inFlight` at a time; each latency is
 * from just before the signed /send leaves to the frame's arrival at the other
 * member's socket (one clock: the load client's).
 */
export async function deliveryLatency(
  base: string,
  pairs: Pair[],
  pending: Pending,
  messages: number,
  inFlight: number,
): Promise<Delivery> {
  const latencies: number[] = [];
  let left = messages;
  let lost = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) {
        const pair = Math.floor(Math.random() * pairs.length);
        const from = Math.floor(Math.random() * 2);
        const p = pairs[pair]!;
        const ct = ciphertext();
        const req = prepareSend(p.members[from]!, p.roomId, ct);
        const received = new Promise<number>((done) => pending.set(ct, { t0: 0, pair, member: 1 - from, done }));
        pending.get(ct)!.t0 = performance.now();
        await postPrepared(base, req);
        const ms = await Promise.race([received, Bun.sleep(LOST_AFTER_MS).then(() => -1)]);
        if (ms < 0) {
          pending.delete(ct);
          lost++;
        } else latencies.push(ms);
      }
    }),
  );
  latencies.sort((x, y) => x - y);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1)!,
    messages: latencies.length,
    lost,
  };
}

export function closeAll(sockets: RoomSocket[]): void {
  for (const s of sockets) s.ws.close();
}
