// relay/inflight.ts on an in-process Bun.serve: a tracked answer counts for its signer until
// it has been read to the end; a refusal, a thrown error and a small answer release at once.
import { afterAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { connect, type Socket } from "node:net";
import type { RequestContext } from "./context.ts";
import { RelayError } from "./errors.ts";
import { InFlight } from "./inflight.ts";
import { messagesAnswer } from "./json-stream.ts";

const UID = "u".repeat(28);
const inflight = new InFlight(2, 60_000, 60);
const row = (seq: number, size = 1_000_000) => ({ ts: 1, ciphertext: "A".repeat(size), seq });
// ~40 MB of JSON: more than loopback socket buffers take off the server's hands.
const rows = Array.from({ length: 40 }, (_, i) => row(i + 1));

const server: Server<undefined> = Bun.serve({
  port: 0,
  async fetch(req, srv) {
    const ctx = { server: srv } as unknown as RequestContext;
    const kind = new URL(req.url).pathname;
    try {
      return (
        (await inflight.serve(req, ctx, () => {
          ctx.admit!(UID);
          if (kind === "/throw") throw new RelayError(403, "forbidden", "no");
          if (kind === "/small") return new Response("{}");
          return messagesAnswer([...rows]);
        })) ?? new Response(null, { status: 500 })
      );
    } catch (e) {
      const r = e as RelayError;
      return new Response(r.code, { status: r.status, headers: r.headers });
    }
  },
});

afterAll(() => server.stop(true));
const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

/** A GET whose answer is read only as far as its status line, until resume() or destroy(). */
async function unread(path: string): Promise<{ status: string; socket: Socket; received: () => Buffer }> {
  const parts: Buffer[] = [];
  let first!: (s: string) => void;
  const status = new Promise<string>((r) => (first = r));
  const socket = connect(server.port!, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`));
  socket.on("data", (chunk: Buffer) => {
    if (parts.length === 0) {
      socket.pause();
      first(chunk.subarray(9, 12).toString("latin1"));
    }
    parts.push(chunk);
  });
  return { status: await status, socket, received: () => Buffer.concat(parts) };
}

test("an answer counts until its body is read; past the limit 429 with Retry-After", async () => {
  const a = await unread("/big");
  const b = await unread("/big");
  expect([a.status, b.status]).toEqual(["200", "200"]);
  await Bun.sleep(200);
  expect(inflight.count(UID)).toBe(2); // their answers are not sent yet
  const c = await fetch(url("/big"));
  expect(c.status).toBe(429);
  expect(c.headers.get("retry-after")).toBe("1");
  a.socket.resume(); // read a to its end
  b.socket.destroy(); // b's reader goes away
  for (let i = 0; i < 500 && inflight.count(UID) > 0; i++) await Bun.sleep(10);
  expect(inflight.count(UID)).toBe(0);
  // The slot is free once the last chunk is handed to the socket; its bytes may still be on the way.
  const END = "]}\r\n0\r\n\r\n";
  for (let i = 0; i < 500 && !a.received().subarray(-9).toString("latin1").endsWith(END); i++) await Bun.sleep(10);
  const raw = a.received();
  expect(raw.subarray(-9).toString("latin1")).toBe("]}\r\n0\r\n\r\n"); // the whole chunked answer
  a.socket.destroy();
});

test("a refusal, an error and a small answer release their slot at once", async () => {
  expect((await fetch(url("/throw"))).status).toBe(403);
  const small = await fetch(url("/small"));
  expect(small.headers.get("content-length")).toBe("2"); // sent whole, as before
  expect(inflight.count(UID)).toBe(0);
  await small.text();
});

test("the tail of an answer: more is written after the rows", async () => {
  const text = await messagesAnswer([row(1)], { more: true }).text();
  expect(JSON.parse(text)).toEqual({ messages: [row(1)], more: true });
  expect(await messagesAnswer([]).text()).toBe('{"messages":[]}');
});
