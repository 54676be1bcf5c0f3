// The PostgreSQL store against a real PostgreSQL (tests/helpers/pg-server.ts): the Store contract
// (relay/store-contract.ts) unchanged, and what only a shared database has: two stores (two relay
// instances) on one database never both pass a rule, the database stamps ts, a replayed nonce
// is refused by any instance, and a restart of the database is StoreBusyError, then recovery.
import { SQL } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NO_POSTGRES, type Postgres, startPostgres } from "../tests/helpers/pg-server.ts";
import { PgStore } from "./pg-store.ts";
import { storeContract } from "./store-contract.ts";
import { StoreBusyError } from "./store.ts";

const ROOM = "R".repeat(22);
const UID_1 = "1".repeat(28);
const UID_2 = "2".repeat(28);
const all = () => true;

let pg: Postgres | null = null;
beforeAll(async () => {
  if (!NO_POSTGRES) pg = await startPostgres();
}, 30_000);
afterAll(async () => {
  await pg?.stop();
});

const open = async (clock: "caller" | "database" = "caller", url?: string) =>
  PgStore.open(url ?? (await pg!.newDatabase()), { prepare: true, clock, max: 4 });

describe.skipIf(NO_POSTGRES !== null)(`PostgreSQL${NO_POSTGRES ? ` (skipped: ${NO_POSTGRES})` : ""}`, () => {
  let lastUrl = "";
  storeContract(
    "PostgreSQL",
    async () => {
      lastUrl = await pg!.newDatabase();
      return open("caller", lastUrl);
    },
    (store) => store.close(),
    {
      // Another connection (another instance) holding the writer lock longer than lock_timeout.
      lockElsewhere: async () => {
        const other = new SQL(lastUrl, { max: 1 });
        const c = await other.reserve();
        await c`BEGIN`;
        await c`SELECT 1 AS x FROM relay_clock WHERE id = 1 FOR UPDATE`;
        return async () => {
          await c`ROLLBACK`;
          c.release();
          await other.close();
        };
      },
    },
  );

  test("two instances on one database: a rule passes once, seq and ts are shared and ordered", async () => {
    const url = await pg!.newDatabase();
    const [a, b] = [await open("database", url), await open("database", url)];
    await a.addRoom(ROOM, UID_1, UID_2);
    const burns = await Promise.all([a.burn(UID_1, ROOM, 100, 0, 1), b.burn(UID_1, ROOM, 100, 0, 1)]);
    expect(burns.filter((r) => r.ok).length).toBe(1);
    const quota = await Promise.all([a.addMessageWithin(ROOM, "AAAA", 0, 6), b.addMessageWithin(ROOM, "BBBB", 0, 6)]);
    expect(quota.filter((r) => r === null).length).toBe(1);
    const stamps = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).transaction((tx) => tx.addMessage(ROOM, `m${i}`, 0))),
    );
    const now = Date.now() / 1000;
    for (const s of stamps) expect(Math.abs(s.ts - now)).toBeLessThan(30); // the database's clock, not the 0 given
    const rows = (await b.fetchAfter(ROOM, 0, 100, all)).rows;
    expect(rows.length).toBe(21);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.seq).toBeGreaterThan(rows[i - 1]!.seq);
      expect(rows[i]!.ts).toBeGreaterThanOrEqual(rows[i - 1]!.ts);
    }
    expect(await a.roomBytes(ROOM)).toBe(4 + 20 * 2 + 10 * 1);
    expect(await b.claimNonce("k", 500)).toBe(true);
    expect(await a.claimNonce("k", 500)).toBe(false); // replayed to the other instance
    // Claims of one turn are one INSERT: a key twice in it, and on both instances, is granted once.
    const claims = await Promise.all([
      a.claimNonce("x", 500),
      a.claimNonce("x", 500),
      b.claimNonce("x", 500),
      a.claimNonce("y", 500),
    ]);
    expect(claims.slice(0, 3).filter(Boolean).length).toBe(1);
    expect(claims[3]).toBe(true);
    await a.close();
    await b.close();
  });

  test("the database restarting: StoreBusyError while it is down, nothing lost, then it works again", async () => {
    const store = await open("database");
    await store.addRoom(ROOM, UID_1, UID_2);
    const kept = await store.transaction((tx) => tx.addMessage(ROOM, "kept", 0));
    await pg!.halt();
    await expect(store.transaction((tx) => tx.addMessage(ROOM, "down", 0))).rejects.toBeInstanceOf(StoreBusyError);
    await expect(store.fetchAfter(ROOM, 0, 10, all)).rejects.toBeInstanceOf(StoreBusyError);
    await pg!.start();
    let rows: { ciphertext: string }[] = [];
    for (let i = 0; i < 50; i++) {
      try {
        rows = (await store.fetchAfter(ROOM, 0, 10, all)).rows;
        break;
      } catch (e) {
        expect(e).toBeInstanceOf(StoreBusyError);
        await Bun.sleep(100);
      }
    }
    expect(rows.map((r) => r.ciphertext)).toEqual(["kept"]);
    const next = await store.transaction((tx) => tx.addMessage(ROOM, "after", 0));
    expect(next.seq).toBeGreaterThan(kept.seq);
    await store.close();
  }, 30_000);

  test("a database newer than this relay is refused with a one-line error that hides the password", async () => {
    const url = await pg!.newDatabase();
    const sql = new SQL(url, { max: 1 });
    await sql`CREATE TABLE relay_schema (version int NOT NULL)`;
    await sql`INSERT INTO relay_schema VALUES (99)`;
    await sql.close();
    const withPassword = url.replace("phantom@", "phantom:s3cret@");
    const err = await PgStore.open(withPassword, { prepare: false, clock: "database" }).catch((e: Error) => e);
    expect(String((err as Error).message)).toContain("newer than this relay knows");
    expect(String((err as Error).message)).not.toContain("s3cret");
  });
});
