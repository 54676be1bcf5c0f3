// PROTOCOL-v3 §V5.6 session choice.
import { expect, test } from "bun:test";
import { activeSession, sessionToDrop } from "./sessions.ts";

test("active: last received on, else created last; drop: least recently used past 3", () => {
  expect(activeSession([])).toBe(-1);
  const a = { createdAt: 1, lastReceivedAt: null, lastUsedAt: 5 };
  const b = { createdAt: 2, lastReceivedAt: null, lastUsedAt: 3 };
  const c = { createdAt: 0, lastReceivedAt: 7, lastUsedAt: 7 };
  expect(activeSession([a, b])).toBe(1);
  expect(activeSession([a, b, c])).toBe(2);
  expect(sessionToDrop([a, b, c])).toBe(-1);
  expect(sessionToDrop([a, b, c, { createdAt: 9, lastReceivedAt: null, lastUsedAt: 9 }])).toBe(1);
});
