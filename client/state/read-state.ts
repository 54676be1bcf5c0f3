// $PHANTOM_HOME/read-state.json: {uid: ts of the newest message read}, for unread counts.

import { z } from "zod";
import { Ts, Uid } from "../../lib/wire.ts";
import { withStateLock } from "./lock.ts";
import { ensureHome, READ_STATE_FILE, readState, statePath, writeState } from "./home.ts";

export const ReadStateFile = z.record(Uid, Ts);
export type ReadState = Record<string, number>;

export function readStatePath(home: string): string {
  return statePath(home, READ_STATE_FILE);
}

export function loadReadState(home: string): ReadState {
  return Object.assign(Object.create(null) as ReadState, readState(ReadStateFile, readStatePath(home)) ?? {});
}

/** Apply a change to the file (read, change, write: keeps what another process wrote meanwhile). */
export function updateReadState(home: string, change: (s: ReadState) => void): ReadState {
  return withStateLock(home, () => {
    const s = loadReadState(home);
    change(s);
    ensureHome(home);
    writeState(readStatePath(home), s);
    return s;
  });
}
