// Issue 13 --live redis://…: two relays sharing one real redis-server (tests/helpers/redis-server.ts),
// each with its own SQLite data folder, so a room exists on both (the same users and /ke/push on
// each). A message accepted by one relay reaches the room's live sockets on both, once each
// (PROTOCOL §7.9); the §7.10 rates are one budget across them; and Redis going away loses no
// accepted message: live sockets are closed with 1013, rate-limited requests answer 503, and
// everything works again once Redis is back.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as c from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { startRelay, type RunningRelay } from "./helpers/inproc-relay.ts";
import { freePort } from "./helpers/pg-server.ts";
import { NO_REDIS, type RedisServer, startRedis } from "./helpers/redis-server.ts";
import { LiveSocket, pairOn } from "./helpers/live-sockets.ts";
import { makeUser, register, signed, type TestUser } from "./helpers/signer.ts";

setDefaultTimeout(20_000);

const ct = (n = 32) => b64encode(c.randomBytes(n));

if (NO_REDIS) test.skip(`--live redis: ${NO_REDIS}`, () => {});
else {
  let redis: RedisServer;
  const relays: RunningRelay[] = [];
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.close();
    for (const r of relays) {
      await r.stop();
      r.cleanup();
    }
    await redis?.stop();
  });

  async function relaysWith(...args: string[][]): Promise<RunningRelay[]> {
    const out: RunningRelay[] = [];
    for (const a of args) out.push(await startRelay({ args: ["--live", redis.url, ...a] }));
    relays.push(...out);
    return out;
  }

  async function live(r: RunningRelay, u: TestUser, roomId: string): Promise<LiveSocket> {
    const s = new LiveSocket(r.url, u, roomId);
    sockets.push(s);
    await s.opened;
    return s;
  }

  const send = (r: RunningRelay, u: TestUser, roomId: string, ciphertext: string) =>
    signed(r.url, u, "POST", "/send", { room_id: roomId, ciphertext });

  describe("live fan-out", () => {
    test("a message accepted by one relay reaches the room's sockets on both, once each; so does a burn", async () => {
      const [A, B] = await relaysWith([], []);
      const { a, b, roomId } = await pairOn([A!.url, B!.url]);
      const onA = await live(A!, b, roomId);
      const onB = await live(B!, b, roomId);
      const first = ct();
      const r1 = await send(A!, a, roomId, first);
      expect(r1.status).toBe(200);
      const { ts } = (await r1.json()) as { ts: number };
      const f1 = { ts, ciphertext: first, seq: expect.any(Number) };
      expect(await onA.next()).toEqual(f1);
      expect(await onB.next()).toEqual(f1);
      // The next frame each socket gets is the next message: the first came once, not twice.
      const second = ct();
      expect((await send(B!, a, roomId, second)).status).toBe(200);
      expect(await onA.next()).toMatchObject({ ciphertext: second });
      expect(await onB.next()).toMatchObject({ ciphertext: second });
      expect((await signed(B!.url, b, "POST", "/burn", { room_id: roomId })).status).toBe(200);
      expect(await onA.next()).toEqual({ event: "burned" });
      expect(await onB.next()).toEqual({ event: "burned" });
    });

    test("a room's frames reach only that room's sockets", async () => {
      const [A, B] = await relaysWith([], []);
      const one = await pairOn([A!.url, B!.url]);
      const two = await pairOn([A!.url, B!.url]);
      const s1 = await live(B!, one.b, one.roomId);
      const s2 = await live(B!, two.b, two.roomId);
      expect((await send(A!, two.a, two.roomId, ct())).status).toBe(200);
      const mine = ct();
      expect((await send(A!, one.a, one.roomId, mine)).status).toBe(200);
      expect(await s1.next()).toMatchObject({ ciphertext: mine }); // not room two's message
      expect(await s2.next()).not.toMatchObject({ ciphertext: mine });
    });
  });

  describe("shared limits (PROTOCOL §7.10)", () => {
    test("bytes sent per day are one budget across relays", async () => {
      const [A, B] = await relaysWith(["--sent-bytes-per-day", "100"], ["--sent-bytes-per-day", "100"]);
      const { a, roomId } = await pairOn([A!.url, B!.url]);
      const sixty = "A".repeat(60); // 45 bytes as base64: 60 stored characters
      expect((await send(A!, a, roomId, sixty)).status).toBe(200);
      const refused = await send(B!, a, roomId, sixty); // alone, B would have taken it
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await send(B!, a, roomId, "A".repeat(40))).status).toBe(200); // exactly what is left
    });

    test("rooms created per hour are one budget; a push to an existing room spends none", async () => {
      const [A, B] = await relaysWith(["--rooms-per-hour", "2"], ["--rooms-per-hour", "2"]);
      const a = makeUser();
      const partners = [makeUser(), makeUser(), makeUser()];
      for (const r of [A!, B!]) for (const u of [a, ...partners]) expect((await register(r.url, u)).status).toBe(200);
      const push = (r: RunningRelay, p: TestUser) =>
        signed(r.url, a, "POST", "/ke/push", {
          from_uid: a.uid,
          to_uid: p.uid,
          pub_key: a.pubB64,
          room_id: c.pairKeys(a, p.encPub).roomId,
        });
      expect((await push(A!, partners[0]!)).status).toBe(200);
      expect((await push(B!, partners[1]!)).status).toBe(200);
      expect((await push(A!, partners[0]!)).status).toBe(200); // the room exists on A: no unit
      expect((await push(A!, partners[2]!)).status).toBe(429);
      expect((await push(B!, partners[2]!)).status).toBe(429);
    });
  });

  describe("Redis going away", () => {
    test("a relay whose Redis is not there yet starts; what needs Redis answers 503", async () => {
      const nobody = `redis://127.0.0.1:${await freePort()}`;
      const r = await startRelay({ args: ["--live", nobody] });
      relays.push(r);
      expect((await fetch(`${r.url}/health`)).status).toBe(200);
      const u = makeUser();
      expect((await register(r.url, u)).status).toBe(200); // registrations are not limited from loopback
      const p = makeUser();
      expect((await register(r.url, p)).status).toBe(200);
      const push = await signed(r.url, u, "POST", "/ke/push", {
        from_uid: u.uid,
        to_uid: p.uid,
        pub_key: u.pubB64,
        room_id: c.pairKeys(u, p.encPub).roomId,
      });
      expect(push.status).toBe(503); // rooms created per hour cannot be counted
      expect(Number(push.headers.get("retry-after"))).toBeGreaterThan(0);
    });

    test("sockets close with 1013, limited requests are 503, accepted messages stay; all works again after", async () => {
      // A runs without a bytes limit (its /send needs no Redis), B with the default one.
      const [A, B] = await relaysWith(["--sent-bytes-per-day", "0"], []);
      const { a, b, roomId } = await pairOn([A!.url, B!.url]);
      const onA = await live(A!, b, roomId);
      const onB = await live(B!, b, roomId);
      await redis.halt();
      try {
        expect(await onA.closed).toBe(1013);
        expect(await onB.closed).toBe(1013);
        // Accepted while Redis is down: stored, no live frame, fetched by the reconnecting client.
        const kept = ct();
        expect((await send(A!, a, roomId, kept)).status).toBe(200);
        const fetched = await signed(A!.url, b, "POST", "/fetch", { room_id: roomId });
        expect(((await fetched.json()) as { messages: { ciphertext: string }[] }).messages).toEqual([
          expect.objectContaining({ ciphertext: kept }),
        ]);
        // B cannot count the bytes: 503 busy, never unlimited.
        const busy = await send(B!, a, roomId, ct());
        expect(busy.status).toBe(503);
        expect(((await busy.json()) as { error: string }).error).toBe("busy");
        // No live socket while a frame from the other relay could be missed.
        const up = await signed(A!.url, b, "GET", `/ws/${roomId}`);
        expect(up.status).toBe(503);
        expect(Number(up.headers.get("retry-after"))).toBeGreaterThan(0);
      } finally {
        await redis.start();
      }
      // Subscribed again (the relays retry every second): a signed GET without an upgrade is 400 then.
      for (const r of [A!, B!]) {
        for (let i = 0; i < 100; i++) {
          const st = (await signed(r.url, b, "GET", `/ws/${roomId}`)).status;
          if (st !== 503) break;
          await Bun.sleep(100);
        }
      }
      const again = await live(A!, b, roomId);
      const text = ct();
      expect((await send(B!, a, roomId, text)).status).toBe(200);
      expect(await again.next()).toMatchObject({ ciphertext: text });
    });
  });
}
