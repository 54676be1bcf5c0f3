// Contact requests and blocked UIDs: {requests: {uid: …}, blocked: {uid: …}}, the tables `requests`
// and `blocked` of state.db, sealed (PROTOCOL-v3 §V8); requests.json in 2.x (state/migrate.ts).
//   requests   a key-exchange notice (PROTOCOL §7.5) from a UID not in the contact book: its key
//              (checked against the UID, §2) and room id (checked against our keys, §4.1), and when
//              it was first seen. A request is not a contact: nothing is fetched or listened to for it
//              until the user accepts it. At most MAX_REQUESTS are kept; the oldest are dropped.
//   blocked    UIDs whose notices are dropped (never a request again), with what they were before
//              (a contact's record, a request) so that unblocking gives it back.
// The logic here is pure (no I/O besides load/save/update) and unit tested.

import { z } from "zod";
import { EncPubB64, RoomId, Ts, Uid } from "../../lib/wire.ts";
import { type ContactRecord, ContactRecordSchema, fingerprintOfKey } from "./contacts.ts";
import { REQUESTS_FILE, statePath } from "./home.ts";
import { stateOf } from "./state-db.ts";

/** Pending requests kept; a flood of throwaway identities cannot grow the file past this. */
export const MAX_REQUESTS = 200;

const RequestRecordSchema = z.looseObject({ pub_key: EncPubB64, room_id: RoomId, first_seen: Ts });
const BlockedRecordSchema = z.looseObject({
  blocked_at: Ts,
  contact: ContactRecordSchema.nullable().default(null),
  request: RequestRecordSchema.nullable().default(null),
});
export const RequestsFileSchema = z.looseObject({
  requests: z.record(Uid, RequestRecordSchema).default({}),
  blocked: z.record(Uid, BlockedRecordSchema).default({}),
});

export interface RequestRecord {
  pub_key: string;
  room_id: string;
  /** Unix seconds, this machine's clock. */
  first_seen: number;
}
export interface BlockedRecord {
  blocked_at: number;
  /** The contact's record when a contact was blocked. */
  contact: ContactRecord | null;
  /** The request when a request was blocked. */
  request: RequestRecord | null;
}
export interface RequestsFile {
  requests: Record<string, RequestRecord>;
  blocked: Record<string, BlockedRecord>;
}

export interface RequestView {
  uid: string;
  fingerprint: string;
  firstSeen: number;
  roomId: string;
}

export function requestView(uid: string, r: RequestRecord): RequestView {
  return { uid, fingerprint: fingerprintOfKey(r.pub_key), firstSeen: r.first_seen, roomId: r.room_id };
}

/** Requests oldest first. */
export function requestList(f: RequestsFile): RequestView[] {
  return Object.entries(f.requests)
    .map(([uid, r]) => requestView(uid, r))
    .sort((a, b) => a.firstSeen - b.firstSeen || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}

/**
 * A notice from a UID not in the book. Blocked: dropped ("blocked"). Already a request: kept as it
 * was ("same"). Otherwise a new request. Mutates `f`.
 */
export function observeRequest(
  f: RequestsFile,
  uid: string,
  r: Omit<RequestRecord, "first_seen">,
  now: number,
): "new" | "same" | "blocked" {
  if (Object.hasOwn(f.blocked, uid)) return "blocked";
  if (Object.hasOwn(f.requests, uid)) return "same";
  f.requests[uid] = { pub_key: r.pub_key, room_id: r.room_id, first_seen: now };
  return "new";
}

/** Keep the newest MAX_REQUESTS; returns the UIDs dropped. Mutates `f`. */
export function trimRequests(f: RequestsFile, max = MAX_REQUESTS): string[] {
  const list = requestList(f);
  const dropped = list.slice(0, Math.max(0, list.length - max)).map((r) => r.uid);
  for (const uid of dropped) delete f.requests[uid];
  return dropped;
}

/** Where Phantom 2.x kept them in plaintext. */
export function requestsPath(home: string): string {
  return statePath(home, REQUESTS_FILE);
}

const RequestsTable = RequestsFileSchema.shape.requests.unwrap();
const BlockedTable = RequestsFileSchema.shape.blocked.unwrap();

export function loadRequests(home: string): RequestsFile {
  const db = stateOf(home);
  return { requests: db.docsAs("requests", RequestsTable), blocked: db.docsAs("blocked", BlockedTable) };
}

export function saveRequests(home: string, f: RequestsFile): void {
  const db = stateOf(home);
  db.tx(() => {
    db.saveDocs("requests", f.requests);
    db.saveDocs("blocked", f.blocked);
  });
}

/** The one read-modify-write of the requests: re-read, change, write (only what `change` changed). */
export function updateRequests<T>(home: string, change: (f: RequestsFile) => T): T {
  return stateOf(home).tx(() => {
    const f = loadRequests(home);
    const result = change(f);
    saveRequests(home, f);
    return result;
  });
}
