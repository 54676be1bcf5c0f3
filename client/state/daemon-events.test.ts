// The daemon's event log in state.db: appends made once by key, consumers from now or from the
// oldest event, acknowledgements out of order (the floor), what survives a reopen, pruning by
// consumers, age and count, and the seal (no event text in the file).
import { afterAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { utf8 } from "../../lib/encoding.ts";
import { tempDir } from "../../tests/helpers/relay.ts";
import { testVaultKey } from "../../tests/helpers/state.ts";
import {
  ackEvent,
  appendEvent,
  EVENT_KEEP_MAX,
  EVENT_KEEP_S,
  lastEventId,
  openConsumer,
  pendingEvents,
  pruneEvents,
} from "./daemon-events.ts";
import { StateDb } from "./state-db.ts";

const root = tempDir("phantom-daemon-events-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

let homes = 0;
const newHome = () => join(root, `home-${++homes}`);
const NOW = 1_750_000_000;
const ALL = 1_000;

function fresh(): { db: StateDb; home: string; key: Uint8Array } {
  const home = newHome();
  const key = testVaultKey();
  return { db: StateDb.open(home, key), home, key };
}

/** Append events with bodies {n: 1}, {n: 2}, … at NOW; returns their ids. */
function appendN(db: StateDb, n: number, at = NOW): number[] {
  const ids: number[] = [];
  for (let i = 1; i <= n; i++) ids.push(appendEvent(db, { n: i }, `message:${i}-${at}`, at)!.id);
  return ids;
}

const pendingIds = (db: StateDb, name: string, after = 0) => pendingEvents(db, name, after, ALL).map((e) => e.id);
const storedIds = (db: StateDb) =>
  db.db
    .query<{ id: number }, []>("SELECT id FROM daemon_events ORDER BY id")
    .all()
    .map((r) => r.id);
const ackRows = (db: StateDb) => db.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM daemon_acks").get()!.n;

/** The consumer's floor as stored: its sealed row, keyed by HMAC("consumer:" + name) (the module's layout). */
function floorOf(db: StateDb, name: string): number | null {
  const k = db.contactIndex(`consumer:${name}`);
  const row = db.db.query<{ v: Uint8Array }, [Uint8Array]>("SELECT v FROM daemon_consumers WHERE k = ?").get(k);
  if (row === null) return null;
  return (JSON.parse(utf8.decode(db.open("daemon_consumers", k, row.v))) as { floor: number }).floor;
}

test("an append returns the stored event with ascending ids; a second append with the same key is null and stores nothing", () => {
  const { db } = fresh();
  expect(lastEventId(db)).toBe(0);
  const a = appendEvent(db, { type: "message", text: "hi" }, "message:m1", NOW);
  expect(a).toEqual({ id: 1, at: NOW, body: { type: "message", text: "hi" } });
  expect(appendEvent(db, { type: "message", text: "other body" }, "message:m1", NOW + 5)).toBeNull();
  const b = appendEvent(db, { type: "message", text: "ho" }, "message:m2", NOW);
  expect(b!.id).toBe(2);
  expect(storedIds(db)).toEqual([1, 2]);
  // Without a key every append is a new event, even with the same body.
  expect(appendEvent(db, { type: "relay-status" }, null, NOW)!.id).toBe(3);
  expect(appendEvent(db, { type: "relay-status" }, null, NOW)!.id).toBe(4);
  expect(lastEventId(db)).toBe(4);
  openConsumer(db, "all", "oldest");
  expect(pendingEvents(db, "all", 0, ALL).map((e) => e.body)).toEqual([
    { type: "message", text: "hi" },
    { type: "message", text: "ho" },
    { type: "relay-status" },
    { type: "relay-status" },
  ]);
  db.close();
});

test("a key makes an event once while it is kept: once pruned, the same key appends again", () => {
  const { db } = fresh();
  appendEvent(db, { n: 1 }, "message:old", NOW - EVENT_KEEP_S - 1);
  expect(pruneEvents(db, NOW)).toBe(1);
  expect(appendEvent(db, { n: 1 }, "message:old", NOW)!.id).toBe(2);
  db.close();
});

test('a consumer from "now" gets only later events; one from "oldest" gets every event kept', () => {
  const { db } = fresh();
  appendN(db, 3);
  expect(openConsumer(db, "late", "now")).toEqual({ pending: 0 });
  expect(openConsumer(db, "early", "oldest")).toEqual({ pending: 3 });
  expect(pendingIds(db, "late")).toEqual([]);
  expect(pendingIds(db, "early")).toEqual([1, 2, 3]);
  appendEvent(db, { n: 4 }, "message:4", NOW);
  expect(pendingIds(db, "late")).toEqual([4]);
  expect(pendingIds(db, "early")).toEqual([1, 2, 3, 4]);
  const [e] = pendingEvents(db, "late", 0, ALL);
  expect(e).toEqual({ id: 4, at: NOW, body: { n: 4 } });
  db.close();
});

test("a consumer is registered the first time it is named: opening it again keeps its place, whatever from says", () => {
  const { db } = fresh();
  appendN(db, 2);
  openConsumer(db, "c", "now");
  appendEvent(db, { n: 3 }, "message:3", NOW);
  expect(openConsumer(db, "c", "oldest")).toEqual({ pending: 1 });
  expect(pendingIds(db, "c")).toEqual([3]);
  openConsumer(db, "d", "oldest");
  ackEvent(db, "d", 1);
  expect(openConsumer(db, "d", "now")).toEqual({ pending: 2 });
  expect(pendingIds(db, "d")).toEqual([2, 3]);
  db.close();
});

test('"now" after every event was pruned still starts after the newest id ever used (not at 0)', () => {
  const { db } = fresh();
  appendN(db, 3, NOW - EVENT_KEEP_S - 10);
  expect(pruneEvents(db, NOW)).toBe(3);
  expect(storedIds(db)).toEqual([]);
  expect(lastEventId(db)).toBe(3);
  expect(openConsumer(db, "c", "now")).toEqual({ pending: 0 });
  expect(appendEvent(db, { n: 4 }, "message:4", NOW)!.id).toBe(4);
  expect(pendingIds(db, "c")).toEqual([4]);
  db.close();
});

test("pendingEvents: oldest first, at most limit, after afterId; an unknown consumer has nothing pending", () => {
  const { db } = fresh();
  appendN(db, 5);
  openConsumer(db, "c", "oldest");
  expect(pendingEvents(db, "c", 0, 2).map((e) => e.id)).toEqual([1, 2]);
  expect(pendingEvents(db, "c", 2, 2).map((e) => e.id)).toEqual([3, 4]);
  expect(pendingEvents(db, "c", 4, 2).map((e) => e.id)).toEqual([5]);
  expect(pendingEvents(db, "c", 5, 2)).toEqual([]);
  expect(pendingIds(db, "nobody")).toEqual([]);
  // afterId below the floor does not bring acknowledged events back.
  ackEvent(db, "c", 1);
  ackEvent(db, "c", 2);
  expect(pendingIds(db, "c", 0)).toEqual([3, 4, 5]);
  db.close();
});

test("acks out of order: 3, then 1, then 2 — pending never holds an acked id; the floor reaches 3 only after 2", () => {
  const { db } = fresh();
  appendN(db, 4);
  openConsumer(db, "c", "oldest");
  expect(floorOf(db, "c")).toBe(0);

  ackEvent(db, "c", 3);
  expect(pendingIds(db, "c")).toEqual([1, 2, 4]);
  expect(openConsumer(db, "c", "oldest")).toEqual({ pending: 3 });
  expect(floorOf(db, "c")).toBe(0);
  expect(ackRows(db)).toBe(1);

  ackEvent(db, "c", 1);
  expect(pendingIds(db, "c")).toEqual([2, 4]);
  expect(floorOf(db, "c")).toBe(1);
  expect(ackRows(db)).toBe(1); // 1 is under the floor now; 3 is still held above it

  ackEvent(db, "c", 2);
  expect(pendingIds(db, "c")).toEqual([4]);
  expect(openConsumer(db, "c", "oldest")).toEqual({ pending: 1 });
  expect(floorOf(db, "c")).toBe(3);
  expect(ackRows(db)).toBe(0);

  // Acks at or under the floor, and repeated acks, change nothing.
  ackEvent(db, "c", 2);
  ackEvent(db, "c", 3);
  expect(floorOf(db, "c")).toBe(3);
  expect(ackRows(db)).toBe(0);
  ackEvent(db, "c", 4);
  expect(floorOf(db, "c")).toBe(4);
  expect(pendingIds(db, "c")).toEqual([]);
  db.close();
});

test("consumers are independent: one's acks are not another's; an ack of an unknown consumer registers nothing", () => {
  const { db } = fresh();
  appendN(db, 3);
  openConsumer(db, "a", "oldest");
  openConsumer(db, "b", "oldest");
  ackEvent(db, "a", 1);
  ackEvent(db, "a", 3);
  expect(pendingIds(db, "a")).toEqual([2]);
  expect(pendingIds(db, "b")).toEqual([1, 2, 3]);
  ackEvent(db, "ghost", 2);
  expect(floorOf(db, "ghost")).toBeNull();
  expect(ackRows(db)).toBe(1); // a's 3 only
  // Never registered by the ack: opened later, it starts where it is told.
  expect(openConsumer(db, "ghost", "oldest")).toEqual({ pending: 3 });
  db.close();
});

test("the floor moves over ids no longer stored (pruned)", () => {
  const { db } = fresh();
  appendN(db, 2, NOW - EVENT_KEEP_S - 10);
  appendN(db, 2, NOW); // ids 3, 4
  openConsumer(db, "c", "oldest");
  expect(pruneEvents(db, NOW)).toBe(2);
  expect(pendingIds(db, "c")).toEqual([3, 4]);
  ackEvent(db, "c", 3);
  expect(floorOf(db, "c")).toBe(3);
  expect(ackRows(db)).toBe(0);
  db.close();
});

test("acks and consumers survive closing and reopening state.db with the same key", () => {
  const { db, home, key } = fresh();
  appendN(db, 4);
  openConsumer(db, "c", "oldest");
  ackEvent(db, "c", 3);
  ackEvent(db, "c", 1);
  db.close();

  const again = StateDb.open(home, key);
  expect(lastEventId(again)).toBe(4);
  expect(pendingIds(again, "c")).toEqual([2, 4]);
  expect(pendingEvents(again, "c", 0, ALL).map((e) => e.body)).toEqual([{ n: 2 }, { n: 4 }]);
  ackEvent(again, "c", 2);
  again.close();

  const third = StateDb.open(home, key);
  expect(floorOf(third, "c")).toBe(3);
  expect(pendingIds(third, "c")).toEqual([4]);
  // The dedup keys survive too.
  expect(appendEvent(third, { n: 1 }, `message:1-${NOW}`, NOW)).toBeNull();
  third.close();
});

test("pruneEvents drops what every consumer acked and what is older than EVENT_KEEP_S; it keeps the rest", () => {
  const { db } = fresh();
  // 1: too old (unacked: still goes). 2..5: recent.
  appendEvent(db, { n: 1 }, "message:old", NOW - EVENT_KEEP_S - 1);
  appendEvent(db, { n: 2 }, "message:edge", NOW - EVENT_KEEP_S); // exactly EVENT_KEEP_S old: kept
  appendEvent(db, { n: 3 }, "message:3", NOW);
  appendEvent(db, { n: 4 }, "message:4", NOW);
  appendEvent(db, { n: 5 }, "message:5", NOW);
  openConsumer(db, "fast", "oldest");
  openConsumer(db, "slow", "oldest");
  for (const id of [1, 2, 3, 4]) ackEvent(db, "fast", id);
  ackEvent(db, "slow", 1);
  ackEvent(db, "slow", 2);
  ackEvent(db, "slow", 4); // above slow's floor (2): not every consumer has acked 3, so 4 stays

  expect(pruneEvents(db, NOW)).toBe(2);
  expect(storedIds(db)).toEqual([3, 4, 5]);
  expect(pendingIds(db, "fast")).toEqual([5]);
  expect(pendingIds(db, "slow")).toEqual([3, 5]);

  ackEvent(db, "slow", 3);
  expect(pruneEvents(db, NOW)).toBe(2);
  expect(storedIds(db)).toEqual([5]);
  expect(pruneEvents(db, NOW)).toBe(0);
  db.close();
});

test("pruneEvents without consumers keeps every recent event; an unacked one goes once it is EVENT_KEEP_S old", () => {
  const { db } = fresh();
  appendN(db, 3);
  expect(pruneEvents(db, NOW)).toBe(0);
  expect(pruneEvents(db, NOW + EVENT_KEEP_S)).toBe(0);
  openConsumer(db, "c", "oldest");
  expect(pruneEvents(db, NOW + EVENT_KEEP_S)).toBe(0);
  expect(pruneEvents(db, NOW + EVENT_KEEP_S + 1)).toBe(3);
  expect(pendingIds(db, "c")).toEqual([]);
  db.close();
});

test("pruneEvents keeps at most EVENT_KEEP_MAX events, dropping the oldest, even unacknowledged", () => {
  const { db } = fresh();
  openConsumer(db, "c", "oldest");
  // Rows written directly (pruning counts and deletes, it never opens them); two real ones at the end.
  db.tx(() => {
    const insert = db.db.query("INSERT INTO daemon_events (h, at, v) VALUES (?, ?, ?)");
    for (let i = 0; i < EVENT_KEEP_MAX - 1; i++) insert.run(new Uint8Array(randomBytes(32)), NOW, new Uint8Array(28));
  });
  appendEvent(db, { n: "last-but-one" }, "message:a", NOW);
  expect(pruneEvents(db, NOW)).toBe(0); // exactly EVENT_KEEP_MAX
  appendEvent(db, { n: "last" }, "message:b", NOW);
  appendEvent(db, { n: "very last" }, "message:c", NOW);
  expect(pruneEvents(db, NOW)).toBe(2);
  const stored = storedIds(db);
  expect(stored.length).toBe(EVENT_KEEP_MAX);
  expect(stored[0]).toBe(3);
  expect(stored.at(-1)).toBe(EVENT_KEEP_MAX + 2);
  expect(pendingEvents(db, "c", EVENT_KEEP_MAX - 1, ALL).map((e) => e.body)).toEqual([
    { n: "last-but-one" },
    { n: "last" },
    { n: "very last" },
  ]);
  db.close();
}, 60_000);

test("sealed: no event text, dedup key or consumer name in state.db or its -wal, before or after a checkpoint", () => {
  const { db, home } = fresh();
  const TEXT = "meet-me-at-the-old-mill-zq7";
  const KEY = "message:id-visible-xk9";
  const CONSUMER = "consumer-name-visible-pf3";
  appendEvent(db, { type: "message", body: TEXT }, KEY, NOW);
  openConsumer(db, CONSUMER, "oldest");
  ackEvent(db, CONSUMER, 1);
  const scan = () => {
    const files = readdirSync(home).filter((f) => f.startsWith("state.db"));
    expect(files).toContain("state.db");
    for (const f of files) {
      const bytes = readFileSync(join(home, f));
      for (const s of [TEXT, KEY, CONSUMER]) expect(bytes.includes(s)).toBe(false);
    }
    return files;
  };
  expect(scan()).toContain("state.db-wal");
  db.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  scan();
  // The event opens again with the key: the text is there, sealed.
  expect(pendingEvents(db, CONSUMER, 0, ALL)).toEqual([]);
  openConsumer(db, "other", "oldest");
  expect(pendingEvents(db, "other", 0, ALL)[0]!.body).toEqual({ type: "message", body: TEXT });
  db.close();
  scan();
});

test("an ack of an id not handed out yet acknowledges nothing: the event that gets it is delivered", () => {
  const { db } = fresh();
  appendN(db, 1);
  openConsumer(db, "c", "oldest");
  ackEvent(db, "c", 1);
  ackEvent(db, "c", 1000);
  ackEvent(db, "c", 3);
  const later = [2, 3, 4].map((i) => appendEvent(db, { type: "burned", contact: `c${i}` }, null, NOW)!.id);
  expect(pendingIds(db, "c")).toEqual(later);
});
