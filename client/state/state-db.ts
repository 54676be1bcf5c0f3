// $PHANTOM_HOME/state.db: the client's sealed state (PROTOCOL-v3 §V8). One SQLite database,
// file 0600 (its -wal and -shm too), WAL mode, secure_delete on. Every secret value is sealed
// per row: AEAD(state_key, random 12-byte nonce, value, u16(len(table)) ‖ table ‖ row key), stored
// as nonce ‖ ciphertext ‖ tag, with state_key = HKDF(vault_key, zero32, "phantom-v3-state", 32) and
// vault_key the scrypt output of PROTOCOL §3. A row that does not open is an error naming its
// table, never skipped.
//
// Who you talk to is a secret too: tables are keyed by a contact's *index*, HMAC(index_key, uid),
// never the UID (index_key = HKDF(vault_key, zero32, "phantom-v3-state-index", 32), a label of
// ours beside the spec's state key), and the UID itself sits in the sealed value.
//
// Changes go through db.tx(() => …): BEGIN IMMEDIATE … COMMIT, so two processes of one identity
// (`listen` and `send`) take turns and never fork a ratchet (PROTOCOL-v3 §V8).

import { Database, type SQLQueryBindings } from "bun:sqlite";
import type { z } from "zod";
import * as fs from "node:fs";
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { utf8 } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { ensureHome, FILE_MODE, STATE_DB_FILE, statePath } from "./home.ts";

/** The newest layout of state.db this binary understands; a newer file is refused (`phantom update --rollback`). */
export const STATE_FORMAT = 1;
/** PROTOCOL-v3 §V8: state_key = HKDF(vault_key, zero32, STATE_LABEL, 32). */
export const STATE_LABEL = "phantom-v3-state";
/** Ours (not in the spec): the key of the contact index that hides UIDs in row keys. */
export const INDEX_LABEL = "phantom-v3-state-index";
/** How long a change waits for another process's transaction before giving up. */
export const STATE_BUSY_MS = 10_000;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const ZERO32 = new Uint8Array(32);
/** The sealed constant in meta that tells a wrong key (another identity's state.db) from a damaged row. */
const CHECK_VALUE = "phantom-v3-state-check";

/** Tables that hold one sealed JSON document per contact (what the v2 JSON files held), by contact index. */
export const DOC_TABLES = [
  "contacts",
  "read_state",
  "requests",
  "blocked",
  "cursors",
  "seen",
  "file_numbers",
  "daemon_cursors",
] as const;
export type DocTable = (typeof DOC_TABLES)[number];

const SCHEMA = [
  "CREATE TABLE meta (k TEXT PRIMARY KEY, v ANY) STRICT",
  ...DOC_TABLES.map((t) => `CREATE TABLE ${t} (k BLOB PRIMARY KEY, v BLOB NOT NULL) STRICT`),
  // PROTOCOL-v3 §V5.6: sessions by (contact, SID), with the time each was last used.
  "CREATE TABLE sessions (contact BLOB NOT NULL, sid BLOB NOT NULL, last_used INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY (contact, sid)) STRICT",
  // PROTOCOL-v3 §V2: private prekeys by kind and id.
  "CREATE TABLE prekeys (kind INTEGER NOT NULL, id INTEGER NOT NULL, created INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY (kind, id)) STRICT",
  // PROTOCOL-v3 §V3: which prekey ids were published and which used (not secret).
  "CREATE TABLE prekey_ids (kind INTEGER NOT NULL, id INTEGER NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, id)) STRICT",
  // PROTOCOL-v3 §V4, §V5.6: SIDs of dropped sessions, remembered for 21 days.
  "CREATE TABLE dropped_sids (contact BLOB NOT NULL, sid BLOB NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (contact, sid)) STRICT",
  // PROTOCOL-v3 §V5.5: skipped message keys by (session, peer DH key, n), deleted after use or 7 days.
  "CREATE TABLE skipped (contact BLOB NOT NULL, sid BLOB NOT NULL, dh BLOB NOT NULL, n INTEGER NOT NULL, at INTEGER NOT NULL, v BLOB NOT NULL, PRIMARY KEY (contact, sid, dh, n)) STRICT",
  // PROTOCOL-v3 §V8: history by SHA-256(wire).
  "CREATE TABLE history (h BLOB PRIMARY KEY, contact BLOB NOT NULL, ts INTEGER NOT NULL, direction INTEGER NOT NULL, v BLOB NOT NULL) STRICT",
  "CREATE INDEX history_by_contact ON history (contact, ts)",
];

