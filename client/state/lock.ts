// One lock for every read-modify-write of $PHANTOM_HOME's JSON files (settings.json, the burn
// list, the update state; `phantom usb`'s copy), across processes: two `phantom settings` at once
// must both be kept. (state.db has its own transactions, state/state-db.ts.) The lock is SQLite's
// write lock on an empty database file (STATE_LOCK_FILE): the operating system drops it when its
// holder exits, even by kill -9, so a crashed process never leaves the home locked. Held only while
// one file is read, changed and written (milliseconds); nested calls in one process share it.

import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import { PhantomError } from "../../lib/errors.ts";
import { ensureHome, FILE_MODE, STATE_LOCK_FILE, statePath } from "./home.ts";

/** How long a change waits for another process's change before giving up. */
export const STATE_LOCK_WAIT_MS = 10_000;

const held = new Map<string, { db: Database; depth: number }>();

function openLock(home: string): Database {
  ensureHome(home);
  const path = statePath(home, STATE_LOCK_FILE);
  try {
    fs.closeSync(fs.openSync(path, "a", FILE_MODE));
    if ((fs.statSync(path).mode & 0o077) !== 0) fs.chmodSync(path, FILE_MODE);
    const db = new Database(path);
    db.run(`PRAGMA busy_timeout = ${STATE_LOCK_WAIT_MS}`);
    return db;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code ?? "I/O error";
    throw new PhantomError("state-io", `cannot open the lock ${path}: ${code}`, { cause: e });
  }
}

/**
 * Run `change` while no other process changes this home's state. `change` must be
 * synchronous (read, change, write atomically); it may call withStateLock again.
 */
export function withStateLock<T>(home: string, change: () => T): T {
  const mine = held.get(home);
  if (mine) {
    mine.depth++;
    try {
      return change();
    } finally {
      mine.depth--;
    }
  }
  const db = openLock(home);
  try {
    db.run("BEGIN IMMEDIATE");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== "SQLITE_BUSY") {
      throw new PhantomError("state-io", `cannot lock ${statePath(home, STATE_LOCK_FILE)}: ${String(e)}`, { cause: e });
    }
    throw new PhantomError(
      "state-locked",
      `another phantom process has held ${statePath(home, STATE_LOCK_FILE)} for ${STATE_LOCK_WAIT_MS / 1000} s; try again`,
      { cause: e },
    );
  }
  held.set(home, { db, depth: 1 });
  try {
    return change();
  } finally {
    held.delete(home);
    try {
      db.run("COMMIT");
    } finally {
      db.close();
    }
  }
}
