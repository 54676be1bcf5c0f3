// PROTOCOL §7.4 POST /ke/push and §7.5 GET /ke/pop/{uid}: key-exchange notices
// and room membership. A room has exactly two members, fixed when created.
import { b64encode } from "../../lib/encoding.ts";
import { KePushBody } from "../../lib/wire.ts";
import type { Handler } from "../context.ts";
import { badRequest, forbidden, notFound } from "../errors.ts";
import { ok, signedEmpty, signedJson } from "../http.ts";
import { spend } from "../quota.ts";

// PROTOCOL §7.4
export const kePush: Handler = async (req, ctx) => {
  const { relay } = ctx;
  relay.disk.check(0); // PROTOCOL §7.10: 507 below the free-disk reserve
  const { auth, body } = await signedJson(req, ctx, KePushBody, "ke/push");
  if (body.from_uid !== auth.uid) throw forbidden("from_uid is not the signer");
  if (body.pub_key !== b64encode(auth.user.record.encPub)) throw badRequest("pub_key is not the signer's key");
  if (body.to_uid === body.from_uid) throw badRequest("to_uid is the signer");
  if (!(await relay.auth.user(body.to_uid))) throw notFound("unknown to_uid");
  // Rooms are never purged (a purged room could be squatted), so their creation is rate-limited.
  // The limiter is asynchronous (it may be shared in Redis) and pushKe's check is not, so a new
  // room's unit is taken before the store call and given back if no room was created after all.
  const isNew = (await relay.store.getRoom(body.room_id)) === null;
  if (isNew) await spend(relay.quotas.roomsCreated, auth.uid, 1, "rooms created per hour");
  let created = false;
  await relay.writes
    .run(async (tx) => {
      created = false; // a batch the queue runs again starts afresh
      // The membership check, the room's creation and the entry are one store call, so two
      // pushes for a new room cannot both create it.
      const entry = {
        from_uid: body.from_uid,
        pub_key: body.pub_key,
        room_id: body.room_id,
        ts: relay.writes.ts, // the time of the write: §8 ages count from it
      };
      const result = await tx.pushKe(body.to_uid, entry, () => {
        created = true;
      });
      if (result === "not-member") throw forbidden("not a member of this room");
    })
    .finally(async () => {
      // Best effort: what was stored stays stored, even if Redis went away meanwhile.
      if (isNew && !created) await relay.quotas.roomsCreated.charge(auth.uid, -1).catch(() => {});
    });
  return ok({ ok: true });
};

// PROTOCOL §7.5: owner only; returns and deletes the inbox.
export const kePop: Handler = async (req, ctx) => {
  const auth = await signedEmpty(req, ctx);
  if (ctx.params[0] !== auth.uid) throw forbidden("not your inbox");
  const entries = await ctx.relay.writes.run((tx) => tx.popInbox(auth.uid));
  return ok({ entries });
};
