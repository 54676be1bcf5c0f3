// Store on bun:sqlite: WAL, synchronous=NORMAL, busy_timeout,
// prepared statements, schema versioned with PRAGMA user_version.
// busy_timeout waits synchronously, freezing the whole event loop, so once the store is
// open it is bounded by BUSY_TIMEOUT_MS: a lock held longer by another
// process is a StoreBusyError, which relay/writes.ts retries without blocking and then answers
// 503. WAL readers do not wait for a writer, so reads go on while another process writes.
// With WAL + synchronous=NORMAL a committed transaction survives a crash of the
// process (kill -9); only a power loss can lose the last commits.
// The SQL runs synchronously in SqliteCore; SqliteStore is its asynchronous face (relay/store.ts
// Store): a method's SQL runs at once in one call, so every combined read+write method is atomic,
// and transaction() keeps one BEGIN … COMMIT open across its awaits while calls from outside wait.
import { Database, type Statement } from "bun:sqlite";
import {
  type FileRecord,
  type InboxEntry,
  type MessageRow,
  type MessageStamp,
  type PurgeLimits,
  type PrekeyStatus,
  type PrekeyUpload,
  type PurgeResult,
  type StoredPrekey,
  type TakenBundle,
  type Store,
  StoreBusyError,
  type UserRecord,
  type BurnResult,
  type PublishResult,
  type BundleResult,
  type PushKeResult,
} from "./store.ts";

/** Each entry migrates from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     uid TEXT PRIMARY KEY, enc_pub BLOB NOT NULL, sign_pub BLOB NOT NULL, registered_day INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE rooms (room_id TEXT PRIMARY KEY, member_a TEXT NOT NULL, member_b TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE inbox (
     to_uid TEXT NOT NULL, from_uid TEXT NOT NULL, pub_key TEXT NOT NULL, room_id TEXT NOT NULL, ts INTEGER NOT NULL,
     PRIMARY KEY (to_uid, from_uid)
   ) WITHOUT ROWID;
   CREATE INDEX inbox_ts ON inbox (ts);
   CREATE TABLE messages (id INTEGER PRIMARY KEY, room_id TEXT NOT NULL, ts INTEGER NOT NULL, ciphertext TEXT NOT NULL);
   CREATE INDEX messages_room_ts ON messages (room_id, ts);
   CREATE INDEX messages_ts ON messages (ts);
   CREATE TABLE files (
     blob_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL,
     expires INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX files_room ON files (room_id);
   CREATE INDEX files_expires ON files (expires);
   CREATE TABLE burns (uid TEXT NOT NULL, ts INTEGER NOT NULL);
   CREATE INDEX burns_uid_ts ON burns (uid, ts);
   CREATE TABLE nonces (key TEXT NOT NULL, expires INTEGER NOT NULL);
   CREATE INDEX nonces_expires ON nonces (expires);`,
  // PROTOCOL §7.6.1: every row gets a seq that is never reused. A plain INTEGER PRIMARY KEY
  // may hand out the rowid of a deleted newest row again; AUTOINCREMENT never does. Existing
  // rows keep their id as their seq, so nothing stored is lost or reordered.
  `CREATE TABLE messages_seq (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, room_id TEXT NOT NULL, ts INTEGER NOT NULL, ciphertext TEXT NOT NULL
   );
   INSERT INTO messages_seq (seq, room_id, ts, ciphertext) SELECT id, room_id, ts, ciphertext FROM messages ORDER BY id;
   DROP TABLE messages;
   ALTER TABLE messages_seq RENAME TO messages;
   CREATE INDEX messages_room_ts ON messages (room_id, ts);
   CREATE INDEX messages_ts ON messages (ts);`,
  // PROTOCOL-v3 §V3: prekeys (kind 1 SPK, 2 PQSPK: one row each; 3 OPK, 4 OPQK: many), every id a
  // UID ever published (never reused, across kinds), one-time-key grants per (signer, target,
  // kind) for the 24 h rule, and bundle requests per signer for the hourly rate.
  `CREATE TABLE prekeys (
     uid TEXT NOT NULL, kind INTEGER NOT NULL, id INTEGER NOT NULL, pub BLOB NOT NULL, sig BLOB NOT NULL,
     PRIMARY KEY (uid, kind, id)
   );
   CREATE TABLE prekey_ids (uid TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (uid, id)) WITHOUT ROWID;
   CREATE TABLE prekey_grants (
     signer TEXT NOT NULL, target TEXT NOT NULL, kind INTEGER NOT NULL, ts INTEGER NOT NULL,
     PRIMARY KEY (signer, target, kind)
   ) WITHOUT ROWID;
   CREATE INDEX prekey_grants_ts ON prekey_grants (ts);
   CREATE TABLE bundle_requests (signer TEXT NOT NULL, ts INTEGER NOT NULL);
   CREATE INDEX bundle_requests_signer_ts ON bundle_requests (signer, ts);
   CREATE INDEX bundle_requests_ts ON bundle_requests (ts);`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

const ROOM_CACHE_MAX = 100_000;
/** Longest synchronous wait for a lock held by another process, once the store is open. */
export const BUSY_TIMEOUT_MS = 100;
/** Opening (journal mode, migrations) may wait longer: nothing is being served yet. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, …): another connection holds the lock. */
export function isSqliteBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/** The synchronous SQL of the store: one connection, prepared statements. */
class SqliteCore {
  private readonly db: Database;
  private readonly rooms = new Map<string, readonly [string, string]>();
  /** roomBytes() of rooms asked about, kept exact by every write below. */
  private readonly usage = new Map<string, number>();
  private readonly s: ReturnType<typeof prepare>;

