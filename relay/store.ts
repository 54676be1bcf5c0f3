// The relay's storage interface: everything the routes keep, behind one small
// surface, so a PostgreSQL/Redis/S3 backend can replace SQLite without touching
// the routes. All methods are synchronous; writes are grouped by WriteQueue. Every
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

export interface Store {
  // users (PROTOCOL §7.2, §7.3) — create-only
  addUser(user: UserRecord, registeredAt: number): boolean;
  getUser(uid: string): UserRecord | null;

  // rooms (PROTOCOL §7.4): exactly two members, never changed
  getRoom(roomId: string): readonly [string, string] | null;
  addRoom(roomId: string, a: string, b: string): void;

  // key-exchange inbox (PROTOCOL §7.4, §7.5)
  putInbox(toUid: string, entry: InboxEntry): void;
  popInbox(toUid: string): InboxEntry[];

  // messages (PROTOCOL §7.6): the sender is never stored
  /** Stores the row and returns its seq (PROTOCOL §7.6.1). */
  addMessage(roomId: string, ciphertext: string, ts: number): number;
  /**
   * The newest `limit` rows with ts ≥ sinceTs, oldest first; stable within a second.
   * Rows are offered newest first to `take`; the first it refuses ends the answer.
   */
  fetchMessages(roomId: string, sinceTs: number, limit: number, take: (row: MessageRow) => boolean): MessageRow[];
  /** The greatest ts of any stored message, or 0: a restarted relay never stamps a row earlier. */
  newestMessageTs(): number;
  /**
   * PROTOCOL §7.6.1: the oldest `limit` rows with seq > afterSeq, oldest first, offered in
   * that order to `take`; `more` when rows are left (over `limit`, or refused by `take`).
   */
  fetchAfter(
    roomId: string,
    afterSeq: number,
    limit: number,
    take: (row: MessageRow) => boolean,
  ): { rows: MessageRow[]; more: boolean };

  // files (PROTOCOL §7.8)
  addFile(file: FileRecord, createdAt: number): void;
  getFile(blobId: string): FileRecord | null;
  hasBlob(blobId: string): boolean;

  /** Bytes the room holds: stored ciphertext (base64 text) plus file sizes (the room quota). */
  roomBytes(roomId: string): number;

  // burn (PROTOCOL §7.7): deletes messages and files of the room
  burnRoom(roomId: string): { messages: number; blobIds: string[] };
  /** Burns by this UID at or after `since`: count and the oldest time. */
  burnsSince(uid: string, since: number): { count: number; oldest: number | null };
  addBurn(uid: string, ts: number): void;

  // replay cache (PROTOCOL §6)
  addNonce(key: string, expires: number): void;
  /** Unexpired replay-cache entries, to reload after a restart. */
  liveNonces(now: number): Iterable<{ key: string; expires: number }>;

  // prekeys (PROTOCOL-v3 §V3)
  /** True if `uid` has ever published any of `ids`, in any kind (cleared prekeys included). */
  prekeyIdsUsed(uid: string, ids: readonly number[]): boolean;
  /** Replace the SPK / PQSPK given, add the one-time keys, and remember every id as used. */
  putPrekeys(uid: string, upload: PrekeyUpload): void;
  prekeyStatus(uid: string): PrekeyStatus;
  /** Delete every stored prekey of `uid` (the ids stay used). */
  clearPrekeys(uid: string): void;
  /**
   * The bundle of `target` for `signer`, or null if it has no SPK or PQSPK. An OPK (and an OPQK)
   * is handed out and deleted only if `signer` got none of `target`'s at or after `grantsSince`;
   * handing one out records the grant at `now`. Run inside one transaction (the caller's batch).
   */
  takeBundle(signer: string, target: string, now: number, grantsSince: number): TakenBundle | null;
  /** Bundle requests by this signer at or after `since`: count and the oldest time. */
  bundleRequestsSince(signer: string, since: number): { count: number; oldest: number | null };
  addBundleRequest(signer: string, ts: number): void;

  // retention (PROTOCOL §8): one bounded step
  purgeStep(limits: PurgeLimits, maxRows: number): PurgeResult;

  /** Run `fn` in one transaction: all of it commits or none. A lock held elsewhere: StoreBusyError. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
