// Per contact, what `listen` has printed: {uid: {seq?, ts, ids}}, table `cursors` of state.db,
// sealed (PROTOCOL-v3 §V8; cursors.json in 2.x, imported by state/migrate.ts):
//   seq  the relay's seq of the newest row printed (PROTOCOL §7.6.1), when its rows carry one;
//   ts   the relay's ts of the newest row printed (a relay without seq, 2.2.x, §7.6);
//   ids  the messageIds printed at that ts (rows sharing one second are told apart by id).
// A row is new to listen when its seq is above the cursor's, or (no seq) its ts is above the
// cursor's, or equal with an id not listed.

import { z } from "zod";
import { Seq, Ts, Uid } from "../../lib/wire.ts";
import { CURSORS_FILE, statePath } from "./home.ts";
import { stateOf } from "./state-db.ts";

/** Ids kept for the cursor's ts: a relay stores at most so many rows in one second of one room that matter here. */
const MAX_IDS_AT_TS = 1000;

const Cursor = z.object({
  seq: Seq.optional(),
  ts: Ts,
  ids: z.array(z.string().max(64)).max(MAX_IDS_AT_TS),
});
export const CursorsFile = z.record(Uid, Cursor);
export type Cursor = z.infer<typeof Cursor>;
export type Cursors = Record<string, Cursor>;

/** Where Phantom 2.x kept them in plaintext. */
export function cursorsPath(home: string): string {
  return statePath(home, CURSORS_FILE);
}

/** Whose cursors: `listen`'s, or the daemon's (it records every message as an event, state/daemon-events.ts). */
export type CursorTable = "cursors" | "daemon_cursors";

export function loadCursors(home: string, table: CursorTable = "cursors"): Cursors {
  return stateOf(home).docsAs(table, CursorsFile);
}

/** Apply a change in one transaction (read, change, write: keeps what another process wrote meanwhile). */
export function updateCursors(home: string, change: (c: Cursors) => void, table: CursorTable = "cursors"): Cursors {
  const db = stateOf(home);
  return db.tx(() => {
    const c = loadCursors(home, table);
    change(c);
    db.saveDocs(table, c);
    return c;
  });
}

/** Whether a row is after the cursor (not yet printed). */
export function isAfter(c: Cursor | undefined, row: { seq?: number; ts: number; id: string }): boolean {
  if (c === undefined) return true;
  if (c.seq !== undefined && row.seq !== undefined) return row.seq > c.seq;
  return row.ts > c.ts || (row.ts === c.ts && !c.ids.includes(row.id));
}

/** The cursor once `row` is printed too. */
export function advanced(c: Cursor | undefined, row: { seq?: number; ts: number; id: string }): Cursor {
  const seq = row.seq === undefined ? c?.seq : Math.max(row.seq, c?.seq ?? 0);
  if (c === undefined || row.ts > c.ts) return { ...(seq === undefined ? {} : { seq }), ts: row.ts, ids: [row.id] };
  const ids = row.ts === c.ts && !c.ids.includes(row.id) ? [...c.ids, row.id].slice(-MAX_IDS_AT_TS) : c.ids;
  return { ...(seq === undefined ? {} : { seq }), ts: c.ts, ids };
}