/**
 * Tables added since format 1, created when missing (an older phantom ignores them): the
 * daemon's delivery cursors (like `cursors`), its event log and its consumers
 * (state/daemon-events.ts).
 */
const ADDED = [
  "CREATE TABLE IF NOT EXISTS daemon_cursors (k BLOB PRIMARY KEY, v BLOB NOT NULL) STRICT",
  "CREATE TABLE IF NOT EXISTS daemon_events (id INTEGER PRIMARY KEY AUTOINCREMENT, h BLOB NOT NULL UNIQUE, at INTEGER NOT NULL, v BLOB NOT NULL) STRICT",
  "CREATE TABLE IF NOT EXISTS daemon_consumers (k BLOB PRIMARY KEY, v BLOB NOT NULL) STRICT",
  "CREATE TABLE IF NOT EXISTS daemon_acks (consumer BLOB NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (consumer, id)) STRICT",
];

function hkdf32(ikm: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, ZERO32, label, 32));
}

/** u16(len(table)) ‖ table ‖ row key (PROTOCOL-v3 §V8). */
export function sealAad(table: string, rowKey: Uint8Array): Uint8Array {
  const t = utf8.encode(table);
  const aad = new Uint8Array(2 + t.length + rowKey.length);
  new DataView(aad.buffer).setUint16(0, t.length);
  aad.set(t, 2);
  aad.set(rowKey, 2 + t.length);
  return aad;
}

/** Byte strings joined: a composite row key of fixed-length parts. */
export function joinKey(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function stateError(path: string, what: string, cause?: unknown): PhantomError {
  return new PhantomError("state-io", `cannot ${what} ${path}: ${String((cause as Error)?.message ?? cause)}`, {
    cause,
  });
}

function busyError(path: string, cause: unknown): PhantomError {
  return new PhantomError(
    "state-locked",
    `another phantom process has held ${path} for ${STATE_BUSY_MS / 1000} s; try again`,
    { cause },
  );
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string } | undefined)?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

export class StateDb {
  readonly path: string;
  readonly db: Database;
  private readonly stateKey: Uint8Array;
  private readonly indexKey: Uint8Array;
  private depth = 0;

  private constructor(path: string, db: Database, vaultKey: Uint8Array) {
    this.path = path;
    this.db = db;
    this.stateKey = hkdf32(vaultKey, STATE_LABEL);
    this.indexKey = hkdf32(vaultKey, INDEX_LABEL);
  }

  /**
   * Open (or create) $PHANTOM_HOME/state.db with the identity's vault key. A newer format is
   * refused; a database whose check row does not open belongs to another identity.
   */
  static open(home: string, vaultKey: Uint8Array): StateDb {
    ensureHome(home);
    const path = statePath(home, STATE_DB_FILE);
    let db: Database;
    try {
      // Created 0600 before SQLite opens it: its -wal and -shm take the database file's mode.
      fs.closeSync(fs.openSync(path, "a", FILE_MODE));
      tighten(path);
      db = new Database(path, { create: true, strict: true });
    } catch (e) {
      throw stateError(path, "open", e);
    }
    const s = new StateDb(path, db, vaultKey);
    try {
      s.init();
    } catch (e) {
      db.close();
      throw e;
    }
    return s;
  }

