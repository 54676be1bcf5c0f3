// PROTOCOL-v3 §V8: the local history of v3 conversations — the rows client/state/ratchet-store.ts
// keeps sealed in state.db (one per message decrypted or sent, keyed by SHA-256(wire)) read back as
// messages, searched in memory, and pruned by the `history` setting. With `history off` the row's
// inner is empty: the message was read and its text not kept ("already read").
import { b64uencode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { cleanFileName } from "../../lib/wire.ts";
import { type Inner, parseInner } from "../../lib/v3/inner.ts";
import { type HistoryRow, listHistory, pruneHistory } from "../state/ratchet-store.ts";
import type { HistoryPolicy } from "../state/settings.ts";
import type { StateDb } from "../state/state-db.ts";
import { type ChatMessage, type DecodedMessage, publicMessage } from "./conversation.ts";

export type { HistoryPolicy } from "../state/settings.ts";

const DAY_S = 86_400;

/**
 * One history row as a message of the conversation between `me` and `peer`; null for a kind this
 * version does not know (skipped, §V7.1) or an inner that does not parse. A file's number (`n`) is
 * 0: the caller numbers the files of the conversation it shows.
 */
export function historyMessage(row: HistoryRow, me: string, peer: string): DecodedMessage | null {
  const mine = row.direction === "out";
  const message: ChatMessage = {
    id: b64uencode(row.hash),
    ts: row.ts,
    from: mine ? me : peer,
    mine,
    body: "",
    protocol: 3,
  };
  // §V8 `history off`: read once, text not kept.
  if (row.inner.length === 0) {
    message.alreadyRead = true;
    return { message, fileMessage: null };
  }
  let inner: Inner | null;
  try {
    inner = parseInner(row.inner);
  } catch {
    return null;
  }
  if (inner === null) return null;
  if (inner.t === "text") {
    message.body = inner.body;
    return { message, fileMessage: null };
  }
  const name = cleanFileName(inner.name);
  message.body = name;
  message.file = { n: 0, name, size: inner.size, mime: inner.mime };
  return { message, fileMessage: null, fileInner: inner };
}

/**
 * The history of the conversation with `uid` (ts ≥ sinceTs), oldest first (rows that do not read as a
 * message are left out).
 */
export function historyOf(db: StateDb, uid: string, me: string, sinceTs = 0): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  for (const row of listHistory(db, uid, sinceTs)) {
    const d = historyMessage(row, me, uid);
    if (d !== null) out.push(d);
  }
  return out;
}

/** What search compares: NFC, lower case in the user's locale. */
export function searchKey(text: string): string {
  return text.normalize("NFC").toLocaleLowerCase();
}

/**
 * PROTOCOL-v3 §V8 history searched in memory: every message of the conversations with `uids` (or only
 * `o.contact`'s) whose text or file name contains `text`, ignoring case; oldest first. Messages
 * shown as "already read" (`history off`) have no text and never match. An empty (or blank) `text` is
 * refused (PhantomError "bad-search").
 */
export function searchHistory(
  db: StateDb,
  uids: string[],
  me: string,
  text: string,
  o: { contact?: string } = {},
): Array<{ uid: string; message: ChatMessage }> {
  const needle = searchKey(text);
  if (needle.trim() === "") throw new PhantomError("bad-search", "the text to search for is empty");
  const found: Array<{ uid: string; message: ChatMessage }> = [];
  for (const uid of o.contact === undefined ? uids : [o.contact]) {
    for (const d of historyOf(db, uid, me)) {
      if (d.message.alreadyRead) continue;
      if (searchKey(d.message.body).includes(needle)) found.push({ uid, message: publicMessage(d) });
    }
  }
  // Stable: within one second, each conversation keeps its own order.
  return found.sort((a, b) => a.message.ts - b.message.ts);
}

/** The setting `history days N`: delete rows older than N days before `nowS`; returns how many. `keep`, `off`: 0. */
export function applyHistoryPolicy(db: StateDb, policy: HistoryPolicy, nowS: number): number {
  if (policy.mode !== "days") return 0;
  return db.tx(() => pruneHistory(db, nowS - policy.days * DAY_S));
}
