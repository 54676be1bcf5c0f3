// relay/quota.ts counters with an injected clock: token buckets at and past their edge,
// refill, Retry-After (relay/limiter-contract.ts), and the upload slots.
import { describe, expect, test } from "bun:test";
import { limiterContract, testClock } from "./limiter-contract.ts";
import { RateLimiter, UploadSlots } from "./quota.ts";

limiterContract("RateLimiter", (capacity, windowS, clock) => new RateLimiter(capacity, windowS, clock));

describe("RateLimiter", () => {
  test("0 means no limit: nothing is remembered", async () => {
    const l = new RateLimiter(0, 3600, testClock().fn);
    for (let i = 0; i < 100; i++) expect(await l.take("u", 1e9)).toBe(0);
    expect(l.size).toBe(0);
  });

  test("sweep forgets refilled buckets only", async () => {
    const c = testClock();
    const l = new RateLimiter(10, 10, c.fn);
    await l.take("a", 10);
    c.now += 5;
    await l.take("b", 10);
    c.now += 5; // a is full again, b is not
    l.sweep();
    expect(l.size).toBe(1);
    expect(await l.wait("b", 10)).toBe(5);
  });
});

describe("UploadSlots", () => {
  test("per UID: the edge is granted, one more is null; released slots come back", () => {
    const s = new UploadSlots(2, 0);
    const r1 = s.acquire("u", 10)!;
    const r2 = s.acquire("u", 10)!;
    expect(s.acquire("u", 10)).toBeNull();
    expect(s.acquire("v", 10)).not.toBeNull();
    r1();
    r1(); // twice is once
    expect(s.acquire("u", 10)).not.toBeNull();
    r2();
  });

  test("all uploads: spool bytes up to the edge, one byte more is 503", () => {
    const s = new UploadSlots(0, 100);
    const r = s.acquire("a", 60)!;
    s.acquire("b", 40);
    expect(s.inFlightBytes).toBe(100);
    expect(() => s.acquire("c", 1)).toThrow(expect.objectContaining({ status: 503 }));
    r();
    expect(s.acquire("c", 60)).not.toBeNull();
  });
});
