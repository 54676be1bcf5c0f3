// A /fetch answer encoded piece by piece as the socket asks for it: the rows read from the
// store (at most 4 MiB, PROTOCOL §7.6.1) are the only copy held; no whole JSON text and no
// whole byte body of the answer is ever built.
import type { MessageRow } from "./store.ts";

/** Rows are encoded into pieces of about this size. */
export const PIECE_BYTES = 64 * 1024;

const JSON_HEADERS = { "content-type": "application/json" };

/** Produces the next piece of an answer, or null at its end. */
export type Pieces = () => Uint8Array | null;

const producers = new WeakMap<Response, Pieces>();

/** The piece producer of an answer made by messagesAnswer (relay/inflight.ts sends it itself). */
export function piecesOf(res: Response): Pieces | undefined {
  return producers.get(res);
}

/** 200 `{"messages":[…rows], …tail}`, the same JSON as JSON.stringify would write. */
export function messagesAnswer(rows: (MessageRow | undefined)[], tail: Record<string, unknown> = {}): Response {
  const encoder = new TextEncoder();
  const keys = JSON.stringify(tail).slice(1, -1); // "" or '"more":true'
  const end = keys === "" ? "]}" : `],${keys}}`;
  let next = 0;
  let ended = false;
  const pieces: Pieces = () => {
    if (ended) return null;
    let text = next === 0 ? '{"messages":[' : "";
    while (next < rows.length && text.length < PIECE_BYTES) {
      text += (next > 0 ? "," : "") + JSON.stringify(rows[next]);
      rows[next++] = undefined; // sent: its strings may be collected now
    }
    if (next >= rows.length) {
      ended = true;
      text += end;
    }
    return encoder.encode(text);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        const piece = pieces();
        if (piece === null) c.close();
        else c.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  const res = new Response(body, { status: 200, headers: JSON_HEADERS });
  producers.set(res, pieces);
  return res;
}
