// The v3 ratchet's tables in state.db (PROTOCOL-v3 §V8): sessions, private prekeys, prekey ids,
// dropped SIDs, skipped message keys and history. Secret values (a serialised session, a private
// prekey, a message key, an inner message) are sealed under their row key; a contact appears only
// as its index, HMAC(index_key, uid). Call these inside db.tx(() => …): one transaction per ratchet
// change (§V5.4, §V5.5 step 4), so two processes of one identity never fork a ratchet.
//
// Row keys (the end of each seal's associated data, state-db.ts sealAad):
//   sessions  contact(32) ‖ SID(8)
//   prekeys   u8(kind) ‖ u32(id)
//   skipped   contact(32) ‖ SID(8) ‖ DH public key(32) ‖ u32(n)
//   history   SHA-256(wire)(32) ‖ contact(32) ‖ u8(direction) ‖ u64(ts)   (a row cannot be moved to
//             another conversation, direction or time without failing to open)

import { PhantomError } from "../../lib/errors.ts";
import { joinKey, type StateDb, u32 } from "./state-db.ts";

/** PROTOCOL-v3 §V4: a session id is 8 bytes. */
export const SID_LEN = 8;
const DH_LEN = 32;
const HASH_LEN = 32;

function expectLen(b: Uint8Array, n: number, what: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new PhantomError("bad-argument", `${what}: expected ${n} bytes, got ${b?.length}`);
  }
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

const bytes = (b: Uint8Array | ArrayBuffer): Uint8Array => (b instanceof Uint8Array ? b : new Uint8Array(b));

// ---- sessions (§V5.6) --------------------------------------------------------------------

export interface StoredSession {
  sid: Uint8Array;
  /** Unix seconds of the last send or receive on it. */
  lastUsed: number;
  /** The serialised ratchet state (§V5.2), opaque here. */
  state: Uint8Array;
}

export function putSession(db: StateDb, uid: string, sid: Uint8Array, state: Uint8Array, lastUsed: number): void {
  const c = db.contactIndex(uid);
  const v = db.seal("sessions", joinKey(c, expectLen(sid, SID_LEN, "SID")), state);
  db.db
    .query(
      "INSERT INTO sessions (contact, sid, last_used, v) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (contact, sid) DO UPDATE SET last_used = excluded.last_used, v = excluded.v",
    )
    .run(c, sid, lastUsed, v);
}

export function getSession(db: StateDb, uid: string, sid: Uint8Array): StoredSession | null {
  const c = db.contactIndex(uid);
  const r = db.db
    .query<{ last_used: number; v: Uint8Array }, [Uint8Array, Uint8Array]>(
      "SELECT last_used, v FROM sessions WHERE contact = ? AND sid = ?",
    )
    .get(c, expectLen(sid, SID_LEN, "SID"));
  if (r === null) return null;
  return { sid, lastUsed: r.last_used, state: db.open("sessions", joinKey(c, sid), r.v) };
}

/** A contact's sessions, the most recently used first. */
export function listSessions(db: StateDb, uid: string): StoredSession[] {
  const c = db.contactIndex(uid);
  return db.db
    .query<{ sid: Uint8Array; last_used: number; v: Uint8Array }, [Uint8Array]>(
      "SELECT sid, last_used, v FROM sessions WHERE contact = ? ORDER BY last_used DESC, rowid DESC",
    )
    .all(c)
    .map((r) => ({
      sid: bytes(r.sid),
      lastUsed: r.last_used,
      state: db.open("sessions", joinKey(c, bytes(r.sid)), r.v),
    }));
}

/** Delete a session and its skipped keys (secure_delete overwrites them). */
export function deleteSession(db: StateDb, uid: string, sid: Uint8Array): void {
  const c = db.contactIndex(uid);
  db.tx(() => {
    db.db.query("DELETE FROM sessions WHERE contact = ? AND sid = ?").run(c, sid);
    db.db.query("DELETE FROM skipped WHERE contact = ? AND sid = ?").run(c, sid);
  });
}

// ---- dropped SIDs (§V4, §V5.6: remembered 21 days) -----------------------------------------

export function dropSid(db: StateDb, uid: string, sid: Uint8Array, at: number): void {
  db.db
    .query("INSERT INTO dropped_sids (contact, sid, at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET at = excluded.at")
    .run(db.contactIndex(uid), expectLen(sid, SID_LEN, "SID"), at);
}

export function isDroppedSid(db: StateDb, uid: string, sid: Uint8Array): boolean {
  return (
    db.db.query("SELECT 1 FROM dropped_sids WHERE contact = ? AND sid = ?").get(db.contactIndex(uid), sid) !== null
  );
}

