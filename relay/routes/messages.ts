// PROTOCOL §7.6 POST /send and POST /fetch.
import { b64DecodedLength, FETCH_LIMIT_DEFAULT, FetchBody, MAX_CIPHERTEXT_BYTES, SendBody } from "../../lib/wire.ts";
import type { Handler } from "../context.ts";
import { forbidden, rateLimited, tooLarge } from "../errors.ts";
import { checkRoomSpace } from "../quota.ts";
import { ok, signedJson } from "../http.ts";
import type { Relay } from "../context.ts";

export function isMember(relay: Relay, roomId: string, uid: string): boolean {
  const members = relay.store.getRoom(roomId);
  return members !== null && (members[0] === uid || members[1] === uid);
}

// PROTOCOL §7.6: the relay stores (room_id, ciphertext, ts) only — never the sender.
export const send: Handler = async (req, ctx) => {
  const { relay } = ctx;
  relay.disk.check(0); // PROTOCOL §7.10: 507 below the free-disk reserve
  const { auth, body } = await signedJson(req, ctx, SendBody, "send");
  if (b64DecodedLength(body.ciphertext) > MAX_CIPHERTEXT_BYTES) {
    throw tooLarge(`ciphertext larger than ${MAX_CIPHERTEXT_BYTES} bytes`);
  }
  if (body.sender_id != null && body.sender_id !== auth.uid) throw forbidden("sender_id is not the signer");
  if (!isMember(relay, body.room_id, auth.uid)) throw forbidden("not a member of this room");
  const bytes = body.ciphertext.length; // stored as base64 text
  relay.disk.check(bytes);
  checkRoomSpace(relay, body.room_id, bytes);
  const wait = relay.quotas.sentBytes.take(auth.uid, bytes);
  if (wait > 0) throw rateLimited(wait, "bytes sent per day limit reached");
  // The time of the write, not of the request's arrival (relay/writes.ts WriteQueue.ts).
  const ts = await relay.writes.run(() => {
    checkRoomSpace(relay, body.room_id, bytes); // again: another send may have filled it meanwhile
    const ts = relay.writes.ts;
    relay.store.addMessage(body.room_id, body.ciphertext, ts);
    return ts;
  });
  relay.live.message(body.room_id, ts, body.ciphertext); // PROTOCOL §7.9, after the commit
  return ok({ ts });
};

// PROTOCOL §7.6: the newest `limit` rows with ts ≥ since_ts, oldest first.
export const fetchMessages: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const { auth, body } = await signedJson(req, ctx, FetchBody, "fetch");
  if (!isMember(relay, body.room_id, auth.uid)) throw forbidden("not a member of this room");
  const messages = relay.store.fetchMessages(body.room_id, body.since_ts ?? 0, body.limit ?? FETCH_LIMIT_DEFAULT);
  return ok({ messages });
};
