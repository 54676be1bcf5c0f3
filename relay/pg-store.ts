// Store on PostgreSQL (issue 13: `--store postgres://…`), with Bun's built-in SQL client, for
// several relay processes on one database. The same contract as relay/sqlite-store.ts
// (relay/store-contract.ts), and what sharing needs:
// - One writer at a time. Every writing transaction first locks the single relay_clock row
//   (relay/pg-schema.ts), the way SQLite's one write lock orders writers. Writers on any instance
//   thus commit one after the other: a read-then-write rule (a quota, a rate, a room's members,
//   a one-time key) reads what the previous writer committed, no two locks are ever taken in
//   different orders (no deadlock), and rows commit in seq order, so a poller that read
//   `seq > N` never later sees a row with seq ≤ N (PROTOCOL §7.6.1).
// - The database stamps ts (clock "database"): GREATEST(the clock row's ts, the database's
//   time), never the instance's clock, so skewed instances never make ts go back as seq grows.
// - claimNonce: the replay cache (PROTOCOL §6) is decided here, by one INSERT, for every instance.
// - A database that cannot be reached, restarts, or holds a lock too long is StoreBusyError: the
//   relay answers 503 (PROTOCOL §7.10) and nothing of the failed call was written.
// The connection URL (its password) never appears in an error or a log line.
import { SQL } from "bun";
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from "./pg-schema.ts";
import {
  type BundleResult,
  type BurnResult,
  type FileRecord,
  type InboxEntry,
  type MessageRow,
  type MessageStamp,
  type PrekeyStatus,
  type PrekeyUpload,
  type PublishResult,
  type PurgeLimits,
  type PurgeResult,
  type PushKeResult,
  type Store,
  StoreBusyError,
  type StoredPrekey,
  type TakenBundle,
  type UserRecord,
} from "./store.ts";

export interface PgOptions {
  /** Named prepared statements (Bun's default); off for poolers in transaction mode (PgBouncer). */
  prepare: boolean;
  /** "database": the database's clock stamps ts (production); "caller": the ts given (contract tests). */
  clock: "database" | "caller";
  /** Connections in the pool. */
  max?: number;
}

/** Longest wait for a row lock (another instance's write batch) before StoreBusyError. */
export const PG_LOCK_TIMEOUT_MS = 1000;
/** Longest a statement may run; a stuck database is a 503, not a request that never ends. */
const STATEMENT_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_S = 3;
/** Rows read per query while a `take` budget decides how many an answer holds. */
const PAGE = 64;
/** pg_advisory_xact_lock key of schema migrations, so instances starting at once migrate once. */
const MIGRATION_LOCK = 7_423_001;
const ROOM_CACHE_MAX = 100_000;
const MAX_KEY = "9007199254740991"; // above any ts or seq

// SQLSTATE classes that say "the database is not available now", not "the request is wrong":
// 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
// restart), 55P03 lock timeout, 57014 statement timeout, 40001 serialization, 40P01 deadlock.
const BUSY_SQLSTATE = /^(08|53|57P|55P03|57014|40001|40P01)/;

/** True for an error that means the database is unreachable or busy, never for a bad statement. */
export function isPgUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; errno?: unknown } | null;
  if (typeof err?.errno === "string" && BUSY_SQLSTATE.test(err.errno)) return true;
  const code = typeof err?.code === "string" ? err.code : "";
  return (
    code.startsWith("ERR_POSTGRES_CONNECTION") ||
    code.includes("TIMEOUT") ||
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ERR_POSTGRES_NOT_CONNECTED"
  );
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

const num = (v: unknown): number => Number(v);
const bytes = (v: unknown): Uint8Array => Uint8Array.from(v as Uint8Array);
const prekey = (r: Record<string, unknown>): StoredPrekey => ({ id: num(r.id), pub: bytes(r.pub), sig: bytes(r.sig) });
const messageRow = (r: Record<string, unknown>): MessageRow => ({
  ts: num(r.ts),
  ciphertext: r.ciphertext as string,
  seq: num(r.seq),
});

type Rows = Record<string, unknown>[];

