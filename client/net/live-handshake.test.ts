// Live delivery's reconnect timing (client/net/live.ts): the backoff bounds, and a WebSocket
// handshake that is never answered (a server that accepts the TCP connection and stays
// silent) is given up after its own timeout, reported, retried, and then polled instead.
import { afterEach, expect, test } from "bun:test";
import { Transport } from "../../lib/transport.ts";
import { within } from "../../tests/helpers/deadline.ts";
import {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  backoffDelayMs,
  type LiveRelay,
  type LiveStatus,
  runLive,
  WS_HANDSHAKE_TIMEOUT_MS,
} from "./live.ts";

const servers: Array<{ stop(force?: boolean): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

test("reconnect backoff doubles from 0.5 s and stays at 5 s; the handshake timeout is 10 s", () => {
  expect([BACKOFF_MIN_MS, BACKOFF_MAX_MS, WS_HANDSHAKE_TIMEOUT_MS]).toEqual([500, 5000, 10_000]);
  expect([0, 1, 2, 3, 4, 5, 50].map((n) => backoffDelayMs(n))).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  expect([0, 1, 2, 9].map((n) => backoffDelayMs(n, { min: 10, max: 30 }))).toEqual([10, 20, 30, 30]);
});

test("a black-holed WebSocket handshake times out, is reported and retried, then the room is polled", async () => {
  let accepted = 0;
  // Accepts every connection and never answers a byte.
  const silent = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: () => void accepted++,
      data() {},
    },
  });
  servers.push(silent);
  let fetches = 0;
  const relay: LiveRelay = {
    transport: new Transport({ via: "direct" }),
    fetch: async () => {
      fetches++;
      return [];
    },
    fetchAfter: async () => ({ messages: [], more: false }),
    signedHeaders: async () => ({}),
    urlOf: (path) => `http://127.0.0.1:${silent.port}${path}`,
  };
  const statuses: LiveStatus[] = [];
  const stop = new AbortController();
  let polled!: () => void;
  const polling = new Promise<void>((r) => (polled = r));
  const done = runLive(relay, ["room"], () => {}, {
    signal: stop.signal,
    mode: "websocket",
    handshakeTimeoutMs: 100,
    backoffMs: { min: 10, max: 20 },
    pollMs: 50,
    onStatus: (s) => {
      statuses.push(s);
      if (s.state === "connected" && s.via === "poll") polled();
    },
  });
  await within(polling, 20_000, () => `never fell back to polling; statuses: ${JSON.stringify(statuses)}`);
  stop.abort();
  await done;
  const retries = statuses.filter((s) => s.state === "retrying");
  expect(retries.length).toBeGreaterThanOrEqual(2);
  for (const r of retries) expect(r.state === "retrying" && r.error).toBe("live connection not answered within 0.1 s");
  expect(statuses.some((s) => s.state === "connected" && s.via === "websocket")).toBe(false);
  expect(accepted).toBeGreaterThanOrEqual(3);
  expect(fetches).toBeGreaterThan(0);
});
