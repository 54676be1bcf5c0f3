// What listen() has delivered, per room, kept only while a later live round can
// fetch it again. A round that restarts (a new contact) asks each room for rows
// with ts ≥ its resume point (PROTOCOL §7.6 since_ts, §7.9): the newest delivered
// ts less a margin (the relay stamps rows in seconds, concurrent sends can be
// stored slightly out of order). Rows older than that point are never asked for
// again, so their ids are forgotten: memory follows the recent rate, not the run.

/** A restarted round fetches a room again from its newest delivered ts less this. */
export const RESUME_MARGIN_S = 60;

interface RoomLog {
  /** Rows older than this are history, never delivered (when listening to the room began). */
  from: number;
  /** Rows older than this are not delivered in the current round. */
  floor: number;
  newest: number;
  /** Delivered row's messageId → ts, only for ts ≥ newest − margin. */
  ids: Map<string, number>;
}

export class DeliveryLog {
  private readonly rooms = new Map<string, RoomLog>();

  has(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  /** Start following a room; rows before `from` are history. `floor` (default `from`) limits the first round. */
  follow(roomId: string, from: number, floor = from): void {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, { from, floor, newest: -Infinity, ids: new Map() });
  }

  /** Where a new round fetches the room from; it also delivers nothing older. */
  resume(roomId: string): number {
    const r = this.room(roomId);
    r.floor = Math.max(r.from, r.newest - RESUME_MARGIN_S);
    return r.floor;
  }

  /** True when the row is to be delivered now (and records it); false when delivered before or too old. */
  accept(roomId: string, id: string, ts: number): boolean {
    const r = this.room(roomId);
    if (ts < r.floor || r.ids.has(id)) return false;
    r.ids.set(id, ts);
    // ts are whole seconds: forgetting runs at most once per second per room.
    if (ts > r.newest) {
      r.newest = ts;
      for (const [k, t] of r.ids) if (t < ts - RESUME_MARGIN_S) r.ids.delete(k);
    }
    return true;
  }

  /** How many row ids are remembered, all rooms together. */
  get size(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.ids.size;
    return n;
  }

  private room(roomId: string): RoomLog {
    const r = this.rooms.get(roomId);
    if (!r) throw new Error(`room ${roomId} is not followed`);
    return r;
  }
}