/** What a PgView needs of its store: the pool, options, the room cache and the nonce claims. */
interface Shared {
  pool: SQL;
  options: PgOptions;
  rooms: Map<string, readonly [string, string]>;
  nonces: NonceClaims;
}

/**
 * PROTOCOL §6 replay cache, claimed in batches: every claim made in one event-loop turn is one
 * INSERT … ON CONFLICT DO NOTHING RETURNING key, one round trip and one commit for all of them.
 * A key claimed twice in one batch is granted to the first claim only.
 */
class NonceClaims {
  private pending: { key: string; expires: number; done: (granted: boolean) => void; fail: (e: unknown) => void }[] =
    [];

  constructor(private readonly pool: SQL) {}

  claim(key: string, expires: number): Promise<boolean> {
    return new Promise((done, fail) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ key, expires, done, fail });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const rows = new Map<string, number>();
    for (const c of batch) if (!rows.has(c.key)) rows.set(c.key, c.expires);
    try {
      const values = [...rows].map(([key, expires]) => ({ key, expires }));
      const got = (await this.pool`INSERT INTO nonces ${this.pool(values, "key", "expires")}
        ON CONFLICT (key) DO NOTHING RETURNING key`) as Rows;
      const granted = new Set(got.map((r) => r.key as string));
      for (const c of batch) {
        c.done(granted.delete(c.key)); // deleted: a second claim of the key in this batch is refused
      }
    } catch (e) {
      const err = isPgUnavailable(e) ? new StoreBusyError() : e;
      for (const c of batch) c.fail(err);
    }
  }
}

/**
 * The Store on one SQL handle: the pool (each call its own statement or transaction) or one open
 * transaction. `gate` runs before each call, as in relay/sqlite-store.ts.
 */
class PgView implements Store {
  constructor(
    protected readonly shared: Shared,
    private readonly q: SQL,
    private readonly inTx: boolean,
    private readonly gate: () => Promise<void> | null,
  ) {}

  /** Run one call: after any transaction in progress, with database failures as StoreBusyError. */
  private async run<T>(f: (q: SQL) => Promise<T>): Promise<T> {
    for (let w = this.gate(); w; w = this.gate()) await w;
    try {
      return await f(this.q);
    } catch (e) {
      throw isPgUnavailable(e) ? new StoreBusyError() : e;
    }
  }

  /**
   * A call that writes: inside the transaction (whose first statement took the writer lock), or
   * in one transaction of its own that takes it first. Read-then-write rules are atomic here.
   */
  private write<T>(f: (q: SQL) => Promise<T>): Promise<T> {
    if (this.inTx) return this.run(f);
    return this.run((pool) => pool.begin(async (tx) => (await lockWriter(tx), f(tx))) as Promise<T>);
  }

  // users (PROTOCOL §7.2, §7.3)
  addUser(user: UserRecord, registeredAt: number) {
    const day = Math.floor(registeredAt / 86_400) * 86_400; // PROTOCOL §7.2: rounded down to the day
    return this.write(async (q) => {
      const r = await q`INSERT INTO users (uid, enc_pub, sign_pub, registered_day)
        VALUES (${user.uid}, ${user.encPub}, ${user.signPub}, ${day}) ON CONFLICT DO NOTHING RETURNING 1 AS x`;
      return r.length === 1;
    });
  }
  getUser(uid: string) {
    return this.run(async (q) => {
      const [r] = (await q`SELECT enc_pub, sign_pub FROM users WHERE uid = ${uid}`) as Rows;
      return r ? { uid, encPub: bytes(r.enc_pub), signPub: bytes(r.sign_pub) } : null;
    });
  }

