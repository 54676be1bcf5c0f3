// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as the daemon speaks it: one JSON value
// per line on a socket or stdio, one per body over HTTP. Requests are checked here and against
// the method's zod schema (api.ts); every error becomes a JSON-RPC error whose message is
// Phantom's one line and whose data.code is Phantom's error code.

import { z } from "zod";
import { PhantomError } from "../../lib/errors.ts";
import { oneLine } from "../text/sanitise.ts";
import { RPC } from "./api.ts";

/** The longest request line (or body) the daemon reads: a file's path, a long text. */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export type RpcId = string | number | null;

export interface RpcRequest {
  id: RpcId;
  /** No id member: a notification, answered with nothing. */
  notification: boolean;
  method: string;
  params: unknown;
}

export class RpcError extends Error {
  readonly rpcCode: number;
  readonly data: { code: string } | undefined;
  constructor(rpcCode: number, message: string, code?: string) {
    super(message);
    this.rpcCode = rpcCode;
    this.data = code === undefined ? undefined : { code };
  }
}

const Request = z.looseObject({
  jsonrpc: z.literal("2.0"),
  method: z.string().min(1).max(100),
  params: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  id: z.union([z.string().max(200), z.number(), z.null()]).optional(),
});

/** One request object, checked (an invalid one is an RpcError with the id it had, if any). */
export function parseRequest(value: unknown): RpcRequest {
  const r = Request.safeParse(value);
  if (!r.success) {
    const id = typeof value === "object" && value !== null && "id" in value ? (value as { id: unknown }).id : null;
    const e = new RpcError(RPC.invalidRequest, "not a JSON-RPC 2.0 request", "bad-request");
    // JSON-RPC 2.0 §5: the id when it could be read, else null (a refused one is not echoed).
    const readable = (typeof id === "string" && id.length <= 200) || (typeof id === "number" && Number.isFinite(id));
    (e as { id?: unknown }).id = readable ? id : null;
    throw e;
  }
  const v = r.data;
  return { id: v.id ?? null, notification: !("id" in v), method: v.method, params: v.params ?? {} };
}

/** An error as JSON-RPC tells it: a Phantom error keeps its code and its one line, anything else is internal. */
export function errorObject(e: unknown): { code: number; message: string; data?: { code: string } } {
  if (e instanceof RpcError)
    return { code: e.rpcCode, message: oneLine(e.message), ...(e.data ? { data: e.data } : {}) };
  if (e instanceof z.ZodError) {
    const first = e.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.join(".")}: ` : "";
    return {
      code: RPC.invalidParams,
      message: oneLine(`invalid params: ${where}${first?.message ?? "bad value"}`),
      data: { code: "bad-params" },
    };
  }
  if (e instanceof PhantomError) return { code: RPC.phantom, message: oneLine(e.message), data: { code: e.code } };
  const sys = e as Partial<NodeJS.ErrnoException>;
  if (e instanceof Error && typeof sys.code === "string" && /^E[A-Z]+$/.test(sys.code)) {
    return { code: RPC.phantom, message: oneLine(`${e.message}`), data: { code: "io" } };
  }
  // Never a stack or a value: the daemon's log has the detail.
  return { code: RPC.internal, message: "internal error (see the daemon's log)", data: { code: "unexpected" } };
}

export function response(id: RpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, result });
}

export function errorResponse(id: RpcId, e: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error: errorObject(e) });
}

export function notification(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", method, params });
}

/**
 * Splits a byte stream into lines, refusing a line longer than MAX_REQUEST_BYTES (the caller
 * then closes the connection: a peer that never sends a newline cannot fill the memory).
 */
export class LineReader {
  private parts: Uint8Array[] = [];
  private size = 0;
  private readonly decoder = new TextDecoder();

  /** The complete lines in `chunk` (and before it); throws RpcError when a line is too long. */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (this.size + piece.length > MAX_REQUEST_BYTES)
        throw new RpcError(RPC.invalidRequest, "request too long", "too-long");
      this.parts.push(piece);
      lines.push(this.decoder.decode(concat(this.parts, this.size + piece.length)));
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.size + rest.length > MAX_REQUEST_BYTES)
        throw new RpcError(RPC.invalidRequest, "request too long", "too-long");
      this.parts.push(rest.slice());
      this.size += rest.length;
    }
    return lines;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
