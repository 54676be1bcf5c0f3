// Contact requests and blocking for a Session: who may become a contact. A key-exchange notice
// (PROTOCOL §7.5) from someone unknown is a request (state/requests.ts); only the user makes it a
// contact (accept, or add). Blocking takes a contact or a request out of everything: its notices
// are dropped and its room is never fetched or listened to. Both are local: nothing is sent.

import { PhantomError } from "../../lib/errors.ts";
import { Uid } from "../../lib/wire.ts";
import * as book from "../state/contacts.ts";
import * as rq from "../state/requests.ts";
import { blockedError } from "./key-exchange.ts";
import type { RequestsPort } from "./ports.ts";

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

function checkUid(s: RequestsPort, uid: string): void {
  if (!Uid.safeParse(uid).success) throw new PhantomError("bad-uid", "not a UID: expected 28 base64url characters");
  if (uid === s.uid) throw new PhantomError("bad-uid", "that is your own UID");
}

export function pendingError(uid: string): PhantomError {
  return new PhantomError(
    "request-pending",
    `${uid} asked to be your contact and is not one yet; accept first: phantom accept ${uid} (or refuse: phantom block ${uid})`,
  );
}

/**
 * A contact's UID from a UID or nickname. A UID that is a pending request or blocked gets an error
 * that says so (with the command to run) instead of "unknown contact".
 */
export function resolve(s: RequestsPort, uidOrNick: string): string {
  try {
    return book.resolveContact(s.book, uidOrNick);
  } catch (e) {
    if (!(e instanceof PhantomError && e.code === "unknown-contact")) throw e;
    const f = rq.loadRequests(s.home);
    if (Object.hasOwn(f.requests, uidOrNick)) throw pendingError(uidOrNick);
    if (Object.hasOwn(f.blocked, uidOrNick)) throw blockedError(uidOrNick);
    throw e;
  }
}

/** Make a request a contact: its key (checked when the notice came, §2, §4.1) is pinned. */
export function accept(s: RequestsPort, uid: string): book.ContactView {
  checkUid(s, uid);
  if (Object.hasOwn(s.book, uid)) {
    throw new PhantomError("already-contact", `${book.labelOf(uid, s.book[uid])} is already a contact`);
  }
  const req = rq.updateRequests(s.home, (f) => {
    if (Object.hasOwn(f.blocked, uid)) throw blockedError(uid);
    const r = f.requests[uid];
    if (r === undefined) {
      throw new PhantomError(
        "no-request",
        `no contact request from ${uid} (see phantom contacts --requests; add people with phantom add <uid>)`,
      );
    }
    delete f.requests[uid];
    return r;
  });
  s.mutate((b) => {
    book.observeKey(b, uid, req.pub_key);
    b[uid]!.is_new = true; // shown as new until the first message either way
  });
  s.newUids.add(uid);
  return book.viewOf(uid, s.book[uid]!, true);
}

export type BlockedWas = "contact" | "request" | "unknown";

/** Block a contact (by UID or nickname), a request or any UID. Its record is kept for unblock. */
export function block(s: RequestsPort, uidOrNick: string): { uid: string; was: BlockedWas } {
  let uid = uidOrNick;
  try {
    uid = book.resolveContact(s.book, uidOrNick);
  } catch {
    checkUid(s, uid);
  }
  const contact = s.mutate((b) => {
    const rec = b[uid] ?? null;
    delete b[uid];
    return rec;
  });
  const was = rq.updateRequests(s.home, (f) => {
    const request = f.requests[uid] ?? null;
    delete f.requests[uid];
    const prev = f.blocked[uid];
    f.blocked[uid] = {
      blocked_at: prev?.blocked_at ?? nowS(),
      contact: contact ?? prev?.contact ?? null,
      request: request ?? prev?.request ?? null,
    };
    return contact ? "contact" : request ? "request" : "unknown";
  });
  s.newUids.delete(uid);
  return { uid, was };
}

/** Unblock: a blocked contact is a contact again, a blocked request a request again. */
export function unblock(s: RequestsPort, uid: string): { uid: string; now: BlockedWas } {
  checkUid(s, uid);
  const entry = rq.updateRequests(s.home, (f) => {
    const e = f.blocked[uid];
    if (e === undefined)
      throw new PhantomError("not-blocked", `${uid} is not blocked (see phantom contacts --blocked)`);
    delete f.blocked[uid];
    if (e.contact === null && e.request !== null) f.requests[uid] = e.request;
    return e;
  });
  if (entry.contact !== null) {
    const rec = entry.contact;
    s.mutate((b) => {
      if (Object.hasOwn(b, uid)) return;
      // The nickname may have been taken meanwhile: keep the contact, drop the name.
      const taken =
        rec.nickname !== null &&
        Object.values(b).some((r) => r.nickname?.toLowerCase() === rec.nickname!.toLowerCase());
      b[uid] = taken ? { ...rec, nickname: null } : rec;
    });
    return { uid, now: "contact" };
  }
  return { uid, now: entry.request !== null ? "request" : "unknown" };
}

export interface BlockedView {
  uid: string;
  nickname: string | null;
  blockedAt: number;
}

export function blockedList(s: RequestsPort): BlockedView[] {
  return Object.entries(rq.loadRequests(s.home).blocked)
    .map(([uid, e]) => ({ uid, nickname: e.contact?.nickname ?? null, blockedAt: e.blocked_at }))
    .sort((a, b) => a.blockedAt - b.blockedAt || a.uid.localeCompare(b.uid));
}

/** Once the user writes to or reads a contact accepted from a request, it is no longer new. */
export function seen(s: RequestsPort, uid: string): void {
  if (s.book[uid]?.is_new !== true) return;
  s.mutate((b) => {
    if (b[uid]) delete b[uid].is_new;
  });
}