  private init(): void {
    try {
      this.db.run(`PRAGMA busy_timeout = ${STATE_BUSY_MS}`);
      this.db.run("PRAGMA journal_mode = WAL");
      this.db.run("PRAGMA secure_delete = ON"); // PROTOCOL-v3 §V8: a deleted key is overwritten
      this.db.run("PRAGMA synchronous = FULL");
      // Old WAL frames (sealed copies of rows since deleted) are cut off at each checkpoint's reset.
      this.db.run("PRAGMA journal_size_limit = 0");
    } catch (e) {
      if (isBusy(e)) throw busyError(this.path, e);
      throw stateError(this.path, "open", e);
    }
    this.tx(() => {
      const hasMeta = this.db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
      if (!hasMeta) {
        for (const sql of [...SCHEMA, ...ADDED]) this.db.run(sql);
        this.setMeta("format_version", STATE_FORMAT);
        this.db
          .query("INSERT INTO meta (k, v) VALUES ('check', ?)")
          .run(this.seal("meta", utf8.encode("check"), utf8.encode(CHECK_VALUE)));
        return;
      }
      const format = Number(this.meta("format_version") ?? 0);
      if (!Number.isInteger(format) || format < 1) {
        throw new PhantomError("corrupt-file", `corrupt file ${this.path}: no format_version (move it away)`);
      }
      if (format > STATE_FORMAT) {
        throw new PhantomError(
          "state-format",
          `state.db is format ${format}, this phantom understands up to ${STATE_FORMAT}: update phantom`,
        );
      }
      const check = this.db.query<{ v: Uint8Array }, []>("SELECT v FROM meta WHERE k = 'check'").get();
      let ok = false;
      try {
        ok = check !== null && utf8.decode(this.open("meta", utf8.encode("check"), check.v)) === CHECK_VALUE;
      } catch {
        ok = false;
      }
      if (!ok) {
        throw new PhantomError(
          "state-foreign",
          `${this.path} does not open with this identity's key (it belongs to another identity, or is damaged); move it away`,
        );
      }
      for (const sql of ADDED) this.db.run(sql);
    });
    for (const suffix of ["", "-wal", "-shm"]) tighten(this.path + suffix);
  }

  close(): void {
    this.stateKey.fill(0);
    this.indexKey.fill(0);
    try {
      this.db.close();
    } catch {
      // already closed
    }
  }

  /**
   * A transaction whose loss in a power cut costs nothing — it is redone, or its effect is
   * cosmetic (a cursor that moves again, a history row's ts): committed without waiting for the
   * disk (synchronous=NORMAL). WAL keeps it atomic, and durable against a crash of the process.
   */
  txLazy<T>(change: () => T): T {
    if (this.depth > 0) return this.tx(change);
    this.db.run("PRAGMA synchronous = NORMAL");
    try {
      return this.tx(change);
    } finally {
      this.db.run("PRAGMA synchronous = FULL");
    }
  }

  /**
   * Run `change` in one transaction (BEGIN IMMEDIATE: the write lock is taken first, so a
   * read-modify-write never races another process). Nested calls join the outer transaction.
   * `change` must be synchronous; a throw rolls everything back.
   */
  tx<T>(change: () => T): T {
    if (this.depth > 0) {
      this.depth++;
      try {
        return change();
      } finally {
        this.depth--;
      }
    }
    try {
      this.db.run("BEGIN IMMEDIATE");
    } catch (e) {
      if (isBusy(e)) throw busyError(this.path, e);
      throw stateError(this.path, "lock", e);
    }
    this.depth = 1;
    let result: T;
    try {
      result = change();
    } catch (e) {
      this.depth = 0;
      try {
        this.db.run("ROLLBACK");
      } catch {
        // SQLite rolled back already (an I/O error)
      }
      throw e;
    }
    this.depth = 0;
    try {
      this.db.run("COMMIT");
    } catch (e) {
      try {
        this.db.run("ROLLBACK");
      } catch {
        // nothing to roll back
      }
      throw stateError(this.path, "write", e);
    }
    return result;
  }

  /** Whether a transaction of this process is open. */
  get inTx(): boolean {
    return this.depth > 0;
  }

