// The relay's storage interface: everything the routes keep, behind one small
// surface, so a PostgreSQL/Redis/S3 backend can replace SQLite without touching
// the routes. Every method is asynchronous (issue 13: a PostgreSQL client is async only);
// writes are grouped by WriteQueue into one transaction() per batch. A rule that reads a value
// and writes based on it (a rate, a quota, a room's members, a one-time key) is ONE method, atomic
// in the implementation, never two awaits another request could run between. Every
// implementation runs the contract suite of relay/store-contract.ts.

export interface UserRecord {
  uid: string;
  encPub: Uint8Array;
  signPub: Uint8Array;
}

export interface InboxEntry {
  from_uid: string;
  pub_key: string; // b64, as received (PROTOCOL §7.4)
  room_id: string;
  ts: number;
}

export interface MessageRow {
  ts: number;
  ciphertext: string;
  /** PROTOCOL §7.6.1: assigned when stored, increasing across rooms, never reused. */
  seq: number;
}

/** PROTOCOL §7.6.1: what the store gave a new row. */
export interface MessageStamp {
  ts: number;
  seq: number;
}

export interface FileRecord {
  blobId: string;
  roomId: string;
  size: number;
  expires: number;
}

/** PROTOCOL-v3 §V3: a stored prekey (`pub` 32 or 1,184 bytes, `sig` 64 bytes, checked by the route). */
export interface StoredPrekey {
  id: number;
  pub: Uint8Array;
  sig: Uint8Array;
}

export interface PrekeyUpload {
  spk?: StoredPrekey;
  pqspk?: StoredPrekey;
  opks: StoredPrekey[];
  opqks: StoredPrekey[];
}

/** PROTOCOL-v3 §V3.2 */
export interface PrekeyStatus {
  spkId: number | null;
  pqspkId: number | null;
  opks: number;
  opqks: number;
}

/** PROTOCOL-v3 §V3.3: a complete bundle's prekeys; the one-time ones may be absent. */
export interface TakenBundle {
  spk: StoredPrekey;
  pqspk: StoredPrekey;
  opk: StoredPrekey | null;
  opqk: StoredPrekey | null;
}

export interface PurgeLimits {
  /** Delete messages / inbox entries with ts strictly before these Unix times (PROTOCOL §8). */
  messagesBefore: number;
  inboxBefore: number;
  /** Files whose expiry (Unix seconds) is at or before this. */
  filesExpiredBy: number;
  /** Replay-cache entries that expire at or before this time. */
  noncesUntil: number;
  /** Burn-rate rows older than this. */
  burnsBefore: number;
  /** PROTOCOL-v3 §V3.3: one-time-key grants and bundle-request rows older than these. */
  grantsBefore?: number;
  bundleRequestsBefore?: number;
}

export interface PurgeResult {
  /** Rows deleted in this step; the caller repeats while it is > 0. */
  rows: number;
  /** Blob files whose rows were deleted: the caller removes them from disk. */
  blobIds: string[];
}

/**
 * The store is locked by someone else (another process holding the SQLite write lock) and
 * stayed locked for the store's bounded wait. Nothing of the failed call was written; the
 * relay answers 503 busy (PROTOCOL §7.10) rather than waiting longer.
 */
export class StoreBusyError extends Error {
  constructor() {
    super("the store is locked");
    this.name = "StoreBusyError";
  }
}

/** PROTOCOL §7.7 burn(): refused (rate) with the oldest burn in the window, or done. */
export type BurnResult =
  { ok: true; messages: number; blobIds: string[] } | { ok: false; count: number; oldest: number | null };

/** PROTOCOL-v3 §V3.1 publishPrekeys(): the status after, or why nothing was stored. */
export type PublishResult = { ok: true; status: PrekeyStatus } | { ok: false; reason: "opks" | "opqks" | "id-used" };

/** PROTOCOL-v3 §V3.3 requestBundle(): refused (rate) with the oldest request in the window, or taken. */
export type BundleResult =
  { ok: true; bundle: TakenBundle | null } | { ok: false; count: number; oldest: number | null };

/** PROTOCOL §7.4 pushKe(): stored, or refused because the room exists with other members. */
export type PushKeResult = "ok" | "not-member";

export interface Store {
  // users (PROTOCOL §7.2, §7.3) — create-only
  addUser(user: UserRecord, registeredAt: number): Promise<boolean>;
  getUser(uid: string): Promise<UserRecord | null>;

  // rooms (PROTOCOL §7.4): exactly two members, never changed
  getRoom(roomId: string): Promise<readonly [string, string] | null>;
  addRoom(roomId: string, a: string, b: string): Promise<void>;

  // key-exchange inbox (PROTOCOL §7.4, §7.5)
  putInbox(toUid: string, entry: InboxEntry): Promise<void>;
  /**
   * PROTOCOL §7.4, atomic: if `entry.room_id` does not exist, call `beforeCreate` (it may throw:
   * nothing is then written) and create it with members entry.from_uid and `toUid`; if it exists
   * without both of them, "not-member" and nothing is written; else store the inbox entry.
   * Two pushes for a new room never both create it.
   */
  pushKe(toUid: string, entry: InboxEntry, beforeCreate: () => void): Promise<PushKeResult>;
  /** Returns and deletes the inbox, atomic: an entry is returned once. */
  popInbox(toUid: string): Promise<InboxEntry[]>;

