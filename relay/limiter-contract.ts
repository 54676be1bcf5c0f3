// The token-bucket semantics every Limiter (relay/quota.ts) keeps, run against each
// implementation: in memory (relay/quota.test.ts) and in a real Redis (relay/redis-limiter.test.ts).
// The clock is injected, so refills are exact, not waited for.
import { describe, expect, test } from "bun:test";
import type { Limiter } from "./quota.ts";

export interface TestClock {
  now: number;
  fn: () => number;
}

export function testClock(start = 1000): TestClock {
  const c: TestClock = { now: start, fn: () => c.now };
  return c;
}

/** Makes a limiter of `capacity` per `windowS` seconds on `clock`, with keys of its own. */
export type MakeLimiter = (capacity: number, windowS: number, clock: () => number) => Limiter | Promise<Limiter>;

export function limiterContract(name: string, make: MakeLimiter): void {
  describe(`${name}: token bucket (PROTOCOL §7.10)`, () => {
    test("capacity units are taken, one more is refused with the seconds until it refills", async () => {
      const c = testClock();
      const l = await make(60, 3600, c.fn); // 60 per hour: one per minute
      for (let i = 0; i < 60; i++) expect(await l.take("u", 1)).toBe(0);
      expect(await l.take("u", 1)).toBe(60);
      c.now += 59;
      expect(await l.take("u", 1)).toBe(1);
      c.now += 1;
      expect(await l.take("u", 1)).toBe(0);
      expect(await l.take("u", 1)).toBe(60);
    });

    test("keys are independent; a refused take spends nothing", async () => {
      const c = testClock();
      const l = await make(100, 100, c.fn);
      expect(await l.take("a", 100)).toBe(0);
      expect(await l.take("a", 1)).toBe(1);
      expect(await l.take("a", 1)).toBe(1); // still one second: the refusals spent nothing
      expect(await l.take("b", 100)).toBe(0);
    });

    test("bytes: an exact fit passes, one byte more waits; a cost over capacity never fits", async () => {
      const c = testClock();
      const l = await make(1000, 86_400, c.fn);
      expect(await l.wait("u", 1000)).toBe(0);
      expect(await l.wait("u", 1001)).toBe(Infinity);
      expect(await l.take("u", 600)).toBe(0);
      expect(await l.take("u", 400)).toBe(0);
      expect(await l.take("u", 1)).toBe(Math.ceil(86_400 / 1000));
    });

    test("charge may go below empty; the debt is waited out", async () => {
      const c = testClock();
      const l = await make(10, 10, c.fn);
      await l.charge("u", 15);
      expect(await l.wait("u", 1)).toBe(6);
      c.now += 6;
      expect(await l.take("u", 1)).toBe(0);
    });

    test("a negative charge gives units back, never past capacity", async () => {
      const c = testClock();
      const l = await make(3, 3600, c.fn);
      expect(await l.take("u", 3)).toBe(0);
      await l.charge("u", -1);
      expect(await l.take("u", 1)).toBe(0);
      expect(await l.take("u", 1)).toBe(1200);
      await l.charge("u", -10);
      expect(await l.take("u", 3)).toBe(0);
      expect(await l.take("u", 1)).toBe(1200);
    });

    test("a clock behind the bucket's last change refills nothing and spends as now", async () => {
      const c = testClock();
      const l = await make(10, 10, c.fn);
      expect(await l.take("u", 10)).toBe(0);
      c.now -= 5; // another instance's clock, a little behind
      expect(await l.take("u", 1)).toBe(1);
      c.now += 6;
      expect(await l.take("u", 1)).toBe(0);
    });

    test("0 means no limit", async () => {
      const l = await make(0, 3600, testClock().fn);
      for (let i = 0; i < 100; i++) expect(await l.take("u", 1e9)).toBe(0);
      expect(l.unlimited).toBe(true);
    });
  });
}
