// Requests whose body arrives slowly (a sender behind Tor), against the real compiled
// relay. The times a relay stores must be those of the write, not of the request's
// arrival: a /send answered later must not get an earlier ts than a row already
// stored (a poller asking since_ts = the newest ts it saw would never get it,
// PROTOCOL §7.6), and a file's expiry counts from when it was stored (§8). Build first: ./build.sh
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import * as c from "../lib/crypto.ts";
import { FetchResponse, SendResponse, UploadResponse } from "../lib/wire.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { pair, signed, signHeaders, type TestUser } from "./helpers/signer.ts";
import { multipart } from "./helpers/raw-http.ts";

const FILE_RETENTION_S = 0.36; // FILE_RETENTION_HOURS=0.0001
let relay: RunningRelay;
const sockets: Socket[] = [];

beforeAll(async () => {
  relay = await startRelay({ env: { FILE_RETENTION_HOURS: "0.0001" } });
});

afterAll(async () => {
  for (const s of sockets) s.destroy(); // a failed test may leave a request open
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

const enc = (s: string) => new TextEncoder().encode(s);

/**
 * A signed request on a raw connection with every byte of its body but the last sent.
 * finish() sends the last byte and resolves with the status and the JSON answer.
 */
async function held(u: TestUser, path: string, body: Uint8Array, contentType: string) {
  const sock: Socket = connect({ host: "127.0.0.1", port: relay.port });
  sockets.push(sock);
  await new Promise<void>((r, j) => (sock.once("connect", () => r()), sock.once("error", j)));
  let raw = Buffer.alloc(0);
  sock.on("data", (d: Buffer) => (raw = Buffer.concat([raw, d])));
  const closed = new Promise<void>((r) => sock.once("close", () => r()));
  const headers = { ...signHeaders(u, "POST", path, body), "content-type": contentType };
  let head = `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ${body.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  sock.write(`${head}\r\n`);
  sock.write(body.subarray(0, body.length - 1));
  return {
    async finish(): Promise<{ status: number; json: unknown }> {
      sock.write(body.subarray(body.length - 1));
      await closed;
      const text = raw.toString("utf8");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      return { status, json: JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) };
    },
  };
}

/** Wait (polling the clock) until the current Unix second is at least `second`. */
async function untilSecond(second: number): Promise<void> {
  while (Math.floor(Date.now() / 1000) < second) await Bun.sleep(20);
}

test("a slow /send gets the time of its write: no row appears behind one a poller has already seen", async () => {
  const { a, b, roomId, key } = await pair(relay.url);
  const slowCt = c.encryptMessage(key, "slow");
  const body = enc(JSON.stringify({ room_id: roomId, ciphertext: slowCt, sender_id: a.uid }));
  const slow = await held(a, "/send", body, "application/json");
  // The head has arrived well inside the current second; let at least one full second pass.
  await untilSecond(Math.floor(Date.now() / 1000) + 2);

  // b's message is stored now, and a poller sees it.
  const quick = await signed(relay.url, b, "POST", "/send", {
    room_id: roomId,
    ciphertext: c.encryptMessage(key, "q"),
  });
  expect(quick.status).toBe(200);
  const quickTs = SendResponse.parse(await quick.json()).ts;

  // Then a's message finishes arriving and is stored after b's.
  const sent = await slow.finish();
  expect(sent.status).toBe(200);
  expect(SendResponse.parse(sent.json).ts).toBeGreaterThanOrEqual(quickTs);
  const polled = await signed(relay.url, b, "POST", "/fetch", { room_id: roomId, since_ts: quickTs });
  expect(FetchResponse.parse(await polled.json()).messages.map((m) => m.ciphertext)).toContain(slowCt);
});

test("a slow upload expires FILE_RETENTION_HOURS after it is stored, not after its request began", async () => {
  const { a, roomId } = await pair(relay.url);
  const up = multipart(roomId, a.uid, c.randomBytes(100));
  const slow = await held(a, "/file/upload", up.body, up.contentType);
  await untilSecond(Math.floor(Date.now() / 1000) + 2);
  const storedAfter = Date.now() / 1000;
  const uploaded = await slow.finish();
  expect(uploaded.status).toBe(200);
  expect(UploadResponse.parse(uploaded.json).expires_at).toBeGreaterThanOrEqual(storedAfter + FILE_RETENTION_S);
});
