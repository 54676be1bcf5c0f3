// RelayClient.live (PROTOCOL §7.9) against the relay (started in this process): WebSocket and
// polling delivery, burn events, reconnect after a restart, refusals, https/wss. A socket that
// falls behind (1013) needs the relay in another process: tests/live-fell-behind.test.ts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as c from "../../lib/crypto.ts";
import { Transport } from "../../lib/transport.ts";
import type { WsFrame } from "../../lib/wire.ts";
import { client, fails, listenLive, pairUp } from "../../tests/helpers/clients.ts";
import {
  restartOnSamePort,
  startRelay,
  startTlsRelay,
  TLS_DIR,
  type RunningRelay,
} from "../../tests/helpers/inproc-relay.ts";
import { b64encode } from "../../lib/encoding.ts";
import { openNonReader, roomsOf } from "../../tests/helpers/live-sockets.ts";
import { makeUser, signed } from "../../tests/helpers/signer.ts";
import { RelayClient } from "./relay-client.ts";
import { MAX_CONCURRENT_REQUESTS } from "./request-slots.ts";

setDefaultTimeout(30_000); // bunfig's [test] timeout is not applied by this Bun

let relay: RunningRelay;

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
});

describe("live", () => {
  test("WebSocket receives a frame sent by the other user, and the burn event", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    const l = await listenLive(cb, roomId);
    expect(await l.ready).toBe("websocket");
    const ciphertext = c.encryptMessage(sessionKey, "live!");
    const ts = await ca.send(roomId, ciphertext);
    await l.count(1);
    await ca.burn(roomId);
    await l.count(2);
    await l.stop();
    expect(l.frames).toEqual([{ ts, ciphertext, seq: expect.any(Number) }, { event: "burned" }]); // §7.6.1 seq
  });

  test("polling receives it too, once, and sinceTs replays stored messages first", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    const first = c.encryptMessage(sessionKey, "stored before");
    const ts1 = await ca.send(roomId, first);
    const l = await listenLive(cb, roomId, { mode: "poll", sinceTs: ts1 });
    expect(await l.ready).toBe("poll");
    const second = c.encryptMessage(sessionKey, "while polling");
    const ts2 = await ca.send(roomId, second);
    await l.count(2);
    await l.stop();
    expect(l.frames).toEqual([
      { ts: ts1, ciphertext: first, seq: expect.any(Number) },
      { ts: ts2, ciphertext: second, seq: expect.any(Number) },
    ]);
  });

  test("after a relay restart the WebSocket reconnects and nothing is lost or doubled", async () => {
    const first = await startRelay();
    const { ca, cb, roomId, sessionKey } = await pairUp(first.url);
    const l = await listenLive(cb, roomId, { backoffMs: { min: 50, max: 200 } });
    expect(await l.ready).toBe("websocket");
    const m1 = c.encryptMessage(sessionKey, "before");
    const ts1 = await ca.send(roomId, m1);
    await l.count(1);
    await first.stop();
    const again = await restartOnSamePort(first);
    try {
      // Sent as soon as the relay is back: delivered by the catch-up /fetch or by the new socket, once.
      const m2 = c.encryptMessage(sessionKey, "after restart");
      const ts2 = await ca.send(roomId, m2);
      await l.count(2);
      const m3 = c.encryptMessage(sessionKey, "live again");
      const ts3 = await ca.send(roomId, m3);
      await l.count(3);
      await l.stop();
      expect(l.frames).toEqual([
        { ts: ts1, ciphertext: m1, seq: expect.any(Number) },
        { ts: ts2, ciphertext: m2, seq: expect.any(Number) },
        { ts: ts3, ciphertext: m3, seq: expect.any(Number) },
      ]);
      expect(l.stats().connects).toBeGreaterThanOrEqual(2);
      expect(l.stats().retries).toBeGreaterThan(0);
    } finally {
      await again.stop();
      again.cleanup();
    }
  });

  test("an upgrade refused at the room's cap (429) retries, then polls: nothing lost", async () => {
    const capped = await startRelay({ args: ["--ws-max-per-room", "1"] });
    try {
      const { a, ca, cb, roomId, sessionKey } = await pairUp(capped.url);
      const squatter = await openNonReader(capped.url, a, roomId); // the room's one place
      expect(squatter.status).toBe(101);
      const m1 = c.encryptMessage(sessionKey, "while refused");
      const ts1 = await ca.send(roomId, m1);
      const l = await listenLive(cb, roomId, { sinceTs: ts1, backoffMs: { min: 50, max: 200 } });
      expect(await l.ready).toBe("poll"); // after 3 refused upgrades
      const m2 = c.encryptMessage(sessionKey, "polled");
      const ts2 = await ca.send(roomId, m2);
      await l.count(2);
      await l.stop();
      squatter.socket.destroy();
      expect(l.frames).toMatchObject([
        { ts: ts1, ciphertext: m1 },
        { ts: ts2, ciphertext: m2 },
      ]);
      expect(l.retryErrors.slice(0, 2)).toEqual(["live connection refused", "live connection refused"]);
    } finally {
      await capped.stop();
      capped.cleanup();
    }
  });

  test("polling 40 rooms keeps at most MAX_CONCURRENT_REQUESTS at the relay: none is refused for too many in flight", async () => {
    // Each request takes 20 ms more on the way (as through Tor), so 40 rooms polled together would
    // be 40 requests at once, over the relay's per-identity limit (here exactly the client's bound).
    class SlowTransport extends Transport {
      active = 0;
      peak = 0;
      override async request(...args: Parameters<Transport["request"]>) {
        this.peak = Math.max(this.peak, ++this.active);
        try {
          await Bun.sleep(20);
          return await super.request(...args);
        } finally {
          this.active--;
        }
      }
    }
    const limited = await startRelay({ args: ["--max-inflight-per-uid", String(MAX_CONCURRENT_REQUESTS)] });
    try {
      const bob = makeUser();
      const transport = new SlowTransport({ via: "direct" });
      const cb = client(limited.url, bob, { transport });
      await cb.register(bob.uid, bob.pubB64, bob.signPubB64u);
      const rooms = await roomsOf(limited.url, bob, 40);
      for (const r of rooms) {
        const body = { room_id: r.roomId, ciphertext: b64encode(c.randomBytes(100)) };
        expect((await signed(limited.url, r.partner, "POST", "/send", body)).status).toBe(200);
      }
      const stop = new AbortController();
      const got = new Map<string, number>();
      const errors: string[] = [];
      const done = cb.live(
        rooms.map((r) => r.roomId),
        (room) => got.set(room, (got.get(room) ?? 0) + 1),
        {
          signal: stop.signal,
          mode: "poll",
          pollMs: 50,
          sinceTs: 0,
          onStatus: (st) => void (st.state !== "connected" && errors.push(st.error)),
        },
      );
      const deadline = Date.now() + 20_000;
      while (got.size < rooms.length && Date.now() < deadline) await Bun.sleep(50);
      await Bun.sleep(500); // more rounds of 40 polls
      stop.abort();
      await done;
      expect(transport.peak).toBe(MAX_CONCURRENT_REQUESTS);
      expect(errors).toEqual([]);
      expect([...got.values()]).toEqual(rooms.map(() => 1));
    } finally {
      await limited.stop();
      limited.cleanup();
    }
  });

  test("a room we are not in is an error, not an endless retry", async () => {
    const { roomId } = await pairUp(relay.url);
    const outsider = makeUser();
    await client(relay.url).register(outsider.uid, outsider.pubB64, outsider.signPubB64u);
    for (const mode of ["websocket", "poll"] as const) {
      const e = await fails(
        client(relay.url, outsider).live([roomId], () => {}, { signal: new AbortController().signal, mode }),
      );
      expect(e.status).toBe(403);
    }
  });

  test("with no rooms it waits for the signal", async () => {
    const stop = new AbortController();
    let done = false;
    const p = client(relay.url, makeUser())
      .live([], () => {}, { signal: stop.signal })
      .then(() => (done = true));
    await Bun.sleep(50);
    expect(done).toBe(false);
    stop.abort();
    await p;
    expect(done).toBe(true);
  });

  test("never a WebSocket through Tor", async () => {
    const tor = new Transport({ via: "tor", proxyHost: "127.0.0.1", proxyPort: 1 });
    const cl = new RelayClient({
      baseUrl: relay.url,
      transport: tor,
      signer: { uid: "x".repeat(28), signSeed: c.randomBytes(32), encPriv: c.randomBytes(32) },
    });
    const e = await fails(
      cl.live(["A".repeat(22)], () => {}, { signal: new AbortController().signal, mode: "websocket" }),
    );
    expect(e.code).toBe("tor-websocket");
  });
});

