// relay/writes.ts against a real SQLite store whose write lock another connection holds
// (as another process would): a lock released within BUSY_GIVE_UP_MS lets the write commit;
// one held past it refuses the write 503 busy and stores nothing; the event loop runs meanwhile.
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RelayError } from "./errors.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { BUSY_GIVE_UP_MS, WriteQueue } from "./writes.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "phantom-writes-"));
  dirs.push(dir);
  const path = join(dir, "relay.db");
  const store = new SqliteStore(path);
  const other = new Database(path);
  return { store, writes: WriteQueue.open(store), other };
}

const count = async (store: SqliteStore) => (await store.fetchMessages("room", 0, 100, () => true)).length;

test("a lock released before BUSY_GIVE_UP_MS: the write waits for it without blocking, then commits", async () => {
  const { store, writes: opening, other } = setup();
  const writes = await opening;
  other.run("BEGIN EXCLUSIVE");
  const done = writes.run((tx) => tx.addMessage("room", "c1", 1));
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  await Bun.sleep(BUSY_GIVE_UP_MS / 2);
  clearInterval(ticker);
  expect(ticks).toBeGreaterThan(5); // the event loop ran while the write waited
  expect(await count(store)).toBe(0);
  other.run("ROLLBACK");
  await done;
  expect(await count(store)).toBe(1);
  await writes.close();
  other.close();
  await store.close();
});

test("a lock held past BUSY_GIVE_UP_MS: the write is refused 503 busy with Retry-After and nothing is stored", async () => {
  const { store, writes: opening, other } = setup();
  const writes = await opening;
  other.run("BEGIN EXCLUSIVE");
  const t0 = performance.now();
  const err = await writes.run((tx) => tx.addMessage("room", "c1", 1)).catch((e: unknown) => e);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(BUSY_GIVE_UP_MS - 50);
  expect(err).toBeInstanceOf(RelayError);
  expect((err as RelayError).status).toBe(503);
  expect((err as RelayError).code).toBe("busy");
  expect((err as RelayError).headers?.["retry-after"]).toMatch(/^\d+$/);
  other.run("ROLLBACK");
  expect(await count(store)).toBe(0);
  await writes.run((tx) => tx.addMessage("room", "c2", 2)); // and the queue works again
  expect(await count(store)).toBe(1);
  await writes.close();
  other.close();
  await store.close();
});

test("a new WriteQueue stamps no row below a stored one's ts (the clock went back across a restart)", async () => {
  const { store } = setup();
  const future = Math.floor(Date.now() / 1000) + 3600;
  await store.transaction((tx) => tx.addMessage("room", "c1", future));
  const writes = await WriteQueue.open(store);
  const ts = await writes.run(async () => writes.ts);
  expect(ts).toBe(future);
  const { seq } = await writes.run((tx) => tx.addMessage("room", "c2", writes.ts));
  // after_seq paging from the first row finds the second (seq order is (ts, seq) order).
  expect((await store.fetchAfter("room", seq - 1, 10, () => true)).rows.map((r) => r.ciphertext)).toEqual(["c2"]);
  expect((await store.fetchAfter("room", 0, 10, () => true)).rows.map((r) => r.ciphertext)).toEqual(["c1", "c2"]);
});

test("hold(): the batch commits only after a held promise settled (a shared live frame is out first)", async () => {
  const { store, writes: opening, other } = setup();
  const writes = await opening;
  const rows = () => (other.query("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
  let published!: () => void;
  const publish = new Promise<void>((r) => (published = r));
  let seenAtPublish = -1;
  const done = writes.run(async (tx) => {
    const stamp = await tx.addMessage("room", "c1", 1);
    writes.hold(publish.then(() => void (seenAtPublish = rows())));
    return stamp;
  });
  await Bun.sleep(50);
  expect(rows()).toBe(0); // not committed while the frame is on its way
  published();
  await done;
  expect(seenAtPublish).toBe(0); // published before the commit…
  expect(rows()).toBe(1); // …and committed right after
  // A held promise that rejects rolls the write back, and the job is refused, never acknowledged.
  const failed = writes.run(async (tx) => {
    await tx.addMessage("room", "c2", 2);
    writes.hold(Promise.reject(new Error("bus refused")));
  });
  await expect(failed).rejects.toThrow("bus refused");
  expect(rows()).toBe(1);
  await writes.close();
  other.close();
  await store.close();
});
