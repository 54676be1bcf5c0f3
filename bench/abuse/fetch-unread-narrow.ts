// Attack: fetch-unread with tiny receive windows (SO_RCVBUF 4 KiB, held by a python3
// process, tests/helpers/unread.ts), as a reader across a real network can set: loopback's
// large socket buffers then cannot take the answers off the relay's hands.
import { FETCH_LIMIT_MAX } from "../../lib/wire.ts";
import { holdUnread, rawSignedPost } from "../../tests/helpers/unread.ts";
import type { Attack } from "./attack.ts";
import { CONNECTIONS, fillRoom, ROWS } from "./fetch-unread.ts";

export const fetchUnreadNarrow: Attack = {
  name: "fetch-unread-narrow",
  what: `${CONNECTIONS} signed /fetch (limit 200, ${ROWS} × 64 KiB rows), never read, 4 KiB receive windows`,
  async run(ctx) {
    const room = await fillRoom(ctx.url);
    ctx.note(`${room.accepted.length} of ${ROWS} maximum-size messages stored`);
    const requests = Array.from({ length: CONNECTIONS }, () =>
      rawSignedPost(room.a, "/fetch", { room_id: room.roomId, limit: FETCH_LIMIT_MAX }),
    );
    const held = await holdUnread(Number(new URL(ctx.url).port), requests);
    try {
      const detail = Object.entries(held.statuses)
        .map(([k, v]) => `${v} × ${k}`)
        .join(", ");
      ctx.note(`${CONNECTIONS} connections: answers started ${detail || "none"}`);
      await new Promise<void>((r) => {
        if (ctx.signal.aborted) return r();
        ctx.signal.addEventListener("abort", () => r(), { once: true });
      });
    } finally {
      await held.close();
    }
  },
};
