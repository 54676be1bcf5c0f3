// Contacts and key safety: trust on first use with pinning.
// The book (table `contacts` of state.db, sealed; contacts.json in 2.x) = {uid: {pub_key, nickname, verified_fp, last_seen_fp}}:
//   pub_key       the key most recently presented for this UID (b64, PROTOCOL §2),
//   verified_fp   the fingerprint the user checked with `verify` (null: never verified),
//   last_seen_fp  the fingerprint the user was last shown and accepted.
// A verified contact whose key changes is blocked (verified_fp ≠ fingerprint of
// pub_key) until `verify <uid> --force`; an unverified change is re-pinned with a
// warning and shown as "key changed" until verified. A contact accepted from a request
// (state/requests.ts) has is_new: true until the user first writes to or reads them.
// The logic here is pure (no I/O besides load/save) and unit tested.

import { z } from "zod";
import { fingerprintOf, uidOf } from "../../lib/crypto.ts";
import { b64decode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { EncPubB64, Uid } from "../../lib/wire.ts";
import { hasUnsafe, quoteInput } from "../text/sanitise.ts";
import { CONTACTS_FILE, statePath } from "./home.ts";
import { maybeStateOf, stateOf } from "./state-db.ts";

export const MAX_NICK = 32;

/** PROTOCOL §2 fingerprint; other spellings (lower case, no spaces) are read and normalised. */
const Fingerprint = z
  .string()
  .max(128)
  .transform((s) => s.toUpperCase().replace(/[\s-]/g, ""))
  .refine((s) => /^[A-Z2-7]{52}$/.test(s), "expected a fingerprint (52 base32 characters)")
  .transform((s) => s.match(/.{4}/g)!.join(" "));

export const ContactRecordSchema = z.looseObject({
  pub_key: EncPubB64,
  nickname: z.string().max(256).nullable().default(null),
  verified_fp: Fingerprint.nullable().default(null),
  last_seen_fp: Fingerprint.nullable().default(null),
});
export const ContactsFile = z.record(Uid, ContactRecordSchema);

export interface ContactRecord {
  pub_key: string;
  nickname: string | null;
  verified_fp: string | null;
  last_seen_fp: string | null;
  /** Accepted from a contact request and not yet written to or read (state of the menu's "new"). */
  is_new?: boolean;
  /** PROTOCOL-v3 §V1: 3 once a valid bundle or v3 message was seen from the contact; never taken back. */
  protocol?: 3;
  /** PROTOCOL-v3 §V3.3: the sign_pub (b64u) of the contact's first valid bundle, pinned. */
  v3_sign_pub?: string;
  /** PROTOCOL-v3 §V1: unix seconds of the last bundle request that found none (asked again at most hourly). */
  v3_checked?: number;
}
export type ContactBook = Record<string, ContactRecord>;

export interface ContactView {
  uid: string;
  nickname: string | null;
  fingerprint: string;
  verified: boolean;
  keyChanged: boolean;
  isNew: boolean;
  /** PROTOCOL-v3 §V1: 3 when pinned to v3 (forward-secret), else 2. */
  protocol: 2 | 3;
}

/** What observing a key for a UID did to the book. */
export type KeyEvent =
  | { kind: "new"; fingerprint: string }
  | { kind: "same"; fingerprint: string }
  /** Unverified contact: the new key is pinned; warn the user. */
  | { kind: "changed"; oldFp: string; newFp: string }
  /** Verified contact: blocked until `verify --force`. */
  | { kind: "blocked"; oldFp: string; newFp: string };

export function fingerprintOfKey(pubB64: string): string {
  return fingerprintOf(b64decode(pubB64, "pub_key"));
}

/** PROTOCOL §2: a UID commits to its key. A key that does not hash to the UID is forged. */
export function keyMatchesUid(uid: string, pubB64: string): boolean {
  try {
    return uidOf(b64decode(pubB64, "pub_key")) === uid;
  } catch {
    return false;
  }
}

/** A contact's key changed after it was verified: old and new fingerprints, or null. */
export function blockedChange(rec: ContactRecord): { oldFp: string; newFp: string } | null {
  const fp = fingerprintOfKey(rec.pub_key);
  return rec.verified_fp !== null && rec.verified_fp !== fp ? { oldFp: rec.verified_fp, newFp: fp } : null;
}

export function keyChangedError(label: string, uid: string, change: { oldFp: string; newFp: string }): PhantomError {
  return new PhantomError(
    "key-changed",
    `the key of ${label} changed since you verified it (verified fingerprint ${change.oldFp}, new fingerprint ` +
      `${change.newFp}); compare the new fingerprint with them, then run: phantom verify ${uid} --force`,
  );
}

/** Throws the key-changed error when the contact is blocked. */
export function assertUsable(uid: string, rec: ContactRecord): void {
  const change = blockedChange(rec);
  if (change) throw keyChangedError(labelOf(uid, rec), uid, change);
}

export function labelOf(uid: string, rec: ContactRecord | undefined): string {
  return rec?.nickname ? `${rec.nickname} (${uid})` : uid;
}

export function viewOf(uid: string, rec: ContactRecord, isNew = false): ContactView {
  const fingerprint = fingerprintOfKey(rec.pub_key);
  return {
    uid,
    nickname: rec.nickname,
    fingerprint,
    verified: rec.verified_fp !== null && rec.verified_fp === fingerprint,
    keyChanged: rec.last_seen_fp !== null && rec.last_seen_fp !== fingerprint,
    isNew: isNew || rec.is_new === true,
    protocol: rec.protocol === 3 ? 3 : 2,
  };
}

/**
 * Record that `pubB64` was presented for `uid` (by /pubkey or a key-exchange
 * notice). The caller has already checked keyMatchesUid. Mutates `book`.
 */
export function observeKey(book: ContactBook, uid: string, pubB64: string): KeyEvent {
  const newFp = fingerprintOfKey(pubB64);
  const rec = book[uid];
  if (rec === undefined) {
    book[uid] = { pub_key: pubB64, nickname: null, verified_fp: null, last_seen_fp: newFp };
    return { kind: "new", fingerprint: newFp };
  }
  const currentFp = fingerprintOfKey(rec.pub_key);
  rec.last_seen_fp ??= currentFp; // records from older files may lack it
  rec.pub_key = pubB64;
  if (newFp === currentFp) return { kind: "same", fingerprint: newFp };
  if (rec.verified_fp !== null) {
    // Back to the key the user verified: nothing is blocked any more.
    if (newFp === rec.verified_fp) return { kind: "same", fingerprint: newFp };
    return { kind: "blocked", oldFp: rec.verified_fp, newFp };
  }
  return { kind: "changed", oldFp: currentFp, newFp };
}

/** `verify`: the user compared the fingerprint. A blocked contact needs `force`. */
export function verifyRecord(uid: string, rec: ContactRecord, force: boolean): void {
  const change = blockedChange(rec);
  if (change && !force) throw keyChangedError(labelOf(uid, rec), uid, change);
  const fp = fingerprintOfKey(rec.pub_key);
  rec.verified_fp = fp;
  rec.last_seen_fp = fp;
}

/** A nickname: 1–32 characters, no control characters, not shaped like a UID. */
export function checkNick(nick: string): string {
  const clean = nick.trim();
  const n = [...clean].length;
  if (n === 0 || n > MAX_NICK) throw new PhantomError("bad-nick", `a nickname has 1 to ${MAX_NICK} characters`);
  if (hasUnsafe(clean)) {
    throw new PhantomError("bad-nick", "a nickname cannot contain control characters");
  }
  if (Uid.safeParse(clean).success) throw new PhantomError("bad-nick", "a nickname cannot look like a UID");
  return clean;
}

/** Set (or with null clear) a nickname; nicknames are unique, ignoring case. */
export function setNickname(book: ContactBook, uid: string, nick: string | null): void {
  const rec = book[uid];
  if (rec === undefined) throw unknownContact(uid);
  if (nick === null) {
    rec.nickname = null;
    return;
  }
  const clean = checkNick(nick);
  for (const [other, r] of Object.entries(book)) {
    if (other !== uid && r.nickname?.toLowerCase() === clean.toLowerCase()) {
      throw new PhantomError("nick-taken", `the nickname '${clean}' is already used by ${other}`);
    }
  }
  rec.nickname = clean;
}

export function unknownContact(what: string): PhantomError {
  const shown = quoteInput(what).slice(0, 64);
  return new PhantomError(
    "unknown-contact",
    `unknown contact '${shown}' (see 'phantom contacts'; add people with 'phantom add <uid>')`,
  );
}

/** A UID, or a nickname (exact, then ignoring case). */
export function resolveContact(book: ContactBook, uidOrNick: string): string {
  if (Object.hasOwn(book, uidOrNick)) return uidOrNick;
  const entries = Object.entries(book);
  const exact = entries.find(([, r]) => r.nickname === uidOrNick);
  if (exact) return exact[0];
  const lower = uidOrNick.toLowerCase();
  const loose = entries.filter(([, r]) => r.nickname?.toLowerCase() === lower);
  if (loose.length === 1) return loose[0]![0];
  throw unknownContact(uidOrNick);
}

/** Where Phantom 2.x kept the book in plaintext: imported into state.db at the first unlock (state/migrate.ts). */
export function contactsPath(home: string): string {
  return statePath(home, CONTACTS_FILE);
}

/** The book, from the sealed table `contacts` of state.db (PROTOCOL-v3 §V8). */
export function loadContacts(home: string): ContactBook {
  return stateOf(home).docsAs("contacts", ContactsFile) as ContactBook;
}

/**
 * What changes whenever the book is written (state.db counts the writes of each table), so an
 * open client can tell that another process changed the book; "" when the state is not unlocked.
 */
export function contactsStamp(home: string): string {
  const db = maybeStateOf(home);
  return db === null ? "" : String(db.revision("contacts"));
}

export function saveContacts(home: string, book: ContactBook): void {
  stateOf(home).saveDocs("contacts", book);
}

/**
 * Read the book, apply `change`, write it back, all in one transaction of state.db, so a
 * change made meanwhile by another process is never lost. Returns the book as written.
 */
export function updateContacts<T>(home: string, change: (b: ContactBook) => T): { book: ContactBook; result: T } {
  const db = stateOf(home);
  return db.tx(() => {
    const book = loadContacts(home);
    const result = change(book);
    saveContacts(home, book);
    return { book, result };
  });
}
