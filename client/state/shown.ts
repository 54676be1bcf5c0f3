// Per contact, the messageIds already shown and the relay ts of the row they were first shown
// at: {uid: {id: firstTs}}, table `seen` of state.db, sealed (PROTOCOL-v3 §V8; seen.json in 2.x). A relay could serve an old ciphertext
// again with a new ts; its id is the same (the hash of the ciphertext), so a row whose id is
// known at an earlier ts is a repeat: shown at its first place only, never as new.
// Ids are kept for the relay's message retention (a row older than that is gone from the
// relay anyway), 30 days when the relay does not say; older ids are dropped at each write.

import { z } from "zod";
import { Ts, Uid } from "../../lib/wire.ts";
import { SHOWN_FILE, statePath } from "./home.ts";
import { stateOf } from "./state-db.ts";

export const DEFAULT_SHOWN_WINDOW_S = 30 * 86_400;

export const ShownFile = z.record(Uid, z.record(z.string().max(64), Ts));
export type Shown = Record<string, Record<string, number>>;

/** Where Phantom 2.x kept them in plaintext. */
export function shownPath(home: string): string {
  return statePath(home, SHOWN_FILE);
}

export function loadShown(home: string): Shown {
  return stateOf(home).docsAs("seen", ShownFile);
}

/** Forget ids first seen before `now - windowS`, and contacts left with none. */
export function pruneShown(s: Shown, now: number, windowS: number): void {
  for (const [uid, ids] of Object.entries(s)) {
    for (const [id, ts] of Object.entries(ids)) if (ts < now - windowS) delete ids[id];
    if (Object.keys(ids).length === 0) delete s[uid];
  }
}

/** Apply a change in one transaction (read, change, prune, write: keeps what another process wrote meanwhile). */
export function updateShown(home: string, windowS: number, change: (s: Shown) => void): Shown {
  const db = stateOf(home);
  return db.tx(() => {
    const s = loadShown(home);
    change(s);
    pruneShown(s, Math.floor(Date.now() / 1000), windowS);
    db.saveDocs("seen", s);
    return s;
  });
}

/** Record rows of a contact as shown (a known id keeps its first, earliest ts). */
export function markShown(s: Shown, uid: string, rows: Array<{ id: string; ts: number }>): void {
  const m = (s[uid] ??= Object.create(null) as Record<string, number>);
  for (const r of rows) m[r.id] = Math.min(m[r.id] ?? r.ts, r.ts);
}

/** A row whose id was shown before at an earlier ts: a repeat, never shown as new. */
export function isRepeat(s: Shown, uid: string, row: { id: string; ts: number }): boolean {
  const first = s[uid]?.[row.id];
  return first !== undefined && first < row.ts;
}