/** Forget SIDs dropped before `before` (unix seconds); returns how many. */
export function pruneDroppedSids(db: StateDb, before: number): number {
  return db.db.query("DELETE FROM dropped_sids WHERE at < ?").run(before).changes;
}

// ---- private prekeys (§V2) and their ids (§V3) -------------------------------------------

const prekeyRow = (kind: number, id: number) => joinKey(Uint8Array.of(kind), u32(id));

export function putPrekey(db: StateDb, kind: number, id: number, secret: Uint8Array, created: number): void {
  const v = db.seal("prekeys", prekeyRow(kind, id), secret);
  db.db
    .query(
      "INSERT INTO prekeys (kind, id, created, v) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (kind, id) DO UPDATE SET created = excluded.created, v = excluded.v",
    )
    .run(kind, id, created, v);
}

export function getPrekey(db: StateDb, kind: number, id: number): Uint8Array | null {
  const r = db.db
    .query<{ v: Uint8Array }, [number, number]>("SELECT v FROM prekeys WHERE kind = ? AND id = ?")
    .get(kind, id);
  return r === null ? null : db.open("prekeys", prekeyRow(kind, id), r.v);
}

/** Delete a private prekey (a one-time prekey once used, §V4); secure_delete overwrites it. */
export function deletePrekey(db: StateDb, kind: number, id: number): boolean {
  return db.db.query("DELETE FROM prekeys WHERE kind = ? AND id = ?").run(kind, id).changes > 0;
}

/** The ids of the private prekeys of `kind` held, with when each was made, oldest first. */
export function listPrekeys(db: StateDb, kind: number): Array<{ id: number; created: number }> {
  return db.db
    .query<{ id: number; created: number }, [number]>(
      "SELECT id, created FROM prekeys WHERE kind = ? ORDER BY created, id",
    )
    .all(kind);
}

export type PrekeyIdState = "published" | "used";

export function markPrekeyId(db: StateDb, kind: number, id: number, state: PrekeyIdState, at: number): void {
  db.db
    .query(
      "INSERT INTO prekey_ids (kind, id, state, at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, at = excluded.at",
    )
    .run(kind, id, state, at);
}

export function prekeyIdState(db: StateDb, kind: number, id: number): { state: PrekeyIdState; at: number } | null {
  return db.db
    .query<{ state: PrekeyIdState; at: number }, [number, number]>(
      "SELECT state, at FROM prekey_ids WHERE kind = ? AND id = ?",
    )
    .get(kind, id);
}

/** The highest id ever recorded for `kind` (published or used), or -1: new ids go above it. */
export function maxPrekeyId(db: StateDb, kind: number): number {
  const r = db.db
    .query<{ m: number | null }, [number, number]>(
      "SELECT MAX(m) AS m FROM (SELECT MAX(id) AS m FROM prekey_ids WHERE kind = ? UNION ALL SELECT MAX(id) FROM prekeys WHERE kind = ?)",
    )
    .get(kind, kind);
  return r?.m ?? -1;
}

// ---- skipped message keys (§V5.5) ----------------------------------------------------------

const skippedRow = (c: Uint8Array, sid: Uint8Array, dh: Uint8Array, n: number) =>
  joinKey(c, expectLen(sid, SID_LEN, "SID"), expectLen(dh, DH_LEN, "DH key"), u32(n));

export function putSkipped(
  db: StateDb,
  uid: string,
  sid: Uint8Array,
  dh: Uint8Array,
  n: number,
  mk: Uint8Array,
  at: number,
): void {
  const c = db.contactIndex(uid);
  const v = db.seal("skipped", skippedRow(c, sid, dh, n), mk);
  db.db
    .query(
      "INSERT INTO skipped (contact, sid, dh, n, at, v) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT DO UPDATE SET at = excluded.at, v = excluded.v",
    )
    .run(c, sid, dh, n, at, v);
}

/** PROTOCOL-v3 §V5.5 step 1: a stored skipped key, deleted as it is taken (commit the tx to keep the deletion). */
export function takeSkipped(db: StateDb, uid: string, sid: Uint8Array, dh: Uint8Array, n: number): Uint8Array | null {
  const c = db.contactIndex(uid);
  const r = db.db
    .query<{ v: Uint8Array }, [Uint8Array, Uint8Array, Uint8Array, number]>(
      "SELECT v FROM skipped WHERE contact = ? AND sid = ? AND dh = ? AND n = ?",
    )
    .get(c, sid, dh, n);
  if (r === null) return null;
  const mk = db.open("skipped", skippedRow(c, sid, dh, n), r.v);
  db.db.query("DELETE FROM skipped WHERE contact = ? AND sid = ? AND dh = ? AND n = ?").run(c, sid, dh, n);
  return mk;
}

