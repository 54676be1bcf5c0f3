// The unlock of $PHANTOM_HOME's sealed state, and the one-time move of Phantom 2.x's plaintext
// files into it (PROTOCOL-v3 §V8: a stolen device without the password must not tell who you
// talk to). At the first unlock, contacts.json, read-state.json, requests.json, cursors.json,
// seen.json and files.json are read (a corrupt one is an error naming it: nothing is changed),
// imported in one transaction, then overwritten with zeros and removed. A file that an older
// binary writes later (after `phantom update --rollback`) is not imported again: only the
// password may change what state.db holds, not a file planted beside it. It is left where it is.

import * as fs from "node:fs";
import type { z } from "zod";
import { FILE_NUMBERS_FILE, LEGACY_FILES, parseState, readStateText, statePath } from "./home.ts";
import { ContactsFile } from "./contacts.ts";
import { CursorsFile } from "./cursors.ts";
import { FileNumbersFile } from "./file-numbers.ts";
import { ReadStateFile } from "./read-state.ts";
import { RequestsFileSchema } from "./requests.ts";
import { ShownFile } from "./shown.ts";
import { type DocTable, registerState, StateDb } from "./state-db.ts";
import { CONTACTS_FILE, CURSORS_FILE, READ_STATE_FILE, REQUESTS_FILE, SHOWN_FILE } from "./home.ts";

/** Each legacy file: its schema, and the tables its contents go to. */
const IMPORTS: Array<{ name: string; schema: z.ZodType; tables: (v: never) => Array<[DocTable, object]> }> = [
  { name: CONTACTS_FILE, schema: ContactsFile, tables: (v: object) => [["contacts", v]] },
  { name: READ_STATE_FILE, schema: ReadStateFile, tables: (v: object) => [["read_state", v]] },
  {
    name: REQUESTS_FILE,
    schema: RequestsFileSchema,
    tables: (v: { requests: object; blocked: object }) => [
      ["requests", v.requests],
      ["blocked", v.blocked],
    ],
  },
  { name: CURSORS_FILE, schema: CursorsFile, tables: (v: object) => [["cursors", v]] },
  { name: SHOWN_FILE, schema: ShownFile, tables: (v: object) => [["seen", v]] },
  { name: FILE_NUMBERS_FILE, schema: FileNumbersFile, tables: (v: object) => [["file_numbers", v]] },
];

/** What identifies one version of a file (a rewrite is a new inode or mtime). */
function stampOf(path: string): string | null {
  try {
    const st = fs.statSync(path);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return null;
  }
}

/** Overwrite with zeros, then unlink: best effort (a journaling or flash file system may keep old blocks). */
function destroy(path: string): void {
  try {
    const size = fs.statSync(path).size;
    const fd = fs.openSync(path, "r+");
    try {
      fs.writeSync(fd, new Uint8Array(size), 0, size, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // unreadable or gone: removed below anyway
  }
  fs.rmSync(path, { force: true });
}

/**
 * Import the 2.x plaintext files into `db` once (one transaction), then remove them. Returns the
 * names imported now. After the import, a file still there whose stamp is the one imported (a
 * crash between commit and removal) is removed; any other is left alone.
 */
export function importLegacyFiles(home: string, db: StateDb): string[] {
  // One transaction from the check to the import: two first unlocks at once take turns, and the
  // second finds the import done.
  const found = db.tx(() => {
    if (db.meta("migrated") !== null) return null;
    // Read and check everything first: a corrupt file stops the unlock with nothing changed.
    const read: Array<{ name: string; stamp: string; tables: Array<[DocTable, object]> }> = [];
    for (const imp of IMPORTS) {
      const path = statePath(home, imp.name);
      const stamp = stampOf(path);
      const text = readStateText(path);
      if (text === null || stamp === null) continue;
      read.push({ name: imp.name, stamp, tables: imp.tables(parseState(imp.schema, text, path) as never) });
    }
    for (const f of read) {
      for (const [table, docs] of f.tables) {
        db.saveDocs(table, { ...Object.fromEntries(db.loadDocs(table)), ...docs });
      }
      db.setMeta(`imported:${f.name}`, f.stamp);
    }
    db.setMeta("migrated", 1);
    return read;
  });
  if (found === null) {
    // Imported before: remove what a crash between that commit and the removal left.
    for (const name of LEGACY_FILES) {
      const path = statePath(home, name);
      const stamp = stampOf(path);
      if (stamp !== null && stamp === db.meta(`imported:${name}`)) destroy(path);
    }
    return [];
  }
  for (const f of found) destroy(statePath(home, f.name));
  return found.map((f) => f.name);
}

/**
 * Open state.db with the identity's vault key, import the 2.x files at the first unlock, and
 * register it as this process's state of `home` (the state modules read it through stateOf).
 * The caller zeroes `vaultKey` afterwards: the database keeps only the keys derived from it.
 */
export function unlockState(home: string, vaultKey: Uint8Array): StateDb {
  const db = StateDb.open(home, vaultKey);
  try {
    importLegacyFiles(home, db);
  } catch (e) {
    db.close();
    throw e;
  }
  registerState(home, db);
  return db;
}
