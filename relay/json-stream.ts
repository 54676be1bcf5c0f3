// A /fetch answer encoded piece by piece as the socket asks for it (issue 8 §2 "Unread
// /fetch answers"): the rows read from the store (at most 4 MiB, PROTOCOL §7.6.1) are the
// only copy held; no whole JSON text and no whole byte body of the answer is ever built.
import type { MessageRow } from "./store.ts";

/** Rows are encoded into pieces of about this size. */
export const PIECE_BYTES = 64 * 1024;

const JSON_HEADERS = { "content-type": "application/json" };

/** 200 `{"messages":[…rows], …tail}`, the same JSON as JSON.stringify would write. */
export function messagesAnswer(rows: (MessageRow | undefined)[], tail: Record<string, unknown> = {}): Response {
  const encoder = new TextEncoder();
  const keys = JSON.stringify(tail).slice(1, -1); // "" or '"more":true'
  const end = keys === "" ? "]}" : `],${keys}}`;
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        let text = next === 0 ? '{"messages":[' : "";
        while (next < rows.length && text.length < PIECE_BYTES) {
          text += (next > 0 ? "," : "") + JSON.stringify(rows[next]);
          rows[next++] = undefined; // sent: its strings may be collected now
        }
        if (next >= rows.length) {
          c.enqueue(encoder.encode(text + end));
          c.close();
          return;
        }
        c.enqueue(encoder.encode(text));
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, headers: JSON_HEADERS });
}