  // messages (PROTOCOL §7.6): the sender is never stored
  /**
   * Stores the row and returns its ts and seq (PROTOCOL §7.6.1). `ts` is the caller's time; a store
   * shared by several relays may stamp its own (its clock, never below a stored row's ts), so the
   * answer and the live frame use the returned ts.
   */
  addMessage(roomId: string, ciphertext: string, ts: number): Promise<MessageStamp>;
  /**
   * addMessage, atomic with the room quota: with `roomCap` > 0, null and nothing stored when the
   * room's bytes plus the ciphertext would pass it (issue 8 room quota, relay/quota.ts).
   */
  addMessageWithin(roomId: string, ciphertext: string, ts: number, roomCap: number): Promise<MessageStamp | null>;
  /**
   * The newest `limit` rows with ts ≥ sinceTs, oldest first; stable within a second.
   * Rows are offered newest first to `take`; the first it refuses ends the answer.
   */
  fetchMessages(
    roomId: string,
    sinceTs: number,
    limit: number,
    take: (row: MessageRow) => boolean,
  ): Promise<MessageRow[]>;
  /** The greatest ts of any stored message, or 0: a restarted relay never stamps a row earlier. */
  newestMessageTs(): Promise<number>;
  /**
   * PROTOCOL §7.6.1: the oldest `limit` rows with seq > afterSeq, oldest first, offered in
   * that order to `take`; `more` when rows are left (over `limit`, or refused by `take`).
   */
  fetchAfter(
    roomId: string,
    afterSeq: number,
    limit: number,
    take: (row: MessageRow) => boolean,
  ): Promise<{ rows: MessageRow[]; more: boolean }>;

  // files (PROTOCOL §7.8)
  addFile(file: FileRecord, createdAt: number): Promise<void>;
  /** addFile, atomic with the room quota: with `roomCap` > 0, false and nothing stored when the room would pass it. */
  addFileWithin(file: FileRecord, createdAt: number, roomCap: number): Promise<boolean>;
  getFile(blobId: string): Promise<FileRecord | null>;
  hasBlob(blobId: string): Promise<boolean>;

  /** Bytes the room holds: stored ciphertext (base64 text) plus file sizes (the room quota). */
  roomBytes(roomId: string): Promise<number>;

  // burn (PROTOCOL §7.7): deletes messages and files of the room
  burnRoom(roomId: string): Promise<{ messages: number; blobIds: string[] }>;
  /** Burns by this UID at or after `since`: count and the oldest time. */
  burnsSince(uid: string, since: number): Promise<{ count: number; oldest: number | null }>;
  addBurn(uid: string, ts: number): Promise<void>;
  /**
   * PROTOCOL §7.7, atomic: if `uid` burned fewer than `limit` times at or after `since`, record a
   * burn at `now` and burn the room; else nothing is written. Two at the limit never both pass.
   */
  burn(uid: string, roomId: string, now: number, since: number, limit: number): Promise<BurnResult>;

  // replay cache (PROTOCOL §6)
  addNonce(key: string, expires: number): Promise<void>;
  /**
   * Present on a store several relay processes share (PostgreSQL): record the nonce, atomic,
   * and answer false if it was already there, so a request replayed to another instance is
   * refused. Without it the relay's own memory is the replay cache (one process).
   */
  claimNonce?(key: string, expires: number): Promise<boolean>;
  /** Unexpired replay-cache entries, to reload after a restart. */
  liveNonces(now: number): Promise<{ key: string; expires: number }[]>;

  // prekeys (PROTOCOL-v3 §V3)
  /** True if `uid` has ever published any of `ids`, in any kind (cleared prekeys included). */
  prekeyIdsUsed(uid: string, ids: readonly number[]): Promise<boolean>;
  /** Replace the SPK / PQSPK given, add the one-time keys, and remember every id as used. */
  putPrekeys(uid: string, upload: PrekeyUpload): Promise<void>;
  /**
   * PROTOCOL-v3 §V3.1, atomic: putPrekeys only if the one-time keys stay within the maxima and no
   * id was ever used; two uploads at once never pass the limits together.
   */
  publishPrekeys(uid: string, upload: PrekeyUpload, maxOpks: number, maxOpqks: number): Promise<PublishResult>;
  prekeyStatus(uid: string): Promise<PrekeyStatus>;
  /** Delete every stored prekey of `uid` (the ids stay used). */
  clearPrekeys(uid: string): Promise<void>;
  /**
   * The bundle of `target` for `signer`, or null if it has no SPK or PQSPK. An OPK (and an OPQK)
   * is handed out and deleted only if `signer` got none of `target`'s at or after `grantsSince`;
   * handing one out records the grant at `now`. Atomic: a one-time key is handed out once.
   */
  takeBundle(signer: string, target: string, now: number, grantsSince: number): Promise<TakenBundle | null>;
  /** Bundle requests by this signer at or after `since`: count and the oldest time. */
  bundleRequestsSince(signer: string, since: number): Promise<{ count: number; oldest: number | null }>;
  addBundleRequest(signer: string, ts: number): Promise<void>;
  /**
   * PROTOCOL-v3 §V3.3, atomic: if `signer` made fewer than `limit` requests at or after
   * `rateSince`, record one at `now` and, when `target` is not null, takeBundle(); else nothing
   * is written. Every request counts, found or not.
   */
  requestBundle(
    signer: string,
    target: string | null,
    now: number,
    rateSince: number,
    limit: number,
    grantsSince: number,
  ): Promise<BundleResult>;

  // retention (PROTOCOL §8): one bounded step
  purgeStep(limits: PurgeLimits, maxRows: number): Promise<PurgeResult>;

  /**
   * Run `fn` in one transaction: every call it makes on `tx` commits or none, and the returned
   * promise resolves only after the commit. Calls on the store itself (not `tx`) wait until the
   * transaction ended, so no other request sees or joins it. A lock held elsewhere: StoreBusyError.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
