// phantom-relay migrate (relay/migrate.ts): a SQLite relay's state moves to PostgreSQL without
// losing or changing a row — seqs, the seq counter past burned rows, one-time-key order, the
// replay cache, room bytes — and a target that is not empty is refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NO_POSTGRES, type Postgres, startPostgres } from "../tests/helpers/pg-server.ts";
import { migrate, parseMigrateArgs } from "./migrate.ts";
import { PgStore } from "./pg-store.ts";
import { SqliteStore } from "./sqlite-store.ts";
import type { Store, StoredPrekey } from "./store.ts";

const ROOM_A = "A".repeat(22);
const ROOM_B = "B".repeat(22);
const UID_1 = "1".repeat(28);
const UID_2 = "2".repeat(28);
const all = () => true;
const key = (id: number, size = 32): StoredPrekey => ({
  id,
  pub: new Uint8Array(size).fill(id),
  sig: new Uint8Array(64).fill(id + 1),
});

let pg: Postgres | null = null;
let dir = "";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "phantom-migrate-"));
  if (!NO_POSTGRES) pg = await startPostgres();
}, 30_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A relay's worth of state, through the Store interface. */
async function fill(s: Store): Promise<void> {
  await s.addUser(
    { uid: UID_1, encPub: new Uint8Array(32).fill(1), signPub: new Uint8Array(32).fill(2) },
    86_400 * 3 + 5,
  );
  await s.addUser({ uid: UID_2, encPub: new Uint8Array(32).fill(3), signPub: new Uint8Array(32).fill(4) }, 86_400 * 4);
  await s.addRoom(ROOM_A, UID_1, UID_2);
  await s.addRoom(ROOM_B, UID_2, UID_1);
  await s.putInbox(UID_2, { from_uid: UID_1, pub_key: "k".repeat(44), room_id: ROOM_A, ts: 50 });
  for (let i = 0; i < 1200; i++) await s.addMessage(i % 3 ? ROOM_A : ROOM_B, `m${i}`, 100 + Math.floor(i / 100));
  await s.burnRoom(ROOM_B); // the newest seqs of the counter are gone: never handed out again
  await s.addMessage(ROOM_B, "after-burn", 200);
  await s.burnRoom(ROOM_B);
  await s.addFile({ blobId: "f".repeat(32), roomId: ROOM_A, size: 1000, expires: 9999 }, 150);
  await s.addBurn(UID_1, 120);
  await s.addNonce(`${UID_1} nonce1`, 400);
  await s.putPrekeys(UID_2, {
    spk: key(1),
    pqspk: key(2, 1184),
    opks: [key(7), key(5), key(6)],
    opqks: [key(9, 1184)],
  });
  await s.addBundleRequest(UID_1, 130);
  expect((await s.takeBundle(UID_1, UID_2, 140, 0))?.opk?.id).toBe(7); // the oldest upload first
}

