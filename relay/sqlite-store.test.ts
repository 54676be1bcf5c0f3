// PROTOCOL §7.6.1 in the SQLite store: the schema-1 → 2 migration keeps every stored row
// (its id becomes its seq), seq is never reused, and the row-by-row reads stop where the
// caller's budget says.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS, SCHEMA_VERSION, SqliteStore } from "./sqlite-store.ts";

const ROOM_A = "A".repeat(22);
const ROOM_B = "B".repeat(22);
const all = () => true;
let dir = "";

function dbPath(): string {
  dir = mkdtempSync(join(tmpdir(), "phantom-store-"));
  return join(dir, "relay.db");
}

afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a schema-1 database migrates to seq and keeps every row, in order", () => {
  const path = dbPath();
  const old = new Database(path, { create: true });
  old.run(MIGRATIONS[0]!);
  old.run("PRAGMA user_version = 1");
  const insert = old.prepare("INSERT INTO messages (id, room_id, ts, ciphertext) VALUES (?, ?, ?, ?)");
  insert.run(1, ROOM_A, 100, "AAAA");
  insert.run(2, ROOM_B, 100, "BBBB");
  insert.run(7, ROOM_A, 100, "CCCC"); // ids 3–6 were deleted before the upgrade
  old.close();

  const store = new SqliteStore(path);
  expect(SCHEMA_VERSION).toBe(2);
  expect(store.fetchAfter(ROOM_A, 0, 200, all)).toEqual({
    rows: [
      { ts: 100, ciphertext: "AAAA", seq: 1 },
      { ts: 100, ciphertext: "CCCC", seq: 7 },
    ],
    more: false,
  });
  expect(store.fetchMessages(ROOM_B, 0, 200, all)).toEqual([{ ts: 100, ciphertext: "BBBB", seq: 2 }]);
  expect(store.addMessage(ROOM_B, "DDDD", 101)).toBe(8); // after every migrated seq
  store.close();
  const version = new Database(path).query("PRAGMA user_version").get() as { user_version: number };
  expect(version.user_version).toBe(2);
});

test("seq increases across rooms and is never reused, even after the newest row is burned", () => {
  const store = new SqliteStore(dbPath());
  const s1 = store.addMessage(ROOM_A, "AAAA", 5);
  const s2 = store.addMessage(ROOM_B, "BBBB", 5);
  expect(s2).toBeGreaterThan(s1);
  store.burnRoom(ROOM_B); // deletes the row with the largest seq
  const s3 = store.addMessage(ROOM_A, "CCCC", 5);
  expect(s3).toBeGreaterThan(s2); // a plain INTEGER PRIMARY KEY would hand out s2 again
  store.close();
});

test("fetchAfter: the oldest `limit` rows after the cursor, `more` at and past the limit and the budget", () => {
  const store = new SqliteStore(dbPath());
  const seqs = Array.from({ length: 5 }, (_, i) => store.addMessage(ROOM_A, `row${i}`, 9)); // one second
  expect(store.fetchAfter(ROOM_A, 0, 5, all).more).toBe(false); // exactly `limit` left
  const page = store.fetchAfter(ROOM_A, 0, 4, all);
  expect(page.rows.map((r) => r.seq)).toEqual(seqs.slice(0, 4));
  expect(page.more).toBe(true);
  expect(store.fetchAfter(ROOM_A, seqs[3]!, 4, all)).toEqual({
    rows: [{ ts: 9, ciphertext: "row4", seq: seqs[4]! }],
    more: false,
  });
  let n = 0;
  const two = () => n++ < 2;
  const capped = store.fetchAfter(ROOM_A, 0, 200, two);
  expect(capped.rows.map((r) => r.ciphertext)).toEqual(["row0", "row1"]);
  expect(capped.more).toBe(true);
  n = 0;
  // Without a cursor the newest rows that fit, oldest first (PROTOCOL §7.6.1).
  expect(store.fetchMessages(ROOM_A, 0, 200, two).map((r) => r.ciphertext)).toEqual(["row3", "row4"]);
  store.close();
});