  // rooms (PROTOCOL §7.4): never changed once created, so a committed room can be cached
  getRoom(roomId: string) {
    const cached = this.shared.rooms.get(roomId);
    if (cached) return this.run(async () => cached);
    return this.run((q) => this.readRoom(q, roomId));
  }
  private async readRoom(q: SQL, roomId: string): Promise<readonly [string, string] | null> {
    const [r] = (await q`SELECT member_a, member_b FROM rooms WHERE room_id = ${roomId}`) as Rows;
    if (!r) return null;
    const members = [r.member_a as string, r.member_b as string] as const;
    if (!this.inTx) {
      // Only what is committed: a transaction's own room may still roll back.
      if (this.shared.rooms.size >= ROOM_CACHE_MAX) this.shared.rooms.clear();
      this.shared.rooms.set(roomId, members);
    }
    return members;
  }
  addRoom(roomId: string, a: string, b: string) {
    return this.write(
      async (q) => void (await q`INSERT INTO rooms (room_id, member_a, member_b) VALUES (${roomId}, ${a}, ${b})`),
    );
  }

  // key-exchange inbox (PROTOCOL §7.4, §7.5)
  putInbox(toUid: string, e: InboxEntry) {
    return this.write((q) => putInbox(q, toUid, e));
  }
  pushKe(toUid: string, e: InboxEntry, beforeCreate: () => void): Promise<PushKeResult> {
    return this.write(async (q) => {
      const [r] = (await q`SELECT member_a, member_b FROM rooms WHERE room_id = ${e.room_id}`) as Rows;
      if (!r) {
        beforeCreate(); // may throw: nothing is written
        await q`INSERT INTO rooms (room_id, member_a, member_b) VALUES (${e.room_id}, ${e.from_uid}, ${toUid})`;
      } else if (![r.member_a, r.member_b].includes(e.from_uid) || ![r.member_a, r.member_b].includes(toUid)) {
        return "not-member";
      }
      await putInbox(q, toUid, e);
      return "ok";
    });
  }
  popInbox(toUid: string) {
    return this.write(async (q) => {
      const rows = (await q`DELETE FROM inbox WHERE to_uid = ${toUid}
        RETURNING from_uid, pub_key, room_id, ts`) as Rows;
      return rows.map((r) => ({
        from_uid: r.from_uid as string,
        pub_key: r.pub_key as string,
        room_id: r.room_id as string,
        ts: num(r.ts),
      }));
    });
  }

  // messages (PROTOCOL §7.6, §7.6.1)
  addMessage(roomId: string, ciphertext: string, ts: number) {
    return this.write(async (q) => (await this.insertMessage(q, roomId, ciphertext, ts, 0))!);
  }
  addMessageWithin(roomId: string, ciphertext: string, ts: number, roomCap: number) {
    return this.write((q) => this.insertMessage(q, roomId, ciphertext, ts, roomCap));
  }
  /**
   * One statement, one round trip: with `roomCap` > 0 the room's bytes are checked first (the
   * writer lock is held: no other instance changes them until we commit), then the clock hands out
   * seq and ts, the row is stored and the room's bytes grow. Null when the quota refused it.
   */
  private async insertMessage(
    q: SQL,
    roomId: string,
    ciphertext: string,
    ts: number,
    roomCap: number,
  ): Promise<MessageStamp | null> {
    const given = this.shared.options.clock === "caller" ? Math.floor(ts) : null;
    const bytes = ciphertext.length; // base64: one byte per character
    const [r] = (await q`WITH room AS (
        SELECT coalesce((SELECT bytes FROM room_usage WHERE room_id = ${roomId}), 0) AS used
      ), c AS (
        UPDATE relay_clock SET seq = seq + 1,
          ts = GREATEST(ts, coalesce(${given}::bigint, floor(extract(epoch FROM clock_timestamp()))::bigint))
        WHERE id = 1 AND (${roomCap}::bigint = 0 OR (SELECT used FROM room) + ${bytes} <= ${roomCap}::bigint)
        RETURNING seq, ts
      ), m AS (
        INSERT INTO messages (seq, room_id, ts, ciphertext) SELECT seq, ${roomId}, ts, ${ciphertext} FROM c
        RETURNING seq, ts
      ), u AS (
        INSERT INTO room_usage (room_id, bytes) SELECT ${roomId}, ${bytes}::bigint FROM c
        ON CONFLICT (room_id) DO UPDATE SET bytes = room_usage.bytes + EXCLUDED.bytes
      )
      SELECT seq, ts FROM m`) as Rows;
    return r ? { ts: num(r.ts), seq: num(r.seq) } : null;
  }
  fetchMessages(roomId: string, sinceTs: number, limit: number, take: (row: MessageRow) => boolean) {
    // Newest first, a page at a time: no more rows are held than the answer may carry.
    return this.run(async (q) => {
      const rows: MessageRow[] = [];
      let before: [string, string] = [MAX_KEY, MAX_KEY];
      while (rows.length < limit) {
        const n = Math.min(PAGE, limit - rows.length);
        const page = (await q`SELECT ts, ciphertext, seq FROM messages
          WHERE room_id = ${roomId} AND ts >= ${sinceTs} AND (ts, seq) < (${before[0]}::bigint, ${before[1]}::bigint)
          ORDER BY ts DESC, seq DESC LIMIT ${n}`) as Rows;
        for (const r of page) {
          const row = messageRow(r);
          if (!take(row)) return rows.reverse();
          rows.push(row);
        }
        if (page.length < n) break;
        const last = rows[rows.length - 1]!;
        before = [String(last.ts), String(last.seq)];
      }
      return rows.reverse();
    });
  }
  newestMessageTs() {
    return this.run(async (q) => num(((await q`SELECT ts FROM relay_clock WHERE id = 1`) as Rows)[0]!.ts));
  }
  fetchAfter(roomId: string, afterSeq: number, limit: number, take: (row: MessageRow) => boolean) {
    return this.run(async (q) => {
      const rows: MessageRow[] = [];
      let after = afterSeq;
      for (;;) {
        const n = Math.min(PAGE, limit + 1 - rows.length); // one past the limit tells `more`
        const page = (await q`SELECT ts, ciphertext, seq FROM messages
          WHERE room_id = ${roomId} AND seq > ${after} ORDER BY seq LIMIT ${n}`) as Rows;
        for (const r of page) {
          const row = messageRow(r);
          if (rows.length === limit || !take(row)) return { rows, more: true };
          rows.push(row);
        }
        if (page.length < n) return { rows, more: false };
        after = rows[rows.length - 1]!.seq;
      }
    });
  }

