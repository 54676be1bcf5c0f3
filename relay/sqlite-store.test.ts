// The SQLite store: the Store contract (relay/store-contract.ts) against a fresh database
// file, and what only SQLite has: PROTOCOL §7.6.1's schema-1 → 2 migration keeps every stored
// row (its id becomes its seq); PROTOCOL-v3 §V3's 2 → 3 adds the prekey tables.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS, SCHEMA_VERSION, SqliteStore } from "./sqlite-store.ts";
import { storeContract } from "./store-contract.ts";

const ROOM_A = "A".repeat(22);
const ROOM_B = "B".repeat(22);
const all = () => true;
let dir = "";

function dbPath(): string {
  dir = mkdtempSync(join(tmpdir(), "phantom-store-"));
  return join(dir, "relay.db");
}

afterEach(() => rmSync(dir, { recursive: true, force: true }));

storeContract(
  "SQLite",
  () => new SqliteStore(dbPath()),
  (store) => store.close(),
  {
    // Another connection to the same file, as another process would hold it.
    lockElsewhere: () => {
      const other = new Database(join(dir, "relay.db"));
      other.run("BEGIN EXCLUSIVE");
      return () => {
        other.run("ROLLBACK");
        other.close();
      };
    },
  },
);

test("a schema-1 database migrates to seq and keeps every row, in order", async () => {
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
  expect(SCHEMA_VERSION).toBe(3);
  expect(await store.fetchAfter(ROOM_A, 0, 200, all)).toEqual({
    rows: [
      { ts: 100, ciphertext: "AAAA", seq: 1 },
      { ts: 100, ciphertext: "CCCC", seq: 7 },
    ],
    more: false,
  });
  expect(await store.fetchMessages(ROOM_B, 0, 200, all)).toEqual([{ ts: 100, ciphertext: "BBBB", seq: 2 }]);
  expect((await store.addMessage(ROOM_B, "DDDD", 101)).seq).toBe(8); // after every migrated seq
  await store.close();
  const version = new Database(path).query("PRAGMA user_version").get() as { user_version: number };
  expect(version.user_version).toBe(3);
});

// PROTOCOL-v3 §V3: schema 2 → 3 adds the prekey tables and keeps every row.
test("a schema-2 database gains the prekey tables and keeps its rows", async () => {
  const path = dbPath();
  const old = new Database(path, { create: true });
  old.run(MIGRATIONS[0]!);
  old.run(MIGRATIONS[1]!);
  old.run("PRAGMA user_version = 2");
  old.run("INSERT INTO users (uid, enc_pub, sign_pub, registered_day) VALUES (?, ?, ?, 0)", [
    "1".repeat(28),
    new Uint8Array(32),
    new Uint8Array(32).fill(1),
  ]);
  old.prepare("INSERT INTO messages (room_id, ts, ciphertext) VALUES (?, ?, ?)").run(ROOM_A, 100, "AAAA");
  old.close();
  const store = new SqliteStore(path);
  expect((await store.getUser("1".repeat(28)))?.signPub).toEqual(new Uint8Array(32).fill(1));
  expect(await store.fetchMessages(ROOM_A, 0, 200, all)).toEqual([{ ts: 100, ciphertext: "AAAA", seq: 1 }]);
  expect(await store.prekeyStatus("1".repeat(28))).toEqual({ spkId: null, pqspkId: null, opks: 0, opqks: 0 });
  await store.close();
  const version = new Database(path).query("PRAGMA user_version").get() as { user_version: number };
  expect(version.user_version).toBe(3);
});
