// PROTOCOL §7.9 live delivery: the hub of live sockets (the upgrade route is
// relay/routes/live.ts). Each room is a set of sockets of our own, not a Bun pub/sub
// topic, so every frame is sent to one socket at a time under our send-buffer bound;
// the §7.10 live-socket caps are counted here. Bun answers pings. Frames reach the hub through a
// LiveBus: this process only (--live local), or every relay instance through Redis
// (relay/redis-live.ts, --live redis://…).
import type { ServerWebSocket, WebSocketHandler } from "bun";
import { busy, RelayError } from "./errors.ts";
import type { MessageRow } from "./store.ts";

/**
 * Most bytes a socket may have waiting in the relay's send buffer (bytes the kernel did not
 * take yet) when a frame is queued behind them. A frame is always sent to an empty buffer,
 * however large (a §7.6 maximum, 64 KiB of ciphertext, is an ~87 KB frame), so a socket holds
 * at most max(this, one frame). A socket that would need more has fallen behind: it is closed
 * with WS_CLOSE_TRY_AGAIN and never left silently short of a frame; its client re-syncs with
 * /fetch.
 */
export const WS_SEND_BUFFER_BYTES = 64 * 1024;
/** RFC 6455 §7.4.1 "try again later": the close code of a socket that fell behind. */
export const WS_CLOSE_TRY_AGAIN = 1013;
const FELL_BEHIND_REASON = "fell behind: fetch to catch up";
/** Retry-After (seconds) of an upgrade refused by a live-socket cap. */
export const WS_REFUSED_RETRY_AFTER_S = 30;
/**
 * Bun's own limit, a backstop only: our bound keeps every buffer far below it. Past it Bun drops
 * frames (send returns 0) and, with closeOnBackpressureLimit, shuts the socket without a close
 * frame and without the rest of its buffer (the client sees 1006). A frame is checked against
 * it before it is queued, so one frame larger than the limit still goes to an emptier buffer.
 */
const BUN_BACKPRESSURE_LIMIT = 1024 * 1024;

export interface WsData {
  roomId: string;
  uid: string;
  /** True while the socket is counted in its room and UID (open → close). */
  counted: boolean;
}

type Socket = ServerWebSocket<WsData>;

export interface LiveLimits {
  /** Live sockets one UID may hold at once (PROTOCOL §7.10). */
  perUid: number;
  /** Live sockets one room may hold at once. */
  perRoom: number;
}

const BURNED = JSON.stringify({ event: "burned" });
/** Retry-After (seconds) of an upgrade refused while the bus cannot deliver (Redis down). */
export const WS_BUS_DOWN_RETRY_AFTER_S = 5;

/**
 * How a frame reaches the live sockets of its room on every relay instance. The promise settles
 * once the bus has the frame and never rejects (live frames are best effort: a socket that may
 * have missed one is closed with WS_CLOSE_TRY_AGAIN and its client fetches). A message frame goes
 * to a shared bus before its row commits (relay/routes/messages.ts), to the local one after.
 */
export interface LiveBus {
  publish(roomId: string, frame: string): Promise<void>;
  /** True when other relay instances receive what is published (Redis). */
  readonly shared: boolean;
  /** False while frames published elsewhere cannot reach this instance (no upgrades then). */
  readonly up: boolean;
  close(): Promise<void>;
}

/** --live local: one relay process, frames go straight to its hub. */
class LocalBus implements LiveBus {
  readonly up = true;
  readonly shared = false;
  constructor(private readonly live: Live) {}
  publish(roomId: string, frame: string): Promise<void> {
    this.live.deliver(roomId, frame);
    return Promise.resolve();
  }
  async close(): Promise<void> {}
}

export class Live {
  private readonly rooms = new Map<string, Set<Socket>>();
  private readonly perUid = new Map<string, number>();
  private bus: LiveBus = new LocalBus(this);

  constructor(private readonly limits: LiveLimits) {}

  /** Publish through `bus` from now on (relay/redis-live.ts); it delivers with deliver(). */
  useBus(bus: LiveBus): void {
    this.bus = bus;
  }

  /** Stop the bus (the relay is stopping). */
  closeBus(): Promise<void> {
    return this.bus.close();
  }

  /**
   * PROTOCOL §7.10: a 429 with Retry-After when the UID or the room is at its cap; 503 while the
   * bus is down (a socket opened then would silently miss frames sent through other instances).
   */
  admit(uid: string, roomId: string): void {
    if (!this.bus.up) throw busy(WS_BUS_DOWN_RETRY_AFTER_S, "live delivery is interrupted, try again later");
    const full = this.full(uid, roomId);
    if (full) throw capReached(`too many live sockets for this ${full}`);
  }

