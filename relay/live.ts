// PROTOCOL §7.9 GET /ws/{room_id}: live delivery. The upgrade is signed like a
// GET and membership is checked before upgrading (401/403 are plain HTTP
// answers). Each room is a Bun pub/sub topic; Bun answers pings itself.
import type { Server, WebSocketHandler } from "bun";
import type { Handler } from "./context.ts";
import { badRequest, forbidden } from "./errors.ts";
import { signedEmpty } from "./http.ts";
import { isMember } from "./routes/messages.ts";
import type { MessageRow } from "./store.ts";

export interface WsData {
  roomId: string;
}

const BURNED = JSON.stringify({ event: "burned" });

export class Live {
  private server: Server<WsData> | null = null;

  attach(server: Server<WsData>): void {
    this.server = server;
  }

  /** PROTOCOL §7.9: {"ts","ciphertext","seq"} (§7.6.1) to every live socket of the room. */
  message(roomId: string, row: MessageRow): void {
    const s = this.server;
    if (s && s.subscriberCount(roomId) > 0) s.publish(roomId, JSON.stringify(row));
  }

  /** PROTOCOL §7.9: {"event":"burned"} after a burn. */
  burned(roomId: string): void {
    const s = this.server;
    if (s && s.subscriberCount(roomId) > 0) s.publish(roomId, BURNED);
  }

  readonly handler: WebSocketHandler<WsData> = {
    open(ws) {
      ws.subscribe(ws.data.roomId);
    },
    message() {
      // Clients have nothing to say on this socket; protocol pings are answered by Bun.
    },
    idleTimeout: 120,
    sendPings: true,
    maxPayloadLength: 4 * 1024,
    backpressureLimit: 1024 * 1024,
    closeOnBackpressureLimit: true,
    perMessageDeflate: false,
  };
}

// PROTOCOL §7.9: 401/403 before the upgrade.
export const wsUpgrade: Handler = (req, ctx) => {
  const auth = signedEmpty(req, ctx);
  const roomId = ctx.params[0]!;
  if (!isMember(ctx.relay, roomId, auth.uid)) throw forbidden("not a member of this room");
  if (!ctx.server.upgrade(req, { data: { roomId } })) throw badRequest("expected a WebSocket upgrade");
  return undefined;
};
