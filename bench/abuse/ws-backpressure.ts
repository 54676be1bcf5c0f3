// Attack (WebSocket backpressure): one registered identity opens 2,000 live
// sockets (PROTOCOL §7.9) to its rooms that never read (raw TCP sockets paused after the
// handshake), then sends 20 maximum-size messages (§7.6: 64 KiB of ciphertext) to each room,
// so the relay must buffer every frame for every socket. The sockets are spread round-robin over
// 32 rooms: enough for one identity to reach the default per-UID cap (256 = 32 × 8 per room)
// on a capped relay; an uncapped relay takes all 2,000 (the issue's "2,000 sockets of one
// identity plus 20 maximum-size sends": each socket still gets 20 frames). v2 requests only.
import { maxCiphertext, openNonReader, roomsOf } from "../../tests/helpers/live-sockets.ts";
import { readFrames, type RawUpgrade } from "../../tests/helpers/raw-ws.ts";
import { makeUser, register, signed, type TestUser } from "../../tests/helpers/signer.ts";
import { runLimited } from "../relay-load.ts";
import type { Attack, AttackContext } from "./attack.ts";

const SOCKETS = 2000;
const ROOMS = 32;
const SENDS_PER_ROOM = 20;
const OPEN_CONCURRENCY = 64;
const SEND_CONCURRENCY = 8;
/** How long each socket is read at the end to see whether the relay closed it (and how). */
const READ_AT_END_MS = 1500;

export interface FloodOptions {
  sockets: number;
  rooms: number;
  sendsPerRoom: number;
}

export interface Flood {
  attacker: TestUser;
  rooms: string[];
  /** Sockets upgraded (101), still unread. */
  open: RawUpgrade[];
  /** Refused upgrades by HTTP status. */
  refused: Map<number, number>;
  /** Upgrades that got no answer. */
  failed: number;
  /** Every send the relay accepted. */
  sent: { roomId: string; ts: number; ciphertext: string }[];
}

/** The attack itself (also used, smaller, by tests/relay-live-limits.test.ts). */
export async function flood(url: string, o: FloodOptions): Promise<Flood> {
  const attacker = makeUser();
  await register(url, attacker);
  const rooms = (await roomsOf(url, attacker, o.rooms)).map((r) => r.roomId);
  const f: Flood = { attacker, rooms, open: [], refused: new Map(), failed: 0, sent: [] };
  await runLimited(
    Array.from({ length: o.sockets }, (_, i) => async () => {
      try {
        const up = await openNonReader(url, attacker, rooms[i % rooms.length]!);
        if (up.status === 101) f.open.push(up);
        else f.refused.set(up.status, (f.refused.get(up.status) ?? 0) + 1);
      } catch {
        f.failed++;
      }
    }),
    OPEN_CONCURRENCY,
  );
  await runLimited(
    rooms.flatMap((roomId) =>
      Array.from({ length: o.sendsPerRoom }, () => async () => {
        const ciphertext = maxCiphertext();
        const r = await signed(url, attacker, "POST", "/send", { room_id: roomId, ciphertext });
        if (r.status === 200) f.sent.push({ roomId, ts: ((await r.json()) as { ts: number }).ts, ciphertext });
        else await r.arrayBuffer();
      }),
    ),
    SEND_CONCURRENCY,
  );
  return f;
}

async function run(ctx: AttackContext): Promise<void> {
  // Opening and sending run to the end (bounded work, so every socket gets its frames even on
  // a slow machine); then everything is held unread for what is left of the time.
  const f = await flood(ctx.url, { sockets: SOCKETS, rooms: ROOMS, sendsPerRoom: SENDS_PER_ROOM });
  const refusedText = [...f.refused].map(([s, n]) => `${n} × ${s}`).join(", ") || "none";
  ctx.note(`${f.open.length} of ${SOCKETS} sockets accepted (refused: ${refusedText}; no answer: ${f.failed})`);
  ctx.note(
    `${f.sent.length} of ${f.rooms.length * SENDS_PER_ROOM} maximum-size sends accepted (${f.rooms.length} rooms)`,
  );
  await new Promise<void>((r) => (ctx.signal.aborted ? r() : ctx.signal.addEventListener("abort", () => r())));
  const ends = await Promise.all(f.open.map((o) => readFrames(o.socket, READ_AT_END_MS)));
  const closed1013 = ends.filter((e) => e.closeCode === 1013).length;
  const otherClose = ends.filter((e) => e.closeCode !== null && e.closeCode !== 1013).length;
  ctx.note(
    `at the end: ${closed1013} sockets closed by the relay with 1013, ${otherClose} with another code, ` +
      `${ends.length - closed1013 - otherClose} without a close frame in ${READ_AT_END_MS} ms of reading`,
  );
}

export const wsBackpressure: Attack = {
  name: "ws-backpressure",
  what: `one identity: ${SOCKETS} live sockets that never read over ${ROOMS} rooms, then ${SENDS_PER_ROOM} maximum-size sends per room`,
  run,
};

/** The same with the live-socket caps raised so every socket is accepted: the send-buffer bound alone. */
export const wsBackpressureUncapped: Attack = {
  ...wsBackpressure,
  name: "ws-uncapped",
  what: `${wsBackpressure.what}; relay caps raised to ${SOCKETS} (the send-buffer bound alone)`,
  relayEnv: { PHANTOM_RELAY_WS_MAX_PER_UID: String(SOCKETS), PHANTOM_RELAY_WS_MAX_PER_ROOM: String(SOCKETS) },
};
