// The daemon's event log and its named consumers, in state.db (PROTOCOL-v3 §V8: every value
// sealed, row keys HMACs):
//   daemon_events     id (ascending), h (a key that makes an event once: a message's id), at, sealed JSON
//   daemon_consumers  HMAC of the consumer's name → sealed {floor}: every id ≤ floor is acknowledged
//   daemon_acks       acknowledged ids above a consumer's floor (acks may come out of order)
// An event is written before anyone is told of it, so a consumer gets every event at least
// once across restarts of the daemon and of itself, and never one it acknowledged.

import { randomBytes } from "node:crypto";
import { utf8 } from "../../lib/encoding.ts";
import type { StateDb } from "./state-db.ts";

/** Events are kept this long, or until every consumer acknowledged them. */
export const EVENT_KEEP_S = 14 * 86_400;
/** And at most so many: the oldest go first (a consumer gone for good does not fill the disk). */
export const EVENT_KEEP_MAX = 100_000;

export interface StoredEvent {
  id: number;
  at: number;
  body: Record<string, unknown>;
}

function hashKey(db: StateDb, key: string): Uint8Array {
  return db.contactIndex(`event:${key}`);
}

function consumerKey(db: StateDb, name: string): Uint8Array {
  return db.contactIndex(`consumer:${name}`);
}

/**
 * Append an event once: `key` (say "message:<id>") makes a second append of the same event a
 * no-op that returns null; without a key every append is new. Returns the stored event.
 */
export function appendEvent(
  db: StateDb,
  body: Record<string, unknown>,
  key: string | null,
  at: number,
): StoredEvent | null {
  const h = key === null ? new Uint8Array(randomBytes(32)) : hashKey(db, key);
  return db.tx(() => {
    const exists = db.db.query("SELECT 1 FROM daemon_events WHERE h = ?").get(h);
    if (exists) return null;
    const v = db.seal("daemon_events", h, utf8.encode(JSON.stringify(body)));
    const row = db.db
      .query<{ id: number }, [Uint8Array, number, Uint8Array]>(
        "INSERT INTO daemon_events (h, at, v) VALUES (?, ?, ?) RETURNING id",
      )
      .get(h, at, v)!;
    return { id: row.id, at, body };
  });
}

/** The newest event id (0 when there is none). */
export function lastEventId(db: StateDb): number {
  const r = db.db.query<{ id: number | null }, []>("SELECT MAX(id) AS id FROM daemon_events").get();
  const seq = db.db.query<{ seq: number }, []>("SELECT seq FROM sqlite_sequence WHERE name = 'daemon_events'").get();
  return Math.max(r?.id ?? 0, seq?.seq ?? 0);
}

function readFloor(db: StateDb, k: Uint8Array): number | null {
  const row = db.db.query<{ v: Uint8Array }, [Uint8Array]>("SELECT v FROM daemon_consumers WHERE k = ?").get(k);
  if (row === null) return null;
  const doc = JSON.parse(utf8.decode(db.open("daemon_consumers", k, row.v))) as { floor: number };
  return doc.floor;
}

function writeFloor(db: StateDb, k: Uint8Array, floor: number): void {
  const v = db.seal("daemon_consumers", k, utf8.encode(JSON.stringify({ floor })));
  db.db
    .query("INSERT INTO daemon_consumers (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
    .run(k, v);
}

/**
 * A consumer, registered the first time it is named: from "now" (events after this call) or
 * from the oldest event kept. Returns how many events wait for it.
 */
export function openConsumer(db: StateDb, name: string, from: "now" | "oldest"): { pending: number } {
  const k = consumerKey(db, name);
  return db.tx(() => {
    let floor = readFloor(db, k);
    if (floor === null) {
      floor = from === "now" ? lastEventId(db) : 0;
      writeFloor(db, k, floor);
    }
    const n = db.db
      .query<{ n: number }, [number, Uint8Array]>(
        "SELECT COUNT(*) AS n FROM daemon_events WHERE id > ? AND id NOT IN (SELECT id FROM daemon_acks WHERE consumer = ?)",
      )
      .get(floor, k)!.n;
    return { pending: n };
  });
}

/** Events after `afterId` that the consumer has not acknowledged, oldest first, at most `limit`. */
export function pendingEvents(db: StateDb, name: string, afterId: number, limit: number): StoredEvent[] {
  const k = consumerKey(db, name);
  const floor = readFloor(db, k) ?? lastEventId(db);
  const rows = db.db
    .query<{ id: number; h: Uint8Array; at: number; v: Uint8Array }, [number, Uint8Array, number]>(
      "SELECT id, h, at, v FROM daemon_events WHERE id > ? AND id NOT IN (SELECT id FROM daemon_acks WHERE consumer = ?) ORDER BY id LIMIT ?",
    )
    .all(Math.max(floor, afterId), k, limit);
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    body: JSON.parse(utf8.decode(db.open("daemon_events", r.h, r.v))) as Record<string, unknown>,
  }));
}

/** The consumer handled event `id`: it is never pending for it again. The floor moves up past every acked id. */
export function ackEvent(db: StateDb, name: string, id: number): void {
  const k = consumerKey(db, name);
  db.tx(() => {
    const floor = readFloor(db, k);
    // An id not handed out yet acknowledges nothing (it would hide the event that gets it).
    if (floor === null || id <= floor || id > lastEventId(db)) return;
    db.db.query("INSERT OR IGNORE INTO daemon_acks (consumer, id) VALUES (?, ?)").run(k, id);
    // The floor moves up past every acknowledged id and every id no longer stored (pruned, or never used).
    let f = floor;
    for (;;) {
      const next = db.db
        .query<{ id: number }, [number]>("SELECT id FROM daemon_events WHERE id > ? ORDER BY id LIMIT 1")
        .get(f);
      if (next === null) {
        const top = db.db
          .query<{ id: number | null }, [Uint8Array]>("SELECT MAX(id) AS id FROM daemon_acks WHERE consumer = ?")
          .get(k);
        f = Math.max(f, top?.id ?? f);
        break;
      }
      const acked = db.db.query("SELECT 1 FROM daemon_acks WHERE consumer = ? AND id = ?").get(k, next.id);
      if (!acked) {
        f = next.id - 1;
        break;
      }
      f = next.id;
    }
    if (f > floor) {
      db.db.query("DELETE FROM daemon_acks WHERE consumer = ? AND id <= ?").run(k, f);
      writeFloor(db, k, f);
    }
  });
}

/**
 * Drop events older than EVENT_KEEP_S, those every consumer acknowledged, and the oldest beyond
 * EVENT_KEEP_MAX. Returns how many went.
 */
export function pruneEvents(db: StateDb, now: number): number {
  return db.tx(() => {
    const floors = db.db
      .query<{ k: Uint8Array; v: Uint8Array }, []>("SELECT k, v FROM daemon_consumers")
      .all()
      .map((r) => (JSON.parse(utf8.decode(db.open("daemon_consumers", r.k, r.v))) as { floor: number }).floor);
    let gone = db.db.query("DELETE FROM daemon_events WHERE at < ?").run(now - EVENT_KEEP_S).changes;
    if (floors.length > 0) {
      gone += db.db.query("DELETE FROM daemon_events WHERE id <= ?").run(Math.min(...floors)).changes;
    }
    const n = db.db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM daemon_events").get()!.n;
    if (n > EVENT_KEEP_MAX) {
      gone += db.db
        .query("DELETE FROM daemon_events WHERE id IN (SELECT id FROM daemon_events ORDER BY id LIMIT ?)")
        .run(n - EVENT_KEEP_MAX).changes;
    }
    return gone;
  });
}