  /** PROTOCOL-v3 §V8: seal one value of `table` under its row key; nonce ‖ ciphertext ‖ tag. */
  seal(table: string, rowKey: Uint8Array, value: Uint8Array): Uint8Array {
    const nonce = new Uint8Array(randomBytes(NONCE_LEN));
    const ct = chacha20poly1305(this.stateKey, nonce, sealAad(table, rowKey)).encrypt(value);
    return joinKey(nonce, ct);
  }

  /** Open a sealed value; a row that does not open is an error naming the table. */
  open(table: string, rowKey: Uint8Array, sealed: Uint8Array): Uint8Array {
    const bytes = sealed instanceof Uint8Array ? sealed : new Uint8Array(sealed as ArrayBuffer);
    try {
      if (bytes.length < NONCE_LEN + TAG_LEN) throw new Error("too short");
      return chacha20poly1305(this.stateKey, bytes.subarray(0, NONCE_LEN), sealAad(table, rowKey)).decrypt(
        bytes.subarray(NONCE_LEN),
      );
    } catch (e) {
      throw new PhantomError(
        "state-corrupt",
        `${this.path}: a row of table ${table} does not open (damaged or moved); nothing was changed`,
        { cause: e },
      );
    }
  }

  /** The row key standing for a contact: HMAC(index_key, uid), 32 bytes; the UID never appears in clear. */
  contactIndex(uid: string): Uint8Array {
    return new Uint8Array(createHmac("sha256", this.indexKey).update(uid, "utf8").digest());
  }

  meta(k: string): SQLQueryBindings | null {
    const row = this.db.query<{ v: SQLQueryBindings }, [string]>("SELECT v FROM meta WHERE k = ?").get(k);
    return row === null ? null : row.v;
  }

  setMeta(k: string, v: string | number | null): void {
    if (v === null) this.db.query("DELETE FROM meta WHERE k = ?").run(k);
    else this.db.query("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v").run(k, v);
  }

  /** How many times `table` was changed: what tells an open client another process changed it. */
  revision(table: DocTable): number {
    return Number(this.meta(`rev:${table}`) ?? 0);
  }

  // ---- documents per contact (the v2 JSON files' contents) -----------------------------------

