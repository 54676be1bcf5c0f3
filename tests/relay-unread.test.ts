// Issue 8 §2 "Unread /fetch answers" against the real compiled relay: answers nobody reads
// cannot hold much memory (RSS ≤ 600 MB, /health within 5 s, nothing accepted lost), a
// signer has at most --max-inflight-per-uid requests in flight until their answers are sent
// (429 past it, PROTOCOL §7.10), a reader that takes nothing for --stall-timeout is dropped
// and one that closes frees its slot, and a slow download (sent from disk) is never cut
// short by the stall timeout. Build first: ./build.sh
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import * as c from "../lib/crypto.ts";
import { b64uencode } from "../lib/encoding.ts";
import { FETCH_LIMIT_MAX } from "../lib/wire.ts";
import { fillRoom, openUnread } from "../bench/abuse/fetch-unread.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { pair, signed, signHeaders, type TestUser } from "./helpers/signer.ts";
import { holdUnread, rawSignedPost } from "./helpers/unread.ts";

const MB = 1024 * 1024;
const RSS_BOUND = 600 * MB; // at least 4× below the RSS of a relay without these bounds
const HEALTH_BOUND_MS = 5000;
const relays: RunningRelay[] = [];

afterAll(async () => {
  for (const r of relays) {
    await r.stop();
    r.cleanup();
  }
});