describe.skipIf(NO_POSTGRES !== null)(`migrate${NO_POSTGRES ? ` (skipped: ${NO_POSTGRES})` : ""}`, () => {
  test("the seq counter goes on past every seq SQLite ever handed out, burned rows included", async () => {
    const path = join(dir, "relay.db");
    const sqlite = new SqliteStore(path);
    await fill(sqlite);
    const probe = (await sqlite.addMessage(ROOM_A, "probe", 300)).seq; // the newest seq SQLite gave…
    await sqlite.burnRoom(ROOM_A); // …and its row gone: only the counter remembers it
    await sqlite.close();
    const url = await pg!.newDatabase();
    const lines: string[] = [];
    await migrate({ from: path, to: url, prepare: true }, (l) => lines.push(l));
    expect(lines).toContain("messages: 0 rows");
    expect(lines.at(-1)).toStartWith("migrated to postgres://");
    const store = await PgStore.open(url, { prepare: true, clock: "database" });
    expect((await store.addMessage(ROOM_A, "first on pg", 0)).seq).toBeGreaterThan(probe);
    await store.close();
  });

  test("a full relay: messages, seqs, room bytes, users, inbox, files, prekeys, nonces are the same", async () => {
    const path = join(dir, "full.db");
    const sqlite = new SqliteStore(path);
    await fill(sqlite);
    const rows = (await sqlite.fetchAfter(ROOM_A, 0, 2000, all)).rows;
    const bytes = await sqlite.roomBytes(ROOM_A);
    await sqlite.close();
    const url = await pg!.newDatabase();
    const lines: string[] = [];
    await migrate({ from: path, to: url, prepare: false }, (l) => lines.push(l));
    expect(lines).toContain(`messages: ${rows.length} rows`);
    const store = await PgStore.open(url, { prepare: true, clock: "database" });
    expect((await store.fetchAfter(ROOM_A, 0, 2000, all)).rows).toEqual(rows);
    expect(await store.roomBytes(ROOM_A)).toBe(bytes);
    expect(await store.roomBytes(ROOM_B)).toBe(0);
    expect(await store.getUser(UID_1)).toEqual({
      uid: UID_1,
      encPub: new Uint8Array(32).fill(1),
      signPub: new Uint8Array(32).fill(2),
    });
    expect(await store.getRoom(ROOM_B)).toEqual([UID_2, UID_1]);
    expect(await store.getFile("f".repeat(32))).toEqual({
      blobId: "f".repeat(32),
      roomId: ROOM_A,
      size: 1000,
      expires: 9999,
    });
    expect(await store.burnsSince(UID_1, 0)).toEqual({ count: 1, oldest: 120 });
    expect(await store.bundleRequestsSince(UID_1, 0)).toEqual({ count: 1, oldest: 130 });
    expect(await store.claimNonce(`${UID_1} nonce1`, 400)).toBe(false); // still spent
    expect(await store.prekeyStatus(UID_2)).toEqual({ spkId: 1, pqspkId: 2, opks: 2, opqks: 0 });
    expect(await store.prekeyIdsUsed(UID_2, [9])).toBe(true);
    // The grant of 140 holds on PostgreSQL too; for another signer the next oldest OPK is 5.
    expect((await store.takeBundle(UID_1, UID_2, 150, 0))?.opk).toBeNull();
    expect((await store.takeBundle(UID_2, UID_2, 150, 0))?.opk?.id).toBe(5);
    const next = await store.addMessage(ROOM_B, "new", 0);
    expect(next.seq).toBeGreaterThan(1201); // past the burned "after-burn" row's seq
    expect(next.ts).toBeGreaterThanOrEqual(rows.at(-1)!.ts);
    expect(await store.popInbox(UID_2)).toEqual([
      { from_uid: UID_1, pub_key: "k".repeat(44), room_id: ROOM_A, ts: 50 },
    ]);
    await store.close();
    // Not twice: a target with rows is refused and keeps them.
    const err = await migrate({ from: path, to: url, prepare: true }, () => {}).catch((e: Error) => e);
    expect((err as Error).message).toContain("not empty");
  });

  test("arguments: --from sqlite:PATH and --to postgres:// only, one-line errors", () => {
    expect(parseMigrateArgs(["--from", "sqlite:/x/relay.db", "--to=postgres://u@h/db"])).toEqual({
      from: "/x/relay.db",
      to: "postgres://u@h/db",
      prepare: true,
    });
    expect(() => parseMigrateArgs(["--from", "/x/relay.db", "--to", "postgres://h/db"])).toThrow("sqlite:PATH");
    expect(() => parseMigrateArgs(["--from", "sqlite:x", "--to", "mysql://h/db"])).toThrow("postgres://");
    expect(() => parseMigrateArgs(["--from", "sqlite:x", "--to", "postgres://h/db", "--force"])).toThrow(
      "unknown option",
    );
  });
});