  // files (PROTOCOL §7.8)
  addFile(f: FileRecord, createdAt: number) {
    return this.write((q) => insertFile(q, f, createdAt));
  }
  addFileWithin(f: FileRecord, createdAt: number, roomCap: number) {
    return this.write(async (q) => {
      if (roomCap > 0 && (await roomBytes(q, f.roomId)) + f.size > roomCap) return false;
      await insertFile(q, f, createdAt);
      return true;
    });
  }
  getFile(blobId: string) {
    return this.run(async (q) => {
      const [r] = (await q`SELECT room_id, size, expires FROM files WHERE blob_id = ${blobId}`) as Rows;
      return r ? { blobId, roomId: r.room_id as string, size: num(r.size), expires: num(r.expires) } : null;
    });
  }
  hasBlob(blobId: string) {
    return this.run(async (q) => ((await q`SELECT 1 AS x FROM files WHERE blob_id = ${blobId}`) as Rows).length === 1);
  }
  roomBytes(roomId: string) {
    return this.run((q) => roomBytes(q, roomId));
  }

  // burn (PROTOCOL §7.7)
  burnRoom(roomId: string) {
    return this.write((q) => burnRoom(q, roomId));
  }
  burnsSince(uid: string, since: number) {
    return this.run((q) => countSince(q, "burns", "uid", uid, since));
  }
  addBurn(uid: string, ts: number) {
    return this.write(async (q) => void (await q`INSERT INTO burns (uid, ts) VALUES (${uid}, ${ts})`));
  }
  burn(uid: string, roomId: string, now: number, since: number, limit: number): Promise<BurnResult> {
    return this.write(async (q) => {
      const recent = await countSince(q, "burns", "uid", uid, since);
      if (recent.count >= limit) return { ok: false, ...recent };
      await q`INSERT INTO burns (uid, ts) VALUES (${uid}, ${now})`;
      return { ok: true, ...(await burnRoom(q, roomId)) };
    });
  }

