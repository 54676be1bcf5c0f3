import { expect, test } from "bun:test";
import { EchoTracker, echoKey } from "./echoes.ts";

test("an own message is shown once whether the echo or the send result comes first", () => {
  const e = new EchoTracker();
  const k = echoKey({ body: "hi" });
  // send finishes first, echo later
  e.expect(k);
  expect(e.onSent(k, 10)).toBe(true);
  expect(e.onEcho(k, 10)).toBe(false);
  // echo first, send result later
  e.expect(k);
  expect(e.onEcho(k, 11)).toBe(true);
  expect(e.onSent(k, 11)).toBe(false);
  // a message of ours sent elsewhere (another device) is shown
  expect(e.onEcho(k, 12)).toBe(true);
  // a failed send leaves nothing behind
  e.expect(k);
  e.onFailed(k);
  expect(e.onEcho(k, 13)).toBe(true);
  // two identical texts in flight
  e.expect(k);
  e.expect(k);
  expect(e.onEcho(k, 14)).toBe(true);
  expect(e.onSent(k, 14)).toBe(false);
  expect(e.onSent(k, 14)).toBe(true);
  expect(e.onEcho(k, 14)).toBe(false);
  expect(echoKey({ body: "x", file: { name: "a.txt" } })).not.toBe(echoKey({ body: "a.txt" }));
});

test("an echo that never came does not hide a later message with the same text", () => {
  const e = new EchoTracker();
  const k = echoKey({ body: "ok" });
  e.expect(k);
  expect(e.onSent(k, 20)).toBe(true); // its echo is lost (live updates were down)
  expect(e.onEcho(k, 25)).toBe(true); // "ok" from another of our devices, later
  expect(e.onEcho(k, 20)).toBe(false); // the late echo of the first one
});
