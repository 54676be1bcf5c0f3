// PROTOCOL §7.7 POST /burn: delete every message and file of a room, at most
// 10 per UID per 10 minutes (--burn-limit, --burn-window), with the HMAC check when the relay has an auth key.
import { burnAuthKey, burnSignature, equalBytes } from "../../lib/crypto.ts";
import { utf8 } from "../../lib/encoding.ts";
import { BurnBody, H_BURN_SIG } from "../../lib/wire.ts";
import type { Handler, Relay } from "../context.ts";
import { freeingBallast } from "../disk.ts";
import { forbidden, rateLimited, unauthorized } from "../errors.ts";
import { ok, seconds, signedJson } from "../http.ts";
import type { PendingAuth } from "../auth.ts";
import { isMember } from "../rooms.ts";
import type { Store } from "../store.ts";

/** Cached burn keys past this many are dropped all at once (each is recomputed on demand). */
const BURN_KEYS_MAX = 100_000;

/** PROTOCOL §7.7: x-phantom-signature = hex(HMAC-SHA256(k, "burn:" uid ":" room_id ":" ts ":" nonce)). */
function checkBurnHmac(relay: Relay, req: Request, auth: PendingAuth, roomId: string): void {
  const priv = relay.config.authPriv;
  if (!priv) return;
  const given = req.headers.get(H_BURN_SIG);
  if (!given) throw unauthorized("missing burn signature");
  const keys = relay.burnKeys;
  let k = keys.get(auth.uid);
  if (!k) {
    k = burnAuthKey(priv, auth.user.record.encPub, auth.uid);
    if (keys.size > BURN_KEYS_MAX) keys.clear();
    keys.set(auth.uid, k);
  }
  const want = burnSignature(k, auth.uid, roomId, auth.ts, auth.nonce);
  if (!equalBytes(utf8.encode(want), utf8.encode(given))) throw unauthorized("bad burn signature");
}

export const burn: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const { auth, body } = await signedJson(req, ctx, BurnBody, "burn");
  checkBurnHmac(relay, req, auth, body.room_id);
  if (body.sender_id != null && body.sender_id !== auth.uid) throw forbidden("sender_id is not the signer");
  if (!(await isMember(relay, body.room_id, auth.uid))) throw forbidden("not a member of this room");
  const now = seconds(ctx.now);
  const { burnLimit, burnWindowS } = relay.config;
  const job = async (tx: Store) => {
    // The rate and the burn in one store call: two burns at the limit never both pass.
    const result = await tx.burn(auth.uid, body.room_id, now, now - burnWindowS + 1, burnLimit);
    if (!result.ok) throw rateLimited(Math.max(1, (result.oldest ?? now) + burnWindowS - now));
    return result;
  };
  // A full disk (relay/disk.ts): a burn is what frees it, so the ballast goes first if need be.
  const result = await freeingBallast(
    relay.disk,
    (m) => relay.log.warn(m),
    "a burn",
    () => relay.writes.run(job),
  );
  await relay.blobs.remove(result.blobIds);
  relay.live.burned(body.room_id);
  return ok({ ok: true, deleted: result.messages });
};
