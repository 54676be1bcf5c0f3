// PROTOCOL-v3 §V8: local history rows as chat messages.

import { b64uencode } from "../../lib/encoding.ts";
import { parseInner } from "../../lib/v3/inner.ts";
import { cleanFileName } from "../../lib/wire.ts";
import type { HistoryRow } from "../state/ratchet-store.ts";
import type { DecodedMessage } from "./conversation.ts";

/** A history row as a message; null for a kind this version does not know or an inner that does not parse. */
export function historyMessage(row: HistoryRow, me: string, peer: string): DecodedMessage | null {
  const mine = row.direction === "out";
  const base = { id: b64uencode(row.hash), ts: row.ts, from: mine ? me : peer, mine, protocol: 3 as const };
  if (row.inner.length === 0) {
    return { message: { ...base, body: "", alreadyRead: true }, fileMessage: null, fileInner: null };
  }
  let inner;
  try {
    inner = parseInner(row.inner);
  } catch {
    return null;
  }
  if (inner === null) return null;
  if (inner.t === "text") return { message: { ...base, body: inner.body }, fileMessage: null, fileInner: null };
  const name = cleanFileName(inner.name);
  return {
    message: { ...base, body: name, file: { n: 0, name, size: inner.size, mime: inner.mime } },
    fileMessage: null,
    fileInner: inner,
  };
}
