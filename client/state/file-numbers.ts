// Per contact, the message ids of the conversation's file announcements in the order this
// client first saw them: table `file_numbers` of state.db, sealed (PROTOCOL-v3 §V8; files.json in 2.x). A file's number is its place
// in that list, so it never shifts when older rows leave the relay's answer (a long
// conversation, retention, a burn) and `get <n>` means what `read` showed.

import { z } from "zod";
import { Uid } from "../../lib/wire.ts";
import { FILE_NUMBERS_FILE, statePath } from "./home.ts";
import { stateOf } from "./state-db.ts";

/** lib/crypto.ts messageId: b64u of a SHA-256. */
const MessageId = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
export const FileNumbersFile = z.record(Uid, z.array(MessageId));
export type FileNumbers = Record<string, string[]>;

/** Where Phantom 2.x kept them in plaintext. */
export function fileNumbersPath(home: string): string {
  return statePath(home, FILE_NUMBERS_FILE);
}

export function loadFileNumbers(home: string): FileNumbers {
  return stateOf(home).docsAs("file_numbers", FileNumbersFile);
}

/** Apply a change in one transaction (read, change, write: keeps what another process wrote meanwhile). */
export function updateFileNumbers(home: string, change: (s: FileNumbers) => void): FileNumbers {
  const db = stateOf(home);
  return db.tx(() => {
    const s = loadFileNumbers(home);
    change(s);
    db.saveDocs("file_numbers", s);
    return s;
  });
}

/**
 * The number of each of `ids` (a conversation's file announcements, oldest first) in the
 * conversation with `uid`: ids seen before keep theirs, new ones are numbered after them.
 * The file is written only when an id is new.
 */
export function numberFiles(home: string, uid: string, ids: string[]): Map<string, number> {
  let known = loadFileNumbers(home)[uid] ?? [];
  if (ids.some((id) => !known.includes(id))) {
    known = updateFileNumbers(home, (s) => {
      const list = s[uid] ?? [];
      const seen = new Set(list);
      for (const id of ids) if (!seen.has(id)) (list.push(id), seen.add(id));
      s[uid] = list;
    })[uid]!;
  }
  return new Map(known.map((id, i) => [id, i + 1]));
}

/** Forget a conversation's numbers (the contact was removed). */
export function forgetFileNumbers(home: string, uid: string): void {
  if (loadFileNumbers(home)[uid] === undefined) return;
  updateFileNumbers(home, (s) => void delete s[uid]);
}
