import { expect, test } from "bun:test";
import { EchoTracker, echoKey } from "./echoes.ts";

test("an own message is shown once whether the echo or the send result comes first", () => {
  const e = new EchoTracker();
  const k = echoKey({ body: "hi" });
  // send finishes first, echo later
  e.expect(k);
  expect(e.onSent(k)).toBe(true);
  expect(e.onEcho(k)).toBe(false);
  // echo first, send result later
  e.expect(k);
  expect(e.onEcho(k)).toBe(true);
  expect(e.onSent(k)).toBe(false);
  // a message of ours sent elsewhere (another device) is shown
  expect(e.onEcho(k)).toBe(true);
  // a failed send leaves nothing behind
  e.expect(k);
  e.onFailed(k);
  expect(e.onEcho(k)).toBe(true);
  // two identical texts in flight
  e.expect(k);
  e.expect(k);
  expect(e.onEcho(k)).toBe(true);
  expect(e.onSent(k)).toBe(false);
  expect(e.onSent(k)).toBe(true);
  expect(e.onEcho(k)).toBe(false);
  expect(echoKey({ body: "x", file: { name: "a.txt" } })).not.toBe(echoKey({ body: "a.txt" }));
});