// PROTOCOL §7.6.1: catch-ups page forward with after_seq, so no row is skipped however many
// arrive between two polls or share one second (since_ts with limit 200 kept only the newest 200).
describe("cursor paging", () => {
  async function sendMany(base: string, u: ReturnType<typeof makeUser>, roomId: string, n: number) {
    const sent: string[] = [];
    for (let i = 0; i < n; i += 16) {
      const batch = Array.from({ length: Math.min(16, n - i) }, () => b64encode(c.randomBytes(32)));
      const rs = await Promise.all(
        batch.map((ciphertext) => signed(base, u, "POST", "/send", { room_id: roomId, ciphertext })),
      );
      for (const r of rs) expect(r.status).toBe(200);
      sent.push(...batch);
    }
    return sent;
  }

  test("330 rows stored between two polls all arrive, once, oldest first", async () => {
    const { a, cb, roomId } = await pairUp(relay.url);
    const l = await listenLive(cb, roomId, { mode: "poll", pollMs: 3000 });
    expect(await l.ready).toBe("poll");
    const sent = await sendMany(relay.url, a, roomId, 330);
    await l.count(330);
    await Bun.sleep(300);
    await l.stop();
    const rows = l.frames as { ts: number; ciphertext: string; seq: number }[];
    expect(rows.map((f) => f.ciphertext).sort()).toEqual([...sent].sort()); // each once, none skipped
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.seq).toBeGreaterThan(rows[i - 1]!.seq);
  });

  test("sinceTs replays every stored row though one answer holds only the newest 200", async () => {
    const { a, cb, roomId } = await pairUp(relay.url);
    const sent = await sendMany(relay.url, a, roomId, 260);
    const l = await listenLive(cb, roomId, { mode: "poll", pollMs: 3000, sinceTs: 0 });
    await l.count(260);
    await Bun.sleep(300);
    await l.stop();
    expect(l.frames.map((f) => ("ciphertext" in f ? f.ciphertext : "")).sort()).toEqual([...sent].sort());
  });

  test("an empty room at the start is paged from its first row", async () => {
    const { a, cb, roomId } = await pairUp(relay.url);
    const l = await listenLive(cb, roomId, { mode: "poll", pollMs: 3000 });
    expect(await l.ready).toBe("poll");
    const sent = await sendMany(relay.url, a, roomId, 250);
    await l.count(250);
    await Bun.sleep(300);
    await l.stop();
    expect(l.frames.map((f) => ("ciphertext" in f ? f.ciphertext : "")).sort()).toEqual([...sent].sort());
  });
});

