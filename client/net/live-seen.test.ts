// client/net/live-seen.ts: a row is new once, whether it came by a /fetch page or a live frame,
// with or without a PROTOCOL §7.6.1 seq; the cursor forgets the seqs it has passed.
import { expect, test } from "bun:test";
import { Seen } from "./live-seen.ts";

const row = (seq: number | undefined, ts = 5, ciphertext = `c${seq}`) =>
  seq === undefined ? { ts, ciphertext } : { ts, ciphertext, seq };

test("rows with seq: each once; at or below the cursor they are old", () => {
  const s = new Seen();
  expect(s.add(row(7))).toBe(true);
  expect(s.add(row(7))).toBe(false);
  expect(s.add(row(8))).toBe(true);
  expect(s.pending).toBe(2);
  s.advance(7);
  expect(s.pending).toBe(1); // 7 is covered by the cursor now
  expect(s.add(row(7))).toBe(false);
  expect(s.add(row(6, 1, "older"))).toBe(false); // below the cursor, though never seen: paged past
  s.advance(5); // a cursor never moves back
  expect(s.cursor).toBe(7);
  expect(s.add(row(9, 1))).toBe(true); // an older ts does not make a new seq old
});

test("rows without seq (2.2.x relay): deduplicated by ts and ciphertext, as before", () => {
  const s = new Seen();
  expect(s.add(row(undefined, 5, "a"))).toBe(true);
  expect(s.add(row(undefined, 5, "a"))).toBe(false);
  expect(s.add(row(undefined, 5, "b"))).toBe(true);
  expect(s.maxTs).toBe(5);
  expect(s.cursor).toBeNull();
});