  /** Which cap one more socket of `uid` in `roomId` would pass, or null. */
  private full(uid: string, roomId: string): "user" | "room" | null {
    if ((this.perUid.get(uid) ?? 0) >= this.limits.perUid) return "user";
    if ((this.rooms.get(roomId)?.size ?? 0) >= this.limits.perRoom) return "room";
    return null;
  }

  /** Frames reach other relay instances too (--live redis://). */
  get shared(): boolean {
    return this.bus.shared;
  }

  /** PROTOCOL §7.9: {"ts","ciphertext","seq"} (§7.6.1) to every live socket of the room. */
  message(roomId: string, row: MessageRow): Promise<void> {
    return this.bus.publish(roomId, JSON.stringify(row));
  }

  /** PROTOCOL §7.9: {"event":"burned"} after a burn. */
  burned(roomId: string): void {
    void this.bus.publish(roomId, BURNED);
  }

  /** A frame from the bus to this instance's sockets of the room. */
  deliver(roomId: string, frame: string): void {
    const sockets = this.rooms.get(roomId);
    if (!sockets) return;
    // A copy: closing a socket that fell behind removes it from the set.
    for (const ws of [...sockets]) sendOrClose(ws, frame);
  }

  /** Close the room's sockets with WS_CLOSE_TRY_AGAIN: they may have missed a frame; their clients fetch. */
  closeRoom(roomId: string, reason: string): void {
    for (const ws of [...(this.rooms.get(roomId) ?? [])]) ws.close(WS_CLOSE_TRY_AGAIN, reason);
  }

  /** closeRoom() for every room (the bus lost frames of any room). */
  closeAll(reason: string): void {
    for (const roomId of [...this.rooms.keys()]) this.closeRoom(roomId, reason);
  }

  /** Live sockets open on this instance. */
  get sockets(): number {
    let n = 0;
    for (const set of this.rooms.values()) n += set.size;
    return n;
  }

  private add(ws: Socket): void {
    const { uid, roomId } = ws.data;
    // Bun runs open() inside server.upgrade(), right after admit(); should that ever change,
    // the caps still hold.
    if (this.full(uid, roomId)) {
      ws.close(WS_CLOSE_TRY_AGAIN, "too many live sockets");
      return;
    }
    ws.data.counted = true;
    this.perUid.set(uid, (this.perUid.get(uid) ?? 0) + 1);
    let sockets = this.rooms.get(roomId);
    if (!sockets) this.rooms.set(roomId, (sockets = new Set()));
    sockets.add(ws);
  }

  /** Every close path ends here: the client's close, ours, a timeout, a reset, the relay stopping. */
  private remove(ws: Socket): void {
    if (!ws.data.counted) return;
    ws.data.counted = false;
    const { uid, roomId } = ws.data;
    const n = (this.perUid.get(uid) ?? 1) - 1;
    if (n > 0) this.perUid.set(uid, n);
    else this.perUid.delete(uid);
    const sockets = this.rooms.get(roomId);
    sockets?.delete(ws);
    if (sockets?.size === 0) this.rooms.delete(roomId);
  }

  readonly handler: WebSocketHandler<WsData> = {
    open: (ws) => this.add(ws),
    close: (ws) => this.remove(ws),
    message() {
      // Clients have nothing to say on this socket; protocol pings are answered by Bun.
    },
    idleTimeout: 120,
    sendPings: true,
    maxPayloadLength: 4 * 1024,
    backpressureLimit: BUN_BACKPRESSURE_LIMIT,
    closeOnBackpressureLimit: true,
    perMessageDeflate: false,
  };
}

/**
 * Queue one frame, or close the socket with 1013 if it has fallen behind. Frames are JSON of
 * base64, digits and ASCII names, so their length is their size in bytes. The close frame goes
 * behind what is buffered: a client that reads again gets every frame queued before it, then 1013.
 */
function sendOrClose(ws: Socket, frame: string): void {
  const buffered = ws.getBufferedAmount();
  if (buffered > 0 && buffered + frame.length > WS_SEND_BUFFER_BYTES) {
    ws.close(WS_CLOSE_TRY_AGAIN, FELL_BEHIND_REASON);
    return;
  }
  // 0: Bun dropped it (its backstop limit, or a socket already closing): never leave a gap.
  if (ws.send(frame) === 0) ws.close(WS_CLOSE_TRY_AGAIN, FELL_BEHIND_REASON);
}

const capReached = (message: string) =>
  new RelayError(429, "rate_limited", message, { "retry-after": String(WS_REFUSED_RETRY_AFTER_S) });
