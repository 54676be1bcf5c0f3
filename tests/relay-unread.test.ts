// Issue 8 §2 "Unread /fetch answers" against the real compiled relay: answers nobody reads
// cannot hold much memory (RSS ≤ 600 MB, /health within 5 s, nothing accepted lost), a
// signer has at most --max-inflight-per-uid requests in flight until their answers are sent
// (429 past it, PROTOCOL §7.10), a reader that takes nothing for --stall-timeout is dropped,
// and one that keeps taking is not, however long its download lasts. Build first: ./build.sh
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import * as c from "../lib/crypto.ts";
import { b64uencode } from "../lib/encoding.ts";
import { FETCH_LIMIT_MAX } from "../lib/wire.ts";
import { fillRoom, openUnread } from "../bench/abuse/fetch-unread.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { pair, signed, signHeaders, type TestUser } from "./helpers/signer.ts";

const MB = 1024 * 1024;
const RSS_BOUND = 600 * MB; // issue 8 §2: at least 4× below today's figure
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

/** A download whose first bytes arrived and whose rest is never read. */
async function stuckDownload(port: number, u: TestUser, path: string): Promise<Socket> {
  let started!: () => void;
  const first = new Promise<void>((r) => (started = r));
  const s = rawGet(port, u, path, (sock, chunk) => {
    expect(chunk.subarray(0, 12).toString("latin1")).toBe("HTTP/1.1 200");
    sock.pause();
    sock.removeAllListeners("data");
    started();
  });
  await first;
  return s;
}

/** The body of a chunked HTTP/1.1 answer. */
function dechunk(raw: Buffer): Buffer {
  let at = raw.indexOf("\r\n\r\n") + 4;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    const size = parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    if (size === 0) return Buffer.concat(parts);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
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
    const { a, b, roomId } = await pair(relay.url);
    // 24 MB: far more than the socket buffers take, so an unread download stays in flight.
    const url = await uploadFile(relay.url, a, roomId, c.randomBytes(24 * MB));
    const fetchAs = (u: TestUser) => signed(relay.url, u, "POST", "/fetch", { room_id: roomId });

    const held = [await stuckDownload(relay.port, a, url)];
    expect((await fetchAs(a)).status).toBe(200); // 1 held + this one: at the limit
    held.push(await stuckDownload(relay.port, a, url));
    const refused = await fetchAs(a); // 2 held + this one: past it
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: string }).error).toBe("rate_limited");
    expect((await fetchAs(b)).status).toBe(200); // the limit is per signer

    // Nobody reads the two downloads: after the stall timeout they are dropped and a's slots are free.
    const deadline = Date.now() + 30_000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await Bun.sleep(500);
      const r = await fetchAs(a);
      status = r.status;
      await r.arrayBuffer();
    }
    expect(status).toBe(200);
    for (const s of held) s.destroy();
  }, 60_000);

  test("a slow reader that keeps taking is not dropped, though its download lasts past the stall timeout", async () => {
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
      s.on("end", () => resolve(Buffer.concat(parts)));
      s.on("close", () => resolve(Buffer.concat(parts)));
      s.setTimeout(30_000, () => reject(new Error("download did not finish")));
      // The answer is complete when the final chunk arrived; the connection may stay open.
      const check = setInterval(() => {
        const all = Buffer.concat(parts);
        if (all.subarray(-5).toString("latin1") === "0\r\n\r\n") {
          clearInterval(check);
          s.destroy();
          resolve(all);
        }
      }, 100);
    });
    expect(Date.now() - started).toBeGreaterThan(3000 * 1.5); // it outlived the stall timeout
    expect(raw.subarray(0, 12).toString("latin1")).toBe("HTTP/1.1 200");
    expect(c.sha256(dechunk(raw))).toEqual(c.sha256(data));
  }, 60_000);
});
