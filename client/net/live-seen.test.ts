// client/net/live-seen.ts: a row is new once, whether it came by a /fetch page or a live frame,
// with or without a PROTOCOL §7.6.1 seq; the cursor forgets the seqs it has passed.
import { expect, test } from "bun:test";
import { b64encode, utf8 } from "../../lib/encoding.ts";
import { Seen } from "./live-seen.ts";

// A row's ciphertext is the base64 of a label (rows are told apart by their decoded bytes).
const row = (seq: number | undefined, ts = 5, label = `c${seq}`) => {
  const ciphertext = b64encode(utf8.encode(label));
  return seq === undefined ? { ts, ciphertext } : { ts, ciphertext, seq };
};

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

test("rows without seq (2.2.x relay): deduplicated by their ciphertext, as before", () => {
  const s = new Seen();
  expect(s.add(row(undefined, 5, "a"))).toBe(true);
  expect(s.add(row(undefined, 5, "a"))).toBe(false);
  expect(s.add(row(undefined, 5, "b"))).toBe(true);
  expect(s.maxTs).toBe(5);
  expect(s.cursor).toBeNull();
});

// The de-duplication fix of issue 9: the key is messageId(ciphertext), not (ts, ciphertext),
// so one stored row that comes back with another ts (a /fetch page, then a live frame the
// relay stamped again) is new once; before, it was delivered twice.
test("the same row with another ts is not new again", () => {
  for (const seq of [undefined, 3]) {
    const s = new Seen();
    expect(s.add(row(undefined, 5, "same"))).toBe(true);
    expect(s.add(seq === undefined ? row(undefined, 6, "same") : { ...row(seq, 6, "same") })).toBe(false);
    expect(s.add(row(undefined, 6, "other"))).toBe(true);
  }
});
