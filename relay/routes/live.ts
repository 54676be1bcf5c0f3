// PROTOCOL §7.9 GET /ws/{room_id}: the upgrade to a live socket. It is signed like a GET and
// membership is checked before upgrading (401/403 are plain HTTP answers), then the
// live-socket caps (§7.10: 429 before upgrading); the hub (relay/live.ts) takes it from there.
import type { Handler } from "../context.ts";
import { badRequest, forbidden } from "../errors.ts";
import { signedEmpty } from "../http.ts";
import type { WsData } from "../live.ts";
import { isMember } from "../rooms.ts";

export const wsUpgrade: Handler = async (req, ctx) => {
  const auth = await signedEmpty(req, ctx);
  const roomId = ctx.params[0]!;
  if (!(await isMember(ctx.relay, roomId, auth.uid))) throw forbidden("not a member of this room");
  ctx.relay.live.admit(auth.uid, roomId);
  const data: WsData = { roomId, uid: auth.uid, counted: false };
  if (!ctx.server.upgrade(req, { data })) throw badRequest("expected a WebSocket upgrade");
  return undefined;
};