  constructor(path: string) {
    this.db = new Database(path, { create: true, readwrite: true });
    this.db.run(`PRAGMA busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA foreign_keys = OFF");
    this.migrate();
    this.db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.s = prepare(this.db);
  }

  private migrate(): void {
    const row = this.db.query("PRAGMA user_version").get() as { user_version: number };
    const from = row.user_version;
    if (from > SCHEMA_VERSION) {
      throw new Error(`the database has schema version ${from}, newer than this relay knows (${SCHEMA_VERSION})`);
    }
    for (let v = from; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.run(MIGRATIONS[v]!);
        this.db.run(`PRAGMA user_version = ${v + 1}`);
      })();
    }
  }

  addUser(user: UserRecord, registeredAt: number): boolean {
    // PROTOCOL §7.2: the stored registration time is rounded down to the day.
    const day = Math.floor(registeredAt / 86_400) * 86_400;
    return this.s.addUser.run(user.uid, user.encPub, user.signPub, day).changes === 1;
  }

  getUser(uid: string): UserRecord | null {
    const r = this.s.getUser.get(uid) as { enc_pub: Uint8Array; sign_pub: Uint8Array } | null;
    return r ? { uid, encPub: r.enc_pub, signPub: r.sign_pub } : null;
  }

  getRoom(roomId: string): readonly [string, string] | null {
    const cached = this.rooms.get(roomId);
    if (cached) return cached;
    const r = this.s.getRoom.get(roomId) as { member_a: string; member_b: string } | null;
    if (!r) return null;
    return this.remember(roomId, [r.member_a, r.member_b]);
  }

  addRoom(roomId: string, a: string, b: string): void {
    this.s.addRoom.run(roomId, a, b);
  }

  private remember(roomId: string, members: readonly [string, string]) {
    if (this.rooms.size >= ROOM_CACHE_MAX) this.rooms.clear();
    this.rooms.set(roomId, members);
    return members;
  }

  putInbox(toUid: string, e: InboxEntry): void {
    this.s.putInbox.run(toUid, e.from_uid, e.pub_key, e.room_id, e.ts);
  }

  pushKe(toUid: string, e: InboxEntry, beforeCreate: () => void): PushKeResult {
    return this.transaction(() => {
      const members = this.getRoom(e.room_id);
      if (!members) {
        beforeCreate(); // may throw: nothing is written
        this.addRoom(e.room_id, e.from_uid, toUid);
      } else if (!members.includes(e.from_uid) || !members.includes(toUid)) {
        return "not-member";
      }
      this.putInbox(toUid, e);
      return "ok";
    });
  }

  popInbox(toUid: string): InboxEntry[] {
    return this.s.popInbox.all(toUid) as InboxEntry[];
  }

  // Atomic without a savepoint of its own: the read and the one INSERT run in the same synchronous
  // call on this connection (nothing can run between them), and a failed INSERT writes nothing.
  // From the WriteQueue both are inside the batch's transaction.
  addMessageWithin(roomId: string, ciphertext: string, ts: number, roomCap: number): MessageStamp | null {
    if (roomCap > 0 && this.roomBytes(roomId) + ciphertext.length > roomCap) return null;
    return this.addMessage(roomId, ciphertext, ts);
  }

  addMessage(roomId: string, ciphertext: string, ts: number): MessageStamp {
    // lastInsertRowid is the seq (its rowid alias), and cheaper than RETURNING.
    const seq = Number(this.s.addMessage.run(roomId, ts, ciphertext).lastInsertRowid);
    this.used(roomId, ciphertext.length); // base64: one byte per character
    return { ts, seq };
  }

  roomBytes(roomId: string): number {
    let n = this.usage.get(roomId);
    if (n === undefined) {
      // octet_length reads the stored size from the row header, not the ciphertext itself.
      const m = this.s.roomMessageBytes.get(roomId) as { n: number };
      const f = this.s.roomFileBytes.get(roomId) as { n: number };
      n = m.n + f.n;
      if (this.usage.size >= ROOM_CACHE_MAX) this.usage.clear();
      this.usage.set(roomId, n);
    }
    return n;
  }

  /** Adjust a remembered roomBytes(); rooms not remembered are summed when asked. */
  private used(roomId: string, delta: number): void {
    const n = this.usage.get(roomId);
    if (n !== undefined) this.usage.set(roomId, n + delta);
  }

  // Rows are read one at a time and the caller's `take` stops the scan, so no more than
  // what the answer may carry is ever held in memory (PROTOCOL §7.6.1, 4 MiB).
  fetchMessages(roomId: string, sinceTs: number, limit: number, take: (row: MessageRow) => boolean): MessageRow[] {
    const rows: MessageRow[] = [];
    for (const row of this.s.fetch.iterate(roomId, sinceTs, limit) as Iterable<MessageRow>) {
      if (!take(row)) break;
      rows.push(row);
    }
    return rows.reverse();
  }

  newestMessageTs(): number {
    return (this.s.newestTs.get() as { ts: number }).ts;
  }

  fetchAfter(
    roomId: string,
    afterSeq: number,
    limit: number,
    take: (row: MessageRow) => boolean,
  ): { rows: MessageRow[]; more: boolean } {
    const rows: MessageRow[] = [];
    for (const row of this.s.fetchAfter.iterate(roomId, afterSeq, limit + 1) as Iterable<MessageRow>) {
      if (rows.length === limit || !take(row)) return { rows, more: true };
      rows.push(row);
    }
    return { rows, more: false };
  }

  addFile(f: FileRecord, createdAt: number): void {
    this.s.addFile.run(f.blobId, f.roomId, f.size, Math.floor(createdAt), f.expires);
    this.used(f.roomId, f.size);
  }

  addFileWithin(f: FileRecord, createdAt: number, roomCap: number): boolean {
    return this.transaction(() => {
      if (roomCap > 0 && this.roomBytes(f.roomId) + f.size > roomCap) return false;
      this.addFile(f, createdAt);
      return true;
    });
  }

  getFile(blobId: string): FileRecord | null {
    const r = this.s.getFile.get(blobId) as { room_id: string; size: number; expires: number } | null;
    return r ? { blobId, roomId: r.room_id, size: r.size, expires: r.expires } : null;
  }

  hasBlob(blobId: string): boolean {
    return this.s.getFile.get(blobId) !== null;
  }

  burnRoom(roomId: string): { messages: number; blobIds: string[] } {
    const blobIds = (this.s.roomBlobs.all(roomId) as { blob_id: string }[]).map((r) => r.blob_id);
    this.s.burnFiles.run(roomId);
    const messages = this.s.burnMessages.run(roomId).changes;
    this.usage.delete(roomId);
    return { messages, blobIds };
  }

  burnsSince(uid: string, since: number): { count: number; oldest: number | null } {
    const r = this.s.burnsSince.get(uid, since) as { n: number; oldest: number | null };
    return { count: r.n, oldest: r.oldest };
  }

  addBurn(uid: string, ts: number): void {
    this.s.addBurn.run(uid, ts);
  }

  burn(uid: string, roomId: string, now: number, since: number, limit: number): BurnResult {
    return this.transaction(() => {
      const recent = this.burnsSince(uid, since);
      if (recent.count >= limit) return { ok: false, ...recent };
      this.addBurn(uid, now);
      return { ok: true, ...this.burnRoom(roomId) };
    });
  }

  addNonce(key: string, expires: number): void {
    this.s.addNonce.run(key, expires);
  }

  liveNonces(now: number): { key: string; expires: number }[] {
    return this.s.liveNonces.all(now) as { key: string; expires: number }[];
  }

  // PROTOCOL-v3 §V3
  prekeyIdsUsed(uid: string, ids: readonly number[]): boolean {
    for (const id of ids) if (this.s.prekeyIdUsed.get(uid, id) !== null) return true;
    return false;
  }

  putPrekeys(uid: string, u: PrekeyUpload): void {
    this.transaction(() => {
      const put = (kind: number, k: StoredPrekey) => {
        this.s.addPrekey.run(uid, kind, k.id, k.pub, k.sig);
        this.s.addPrekeyId.run(uid, k.id);
      };
      if (u.spk) {
        this.s.deleteKind.run(uid, 1);
        put(1, u.spk);
      }
      if (u.pqspk) {
        this.s.deleteKind.run(uid, 2);
        put(2, u.pqspk);
      }
      for (const k of u.opks) put(3, k);
      for (const k of u.opqks) put(4, k);
    });
  }

  publishPrekeys(uid: string, u: PrekeyUpload, maxOpks: number, maxOpqks: number): PublishResult {
    return this.transaction(() => {
      const now = this.prekeyStatus(uid);
      if (now.opks + u.opks.length > maxOpks) return { ok: false, reason: "opks" };
      if (now.opqks + u.opqks.length > maxOpqks) return { ok: false, reason: "opqks" };
      const ids = [...u.opks, ...u.opqks].map((k) => k.id);
      if (u.spk) ids.push(u.spk.id);
      if (u.pqspk) ids.push(u.pqspk.id);
      if (this.prekeyIdsUsed(uid, ids)) return { ok: false, reason: "id-used" };
      this.putPrekeys(uid, u);
      return { ok: true, status: this.prekeyStatus(uid) };
    });
  }

  prekeyStatus(uid: string): PrekeyStatus {
    const one = (kind: number) => (this.s.firstOfKind.get(uid, kind) as StoredPrekey | null)?.id ?? null;
    const n = (kind: number) => (this.s.countKind.get(uid, kind) as { n: number }).n;
    return { spkId: one(1), pqspkId: one(2), opks: n(3), opqks: n(4) };
  }

  clearPrekeys(uid: string): void {
    this.s.clearPrekeys.run(uid);
  }

  takeBundle(signer: string, target: string, now: number, grantsSince: number): TakenBundle | null {
    return this.transaction(() => {
      const spk = this.s.firstOfKind.get(target, 1) as StoredPrekey | null;
      const pqspk = this.s.firstOfKind.get(target, 2) as StoredPrekey | null;
      if (!spk || !pqspk) return null;
      const oneTime = (kind: number): StoredPrekey | null => {
        const g = this.s.getGrant.get(signer, target, kind) as { ts: number } | null;
        if (g && g.ts >= grantsSince) return null;
        const k = this.s.takeOfKind.get(target, kind) as StoredPrekey | null;
        if (k) this.s.putGrant.run(signer, target, kind, now);
        return k;
      };
      return { spk, pqspk, opk: oneTime(3), opqk: oneTime(4) };
    });
  }

  bundleRequestsSince(signer: string, since: number): { count: number; oldest: number | null } {
    const r = this.s.bundleRequestsSince.get(signer, since) as { n: number; oldest: number | null };
    return { count: r.n, oldest: r.oldest };
  }

  addBundleRequest(signer: string, ts: number): void {
    this.s.addBundleRequest.run(signer, ts);
  }

  requestBundle(
    signer: string,
    target: string | null,
    now: number,
    rateSince: number,
    limit: number,
    grantsSince: number,
  ): BundleResult {
    return this.transaction(() => {
      const recent = this.bundleRequestsSince(signer, rateSince);
      if (recent.count >= limit) return { ok: false, ...recent };
      this.addBundleRequest(signer, now);
      return { ok: true, bundle: target === null ? null : this.takeBundle(signer, target, now, grantsSince) };
    });
  }

  purgeStep(l: PurgeLimits, maxRows: number): PurgeResult {
    return this.transaction(() => {
      const purged = this.s.purgeMessages.all(l.messagesBefore, maxRows) as { room_id: string; n: number }[];
      for (const m of purged) this.used(m.room_id, -m.n);
      let rows = purged.length;
      rows += this.s.purgeInbox.run(l.inboxBefore, maxRows).changes;
      const files = this.s.expiredFiles.all(l.filesExpiredBy, maxRows) as {
        blob_id: string;
        room_id: string;
        size: number;
      }[];
      const blobIds = files.map((r) => r.blob_id);
      for (const f of files) {
        this.s.deleteFile.run(f.blob_id);
        this.used(f.room_id, -f.size);
      }
      rows += blobIds.length;
      rows += this.s.purgeNonces.run(l.noncesUntil, maxRows).changes;
      rows += this.s.purgeBurns.run(l.burnsBefore, maxRows).changes;
      if (l.grantsBefore !== undefined) rows += this.s.purgeGrants.run(l.grantsBefore, maxRows).changes;
      if (l.bundleRequestsBefore !== undefined) {
        rows += this.s.purgeBundleRequests.run(l.bundleRequestsBefore, maxRows).changes;
      }
      return { rows, blobIds };
    });
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      this.rooms.clear(); // a rolled-back addRoom must not stay cached
      this.usage.clear(); // nor a rolled-back change of a room's bytes
      if (isSqliteBusy(e)) throw new StoreBusyError();
      throw e;
    }
  }

  /**
   * One BEGIN … COMMIT around an asynchronous `fn` (SqliteStore.transaction keeps other calls
   * out meanwhile); the nested transaction() calls of the methods become savepoints.
   */
  async open<T>(fn: () => Promise<T>): Promise<T> {
    try {
      this.s.begin.run();
      try {
        const value = await fn();
        this.s.commit.run();
        return value;
      } catch (e) {
        if (this.db.inTransaction) this.s.rollback.run();
        throw e;
      }
    } catch (e) {
      this.rooms.clear(); // a rolled-back addRoom must not stay cached
      this.usage.clear(); // nor a rolled-back change of a room's bytes
      if (isSqliteBusy(e)) throw new StoreBusyError();
      throw e;
    }
  }

  close(): void {
    this.db.close(false);
  }
}

/**
 * The Store on a SqliteCore. `gate` runs before each call: the store's own waits for a
 * transaction in progress; a transaction's view refuses calls once it has ended.
 */
class SqliteView implements Store {
  constructor(
    protected readonly c: SqliteCore,
    private readonly gate: () => Promise<void> | null,
  ) {}

  private call<T>(f: (c: SqliteCore) => T): Promise<T> {
    let wait: Promise<void> | null;
    try {
      wait = this.gate();
      if (!wait) return Promise.resolve(f(this.c)); // no transaction in progress: at once
    } catch (e) {
      return Promise.reject(e);
    }
    return this.later(wait, f);
  }

  private async later<T>(wait: Promise<void>, f: (c: SqliteCore) => T): Promise<T> {
    // Checked again right before the call: nothing may start a transaction in between.
    for (let w: Promise<void> | null = wait; w; w = this.gate()) await w;
    return f(this.c);
  }

  addUser(user: UserRecord, registeredAt: number) {
    return this.call((c) => c.addUser(user, registeredAt));
  }
  getUser(uid: string) {
    return this.call((c) => c.getUser(uid));
  }
  getRoom(roomId: string) {
    return this.call((c) => c.getRoom(roomId));
  }
  addRoom(roomId: string, a: string, b: string) {
    return this.call((c) => c.addRoom(roomId, a, b));
  }
  putInbox(toUid: string, entry: InboxEntry) {
    return this.call((c) => c.putInbox(toUid, entry));
  }
  pushKe(toUid: string, entry: InboxEntry, beforeCreate: () => void) {
    return this.call((c) => c.pushKe(toUid, entry, beforeCreate));
  }
  popInbox(toUid: string) {
    return this.call((c) => c.popInbox(toUid));
  }
  addMessage(roomId: string, ciphertext: string, ts: number) {
    return this.call((c) => c.addMessage(roomId, ciphertext, ts));
  }
  addMessageWithin(roomId: string, ciphertext: string, ts: number, roomCap: number) {
    return this.call((c) => c.addMessageWithin(roomId, ciphertext, ts, roomCap));
  }
  fetchMessages(roomId: string, sinceTs: number, limit: number, take: (row: MessageRow) => boolean) {
    return this.call((c) => c.fetchMessages(roomId, sinceTs, limit, take));
  }
  newestMessageTs() {
    return this.call((c) => c.newestMessageTs());
  }
  fetchAfter(roomId: string, afterSeq: number, limit: number, take: (row: MessageRow) => boolean) {
    return this.call((c) => c.fetchAfter(roomId, afterSeq, limit, take));
  }
  addFile(file: FileRecord, createdAt: number) {
    return this.call((c) => c.addFile(file, createdAt));
  }
  addFileWithin(file: FileRecord, createdAt: number, roomCap: number) {
    return this.call((c) => c.addFileWithin(file, createdAt, roomCap));
  }
  getFile(blobId: string) {
    return this.call((c) => c.getFile(blobId));
  }
  hasBlob(blobId: string) {
    return this.call((c) => c.hasBlob(blobId));
  }
  roomBytes(roomId: string) {
    return this.call((c) => c.roomBytes(roomId));
  }
  burnRoom(roomId: string) {
    return this.call((c) => c.burnRoom(roomId));
  }
  burnsSince(uid: string, since: number) {
    return this.call((c) => c.burnsSince(uid, since));
  }
  addBurn(uid: string, ts: number) {
    return this.call((c) => c.addBurn(uid, ts));
  }
  burn(uid: string, roomId: string, now: number, since: number, limit: number) {
    return this.call((c) => c.burn(uid, roomId, now, since, limit));
  }
  addNonce(key: string, expires: number) {
    return this.call((c) => c.addNonce(key, expires));
  }
  liveNonces(now: number) {
    return this.call((c) => c.liveNonces(now));
  }
  prekeyIdsUsed(uid: string, ids: readonly number[]) {
    return this.call((c) => c.prekeyIdsUsed(uid, ids));
  }
  putPrekeys(uid: string, upload: PrekeyUpload) {
    return this.call((c) => c.putPrekeys(uid, upload));
  }
  publishPrekeys(uid: string, upload: PrekeyUpload, maxOpks: number, maxOpqks: number) {
    return this.call((c) => c.publishPrekeys(uid, upload, maxOpks, maxOpqks));
  }
  prekeyStatus(uid: string) {
    return this.call((c) => c.prekeyStatus(uid));
  }
  clearPrekeys(uid: string) {
    return this.call((c) => c.clearPrekeys(uid));
  }
  takeBundle(signer: string, target: string, now: number, grantsSince: number) {
    return this.call((c) => c.takeBundle(signer, target, now, grantsSince));
  }
  bundleRequestsSince(signer: string, since: number) {
    return this.call((c) => c.bundleRequestsSince(signer, since));
  }
  addBundleRequest(signer: string, ts: number) {
    return this.call((c) => c.addBundleRequest(signer, ts));
  }
  requestBundle(
    signer: string,
    target: string | null,
    now: number,
    rateSince: number,
    limit: number,
    grantsSince: number,
  ) {
    return this.call((c) => c.requestBundle(signer, target, now, rateSince, limit, grantsSince));
  }
  purgeStep(limits: PurgeLimits, maxRows: number) {
    return this.call((c) => c.purgeStep(limits, maxRows));
  }
  transaction<T>(_fn: (tx: Store) => Promise<T>): Promise<T> {
    return Promise.reject(new Error("transactions do not nest"));
  }
  close(): Promise<void> {
    return Promise.reject(new Error("a transaction cannot close the store"));
  }
}

export class SqliteStore extends SqliteView {
  /** Settles when the transaction in progress ends; null when none is. */
  private current: Promise<void> | null = null;

  constructor(path: string) {
    let self: SqliteStore | null = null;
    super(new SqliteCore(path), () => self!.current);
    self = this;
  }

  override async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    while (this.current) await this.current; // and set in the same turn as the last check
    let end!: () => void;
    this.current = new Promise<void>((resolve) => (end = resolve));
    let live = true;
    const tx = new SqliteView(this.c, () => {
      if (!live) throw new Error("the transaction has ended");
      return null;
    });
    try {
      return await this.c.open(() => fn(tx));
    } finally {
      live = false;
      this.current = null;
      end();
    }
  }

  override async close(): Promise<void> {
    while (this.current) await this.current;
    this.c.close();
  }
}

function prepare(db: Database) {
  const q = (sql: string): Statement => db.prepare(sql);
  return {
    // Prepared once: SqliteStore.transaction runs them for every write batch.
    begin: q("BEGIN"),
    commit: q("COMMIT"),
    rollback: q("ROLLBACK"),
    addUser: q("INSERT OR IGNORE INTO users (uid, enc_pub, sign_pub, registered_day) VALUES (?, ?, ?, ?)"),
    getUser: q("SELECT enc_pub, sign_pub FROM users WHERE uid = ?"),
    getRoom: q("SELECT member_a, member_b FROM rooms WHERE room_id = ?"),
    addRoom: q("INSERT INTO rooms (room_id, member_a, member_b) VALUES (?, ?, ?)"),
    putInbox: q("INSERT OR REPLACE INTO inbox (to_uid, from_uid, pub_key, room_id, ts) VALUES (?, ?, ?, ?, ?)"),
    popInbox: q("DELETE FROM inbox WHERE to_uid = ? RETURNING from_uid, pub_key, room_id, ts"),
    addMessage: q("INSERT INTO messages (room_id, ts, ciphertext) VALUES (?, ?, ?)"),
    fetch: q(
      "SELECT ts, ciphertext, seq FROM messages WHERE room_id = ? AND ts >= ? ORDER BY ts DESC, seq DESC LIMIT ?",
    ),
    // No index of its own for after_seq (a third index on messages cost ~10 % of /send): a row's
    // ts never decreases as its seq grows (WriteQueue.ts), so seq order is (ts, seq) order, which
    // messages_room_ts (room_id, ts, rowid) already has. The scan starts at the ts of the newest
    // row at or before the cursor, in any room (the cursor row itself may be burned or purged).
    fetchAfter: q(
      `SELECT ts, ciphertext, seq FROM messages
       WHERE room_id = ?1 AND seq > ?2
         AND (ts, seq) > (coalesce((SELECT ts FROM messages WHERE seq <= ?2 ORDER BY seq DESC LIMIT 1), 0), ?2)
       ORDER BY ts, seq LIMIT ?3`,
    ),
    newestTs: q("SELECT coalesce(max(ts), 0) AS ts FROM messages"),
    addFile: q("INSERT INTO files (blob_id, room_id, size, created, expires) VALUES (?, ?, ?, ?, ?)"),
    getFile: q("SELECT room_id, size, expires FROM files WHERE blob_id = ?"),
    deleteFile: q("DELETE FROM files WHERE blob_id = ?"),
    roomBlobs: q("SELECT blob_id FROM files WHERE room_id = ?"),
    burnFiles: q("DELETE FROM files WHERE room_id = ?"),
    burnMessages: q("DELETE FROM messages WHERE room_id = ?"),
    burnsSince: q("SELECT count(*) AS n, min(ts) AS oldest FROM burns WHERE uid = ? AND ts >= ?"),
    addBurn: q("INSERT INTO burns (uid, ts) VALUES (?, ?)"),
    // Lookups are in memory (auth.ts ReplayCache); this table only reloads it after a restart,
    // so it is appended in time order with no key index.
    addNonce: q("INSERT INTO nonces (key, expires) VALUES (?, ?)"),
    liveNonces: q("SELECT key, expires FROM nonces WHERE expires > ?"),
    purgeMessages: q(
      "DELETE FROM messages WHERE seq IN (SELECT seq FROM messages WHERE ts < ? LIMIT ?) RETURNING room_id, octet_length(ciphertext) AS n",
    ),
    roomMessageBytes: q("SELECT coalesce(sum(octet_length(ciphertext)), 0) AS n FROM messages WHERE room_id = ?"),
    roomFileBytes: q("SELECT coalesce(sum(size), 0) AS n FROM files WHERE room_id = ?"),
    purgeInbox: q(
      "DELETE FROM inbox WHERE (to_uid, from_uid) IN (SELECT to_uid, from_uid FROM inbox WHERE ts < ? LIMIT ?)",
    ),
    expiredFiles: q("SELECT blob_id, room_id, size FROM files WHERE expires <= ? LIMIT ?"),
    purgeNonces: q("DELETE FROM nonces WHERE rowid IN (SELECT rowid FROM nonces WHERE expires <= ? LIMIT ?)"),
    // PROTOCOL-v3 §V3
    prekeyIdUsed: q("SELECT 1 AS x FROM prekey_ids WHERE uid = ? AND id = ?"),
    addPrekey: q("INSERT INTO prekeys (uid, kind, id, pub, sig) VALUES (?, ?, ?, ?, ?)"),
    addPrekeyId: q("INSERT OR IGNORE INTO prekey_ids (uid, id) VALUES (?, ?)"),
    deleteKind: q("DELETE FROM prekeys WHERE uid = ? AND kind = ?"),
    firstOfKind: q("SELECT id, pub, sig FROM prekeys WHERE uid = ? AND kind = ? ORDER BY rowid LIMIT 1"),
    countKind: q("SELECT count(*) AS n FROM prekeys WHERE uid = ? AND kind = ?"),
    clearPrekeys: q("DELETE FROM prekeys WHERE uid = ?"),
    // The oldest uploaded first; deleted as it is read (handed out once, PROTOCOL-v3 §V3.3).
    takeOfKind: q(
      `DELETE FROM prekeys WHERE rowid = (SELECT rowid FROM prekeys WHERE uid = ? AND kind = ? ORDER BY rowid LIMIT 1)
       RETURNING id, pub, sig`,
    ),
    getGrant: q("SELECT ts FROM prekey_grants WHERE signer = ? AND target = ? AND kind = ?"),
    putGrant: q("INSERT OR REPLACE INTO prekey_grants (signer, target, kind, ts) VALUES (?, ?, ?, ?)"),
    bundleRequestsSince: q("SELECT count(*) AS n, min(ts) AS oldest FROM bundle_requests WHERE signer = ? AND ts >= ?"),
    addBundleRequest: q("INSERT INTO bundle_requests (signer, ts) VALUES (?, ?)"),
    purgeGrants: q(
      "DELETE FROM prekey_grants WHERE (signer, target, kind) IN (SELECT signer, target, kind FROM prekey_grants WHERE ts < ? LIMIT ?)",
    ),
    purgeBundleRequests: q(
      "DELETE FROM bundle_requests WHERE rowid IN (SELECT rowid FROM bundle_requests WHERE ts < ? LIMIT ?)",
    ),
    purgeBurns: q("DELETE FROM burns WHERE rowid IN (SELECT rowid FROM burns WHERE ts < ? LIMIT ?)"),
  };
}
