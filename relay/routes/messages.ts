// PROTOCOL §7.6 POST /send and POST /fetch, with §7.6.1 cursor paging.
import {
  b64DecodedLength,
  FETCH_LIMIT_DEFAULT,
  FETCH_MAX_ANSWER_BYTES,
  FetchBody,
  MAX_CIPHERTEXT_BYTES,
  SendBody,
} from "../../lib/wire.ts";
import type { Handler } from "../context.ts";
import { forbidden, tooLarge } from "../errors.ts";
import { checkRoomSpace, roomFull, spend } from "../quota.ts";
import { ok, signedJson } from "../http.ts";
import { messagesAnswer } from "../json-stream.ts";
import { isMember } from "../rooms.ts";
import type { MessageRow } from "../store.ts";

const frame = (ciphertext: string, s: { ts: number; seq: number }): MessageRow => ({
  ts: s.ts,
  ciphertext,
  seq: s.seq,
});

// PROTOCOL §7.6: the relay stores (room_id, ciphertext, ts) only — never the sender.
export const send: Handler = async (req, ctx) => {
  const { relay } = ctx;
  relay.disk.check(0); // PROTOCOL §7.10: 507 below the free-disk reserve
  const { auth, body } = await signedJson(req, ctx, SendBody, "send");
  if (b64DecodedLength(body.ciphertext) > MAX_CIPHERTEXT_BYTES) {
    throw tooLarge(`ciphertext larger than ${MAX_CIPHERTEXT_BYTES} bytes`);
  }
  if (body.sender_id != null && body.sender_id !== auth.uid) throw forbidden("sender_id is not the signer");
  if (!(await isMember(relay, body.room_id, auth.uid))) throw forbidden("not a member of this room");
  const bytes = body.ciphertext.length; // stored as base64 text
  relay.disk.check(bytes);
  await checkRoomSpace(relay, body.room_id, bytes);
  await spend(relay.quotas.sentBytes, auth.uid, bytes, "bytes sent per day");
  // The time of the write, not of the request's arrival (relay/writes.ts WriteQueue.ts).
  const row = await relay.writes.run(async (tx) => {
    // The room quota again, in the same store call as the write: another send may have filled it.
    // A shared store stamps ts itself (relay/pg-store.ts): the answer and the frame use its ts.
    const stamp = await tx.addMessageWithin(body.room_id, body.ciphertext, relay.writes.ts, relay.quotas.roomBytes);
    if (stamp === null) throw roomFull(relay, bytes);
    // PROTOCOL §7.9 across instances: published before the commit, while this batch holds the
    // store's writer lock, so every instance's frames reach the bus in seq order (a client that
    // saw seq N live never gets a lower one after it). The batch commits once Redis has them.
    if (relay.live.shared) relay.writes.hold(relay.live.message(body.room_id, frame(body.ciphertext, stamp)));
    return stamp;
  });
  if (!relay.live.shared) void relay.live.message(body.room_id, frame(body.ciphertext, row)); // §7.9, after the commit
  return ok({ ts: row.ts });
};

/**
 * PROTOCOL §7.6.1: rows are taken while their JSON fits in `maxBytes`; the first row is
 * always taken (a row is far smaller than the cap), so paging always moves forward.
 */
export function answerBudget(maxBytes: number): (row: MessageRow) => boolean {
  let used = 2; // [ ]
  let rows = 0;
  return (row) => {
    // The row's JSON is ASCII (b64 needs no escapes), so its length is its size in bytes;
    // measured without the ciphertext so that no second copy of it is built.
    const size = JSON.stringify({ ...row, ciphertext: "" }).length + row.ciphertext.length + (rows > 0 ? 1 : 0);
    if (rows > 0 && used + size > maxBytes) return false;
    used += size;
    rows++;
    return true;
  };
}

// PROTOCOL §7.6: the newest `limit` rows with ts ≥ since_ts, oldest first; §7.6.1: with
// after_seq, the oldest `limit` rows with seq > after_seq, plus `more`. Both at most 4 MiB.
export const fetchMessages: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const { auth, body } = await signedJson(req, ctx, FetchBody, "fetch");
  if (!(await isMember(relay, body.room_id, auth.uid))) throw forbidden("not a member of this room");
  const limit = body.limit ?? FETCH_LIMIT_DEFAULT;
  const take = answerBudget(FETCH_MAX_ANSWER_BYTES);
  if (body.after_seq != null) {
    const { rows, more } = await relay.store.fetchAfter(body.room_id, body.after_seq, limit, take);
    return messagesAnswer(rows, { more });
  }
  return messagesAnswer(await relay.store.fetchMessages(body.room_id, body.since_ts ?? 0, limit, take));
};