  // replay cache (PROTOCOL §6)
  addNonce(key: string, expires: number) {
    return this.write(
      async (q) =>
        void (await q`INSERT INTO nonces (key, expires) VALUES (${key}, ${expires})
      ON CONFLICT (key) DO NOTHING`),
    );
  }
  /**
   * Outside any write batch and its gate (a nonce is independent of every other row): the
   * claims of one event-loop turn go in one INSERT, and the first instance to store a key wins.
   */
  claimNonce(key: string, expires: number): Promise<boolean> {
    return this.shared.nonces.claim(key, expires);
  }
  liveNonces(now: number) {
    return this.run(async (q) => {
      const rows = (await q`SELECT key, expires FROM nonces WHERE expires > ${now}`) as Rows;
      return rows.map((r) => ({ key: r.key as string, expires: num(r.expires) }));
    });
  }

  // prekeys (PROTOCOL-v3 §V3): kind 1 SPK, 2 PQSPK (one each), 3 OPK, 4 OPQK (many)
  prekeyIdsUsed(uid: string, ids: readonly number[]) {
    return this.run((q) => idsUsed(q, uid, ids));
  }
  putPrekeys(uid: string, u: PrekeyUpload) {
    return this.write((q) => putPrekeys(q, uid, u));
  }
  publishPrekeys(uid: string, u: PrekeyUpload, maxOpks: number, maxOpqks: number): Promise<PublishResult> {
    return this.write(async (q) => {
      const now = await prekeyStatus(q, uid);
      if (now.opks + u.opks.length > maxOpks) return { ok: false, reason: "opks" };
      if (now.opqks + u.opqks.length > maxOpqks) return { ok: false, reason: "opqks" };
      const ids = [...u.opks, ...u.opqks].map((k) => k.id);
      if (u.spk) ids.push(u.spk.id);
      if (u.pqspk) ids.push(u.pqspk.id);
      if (await idsUsed(q, uid, ids)) return { ok: false, reason: "id-used" };
      await putPrekeys(q, uid, u);
      return { ok: true, status: await prekeyStatus(q, uid) };
    });
  }
  prekeyStatus(uid: string) {
    return this.run((q) => prekeyStatus(q, uid));
  }
  clearPrekeys(uid: string) {
    return this.write(async (q) => void (await q`DELETE FROM prekeys WHERE uid = ${uid}`));
  }
  takeBundle(signer: string, target: string, now: number, grantsSince: number) {
    return this.write((q) => takeBundle(q, signer, target, now, grantsSince));
  }
  bundleRequestsSince(signer: string, since: number) {
    return this.run((q) => countSince(q, "bundle_requests", "signer", signer, since));
  }
  addBundleRequest(signer: string, ts: number) {
    return this.write(async (q) => void (await q`INSERT INTO bundle_requests (signer, ts) VALUES (${signer}, ${ts})`));
  }
  requestBundle(
    signer: string,
    target: string | null,
    now: number,
    rateSince: number,
    limit: number,
    grantsSince: number,
  ): Promise<BundleResult> {
    return this.write(async (q) => {
      const recent = await countSince(q, "bundle_requests", "signer", signer, rateSince);
      if (recent.count >= limit) return { ok: false, ...recent };
      await q`INSERT INTO bundle_requests (signer, ts) VALUES (${signer}, ${now})`;
      return { ok: true, bundle: target === null ? null : await takeBundle(q, signer, target, now, grantsSince) };
    });
  }

