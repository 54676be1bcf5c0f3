// relay/redis-limiter.ts against a real redis-server (tests/helpers/redis-server.ts): the token
// bucket of relay/limiter-contract.ts, one budget shared by two limiters (two relay instances),
// keys that expire, and Redis going away: StoreBusyError (503), then working again after a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NO_REDIS, type RedisServer, startRedis } from "../tests/helpers/redis-server.ts";
import { limiterContract, testClock } from "./limiter-contract.ts";
import { RedisLimiter, redisLimiters } from "./redis-limiter.ts";
import { RedisLink } from "./redis.ts";
import { StoreBusyError } from "./store.ts";

if (NO_REDIS) test.skip(`Redis limiter: ${NO_REDIS}`, () => {});
else {
  let redis: RedisServer;
  const links: RedisLink[] = [];
  const link = (timeoutMs?: number) => {
    const l = new RedisLink(redis.url, timeoutMs);
    links.push(l);
    return l;
  };
  let n = 0;
  const prefix = () => `t${++n}:`; // each test's keys of its own

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const l of links) l.close();
    await redis?.stop();
  });

  limiterContract(
    "RedisLimiter",
    (capacity, windowS, clock) => new RedisLimiter(link(), prefix(), capacity, windowS, clock),
  );

  describe("RedisLimiter shared by instances", () => {
    test("two limiters on two connections spend one budget, atomically", async () => {
      const c = testClock();
      const p = prefix();
      const a = new RedisLimiter(link(), p, 10, 3600, c.fn);
      const b = new RedisLimiter(link(), p, 10, 3600, c.fn);
      // 20 takes at once, half on each instance: exactly the capacity passes.
      const waits = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take("u", 1)));
      expect(waits.filter((w) => w === 0).length).toBe(10);
      expect(await a.take("u", 1)).toBe(360);
      expect(await b.wait("u", 1)).toBe(360);
      await a.charge("u", 5); // a cost known afterwards, on one instance, is the other's debt too
      expect(await b.wait("u", 1)).toBe(6 * 360);
    });

    test("Quotas' limiters have prefixed keys that expire once refilled", async () => {
      const c = testClock();
      const l = link();
      const make = redisLimiters(l, "phx:", c.fn);
      const rooms = make("rooms", 60, 3600);
      expect(await rooms.take("uid1", 1)).toBe(0);
      expect(await l.send("EXISTS", ["phx:rl:rooms:uid1"])).toBe(1);
      const ttl = Number(await l.send("PTTL", ["phx:rl:rooms:uid1"]));
      // One unit refills in 60 s: the key lives that long (and a second of margin), not forever.
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(61_000);
      expect(await l.send("EXISTS", ["phx:rl:rooms:uid2"])).toBe(0); // a wait stores nothing
      await rooms.wait("uid2", 1);
      expect(await l.send("EXISTS", ["phx:rl:rooms:uid2"])).toBe(0);
    });

    test("Redis gone: StoreBusyError within the timeout, nothing spent; working again after a restart", async () => {
      const c = testClock();
      const p = prefix();
      const l = new RedisLimiter(link(300), p, 2, 3600, c.fn);
      expect(await l.take("u", 1)).toBe(0);
      await redis.halt();
      try {
        await expect(l.take("u", 1)).rejects.toBeInstanceOf(StoreBusyError);
        await expect(l.wait("u", 1)).rejects.toBeInstanceOf(StoreBusyError);
        await expect(l.charge("u", 1)).rejects.toBeInstanceOf(StoreBusyError);
      } finally {
        await redis.start();
      }
      // A restarted Redis without persistence has forgotten the bucket and the script (EVALSHA → EVAL).
      expect(await l.take("u", 2)).toBe(0);
      expect(await l.take("u", 1)).toBe(1800);
    });

    test("a Redis out of memory (maxmemory, noeviction) is StoreBusyError too, not a crash", async () => {
      const admin = link();
      const l = new RedisLimiter(link(), prefix(), 5, 3600, testClock().fn);
      expect(await l.take("u", 1)).toBe(0);
      await admin.send("CONFIG", ["SET", "maxmemory-policy", "noeviction"]);
      await admin.send("CONFIG", ["SET", "maxmemory", "1"]);
      try {
        await expect(l.take("u", 1)).rejects.toBeInstanceOf(StoreBusyError);
      } finally {
        await admin.send("CONFIG", ["SET", "maxmemory", "0"]);
      }
      expect(await l.take("u", 1)).toBe(0);
    });

    test("an unlimited limiter never asks Redis", async () => {
      const l = new RedisLimiter(link(), prefix(), 0, 3600, testClock().fn);
      await redis.halt();
      try {
        expect(await l.take("u", 1e9)).toBe(0);
        await l.charge("u", 1e9);
      } finally {
        await redis.start();
      }
    });
  });
}
