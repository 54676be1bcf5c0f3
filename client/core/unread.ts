// Unread counts for a Session: messages newer than the last one read per contact
// (sealed in state.db: state/read-state.ts), for the menu's badges.

import { blockedChange } from "../state/contacts.ts";
import { loadReadState, updateReadState } from "../state/read-state.ts";
import { RelayError } from "../net/relay-error.ts";
import type { UnreadPort } from "./ports.ts";

/**
 * Messages from each contact newer than the last one read (state/read-state.ts). A room the relay
 * does not have for us (403/404: never created there, or the relay lost its data) counts 0;
 * any other failure (relay unreachable…) is thrown, once.
 */
export async function unreadCounts(s: UnreadPort): Promise<Record<string, number>> {
  const read = loadReadState(s.home);
  const out: Record<string, number> = {};
  for (const [uid, rec] of Object.entries(s.book)) {
    if (blockedChange(rec)) continue;
    const last = read[uid] ?? -1;
    try {
      out[uid] = (await s.decoded(uid)).filter((m) => !m.message.mine && m.message.ts > last).length;
    } catch (e) {
      if (!isNoRoom(e)) throw e;
      out[uid] = 0;
    }
  }
  return out;
}

/** PROTOCOL §7.6/§7.7: 403 (not a member) or 404: the relay has no such room for us. */
export function isNoRoom(e: unknown): boolean {
  return e instanceof RelayError && (e.status === 403 || e.status === 404);
}

/** Remember the newest ts read in a conversation (null forgets the contact). */
export function markRead(s: UnreadPort, uid: string, ts: number | null): void {
  updateReadState(s.home, (st) => {
    if (ts === null) delete st[uid];
    else st[uid] = Math.max(st[uid] ?? 0, ts);
  });
}