async function relayWith(args: string[] = []): Promise<RunningRelay> {
  const r = await startRelay({ args });
  relays.push(r);
  return r;
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

/** Every row of the room, paged with after_seq (PROTOCOL §7.6.1). */
async function everyRow(base: string, u: TestUser, roomId: string): Promise<string[]> {
  const out: string[] = [];
  let after = 0;
  for (;;) {
    const r = await signed(base, u, "POST", "/fetch", { room_id: roomId, after_seq: after, limit: FETCH_LIMIT_MAX });
    expect(r.status).toBe(200);
    const page = (await r.json()) as { messages: { ciphertext: string; seq: number }[]; more: boolean };
    out.push(...page.messages.map((m) => m.ciphertext));
    if (!page.more) return out;
    after = page.messages.at(-1)!.seq;
  }
}

async function uploadFile(base: string, u: TestUser, roomId: string, data: Uint8Array): Promise<string> {
  const boundary = "b" + b64uencode(c.randomBytes(12));
  const enc = (s: string) => new TextEncoder().encode(s);
  const body = new Uint8Array(
    Buffer.concat([
      enc(`--${boundary}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n${roomId}\r\n`),
      enc(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n`),
      enc("Content-Type: application/octet-stream\r\n\r\n"),
      data,
      enc(`\r\n--${boundary}--\r\n`),
    ]),
  );
  const r = await signed(base, u, "POST", "/file/upload", body, {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { url: string }).url;
}

/** A signed GET on a raw connection; `onData` sees every piece of the answer as it arrives. */
function rawGet(port: number, u: TestUser, path: string, onData: (s: Socket, chunk: Buffer) => void): Socket {
  const h = signHeaders(u, "GET", path, new Uint8Array(0));
  const head = `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  const s = connect(port, "127.0.0.1", () => s.write(head));
  s.on("data", (chunk: Buffer) => onData(s, chunk));
  s.on("error", () => {});
  return s;
}

/** The body of an HTTP/1.1 answer with a Content-Length, or null while it is incomplete. */
function completeBody(raw: Buffer): Buffer | null {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const m = /\r\ncontent-length: (\d+)\r\n/i.exec(raw.subarray(0, end + 2).toString("latin1"));
  if (!m) throw new Error("no Content-Length");
  const body = raw.subarray(end + 4);
  return body.length >= Number(m[1]) ? body : null;
}

describe("unread /fetch answers", () => {
  test("100 unread answers of a room of 200 maximum-size rows: RSS ≤ 600 MB, /health within 5 s, nothing lost", async () => {
    const relay = await relayWith();
    const room = await fillRoom(relay.url, 200);
    expect(room.accepted).toHaveLength(200);
    const unread = openUnread(relay.url, room.a, room.roomId, 100);
    let peak = rssBytes(relay.proc.pid);
    let slowest = 0;
    try {
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        const t0 = performance.now();
        const h = await fetch(`${relay.url}/health`, { signal: AbortSignal.timeout(HEALTH_BOUND_MS) });
        expect(h.status).toBe(200);
        await h.arrayBuffer();
        slowest = Math.max(slowest, performance.now() - t0);
        peak = Math.max(peak, rssBytes(relay.proc.pid));
        await Bun.sleep(100);
      }
    } finally {
      unread.close();
    }
    expect(slowest).toBeLessThan(HEALTH_BOUND_MS);
    expect(peak).toBeLessThanOrEqual(RSS_BOUND);
    // Answers of the same signer are served again once those sockets are gone; every row is there.
    expect((await everyRow(relay.url, room.a, room.roomId)).sort()).toEqual([...room.accepted].sort());
  }, 60_000);
});

describe("--max-inflight-per-uid and --stall-timeout", () => {
  test("an answer counts until sent: at the limit 200, past it 429 with Retry-After; a stalled reader frees its slot", async () => {
    const relay = await relayWith(["--max-inflight-per-uid", "2", "--stall-timeout", "5"]);
    // ~4 MiB answers: more than a tiny-window socket and the relay's send buffer take.
    const room = await fillRoom(relay.url, 60, 1); // one send at a time: under the limit
    expect(room.accepted).toHaveLength(60);
    const fetchAs = (u: TestUser) => signed(relay.url, u, "POST", "/fetch", { room_id: room.roomId, limit: 1 });
    const big = () => rawSignedPost(room.a, "/fetch", { room_id: room.roomId, limit: FETCH_LIMIT_MAX });

    const one = await holdUnread(relay.port, [big()]);
    expect(one.statuses).toEqual({ "200": 1 });
    expect((await fetchAs(room.a)).status).toBe(200); // 1 unsent + this one: at the limit
    const two = await holdUnread(relay.port, [big()]);
    expect(two.statuses).toEqual({ "200": 1 });
    const refused = await fetchAs(room.a); // 2 unsent + this one: past it
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: string }).error).toBe("rate_limited");
    expect((await fetchAs(room.b)).status).toBe(200); // the limit is per signer

    // Nobody reads the two answers: after the stall timeout they are dropped and a's slots are free.
    const deadline = Date.now() + 30_000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await Bun.sleep(500);
      const r = await fetchAs(room.a);
      status = r.status;
      await r.arrayBuffer();
    }
    expect(status).toBe(200);
    await one.close();
    await two.close();
    expect((await everyRow(relay.url, room.a, room.roomId)).sort()).toEqual([...room.accepted].sort());
  }, 60_000);

  test("closing the connection frees the slot at once", async () => {
    const relay = await relayWith(["--max-inflight-per-uid", "1", "--stall-timeout", "600"]);
    const room = await fillRoom(relay.url, 60, 1);
    expect(room.accepted).toHaveLength(60);
    const held = await holdUnread(relay.port, [rawSignedPost(room.a, "/fetch", { room_id: room.roomId, limit: 200 })]);
    const fetchA = () => signed(relay.url, room.a, "POST", "/fetch", { room_id: room.roomId, limit: 1 });
    expect((await fetchA()).status).toBe(429);
    await held.close();
    const deadline = Date.now() + 15_000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await Bun.sleep(200);
      status = (await fetchA()).status;
    }
    expect(status).toBe(200); // long before the 600 s stall timeout
  }, 60_000);

  test("a slow 24 MB download outlives the stall timeout, with its Content-Length (sent from disk)", async () => {
    const relay = await relayWith(["--stall-timeout", "3"]);
    const { a, b, roomId } = await pair(relay.url);
    const data = c.randomBytes(24 * MB);
    const url = await uploadFile(relay.url, a, roomId, data);
    const started = Date.now();
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      let sincePause = 0;
      const s = rawGet(relay.port, b, url, (sock, chunk) => {
        parts.push(chunk);
        sincePause += chunk.length;
        if (sincePause >= 4 * MB) {
          sincePause = 0;
          sock.pause(); // 1 s without reading, 4 MB at a time: well within the 3 s stall timeout
          setTimeout(() => sock.resume(), 1000);
        }
      });
      s.on("close", () => reject(new Error("the relay closed the download")));
      s.setTimeout(30_000, () => reject(new Error("download did not finish")));
      // The answer is complete when Content-Length bytes arrived; the connection may stay open.
      const check = setInterval(() => {
        const all = Buffer.concat(parts);
        if (completeBody(all)) {
          clearInterval(check);
          resolve(all);
          s.destroy();
        }
      }, 100);
    });
    expect(Date.now() - started).toBeGreaterThan(3000 * 1.5); // it outlived the stall timeout
    expect(raw.subarray(0, 12).toString("latin1")).toBe("HTTP/1.1 200");
    expect(c.sha256(completeBody(raw)!)).toEqual(c.sha256(data));
  }, 60_000);
});