  // retention (PROTOCOL §8): one bounded step, the rooms' bytes kept exact in the same statements
  purgeStep(l: PurgeLimits, maxRows: number): Promise<PurgeResult> {
    return this.write(async (q) => {
      const [m] = (await q`WITH gone AS (
          DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE ts < ${l.messagesBefore} ORDER BY seq LIMIT ${maxRows})
          RETURNING room_id, octet_length(ciphertext) AS n
        ), per AS (SELECT room_id, sum(n) AS n, count(*) AS c FROM gone GROUP BY room_id),
        u AS (UPDATE room_usage SET bytes = room_usage.bytes - per.n FROM per WHERE room_usage.room_id = per.room_id)
        SELECT coalesce(sum(c), 0)::bigint AS rows FROM per`) as Rows;
      let rows = num(m!.rows);
      const files = (await q`WITH gone AS (
          DELETE FROM files WHERE blob_id IN (SELECT blob_id FROM files WHERE expires <= ${l.filesExpiredBy} LIMIT ${maxRows})
          RETURNING blob_id, room_id, size
        ), per AS (SELECT room_id, sum(size) AS n FROM gone GROUP BY room_id),
        u AS (UPDATE room_usage SET bytes = room_usage.bytes - per.n FROM per WHERE room_usage.room_id = per.room_id)
        SELECT blob_id FROM gone`) as Rows;
      const blobIds = files.map((r) => r.blob_id as string);
      rows += blobIds.length;
      rows += (
        await q`DELETE FROM inbox WHERE (to_uid, from_uid) IN
        (SELECT to_uid, from_uid FROM inbox WHERE ts < ${l.inboxBefore} LIMIT ${maxRows})`
      ).count;
      rows += (
        await q`DELETE FROM nonces WHERE key IN
        (SELECT key FROM nonces WHERE expires <= ${l.noncesUntil} LIMIT ${maxRows})`
      ).count;
      rows += (await q`DELETE FROM burns WHERE n IN (SELECT n FROM burns WHERE ts < ${l.burnsBefore} LIMIT ${maxRows})`)
        .count;
      if (l.grantsBefore !== undefined) {
        rows += (
          await q`DELETE FROM prekey_grants WHERE (signer, target, kind) IN
          (SELECT signer, target, kind FROM prekey_grants WHERE ts < ${l.grantsBefore} LIMIT ${maxRows})`
        ).count;
      }
      if (l.bundleRequestsBefore !== undefined) {
        rows += (
          await q`DELETE FROM bundle_requests WHERE n IN
          (SELECT n FROM bundle_requests WHERE ts < ${l.bundleRequestsBefore} LIMIT ${maxRows})`
        ).count;
      }
      return { rows, blobIds };
    });
  }

  transaction<T>(_fn: (tx: Store) => Promise<T>): Promise<T> {
    return Promise.reject(new Error("transactions do not nest"));
  }
  close(): Promise<void> {
    return Promise.reject(new Error("a transaction cannot close the store"));
  }
}

/** The writer lock: the relay_clock row, held until the transaction ends. */
async function lockWriter(q: SQL): Promise<void> {
  await q`SELECT 1 AS x FROM relay_clock WHERE id = 1 FOR UPDATE`;
}

async function putInbox(q: SQL, toUid: string, e: InboxEntry): Promise<void> {
  // One entry per sender: the newest push wins (PROTOCOL §7.4).
  await q`INSERT INTO inbox (to_uid, from_uid, pub_key, room_id, ts)
    VALUES (${toUid}, ${e.from_uid}, ${e.pub_key}, ${e.room_id}, ${e.ts})
    ON CONFLICT (to_uid, from_uid) DO UPDATE SET pub_key = EXCLUDED.pub_key, room_id = EXCLUDED.room_id, ts = EXCLUDED.ts`;
}

async function roomBytes(q: SQL, roomId: string): Promise<number> {
  const [r] = (await q`SELECT bytes FROM room_usage WHERE room_id = ${roomId}`) as Rows;
  return r ? num(r.bytes) : 0;
}

async function insertFile(q: SQL, f: FileRecord, createdAt: number): Promise<void> {
  await q`WITH f AS (
      INSERT INTO files (blob_id, room_id, size, created, expires)
      VALUES (${f.blobId}, ${f.roomId}, ${f.size}, ${Math.floor(createdAt)}, ${f.expires})
    )
    INSERT INTO room_usage (room_id, bytes) VALUES (${f.roomId}, ${f.size})
    ON CONFLICT (room_id) DO UPDATE SET bytes = room_usage.bytes + EXCLUDED.bytes`;
}

