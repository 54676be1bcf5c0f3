// PROTOCOL-v3 in the client: which protocol a message to a contact goes in (§V1), the sessions of a
// contact (§V5.6) kept sealed in state.db (§V8), and the two ratchet transactions — one per message
// sent, one per message received — that also write the message's history row, so two processes of
// one identity never fork a ratchet and every message is shown once whichever process decrypted it.

import { createHash } from "node:crypto";
import { randomBytes } from "../../lib/crypto.ts";
import { b64decode, b64encode, b64udecode, b64uencode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { checkBundle } from "../../lib/v3/bundle.ts";
import { dhPair, type DhPair } from "../../lib/v3/dh.ts";
import { V3Error } from "../../lib/v3/errors.ts";
import type { PrekeyStore } from "../../lib/v3/handshake.ts";
import { encodeInner, type Inner } from "../../lib/v3/inner.ts";
import { PREKEY_KIND } from "../../lib/v3/prekey.ts";
import { type Draw, pruneSkipped, SKIPPED_KEY_TTL_MS } from "../../lib/v3/ratchet.ts";
import { parseSession, serializeSession } from "../../lib/v3/serialize.ts";
import { decrypt, encrypt, initiate, type Session as V3Session } from "../../lib/v3/session.ts";
import { activeSession, DROPPED_SID_TTL_MS, sessionToDrop, type SessionMeta } from "../../lib/v3/sessions.ts";
import type { StoredMessage } from "../../lib/wire.ts";
import { type RelayClient, RelayError } from "../net/relay-client.ts";
import { type ContactRecord, labelOf } from "../state/contacts.ts";
import {
  deleteHistoryRow,
  deletePrekey,
  deleteSession,
  dropSid,
  getHistory,
  getPrekey,
  isDroppedSid,
  listSessions,
  markPrekeyId,
  pruneDroppedSids,
  putHistory,
  putSession,
} from "../state/ratchet-store.ts";
import type { StateDb } from "../state/state-db.ts";
import { historyMessage } from "./history.ts";
import type { DecodedMessage } from "./conversation.ts";
import type { CorePort } from "./ports.ts";

/** §V1: a contact without a bundle is asked again at most once an hour. */
export const BUNDLE_RETRY_S = 3600;

/** What the v3 code needs from the Session. */
export interface V3Port extends Pick<CorePort, "uid" | "id" | "book" | "relay" | "warn" | "mutate"> {
  readonly home: string;
  /** state.db of this identity (unlocked). */
  state(): StateDb;
  /** The `require-v3` setting: v2 is refused for a contact not yet pinned to v3. */
  requireV3(): boolean;
  /** The `history` setting: false for `off` (rows keep no text). */
  keepHistory(): boolean;
}

const draw: Draw = (n) => randomBytes(n);
const nowMs = () => Date.now();
const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

// ---- sessions as rows: u64 createdAt ‖ u64 lastReceivedAt (0: never) ‖ serialised session -----------

export interface Held {
  meta: SessionMeta;
  session: V3Session;
}

function pack(h: Held): Uint8Array {
  const body = serializeSession(h.session);
  const out = new Uint8Array(16 + body.length);
  const v = new DataView(out.buffer);
  v.setFloat64(0, h.meta.createdAt);
  v.setFloat64(8, h.meta.lastReceivedAt ?? 0);
  out.set(body, 16);
  return out;
}

function unpack(state: Uint8Array, lastUsedS: number): Held {
  const v = new DataView(state.buffer, state.byteOffset, state.byteLength);
  const received = v.getFloat64(8);
  return {
    meta: {
      createdAt: v.getFloat64(0),
      lastReceivedAt: received === 0 ? null : received,
      lastUsedAt: lastUsedS * 1000,
    },
    session: parseSession(state.subarray(16)),
  };
}

export function loadHeld(db: StateDb, uid: string): Held[] {
  return listSessions(db, uid).map((r) => unpack(r.state, r.lastUsed));
}

function storeHeld(db: StateDb, uid: string, h: Held): void {
  putSession(db, uid, h.session.sid, pack(h), Math.floor(h.meta.lastUsedAt / 1000));
}

/** §V5.6: at most 3 sessions; the least recently used is dropped and its SID remembered 21 days. */
function capSessions(db: StateDb, uid: string, now: number): void {
  const held = loadHeld(db, uid);
  const i = sessionToDrop(held.map((h) => h.meta));
  if (i < 0) return;
  const sid = held[i]!.session.sid;
  deleteSession(db, uid, sid);
  dropSid(db, uid, sid, Math.floor(now / 1000));
}

/** The receiver's private prekeys and dropped SIDs, as lib/v3 asks for them. */
function prekeyStore(db: StateDb, uid: string): PrekeyStore {
  return {
    spk: (id) => getPrekey(db, PREKEY_KIND.SPK, id),
    opk: (id) => getPrekey(db, PREKEY_KIND.OPK, id),
    pqspk: (id) => getPrekey(db, PREKEY_KIND.PQSPK, id),
    opqk: (id) => getPrekey(db, PREKEY_KIND.OPQK, id),
    dropped: (sid) => isDroppedSid(db, uid, sid),
  };
}

function ourIk(s: V3Port): DhPair {
  return dhPair(s.id.encPriv);
}

/**
 * After ratchet commits: fold the WAL into the database, so no old copy of a deleted key stays in -wal
 * (§V8). openRow leaves it to its caller, which checkpoints once after a batch of rows.
 */
export function checkpoint(db: StateDb): void {
  // While another process of this identity reads, SQLite answers busy (a result row, not a throw) and
  // leaves the frames: the next commit's checkpoint, in whichever process, folds them in. The commit
  // itself is done either way, so a failure here (I/O) is left for the next one too.
  try {
    db.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch {
    // as above
  }
}

// ---- which protocol (§V1) ------------------------------------------------------------------------

export type Plan = { protocol: 3 } | { protocol: 2; reason: string };

/**
 * §V1: the protocol of the next message to `uid`. A contact with a session, or pinned to v3, is v3 (a
 * pinned contact with no session gets one from a fresh bundle, or nothing is sent). Otherwise the
 * bundle is asked for (at most hourly): a valid one starts a session and pins the contact.
 */
export async function planSend(s: V3Port, uid: string): Promise<Plan> {
  const db = s.state();
  if (listSessions(db, uid).length > 0) return { protocol: 3 };
  const rec = s.book[uid]!;
  const pinned = rec.protocol === 3;
  const relay = await s.relay();
  if (!(await relay.offersV3())) {
    if (pinned) throw pinnedError(uid, rec, "the relay does not offer protocol v3");
    return fallback(s, uid, "the relay does not offer protocol v3");
  }
  const due = pinned || rec.v3_checked === undefined || Date.now() / 1000 - rec.v3_checked >= BUNDLE_RETRY_S;
  if (!due) return fallback(s, uid, "peer has no v3 key bundle (Phantom 2.2 or older)");
  if (await startSession(s, relay, uid)) return { protocol: 3 };
  if (pinned) throw pinnedError(uid, rec, "the relay has no key bundle for them");
  s.mutate((b) => {
    if (b[uid]) b[uid]!.v3_checked = Math.floor(Date.now() / 1000);
  });
  return fallback(s, uid, "peer has no v3 key bundle (Phantom 2.2 or older)");
}

function fallback(s: V3Port, uid: string, reason: string): Plan {
  if (s.requireV3()) {
    throw new PhantomError(
      "v3-required",
      `not sent: ${labelOf(uid, s.book[uid])} cannot be reached with protocol v3 (${reason}) and require-v3 is on`,
    );
  }
  return { protocol: 2, reason };
}

function pinnedError(uid: string, rec: ContactRecord, why: string): PhantomError {
  return new PhantomError(
    "v3-unavailable",
    `not sent: ${labelOf(uid, rec)} uses protocol v3 and no v3 session can be made (${why}); ` +
      "nothing is ever sent to them without forward secrecy",
  );
}

/**
 * §V3.3 + §V4: fetch and check the contact's bundle, make an initiator session, pin the contact.
 * False when the relay has no bundle (404). A bundle that fails its checks is an error, never a v2 fallback.
 */
async function startSession(s: V3Port, relay: RelayClient, uid: string): Promise<boolean> {
  const rec = s.book[uid]!;
  const body = await relay.fetchBundle(uid);
  if (body === null) return false;
  let bundle;
  try {
    bundle = checkBundle(body, {
      uid,
      ik: b64decode(rec.pub_key, "pub_key"),
      pinnedSignPub: rec.v3_sign_pub ? b64udecode(rec.v3_sign_pub) : null,
    });
  } catch (e) {
    if (e instanceof V3Error && e.reason === "bundle-pin") {
      throw new PhantomError(
        "key-changed",
        `not sent: the v3 signing key of ${labelOf(uid, rec)} changed (bundle-pin); check with them before going on`,
      );
    }
    throw new PhantomError(
      "bad-bundle",
      `not sent: the relay returned an invalid v3 key bundle for ${labelOf(uid, rec)} (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const session = initiate(bundle, ourIk(s), draw);
  const now = nowMs();
  const db = s.state();
  db.tx(() => {
    // Another send (of this process: the daemon's calls run at once; or of another) made a session
    // while this one fetched the bundle: that one is used, this one is never stored. Two initiators
    // would fork the conversation into sessions the peer caps (§V5.6), losing messages.
    if (listSessions(db, uid).length > 0) return;
    storeHeld(db, uid, { meta: { createdAt: now, lastReceivedAt: null, lastUsedAt: now }, session });
    capSessions(db, uid, now);
  });
  checkpoint(db);
  pin(s, uid, b64uencode(bundle.signPub));
  return true;
}

/**
 * §V2.1: the safety code covers the peer's signing key, which only a bundle carries (§V3.3). A contact
 * pinned by a message it sent us (we are the responder) has none yet: fetch its bundle once to learn it.
 * Quiet when the relay has none or cannot be reached (the code then stays unknown).
 */
export async function learnSignPub(s: V3Port, uid: string): Promise<void> {
  const rec = s.book[uid];
  if (!rec || rec.protocol !== 3 || rec.v3_sign_pub !== undefined) return;
  let body: unknown;
  try {
    body = await (await s.relay()).fetchBundle(uid);
  } catch {
    return;
  }
  if (body === null) return;
  const bundle = checkBundle(body, { uid, ik: b64decode(rec.pub_key, "pub_key"), pinnedSignPub: null });
  pin(s, uid, b64uencode(bundle.signPub));
}

/** §V1: pinned to v3 (never downgraded); the first valid bundle's sign_pub is kept (§V3.3). */
function pin(s: V3Port, uid: string, signPub: string | null): void {
  const rec = s.book[uid];
  if (rec && rec.protocol === 3 && (signPub === null || rec.v3_sign_pub !== undefined)) return;
  s.mutate((b) => {
    const r = b[uid];
    if (!r) return;
    r.protocol = 3;
    if (signPub !== null && r.v3_sign_pub === undefined) r.v3_sign_pub = signPub;
  });
}

// ---- sending (§V5.4) -----------------------------------------------------------------------------

export interface Sealed {
  /** b64 of the wire message, for /send. */
  ciphertext: string;
  /** SHA-256 of the wire: the history row's key. */
  hash: Uint8Array;
  /**
   * §V4: the session we started has had no reply after 20 prekey messages or 7 days — tell the user
   * (a relay that substituted a prekey makes a handshake that never gets an answer, §V10).
   */
  unanswered: boolean;
}

/** §V4: prekey messages, or days, without a reply before the user is told. */
export const UNANSWERED_MESSAGES = 20;
export const UNANSWERED_MS = 7 * 24 * 3600 * 1000;

/**
 * One ratchet step on the active session (§V5.6), its history row written in the same transaction
 * (ts = now until the relay answers: confirmSent). Throws too-long (§V6) before anything changes.
 */
export function sealMessage(s: V3Port, uid: string, inner: Inner): Sealed {
  const bytes = encodeInner(inner);
  const db = s.state();
  const now = nowMs();
  const out = db.tx(() => {
    const held = loadHeld(db, uid);
    const i = activeSession(held.map((h) => h.meta));
    if (i < 0) throw new PhantomError("no-session", `no v3 session with ${labelOf(uid, s.book[uid])}`);
    const h = held[i]!;
    const { session, wire } = encrypt(h.session, bytes);
    storeHeld(db, uid, { meta: { ...h.meta, lastUsedAt: now }, session });
    const hash = sha256(wire);
    putHistory(db, uid, {
      hash,
      ts: Math.floor(now / 1000),
      direction: "out",
      inner: s.keepHistory() ? bytes : new Uint8Array(0),
    });
    const unanswered =
      session.prekey !== null && (session.ratchet.ns >= UNANSWERED_MESSAGES || now - h.meta.createdAt >= UNANSWERED_MS);
    return { ciphertext: b64encode(wire), hash, unanswered };
  });
  checkpoint(db);
  return out;
}

/** The relay stored the message at `ts`: its history row takes that time. */
export function confirmSent(s: V3Port, uid: string, m: Sealed, ts: number): void {
  const db = s.state();
  // Lost in a power cut, the row keeps the time it was sealed at: no fsync to wait for.
  db.txLazy(() => {
    const row = getHistory(db, uid, m.hash);
    // The row's seal covers its ts (ratchet-store.ts): written again, not updated in place.
    if (row !== null && row.ts !== ts) putHistory(db, uid, { ...row, ts });
  });
}

/**
 * §V5.4 + §V7: one inner message on the active session, stored by the relay; the relay's ts. Says once
 * per contact in `told` when our session has had no answer (§V4).
 */
export async function sendV3(
  s: V3Port & Pick<CorePort, "keys">,
  uid: string,
  inner: Inner,
  told: Set<string>,
): Promise<number> {
  const { roomId } = s.keys(uid);
  const relay = await s.relay();
  const sealed = sealMessage(s, uid, inner);
  let ts: number;
  try {
    ts = await relay.send(roomId, sealed.ciphertext);
  } catch (e) {
    // Refused (4xx, or 503 busy): never stored, so it leaves history. No answer, or a gateway's 5xx:
    // the relay may have stored it, and only history can show our own v3 message, so the row stays.
    if (e instanceof RelayError && ((e.status >= 400 && e.status < 500) || e.status === 503)) forgetUnsent(s, sealed);
    throw e;
  }
  confirmSent(s, uid, sealed, ts);
  if (sealed.unanswered && !told.has(uid)) {
    told.add(uid);
    s.warn(
      `${labelOf(uid, s.book[uid])} has not answered on protocol v3 yet (20 messages or 7 days): ` +
        `compare the safety code with them (phantom verify ${uid})`,
    );
  }
  return ts;
}

/** The relay refused the message: it was not stored, so it leaves history. */
export function forgetUnsent(s: V3Port, m: Sealed): void {
  const db = s.state();
  db.tx(() => deleteHistoryRow(db, m.hash));
}

// ---- receiving (§V5.5) ---------------------------------------------------------------------------

/**
 * A stored v3 row of the conversation with `peer`: from history when this identity decrypted or sent
 * it before (§V5.5 step 0), else decrypted in one transaction that stores the session, deletes used
 * one-time prekeys and writes the history row. Null when it does not decrypt (counted, never shown).
 * Call checkpoint(db) after the batch.
 */
export function openRow(s: V3Port, peer: string, row: StoredMessage): DecodedMessage | null {
  const db = s.state();
  let wire: Uint8Array;
  try {
    wire = b64decode(row.ciphertext, "ciphertext");
  } catch {
    return null;
  }
  const hash = sha256(wire);
  const seen = getHistory(db, peer, hash);
  if (seen !== null) return historyMessage(seen, s.uid, peer);
  const rec = s.book[peer];
  if (!rec) return null;
  const now = nowMs();
  const got = db.tx(() => {
    // Another process may have decrypted it since the lookup above.
    const again = getHistory(db, peer, hash);
    if (again !== null) return again;
    const held = loadHeld(db, peer);
    let res;
    try {
      res = decrypt(
        {
          sessions: held.map((h) => h.session),
          ourIk: ourIk(s),
          peerIk: b64decode(rec.pub_key, "pub_key"),
          prekeys: prekeyStore(db, peer),
          now,
        },
        wire,
        draw,
      );
    } catch (e) {
      if (e instanceof V3Error || e instanceof PhantomError) return null;
      throw e;
    }
    const before = held.find((h) => sameBytes(h.session.sid, res.session.sid));
    const meta: SessionMeta = { createdAt: before?.meta.createdAt ?? now, lastReceivedAt: now, lastUsedAt: now };
    // §V5.5: skipped keys older than 7 days are deleted with the step that finds them.
    const ratchet = pruneSkipped(res.session.ratchet, now - SKIPPED_KEY_TTL_MS);
    storeHeld(db, peer, { meta, session: { ...res.session, ratchet } });
    if (res.created) {
      capSessions(db, peer, now);
      for (const [kind, id] of [
        [PREKEY_KIND.OPK, res.deletePrekeys.opk],
        [PREKEY_KIND.OPQK, res.deletePrekeys.opqk],
      ] as const) {
        if (id === null) continue;
        deletePrekey(db, kind, id);
        markPrekeyId(db, kind, id, "used", Math.floor(now / 1000));
      }
      pruneDroppedSids(db, Math.floor((now - DROPPED_SID_TTL_MS) / 1000));
    }
    const stored = {
      hash,
      ts: row.ts,
      direction: "in" as const,
      inner: s.keepHistory() ? res.inner : new Uint8Array(0),
    };
    putHistory(db, peer, stored);
    // The message is shown now even when history keeps no text.
    return { ...stored, inner: res.inner };
  });
  if (got === null) return null;
  pin(s, peer, null);
  return historyMessage(got, s.uid, peer);
}

/** Rows per transaction when a backlog is opened at once (openBacklog): one commit each, not one per row. */
export const BACKLOG_ROWS_PER_TX = 200;

/**
 * A backlog of v3 rows not yet in history (a `read`), opened in transactions of BACKLOG_ROWS_PER_TX
 * rows — each row's ratchet step stays atomic with its history row, and a commit (an fsync) is paid
 * per batch — then the WAL is checkpointed once. Each row's message (null: undecryptable) by row id.
 */
export function openBacklog(
  s: V3Port,
  peer: string,
  rows: readonly StoredMessage[],
  idOf: (row: StoredMessage) => string,
): Map<string, DecodedMessage | null> {
  const db = s.state();
  const out = new Map<string, DecodedMessage | null>();
  for (let i = 0; i < rows.length; i += BACKLOG_ROWS_PER_TX) {
    db.tx(() => {
      for (const row of rows.slice(i, i + BACKLOG_ROWS_PER_TX)) out.set(idOf(row), openRow(s, peer, row));
    });
  }
  if (rows.length > 0) checkpoint(db);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
