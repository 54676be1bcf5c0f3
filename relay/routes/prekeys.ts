// PROTOCOL-v3 §V3.1 POST /v3/prekeys, §V3.2 GET /v3/prekeys, §V3.3 POST /v3/bundle.
import { b64encode, b64uencode } from "../../lib/encoding.ts";
import type { Handler } from "../context.ts";
import { notFound, rateLimited, tooLarge, badRequest } from "../errors.ts";
import { ok, seconds, signedEmpty, signedJson } from "../http.ts";
import {
  BUNDLE_RATE_LIMIT,
  BUNDLE_RATE_WINDOW_S,
  BundleBody,
  checkUpload,
  MAX_OPKS,
  MAX_OPQKS,
  PREKEY_GRANT_WINDOW_S,
  prekeyJson,
  PublishBody,
} from "../prekeys.ts";

// PROTOCOL-v3 §V3.1
export const publishPrekeys: Handler = async (req, ctx) => {
  const { relay } = ctx;
  relay.disk.check(0); // PROTOCOL §7.10: 507 below the free-disk reserve
  const { auth, body } = await signedJson(req, ctx, PublishBody, "v3/prekeys");
  const uid = auth.uid;
  if ("clear" in body) {
    await relay.writes.run((tx) => tx.clearPrekeys(uid));
    return ok({ opks: 0, opqks: 0 });
  }
  // More than a store may ever hold is refused before any signature is checked (bounded work).
  if ((body.opks?.length ?? 0) > MAX_OPKS) throw tooLarge(`a store holds at most ${MAX_OPKS} opks`);
  if ((body.opqks?.length ?? 0) > MAX_OPQKS) throw tooLarge(`a store holds at most ${MAX_OPQKS} opqks`);
  const up = checkUpload(body, auth.user.verifyKey);
  const status = await relay.writes.run(async (tx) => {
    // The limits, the used ids and the upload are one store call, so two uploads at once cannot
    // pass the limits together.
    const r = await tx.publishPrekeys(uid, up, MAX_OPKS, MAX_OPQKS);
    if (r.ok) return r.status;
    if (r.reason === "opks") throw tooLarge(`a store holds at most ${MAX_OPKS} opks`);
    if (r.reason === "opqks") throw tooLarge(`a store holds at most ${MAX_OPQKS} opqks`);
    throw badRequest("a prekey id was published before");
  });
  return ok({ opks: status.opks, opqks: status.opqks });
};

// PROTOCOL-v3 §V3.2
export const prekeyStatus: Handler = async (req, ctx) => {
  const auth = await signedEmpty(req, ctx);
  const s = await ctx.relay.store.prekeyStatus(auth.uid);
  return ok({ spk_id: s.spkId, pqspk_id: s.pqspkId, opks: s.opks, opqks: s.opqks });
};

// PROTOCOL-v3 §V3.3
export const fetchBundle: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const { auth, body } = await signedJson(req, ctx, BundleBody, "v3/bundle");
  const target = await relay.auth.user(body.uid);
  const now = seconds(ctx.now);
  const taken = await relay.writes.run(async (tx) => {
    // Every request counts, found or not: the rate also bounds probing for UIDs. The rate, the
    // request's row and the one-time keys handed out (and deleted) are one store call.
    const r = await tx.requestBundle(
      auth.uid,
      target ? body.uid : null,
      now,
      now - BUNDLE_RATE_WINDOW_S + 1,
      BUNDLE_RATE_LIMIT,
      now - PREKEY_GRANT_WINDOW_S + 1,
    );
    if (!r.ok) {
      throw rateLimited(Math.max(1, (r.oldest ?? now) + BUNDLE_RATE_WINDOW_S - now), "too many bundle requests");
    }
    return r.bundle;
  });
  if (!target || !taken) throw notFound("no bundle for this uid");
  return ok({
    uid: body.uid,
    pub_key: b64encode(target.record.encPub),
    sign_pub: b64uencode(target.record.signPub),
    spk: prekeyJson(taken.spk),
    pqspk: prekeyJson(taken.pqspk),
    opk: taken.opk && prekeyJson(taken.opk),
    opqk: taken.opqk && prekeyJson(taken.opqk),
  });
};
