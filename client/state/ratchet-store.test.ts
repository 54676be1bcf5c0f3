// The v3 ratchet's tables (client/state/ratchet-store.ts): round trips, one transaction per
// change, deletions, pruning, and seals bound to their row (a value moved elsewhere does not open).
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorOf } from "../../tests/helpers/errors.ts";
import { testVaultKey } from "../../tests/helpers/state.ts";
import * as r from "./ratchet-store.ts";
import { StateDb } from "./state-db.ts";

const open = () => StateDb.open(join(mkdtempSync(join(tmpdir(), "phantom-ratchet-store-")), "home"), testVaultKey());
const ALICE = "A".repeat(28);
const BOB = "B".repeat(28);
const rnd = (n: number) => new Uint8Array(randomBytes(n));

test("sessions by (contact, SID): the most recently used first; deleting one takes its skipped keys", () => {
  const db = open();
  const [s1, s2] = [rnd(8), rnd(8)];
  db.tx(() => {
    r.putSession(db, ALICE, s1, Uint8Array.of(1), 100);
    r.putSession(db, ALICE, s2, Uint8Array.of(2), 200);
    r.putSession(db, BOB, s1, Uint8Array.of(3), 300);
  });
  expect(r.listSessions(db, ALICE).map((s) => [s.sid, s.lastUsed, s.state])).toEqual([
    [s2, 200, Uint8Array.of(2)],
    [s1, 100, Uint8Array.of(1)],
  ]);
  r.putSession(db, ALICE, s1, Uint8Array.of(9), 400); // an update replaces
  expect(r.getSession(db, ALICE, s1)).toEqual({ sid: s1, lastUsed: 400, state: Uint8Array.of(9) });
  r.putSkipped(db, ALICE, s1, rnd(32), 3, rnd(32), 1);
  r.deleteSession(db, ALICE, s1);
  expect(r.getSession(db, ALICE, s1)).toBeNull();
  expect(r.countSkipped(db, ALICE, s1)).toBe(0);
  expect(r.getSession(db, BOB, s1)?.state).toEqual(Uint8Array.of(3));
  expect(errorOf(() => r.putSession(db, ALICE, rnd(7), rnd(1), 1)).message).toContain("SID: expected 8 bytes");
  db.close();
});

test("a session sealed for one contact does not open as another's", () => {
  const db = open();
  const sid = rnd(8);
  r.putSession(db, ALICE, sid, Uint8Array.of(1), 1);
  db.db.query("UPDATE sessions SET contact = ?").run(db.contactIndex(BOB));
  const e = errorOf(() => r.getSession(db, BOB, sid));
  expect(e.code).toBe("state-corrupt");
  expect(e.message).toContain("table sessions");
  db.close();
});

test("skipped keys: taken once (deleted in the transaction), counted, pruned by age", () => {
  const db = open();
  const [sid, dh, mk] = [rnd(8), rnd(32), rnd(32)];
  db.tx(() => {
    for (let n = 0; n < 5; n++) r.putSkipped(db, ALICE, sid, dh, n, n === 2 ? mk : rnd(32), n < 3 ? 10 : 1000);
  });
  expect(r.countSkipped(db, ALICE, sid)).toBe(5);
  expect(db.tx(() => r.takeSkipped(db, ALICE, sid, dh, 2))).toEqual(mk);
  expect(r.takeSkipped(db, ALICE, sid, dh, 2)).toBeNull();
  // A take whose transaction fails keeps the key (§V5.5 step 4: nothing of a failed decryption is kept).
  expect(() =>
    db.tx(() => {
      r.takeSkipped(db, ALICE, sid, dh, 3);
      throw new Error("bad tag");
    }),
  ).toThrow("bad tag");
  expect(r.countSkipped(db, ALICE, sid)).toBe(4);
  expect(r.pruneSkipped(db, 500)).toBe(2);
  expect(r.countSkipped(db, ALICE, sid)).toBe(2);
  db.close();
});

test("prekeys by kind and id; published/used ids; the highest id", () => {
  const db = open();
  const secret = rnd(64);
  r.putPrekey(db, 4, 7, secret, 50);
  r.putPrekey(db, 4, 3, rnd(64), 40);
  expect(r.getPrekey(db, 4, 7)).toEqual(secret);
  expect(r.getPrekey(db, 2, 7)).toBeNull();
  expect(r.listPrekeys(db, 4)).toEqual([
    { id: 3, created: 40 },
    { id: 7, created: 50 },
  ]);
  r.markPrekeyId(db, 4, 9, "published", 60);
  r.markPrekeyId(db, 4, 9, "used", 70);
  expect(r.prekeyIdState(db, 4, 9)).toEqual({ state: "used", at: 70 });
  expect(r.maxPrekeyId(db, 4)).toBe(9);
  expect(r.maxPrekeyId(db, 1)).toBe(-1);
  expect(r.deletePrekey(db, 4, 7)).toBe(true);
  expect(r.getPrekey(db, 4, 7)).toBeNull();
  // A private prekey moved to another id does not open.
  db.db.query("UPDATE prekeys SET id = 8 WHERE id = 3").run();
  expect(errorOf(() => r.getPrekey(db, 4, 8)).message).toContain("table prekeys");
  db.close();
});

test("dropped SIDs are remembered and pruned", () => {
  const db = open();
  const sid = rnd(8);
  r.dropSid(db, ALICE, sid, 100);
  expect(r.isDroppedSid(db, ALICE, sid)).toBe(true);
  expect(r.isDroppedSid(db, BOB, sid)).toBe(false);
  expect(r.pruneDroppedSids(db, 101)).toBe(1);
  expect(r.isDroppedSid(db, ALICE, sid)).toBe(false);
  db.close();
});

test("history by SHA-256(wire): per conversation, oldest first; deleted per contact or all; pruned by age", () => {
  const db = open();
  const row = (ts: number, direction: r.Direction) => ({ hash: rnd(32), ts, direction, inner: rnd(40) });
  const [a1, a2, b1] = [row(20, "out"), row(10, "in"), row(15, "in")];
  db.tx(() => {
    r.putHistory(db, ALICE, a1);
    r.putHistory(db, ALICE, a2);
    r.putHistory(db, BOB, b1);
  });
  expect(r.getHistory(db, ALICE, a1.hash)).toEqual(a1);
  expect(r.getHistory(db, BOB, a1.hash)).toBeNull();
  expect(r.listHistory(db, ALICE)).toEqual([a2, a1]);
  // Moving a row to another time or direction breaks its seal.
  db.db.query("UPDATE history SET direction = 0 WHERE h = ?").run(a1.hash);
  expect(errorOf(() => r.getHistory(db, ALICE, a1.hash)).message).toContain("table history");
  expect(r.pruneHistory(db, 12)).toBe(1);
  expect(r.deleteHistory(db, BOB)).toBe(1);
  expect(r.deleteHistory(db, null)).toBe(1);
  db.close();
});

test("no contact UID and no secret value appears in any file of the home", () => {
  const home = join(mkdtempSync(join(tmpdir(), "phantom-ratchet-store-")), "home");
  const db = StateDb.open(home, testVaultKey());
  const secret = Buffer.from("an-inner-message-nobody-may-read");
  db.tx(() => {
    r.putSession(db, ALICE, rnd(8), secret, 1);
    r.putHistory(db, ALICE, { hash: rnd(32), ts: 1, direction: "in", inner: secret });
  });
  db.close();
  for (const f of readdirSync(home)) {
    const bytes = readFileSync(join(home, f));
    expect(bytes.includes(ALICE)).toBe(false);
    expect(bytes.includes(secret)).toBe(false);
  }
});