  private openDoc(table: DocTable, k: Uint8Array, v: Uint8Array): [string, unknown] {
    const text = utf8.decode(this.open(table, k, v));
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== "string") throw new Error("shape");
      return [parsed[0], parsed[1]];
    } catch (e) {
      throw new PhantomError("state-corrupt", `${this.path}: a row of table ${table} is not a [uid, value] pair`, {
        cause: e,
      });
    }
  }

  /** Every document of `table`: uid → value (JSON as stored; the caller validates it). */
  loadDocs(table: DocTable): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const r of this.db.query<{ k: Uint8Array; v: Uint8Array }, []>(`SELECT k, v FROM ${table}`).all()) {
      const [uid, value] = this.openDoc(table, r.k, r.v);
      if (!equal(this.contactIndex(uid), r.k)) {
        throw new PhantomError("state-corrupt", `${this.path}: a row of table ${table} is under another contact's key`);
      }
      out.set(uid, value);
    }
    return out;
  }

  /**
   * Every document of `table` checked with `schema` (a record of uid → value), as a plain object
   * without a prototype (UIDs are data, never property names of Object).
   */
  docsAs<T extends z.ZodType>(table: DocTable, schema: T): z.infer<T> {
    const raw = Object.fromEntries(this.loadDocs(table));
    const r = schema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new PhantomError(
        "state-corrupt",
        `${this.path}: a row of table ${table} is invalid: ${[...(issue?.path.slice(1) ?? []), issue?.message ?? ""].join(" ")}`,
      );
    }
    return Object.assign(Object.create(null) as object, r.data) as z.infer<T>;
  }

  /** One contact's document of `table`, or undefined. */
  getDoc(table: DocTable, uid: string): unknown {
    const k = this.contactIndex(uid);
    const r = this.db.query<{ v: Uint8Array }, [Uint8Array]>(`SELECT v FROM ${table} WHERE k = ?`).get(k);
    return r === null ? undefined : this.openDoc(table, k, r.v)[1];
  }

  /** Set (undefined: delete) one contact's document of `table`. */
  putDoc(table: DocTable, uid: string, value: unknown): void {
    this.tx(() => {
      const k = this.contactIndex(uid);
      if (value === undefined) {
        this.db.query(`DELETE FROM ${table} WHERE k = ?`).run(k);
      } else {
        const v = this.seal(table, k, utf8.encode(JSON.stringify([uid, value])));
        this.db
          .query(`INSERT INTO ${table} (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`)
          .run(k, v);
      }
      this.setMeta(`rev:${table}`, this.revision(table) + 1);
    });
  }

  /**
   * Make `table` hold exactly `docs`: rows of contacts no longer there are deleted, changed ones
   * re-sealed, the others left alone. Returns whether anything changed.
   */
  saveDocs(table: DocTable, docs: Record<string, unknown>): boolean {
    return this.tx(() => {
      const before = this.loadDocs(table);
      let changed = false;
      for (const uid of before.keys()) {
        if (!Object.hasOwn(docs, uid)) {
          this.db.query(`DELETE FROM ${table} WHERE k = ?`).run(this.contactIndex(uid));
          changed = true;
        }
      }
      for (const [uid, value] of Object.entries(docs)) {
        if (value === undefined) continue;
        if (before.has(uid) && JSON.stringify(before.get(uid)) === JSON.stringify(value)) continue;
        const k = this.contactIndex(uid);
        const v = this.seal(table, k, utf8.encode(JSON.stringify([uid, value])));
        this.db
          .query(`INSERT INTO ${table} (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`)
          .run(k, v);
        changed = true;
      }
      if (changed) this.setMeta(`rev:${table}`, this.revision(table) + 1);
      return changed;
    });
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Take group and others' access away (a restored copy); best effort, a file that is absent is skipped. */
function tighten(path: string): void {
  try {
    if ((fs.statSync(path).mode & 0o077) !== 0) fs.chmodSync(path, FILE_MODE);
  } catch {
    // absent (no -wal yet), or not ours to change
  }
}

/**
 * A consistent copy of a state.db (no key needed: the rows stay sealed), as one file without
 * -wal or -shm: SQLite's VACUUM INTO reads one snapshot while other processes go on writing.
 * `to` must not exist; it is created 0600.
 */
export function copyStateDb(from: string, to: string): void {
  fs.closeSync(fs.openSync(to, "wx", FILE_MODE));
  let db: Database | null = null;
  try {
    db = new Database(from, { readonly: true });
    db.run(`PRAGMA busy_timeout = ${STATE_BUSY_MS}`);
    db.query("VACUUM INTO ?").run(to);
  } catch (e) {
    fs.rmSync(to, { force: true });
    throw stateError(from, "copy", e);
  } finally {
    db?.close();
  }
  tighten(to);
}

// ---- the process's unlocked state, per home --------------------------------------------------

const opened = new Map<string, StateDb>();

/** Register the unlocked state of `home` (done at unlock, state/unlock.ts); replaces an earlier one. */
export function registerState(home: string, db: StateDb): void {
  const old = opened.get(home);
  if (old && old !== db) old.close();
  opened.set(home, db);
}

/** The unlocked state of `home`; an error when this process has not unlocked it. */
export function stateOf(home: string): StateDb {
  const db = opened.get(home);
  if (db === undefined) {
    throw new PhantomError("state-locked-out", `the state of ${home} is not unlocked (the password opens state.db)`);
  }
  return db;
}

/** The unlocked state of `home`, or null. */
export function maybeStateOf(home: string): StateDb | null {
  return opened.get(home) ?? null;
}

/** Close the state of `home` (before panic deletes it, or when a session ends). */
export function closeState(home: string): void {
  const db = opened.get(home);
  opened.delete(home);
  db?.close();
}
