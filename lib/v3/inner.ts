// PROTOCOL-v3 §V7.1: the inner message a ratchet encrypts — compact UTF-8 JSON, keys in the order the
// spec lists them. A reader ignores unknown keys and skips unknown `t` values (later versions add kinds).

import { z } from "zod";
import { b64decode, b64encode, b64uencode, utf8 } from "../encoding.ts";
import { randomBytes } from "../crypto.ts";
import { PhantomError } from "../errors.ts";
import { V3Error } from "./errors.ts";
import { FILE_CHUNK } from "./file.ts";
import { MAX_INNER } from "./padding.ts";

/** §V7.1: `id` is b64u of 12 random bytes. */
export const INNER_ID_BYTES = 12;
const B64U_12 = /^[A-Za-z0-9_-]{16}$/;

export interface TextInner {
  t: "text";
  id: string;
  body: string;
}

export interface FileInner {
  t: "file";
  id: string;
  name: string;
  size: number;
  mime: string;
  /** Absolute URL of the blob (as v2 §5.3). */
  url: string;
  /** The §V9 file key, 32 bytes. */
  key: Uint8Array;
}

export type Inner = TextInner | FileInner;

const Id = z.string().regex(B64U_12);
const TextIn = z.object({ t: z.literal("text"), id: Id, body: z.string() });
const FileIn = z.object({
  t: z.literal("file"),
  id: Id,
  name: z.string().min(1).max(1024),
  size: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40),
  mime: z.string().max(255),
  url: z.string().min(1).max(2048),
  key: z.string(),
  chunk: z.literal(FILE_CHUNK),
});
const Kind = z.object({ t: z.string() });

/** A fresh §V7.1 id. */
export function newInnerId(): string {
  return b64uencode(randomBytes(INNER_ID_BYTES));
}

/** The inner bytes of a message, keys in §V7.1 order; too-long (§V6) when it cannot be sent. */
export function encodeInner(m: Inner): Uint8Array {
  const json =
    m.t === "text"
      ? JSON.stringify({ t: "text", id: m.id, body: m.body })
      : JSON.stringify({
          t: "file",
          id: m.id,
          name: m.name,
          size: m.size,
          mime: m.mime,
          url: m.url,
          key: b64encode(m.key),
          chunk: FILE_CHUNK,
        });
  const bytes = utf8.encode(json);
  if (bytes.length > MAX_INNER) throw new V3Error("too-long", `inner message of ${bytes.length} bytes`);
  return bytes;
}

/**
 * A decrypted inner message; null for a kind this version does not know (skipped, §V7.1).
 * Throws PhantomError "bad-inner" (not a §V12 reason: the message decrypted) for JSON that is not a valid message of a known kind.
 */
export function parseInner(bytes: Uint8Array): Inner | null {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new PhantomError("bad-inner", "inner message is not UTF-8 JSON");
  }
  const kind = Kind.safeParse(v);
  if (!kind.success) throw new PhantomError("bad-inner", "inner message has no kind");
  if (kind.data.t === "text") {
    const r = TextIn.safeParse(v);
    if (!r.success) throw new PhantomError("bad-inner", "bad text message");
    return { t: "text", id: r.data.id, body: r.data.body };
  }
  if (kind.data.t === "file") {
    const r = FileIn.safeParse(v);
    if (!r.success) throw new PhantomError("bad-inner", "bad file message");
    let key: Uint8Array;
    try {
      key = b64decode(r.data.key, "key");
    } catch {
      throw new PhantomError("bad-inner", "file key does not decode");
    }
    if (key.length !== 32) throw new PhantomError("bad-inner", "file key is not 32 bytes");
    const { id, name, size, mime, url } = r.data;
    return { t: "file", id, name, size, mime, url, key };
  }
  return null;
}
