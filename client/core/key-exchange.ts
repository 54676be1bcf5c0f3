// The relay's directory and the key exchange for a Session: registration (PROTOCOL §7.2),
// keys by UID (§7.3), key-exchange notices pushed (§7.4) and read from our inbox (§7.5).

import { equalBytes, pairKeys } from "../../lib/crypto.ts";
import { b64decode, b64encode, b64uencode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { type KeEntry, Uid } from "../../lib/wire.ts";
import * as book from "../state/contacts.ts";
import * as rq from "../state/requests.ts";
import type { KeyExchangePort } from "./ports.ts";

/** PROTOCOL §7.2 (create-only). "exists" (409) only when the relay's key for our UID (§7.3) is ours. */
export async function register(s: KeyExchangePort): Promise<"created" | "exists"> {
  const relay = await s.relay();
  const r = await relay.register(s.uid, b64encode(s.id.encPub), b64uencode(s.id.signPub));
  if (r === "exists") checkRegisteredKey(s.uid, s.id.encPub, await relay.pubkey(s.uid), s.relayUrl);
  return r;
}

/** After a 409 from /register (§7.2): the key the relay holds for `uid` (§7.3) must be ours. */
export function checkRegisteredKey(uid: string, ours: Uint8Array, registered: Uint8Array | null, relayUrl: string) {
  if (registered === null) {
    throw new PhantomError(
      "register-failed",
      `${relayUrl} says ${uid} is registered but has no key for it (POST /register 409, GET /pubkey 404)`,
    );
  }
  if (!equalBytes(registered, ours)) {
    throw new PhantomError(
      "uid-taken",
      `someone registered your UID ${uid} on ${relayUrl} with other keys; this relay cannot be used with your identity`,
    );
  }
}

function reportKeyEvent(s: KeyExchangePort, uid: string, ev: book.KeyEvent): void {
  const label = book.labelOf(uid, s.book[uid]);
  if (ev.kind === "changed") {
    s.warn(`the key of ${label} changed (was ${ev.oldFp}, now ${ev.newFp}); verify it: phantom verify ${uid}`);
  } else if (ev.kind === "blocked") {
    s.warn(book.keyChangedError(label, uid, ev).message);
  }
}

/**
 * PROTOCOL §7.5: read the key-exchange inbox. A notice from a contact re-checks its pinned key; one
 * from anyone else becomes a contact request (state/requests.ts), never a contact: accepting is the
 * user's choice. A blocked UID's notices are dropped. Returns the contacts whose key changed and
 * those that appeared in the book since the last call (accepted here or by another process; isNew),
 * and calls `onRequest` for each new request.
 */
export async function processInbox(s: KeyExchangePort): Promise<book.ContactView[]> {
  const relay = await s.relay();
  const entries = await relay.kePop(s.uid);
  const out = entries.length === 0 ? [] : inboxEntries(s, entries);
  // Contacts that appeared since the last look (accepted here or by another process): new to the caller.
  s.reloadBook();
  for (const uid of Object.keys(s.book)) {
    if (!s.knownUids.has(uid)) {
      s.knownUids.add(uid);
      s.newUids.add(uid);
      if (!out.some((c) => c.uid === uid)) out.push(book.viewOf(uid, s.book[uid]!, true));
    }
  }
  for (const uid of s.knownUids) if (!Object.hasOwn(s.book, uid)) s.knownUids.delete(uid);
  return out;
}

function inboxEntries(s: KeyExchangePort, entries: KeEntry[]): book.ContactView[] {
  const valid = entries.filter((e) => {
    if (e.from_uid === s.uid) return false;
    // PROTOCOL §2: the UID commits to the key; anything else is forged.
    if (!book.keyMatchesUid(e.from_uid, e.pub_key)) {
      s.warn(`ignored a key-exchange notice for ${e.from_uid}: its key does not match the UID`);
      return false;
    }
    // PROTOCOL §4.1: the room id needs one of the two private keys. Anyone can present
    // a registered UID with its public key (the relay too); only its owner can name our room.
    if (!roomIdMatches(s, e.pub_key, e.room_id)) {
      s.warn(`ignored a key-exchange notice from ${e.from_uid}: its room id is not the one your keys give`);
      return false;
    }
    return true;
  });
  if (valid.length === 0) return [];
  const touched: [string, book.KeyEvent][] = [];
  const strangers: typeof valid = [];
  s.mutate((b) => {
    for (const e of valid) {
      if (Object.hasOwn(b, e.from_uid)) touched.push([e.from_uid, book.observeKey(b, e.from_uid, e.pub_key)]);
      else strangers.push(e);
    }
  });
  const out: book.ContactView[] = [];
  for (const [uid, ev] of touched) {
    reportKeyEvent(s, uid, ev);
    if (ev.kind !== "same") out.push(book.viewOf(uid, s.book[uid]!));
  }
  if (strangers.length > 0) noteRequests(s, strangers);
  return out;
}

/** Notices from people not in the book: new requests, at most MAX_REQUESTS kept (the oldest dropped, and said). */
function noteRequests(s: KeyExchangePort, strangers: { from_uid: string; pub_key: string; room_id: string }[]): void {
  const now = Math.floor(Date.now() / 1000);
  const { added, dropped } = rq.updateRequests(s.home, (f) => {
    const added: string[] = [];
    const contacts = book.loadContacts(s.home);
    for (const e of strangers) {
      // A contact added meanwhile by another process is not a request.
      if (Object.hasOwn(contacts, e.from_uid)) continue;
      if (rq.observeRequest(f, e.from_uid, { pub_key: e.pub_key, room_id: e.room_id }, now) === "new") {
        added.push(e.from_uid);
      }
    }
    const dropped = rq.trimRequests(f);
    const kept = added.filter((u) => Object.hasOwn(f.requests, u));
    return { added: kept.map((u) => rq.requestView(u, f.requests[u]!)), dropped };
  });
  if (dropped.length > 0) {
    s.warn(
      `${dropped.length} older contact request(s) were dropped: at most ${rq.MAX_REQUESTS} are kept ` +
        `(see phantom contacts --requests)`,
    );
  }
  for (const r of added) s.onRequest(r);
}

function roomIdMatches(s: KeyExchangePort, pubB64: string, roomId: string): boolean {
  try {
    return pairKeys(s.id, b64decode(pubB64, "pub_key")).roomId === roomId;
  } catch {
    return false; // a key no X25519 exchange accepts
  }
}

/** Add by UID: fetch and check the key (§7.3), pin it, push the key-exchange notice (§7.4). */
export async function addContact(
  s: KeyExchangePort,
  uid: string,
  o: { trust?: boolean; nick?: string },
): Promise<book.ContactView> {
  if (!Uid.safeParse(uid).success) throw new PhantomError("bad-uid", "not a UID: expected 28 base64url characters");
  if (uid === s.uid) throw new PhantomError("bad-uid", "that is your own UID");
  if (o.nick !== undefined) book.checkNick(o.nick);
  if (Object.hasOwn(rq.loadRequests(s.home).blocked, uid)) throw blockedError(uid);
  const relay = await s.relay();
  const key = await relay.pubkey(uid);
  if (key === null) throw new PhantomError("unknown-uid", `${uid} is not registered on ${s.relayUrl}`);
  const ev = s.mutate((b) => {
    const ev = book.observeKey(b, uid, b64encode(key));
    if (o.nick !== undefined) book.setNickname(b, uid, o.nick);
    if (o.trust && ev.kind !== "blocked") book.verifyRecord(uid, b[uid]!, false);
    return ev;
  });
  reportKeyEvent(s, uid, ev);
  book.assertUsable(uid, s.book[uid]!);
  const { roomId } = s.keys(uid);
  // PROTOCOL §7.4: announces our key to the peer and creates the two-member room.
  await relay.kePush({ from_uid: s.uid, to_uid: uid, pub_key: b64encode(s.id.encPub), room_id: roomId });
  s.knownUids.add(uid); // added here: not news to this process's inbox reader
  // Adding someone who asked to be a contact accepts their request.
  rq.updateRequests(s.home, (f) => void delete f.requests[uid]);
  return book.viewOf(uid, s.book[uid]!);
}

export function blockedError(uid: string): PhantomError {
  return new PhantomError("blocked", `you blocked ${uid}; to talk to them again run: phantom unblock ${uid}`);
}
