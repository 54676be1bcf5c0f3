import { expect, test } from "bun:test";
import { SIGNATURE_WINDOW_S } from "../lib/wire.ts";
import { ReplayCache, withinWindow } from "./auth.ts";

test("the §6 window is 300 s on either side, inclusive", () => {
  const now = 1_700_000_000;
  expect(SIGNATURE_WINDOW_S).toBe(300);
  for (const d of [0, 299, 300, -299, -300]) expect(withinWindow(now + d, now)).toBe(true);
  for (const d of [301, -301, 100_000]) expect(withinWindow(now + d, now)).toBe(false);
  expect(withinWindow(now - 300, now + 0.5)).toBe(false);
});

test("the replay cache remembers a nonce until its request could no longer be accepted", () => {
  const c = new ReplayCache();
  const k = ReplayCache.key("uid", "nonce");
  expect(c.has(k, 100)).toBe(false);
  c.add(k, 400);
  expect(c.has(k, 100)).toBe(true);
  expect(c.has(k, 400)).toBe(true);
  c.sweep(400);
  expect(c.has(k, 400)).toBe(true);
  c.sweep(401);
  expect(c.has(k, 401)).toBe(false);
  expect(c.size).toBe(0);
});

test("nonces are per UID", () => {
  const c = new ReplayCache();
  c.add(ReplayCache.key("alice", "n"), 500);
  expect(c.has(ReplayCache.key("bob", "n"), 100)).toBe(false);
});

test("sweep drops only expired buckets", () => {
  const c = new ReplayCache();
  for (let i = 0; i < 100; i++) c.add(ReplayCache.key("u", String(i)), 1000 + i);
  c.sweep(1050);
  expect(c.size).toBe(50);
  expect(c.has(ReplayCache.key("u", "49"), 1000)).toBe(false);
  expect(c.has(ReplayCache.key("u", "50"), 1000)).toBe(true);
});
