// The newest message read per contact, for unread counts: {uid: ts}. Table `read_state` of
// state.db, sealed (PROTOCOL-v3 §V8); read-state.json in 2.x (imported by state/migrate.ts).

import { z } from "zod";
import { Ts, Uid } from "../../lib/wire.ts";
import { READ_STATE_FILE, statePath } from "./home.ts";
import { stateOf } from "./state-db.ts";

export const ReadStateFile = z.record(Uid, Ts);
export type ReadState = Record<string, number>;

/** Where Phantom 2.x kept it in plaintext. */
export function readStatePath(home: string): string {
  return statePath(home, READ_STATE_FILE);
}

export function loadReadState(home: string): ReadState {
  return stateOf(home).docsAs("read_state", ReadStateFile);
}

/** Apply a change in one transaction (read, change, write: keeps what another process wrote meanwhile). */
export function updateReadState(home: string, change: (s: ReadState) => void): ReadState {
  const db = stateOf(home);
  return db.tx(() => {
    const s = loadReadState(home);
    change(s);
    db.saveDocs("read_state", s);
    return s;
  });
}
