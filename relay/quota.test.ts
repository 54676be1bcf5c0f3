// relay/quota.ts counters with an injected clock: token buckets at and past their edge,
// refill, Retry-After, and the upload slots.
import { describe, expect, test } from "bun:test";
import { RateLimiter, UploadSlots } from "./quota.ts";

function clock(start = 1000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe("RateLimiter", () => {
  test("capacity units are taken, one more is refused with the seconds until it refills", () => {
    const c = clock();
    const l = new RateLimiter(60, 3600, c.fn); // 60 per hour: one per minute
    for (let i = 0; i < 60; i++) expect(l.take("u", 1)).toBe(0);
    expect(l.take("u", 1)).toBe(60);
    c.now += 59;
    expect(l.take("u", 1)).toBe(1);
    c.now += 1;
    expect(l.take("u", 1)).toBe(0);
    expect(l.take("u", 1)).toBe(60);
  });

  test("keys are independent; a refused take spends nothing", () => {
    const c = clock();
    const l = new RateLimiter(100, 100, c.fn);
    expect(l.take("a", 100)).toBe(0);
    expect(l.take("a", 1)).toBe(1);
    expect(l.take("a", 1)).toBe(1); // still one second: the refusals spent nothing
    expect(l.take("b", 100)).toBe(0);
  });

  test("bytes: an exact fit passes, one byte more waits; a cost over capacity never fits", () => {
    const c = clock();
    const l = new RateLimiter(1000, 86_400, c.fn);
    expect(l.wait("u", 1000)).toBe(0);
    expect(l.wait("u", 1001)).toBe(Infinity);
    expect(l.take("u", 600)).toBe(0);
    expect(l.take("u", 400)).toBe(0);
    expect(l.take("u", 1)).toBe(Math.ceil(86_400 / 1000));
  });

  test("charge may go below empty; the debt is waited out", () => {
    const c = clock();
    const l = new RateLimiter(10, 10, c.fn);
    l.charge("u", 15);
    expect(l.wait("u", 1)).toBe(6);
    c.now += 6;
    expect(l.take("u", 1)).toBe(0);
  });

  test("0 means no limit", () => {
    const l = new RateLimiter(0, 3600, clock().fn);
    for (let i = 0; i < 1000; i++) expect(l.take("u", 1e9)).toBe(0);
    expect(l.size).toBe(0);
  });

  test("sweep forgets refilled buckets only", () => {
    const c = clock();
    const l = new RateLimiter(10, 10, c.fn);
    l.take("a", 10);
    c.now += 5;
    l.take("b", 10);
    c.now += 5; // a is full again, b is not
    l.sweep();
    expect(l.size).toBe(1);
    expect(l.wait("b", 10)).toBe(5);
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
