// PROTOCOL-v3 §V5.6: which of a contact's sessions to send on, and which to drop. Pure helpers over
// the metadata the client keeps beside each sealed session row.
export const MAX_SESSIONS_PER_CONTACT = 3;
/** A dropped session's SID is remembered this long (§V4 dropped-session). */
export const DROPPED_SID_TTL_MS = 21 * 24 * 3600 * 1000;

export interface SessionMeta {
  /** ms since the epoch. */
  createdAt: number;
  /** When a message was last received (decrypted and committed) on it, or null. */
  lastReceivedAt: number | null;
  /** When it was last used to send or receive. */
  lastUsedAt: number;
}

/** The active session: the one last received on, or, if none has been, the one created last; -1 for none. */
export function activeSession(metas: readonly SessionMeta[]): number {
  let best = -1;
  for (let i = 0; i < metas.length; i++) {
    const m = metas[i]!;
    const b = best >= 0 ? metas[best]! : null;
    if (!b) best = i;
    else if ((m.lastReceivedAt ?? -1) !== (b.lastReceivedAt ?? -1)) {
      if ((m.lastReceivedAt ?? -1) > (b.lastReceivedAt ?? -1)) best = i;
    } else if (m.createdAt > b.createdAt) best = i;
  }
  return best;
}

/** The session to drop when there are more than 3 (the least recently used), else -1. */
export function sessionToDrop(metas: readonly SessionMeta[]): number {
  if (metas.length <= MAX_SESSIONS_PER_CONTACT) return -1;
  let lru = 0;
  for (let i = 1; i < metas.length; i++) if (metas[i]!.lastUsedAt < metas[lru]!.lastUsedAt) lru = i;
  return lru;
}