describe("https relay, direct", () => {
  let tlsRelay: RunningRelay;
  beforeAll(async () => {
    tlsRelay = await startTlsRelay();
  });
  afterAll(async () => {
    await tlsRelay.stop();
    tlsRelay.cleanup();
  });

  test("requests and the live WebSocket trust the given CA, and only it", async () => {
    expect(tlsRelay.url).toStartWith("https://");
    const ca = readFileSync(join(TLS_DIR, "localhost-test-cert.pem"), "utf8");
    const transport = new Transport({ via: "direct" }, { tls: { ca } });
    const a = makeUser();
    const b = makeUser();
    const ca1 = client(tlsRelay.url, a, { transport });
    const cb1 = client(tlsRelay.url, b, { transport });
    await ca1.register(a.uid, a.pubB64, a.signPubB64u);
    await cb1.register(b.uid, b.pubB64, b.signPubB64u);
    const { roomId, sessionKey } = c.pairKeys(a, b.encPub);
    await ca1.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });
    const stop = new AbortController();
    let connected!: (via: string) => void;
    const ready = new Promise<string>((r) => (connected = r));
    let got!: (f: WsFrame) => void;
    const frame = new Promise<WsFrame>((r) => (got = r));
    const live = cb1.live([roomId], (_room, f) => got(f), {
      signal: stop.signal,
      onStatus: (s) => s.state === "connected" && connected(s.via),
    });
    expect(await ready).toBe("websocket");
    const ciphertext = c.encryptMessage(sessionKey, "over wss");
    const ts = await ca1.send(roomId, ciphertext);
    expect(await frame).toEqual({ ts, ciphertext, seq: expect.any(Number) });
    stop.abort();
    await live;

    const e = await fails(client(tlsRelay.url).health());
    expect(e.message).toMatch(/^relay unreachable: TLS certificate .+ \(127\.0\.0\.1:\d+\)$/); // one attempt: no retry for TLS
  });
});