async function burnRoom(q: SQL, roomId: string): Promise<{ messages: number; blobIds: string[] }> {
  const files = (await q`DELETE FROM files WHERE room_id = ${roomId} RETURNING blob_id`) as Rows;
  const messages = (await q`DELETE FROM messages WHERE room_id = ${roomId}`).count;
  await q`DELETE FROM room_usage WHERE room_id = ${roomId}`;
  return { messages, blobIds: files.map((r) => r.blob_id as string) };
}

/** Count and oldest ts of rows of `table` whose `who` column is `value`, at or after `since`. */
async function countSince(
  q: SQL,
  table: "burns" | "bundle_requests",
  who: "uid" | "signer",
  value: string,
  since: number,
): Promise<{ count: number; oldest: number | null }> {
  // Table and column come from the two literal pairs above, never from a request.
  const [r] = (await q.unsafe(
    `SELECT count(*)::bigint AS n, min(ts) AS oldest FROM ${table} WHERE ${who} = $1 AND ts >= $2`,
    [value, since],
  )) as Rows;
  return { count: num(r!.n), oldest: r!.oldest === null ? null : num(r!.oldest) };
}

async function idsUsed(q: SQL, uid: string, ids: readonly number[]): Promise<boolean> {
  if (ids.length === 0) return false;
  const r =
    await q`SELECT 1 AS x FROM prekey_ids WHERE uid = ${uid} AND id = ANY(${q.array([...ids], "int8")}) LIMIT 1`;
  return r.length > 0;
}

async function putPrekeys(q: SQL, uid: string, u: PrekeyUpload): Promise<void> {
  const put = async (kind: number, k: StoredPrekey) => {
    await q`INSERT INTO prekeys (uid, kind, id, pub, sig) VALUES (${uid}, ${kind}, ${k.id}, ${k.pub}, ${k.sig})`;
    await q`INSERT INTO prekey_ids (uid, id) VALUES (${uid}, ${k.id}) ON CONFLICT DO NOTHING`;
  };
  if (u.spk) {
    await q`DELETE FROM prekeys WHERE uid = ${uid} AND kind = 1`;
    await put(1, u.spk);
  }
  if (u.pqspk) {
    await q`DELETE FROM prekeys WHERE uid = ${uid} AND kind = 2`;
    await put(2, u.pqspk);
  }
  for (const k of u.opks) await put(3, k);
  for (const k of u.opqks) await put(4, k);
}

async function prekeyStatus(q: SQL, uid: string): Promise<PrekeyStatus> {
  const rows = (await q`SELECT kind, count(*)::bigint AS n, (array_agg(id ORDER BY n))[1] AS first
    FROM prekeys WHERE uid = ${uid} GROUP BY kind`) as Rows;
  const of = (kind: number) => rows.find((r) => num(r.kind) === kind);
  const first = (kind: number) => {
    const r = of(kind);
    return r ? num(r.first) : null;
  };
  return { spkId: first(1), pqspkId: first(2), opks: num(of(3)?.n ?? 0), opqks: num(of(4)?.n ?? 0) };
}

async function firstOfKind(q: SQL, uid: string, kind: number): Promise<StoredPrekey | null> {
  const [r] =
    (await q`SELECT id, pub, sig FROM prekeys WHERE uid = ${uid} AND kind = ${kind} ORDER BY n LIMIT 1`) as Rows;
  return r ? prekey(r) : null;
}

/** PROTOCOL-v3 §V3.3: the oldest one-time key of a kind, deleted as it is read (handed out once). */
async function takeOneTime(
  q: SQL,
  signer: string,
  target: string,
  kind: number,
  now: number,
  grantsSince: number,
): Promise<StoredPrekey | null> {
  const [g] =
    (await q`SELECT ts FROM prekey_grants WHERE signer = ${signer} AND target = ${target} AND kind = ${kind}`) as Rows;
  if (g && num(g.ts) >= grantsSince) return null;
  const [r] = (await q`DELETE FROM prekeys WHERE (uid, kind, id) =
      (SELECT uid, kind, id FROM prekeys WHERE uid = ${target} AND kind = ${kind} ORDER BY n LIMIT 1)
    RETURNING id, pub, sig`) as Rows;
  if (!r) return null;
  await q`INSERT INTO prekey_grants (signer, target, kind, ts) VALUES (${signer}, ${target}, ${kind}, ${now})
    ON CONFLICT (signer, target, kind) DO UPDATE SET ts = EXCLUDED.ts`;
  return prekey(r);
}

