// Request bodies and signed requests for the JSON routes (PROTOCOL §6, §7).
import { sha256 } from "../lib/crypto.ts";
import { MAX_JSON_BODY_BYTES, parseJsonBytes } from "../lib/wire.ts";
import type { z } from "zod";
import type { PendingAuth } from "./auth.ts";
import type { RequestContext } from "./context.ts";
import { badRequest, json, tooLarge } from "./errors.ts";

const EMPTY = new Uint8Array(0);
const EMPTY_SHA256 = sha256(EMPTY);

/** The declared Content-Length, or null; a malformed one is 400. */
export function contentLength(req: Request): number | null {
  const text = req.headers.get("content-length");
  if (text === null) return null;
  if (!/^\d{1,15}$/.test(text)) throw badRequest("malformed Content-Length");
  return Number(text);
}

/** The whole body, refused (413) before reading when Content-Length is over `limit`, and while reading. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = contentLength(req);
  if (declared !== null && declared > limit) throw tooLarge(`body larger than ${limit} bytes`);
  if (!req.body || declared === 0) return EMPTY;
  if (declared !== null) {
    const bytes = await req.bytes();
    if (bytes.length > limit) throw tooLarge(`body larger than ${limit} bytes`);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > limit) throw tooLarge(`body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** PROTOCOL §6 + §7: authenticate a signed JSON request and validate its body (401, 413, 400). */
export async function signedJson<T extends z.ZodType>(
  req: Request,
  ctx: RequestContext,
  schema: T,
  what: string,
): Promise<{ auth: PendingAuth; body: z.infer<T> }> {
  const auth = await ctx.relay.auth.precheck(req.headers, ctx.now);
  const bytes = await readBody(req, MAX_JSON_BODY_BYTES);
  await ctx.relay.auth.finish(auth, req.method, ctx.path, sha256(bytes), ctx.now);
  ctx.admit?.(auth.uid); // relay/inflight.ts: 429 when this signer has too many in flight
  return { auth, body: parseJsonBytes(schema, bytes, what) };
}

/** PROTOCOL §6: a signed request without a body (GET, WebSocket upgrade): the hash is of empty bytes. */
export async function signedEmpty(req: Request, ctx: RequestContext): Promise<PendingAuth> {
  const auth = await ctx.relay.auth.precheck(req.headers, ctx.now);
  await ctx.relay.auth.finish(auth, req.method, ctx.path, EMPTY_SHA256, ctx.now);
  ctx.admit?.(auth.uid); // relay/inflight.ts
  return auth;
}

export function ok(body: unknown): Response {
  return json(200, body);
}

/** Unix seconds, integer (PROTOCOL §1). */
export function seconds(now: number): number {
  return Math.floor(now);
}