/** How many skipped keys a session holds (the §V5.5 limit of 2,000). */
export function countSkipped(db: StateDb, uid: string, sid: Uint8Array): number {
  return db.db
    .query<{ n: number }, [Uint8Array, Uint8Array]>("SELECT COUNT(*) AS n FROM skipped WHERE contact = ? AND sid = ?")
    .get(db.contactIndex(uid), sid)!.n;
}

/** Delete skipped keys stored before `before` (unix seconds: §V5.5, 7 days); returns how many. */
export function pruneSkipped(db: StateDb, before: number): number {
  return db.db.query("DELETE FROM skipped WHERE at < ?").run(before).changes;
}

// ---- history (§V8) --------------------------------------------------------------------------

export type Direction = "in" | "out";
const DIR = { in: 0, out: 1 } as const;

export interface HistoryRow {
  /** SHA-256 of the decoded wire bytes. */
  hash: Uint8Array;
  /** Unix seconds (the relay's ts of the row, or the send time). */
  ts: number;
  direction: Direction;
  /** The inner message (§V7.1), opaque here. */
  inner: Uint8Array;
}

const historyRow = (h: Uint8Array, c: Uint8Array, direction: Direction, ts: number) =>
  joinKey(expectLen(h, HASH_LEN, "history hash"), c, Uint8Array.of(DIR[direction]), u64(ts));

export function putHistory(db: StateDb, uid: string, row: HistoryRow): void {
  const c = db.contactIndex(uid);
  const v = db.seal("history", historyRow(row.hash, c, row.direction, row.ts), row.inner);
  db.db
    .query(
      "INSERT INTO history (h, contact, ts, direction, v) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (h) DO UPDATE SET contact = excluded.contact, ts = excluded.ts, direction = excluded.direction, v = excluded.v",
    )
    .run(row.hash, c, row.ts, DIR[row.direction], v);
}

type RawHistory = { h: Uint8Array; ts: number; direction: number; v: Uint8Array };

function openHistory(db: StateDb, c: Uint8Array, r: RawHistory): HistoryRow {
  const direction: Direction = r.direction === DIR.out ? "out" : "in";
  const hash = bytes(r.h);
  return { hash, ts: r.ts, direction, inner: db.open("history", historyRow(hash, c, direction, r.ts), r.v) };
}

/** PROTOCOL-v3 §V5.5 step 0: the message of `hash` in the conversation with `uid`, or null. */
export function getHistory(db: StateDb, uid: string, hash: Uint8Array): HistoryRow | null {
  const c = db.contactIndex(uid);
  const r = db.db
    .query<RawHistory, [Uint8Array, Uint8Array]>("SELECT h, ts, direction, v FROM history WHERE h = ? AND contact = ?")
    .get(expectLen(hash, HASH_LEN, "history hash"), c);
  return r === null ? null : openHistory(db, c, r);
}

/** A conversation's history (rows with ts ≥ sinceTs), oldest first. */
export function listHistory(db: StateDb, uid: string, sinceTs = 0): HistoryRow[] {
  const c = db.contactIndex(uid);
  return db.db
    .query<RawHistory, [Uint8Array, number]>(
      "SELECT h, ts, direction, v FROM history WHERE contact = ? AND ts >= ? ORDER BY ts, rowid",
    )
    .all(c, sinceTs)
    .map((r) => openHistory(db, c, r));
}

/** Delete one history row (a message that was not sent after all). */
export function deleteHistoryRow(db: StateDb, hash: Uint8Array): void {
  db.db.query("DELETE FROM history WHERE h = ?").run(expectLen(hash, HASH_LEN, "history hash"));
}

/** Delete a conversation's history (`uid`), or all of it (null); returns how many rows. */
export function deleteHistory(db: StateDb, uid: string | null): number {
  if (uid === null) return db.db.query("DELETE FROM history").run().changes;
  return db.db.query("DELETE FROM history WHERE contact = ?").run(db.contactIndex(uid)).changes;
}

/** The setting `history days N`: delete rows older than `before` (unix seconds); returns how many. */
export function pruneHistory(db: StateDb, before: number): number {
  return db.db.query("DELETE FROM history WHERE ts < ?").run(before).changes;
}