async function takeBundle(
  q: SQL,
  signer: string,
  target: string,
  now: number,
  grantsSince: number,
): Promise<TakenBundle | null> {
  const spk = await firstOfKind(q, target, 1);
  const pqspk = await firstOfKind(q, target, 2);
  if (!spk || !pqspk) return null;
  const opk = await takeOneTime(q, signer, target, 3, now, grantsSince);
  const opqk = await takeOneTime(q, signer, target, 4, now, grantsSince);
  return { spk, pqspk, opk, opqk };
}

/** Bring the schema to PG_SCHEMA_VERSION in one transaction; instances starting at once wait in turn. */
async function migrate(pool: SQL): Promise<void> {
  await pool.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS relay_schema (version int NOT NULL)`;
    const [r] = (await tx`SELECT version FROM relay_schema`) as Rows;
    const from = r ? num(r.version) : 0;
    if (from > PG_SCHEMA_VERSION) {
      throw new Error(`the database has schema version ${from}, newer than this relay knows (${PG_SCHEMA_VERSION})`);
    }
    for (let v = from; v < PG_SCHEMA_VERSION; v++) await tx.unsafe(PG_MIGRATIONS[v]!);
    if (!r) await tx`INSERT INTO relay_schema (version) VALUES (${PG_SCHEMA_VERSION})`;
    else if (from < PG_SCHEMA_VERSION) await tx`UPDATE relay_schema SET version = ${PG_SCHEMA_VERSION}`;
  });
}

export class PgStore extends PgView {
  /** Settles when the transaction in progress ends; null when none is. */
  private current: Promise<void> | null = null;

  private constructor(shared: Shared) {
    let self: PgStore | null = null;
    super(shared, shared.pool, false, () => self!.current);
    self = this;
  }

  /** Connect, migrate, and check the database answers; a failure is a one-line Error without the password. */
  static async open(url: string, options: PgOptions): Promise<PgStore> {
    const pool = new SQL(url, {
      max: options.max ?? 16,
      prepare: options.prepare,
      connectionTimeout: CONNECT_TIMEOUT_S,
      idleTimeout: 60,
      connection: {
        application_name: "phantom-relay",
        lock_timeout: PG_LOCK_TIMEOUT_MS,
        statement_timeout: STATEMENT_TIMEOUT_MS,
        idle_in_transaction_session_timeout: 60_000,
      },
    });
    try {
      await migrate(pool);
    } catch (e) {
      await pool.close().catch(() => {});
      const why = isPgUnavailable(e) ? "cannot connect" : e instanceof Error ? e.message : "failed";
      throw new Error(`PostgreSQL at ${redactUrl(url)}: ${why}`);
    }
    return new PgStore({ pool, options, rooms: new Map(), nonces: new NonceClaims(pool) });
  }

  override async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    while (this.current) await this.current; // and set in the same turn as the last check
    let end!: () => void;
    this.current = new Promise<void>((resolve) => (end = resolve));
    let live = true;
    try {
      return (await this.shared.pool.begin(async (q) => {
        await lockWriter(q);
        const view = new PgView(this.shared, q, true, () => {
          if (!live) throw new Error("the transaction has ended");
          return null;
        });
        return await fn(view);
      })) as T;
    } catch (e) {
      throw isPgUnavailable(e) ? new StoreBusyError() : e;
    } finally {
      live = false;
      this.current = null;
      end();
    }
  }

  /** The pool itself, for `phantom-relay migrate` (relay/migrate.ts) only; errors map as any call's. */
  async raw<T>(fn: (sql: SQL) => Promise<T>): Promise<T> {
    try {
      return await fn(this.shared.pool);
    } catch (e) {
      throw isPgUnavailable(e) ? new StoreBusyError() : e;
    }
  }

  override async close(): Promise<void> {
    while (this.current) await this.current;
    await this.shared.pool.close({ timeout: 5 });
  }
}
