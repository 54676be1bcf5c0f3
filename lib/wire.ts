// Every byte↔value boundary of PROTOCOL v2 (STYLE habit 4): strict schemas for
// every request, envelope and file message we write, lenient ones for the relay's
// answers (§7.10: unknown keys are ignored), and the canonical request string of §6.
// Nothing else in either binary parses untrusted input.

import { z } from "zod";
import { WireError } from "./errors.ts";
import { b64decode, b64udecode, hexencode, utf8 } from "./encoding.ts";
import { UNSAFE_CHARS } from "./text.ts";

// Named limits (STYLE habit 8).
export const MAX_CIPHERTEXT_BYTES = 65_536; // PROTOCOL §7.6
export const MAX_JSON_BODY_BYTES = 256 * 1024; // relay: JSON body over this is 413
export const FETCH_LIMIT_DEFAULT = 50; // PROTOCOL §7.6
export const FETCH_LIMIT_MAX = 200; // PROTOCOL §7.6
export const FETCH_MAX_ANSWER_BYTES = 4 * 1024 * 1024; // PROTOCOL §7.6.1: message JSON per /fetch answer
export const SIGNATURE_WINDOW_S = 300; // PROTOCOL §6
export const BURN_LIMIT = 10; // PROTOCOL §7.7: burns per UID per window
export const BURN_WINDOW_S = 600; // PROTOCOL §7.7: the burn-rate window, 10 minutes
export const MAX_FILE_NAME = 255;
export const MAX_MIME = 255;
export const MAX_URL = 2048;

export const MSG_PREFIX = "PHANTOM_MSG_V1:"; // PROTOCOL §5.2
export const FILE_PREFIX = "PHANTOM_FILE_V1:"; // PROTOCOL §5.3

// PROTOCOL §6 header names.
export const H_UID = "x-phantom-uid";
export const H_TS = "x-phantom-ts";
export const H_NONCE = "x-phantom-nonce";
export const H_SIG = "x-phantom-sig";
export const H_BURN_SIG = "x-phantom-signature"; // PROTOCOL §7.7

// ---- field schemas ---------------------------------------------------------

function bytesField(decode: (s: string) => Uint8Array, what: string, length?: number, maxChars = 4096) {
  return z
    .string()
    .max(maxChars)
    .refine(
      (s) => {
        try {
          const b = decode(s);
          return length === undefined || b.length === length;
        } catch {
          return false;
        }
      },
      length === undefined ? `${what} must be valid` : `${what} must be ${length} bytes`,
    );
}

/** PROTOCOL §2: 21 bytes as 28 b64u characters. */
export const Uid = z.string().regex(/^[A-Za-z0-9_-]{28}$/, "uid must be 28 base64url characters");
/** PROTOCOL §4.1: 16 bytes as 22 b64u characters. */
export const RoomId = bytesField((s) => b64udecode(s), "room_id (b64u)", 16, 22);
export const EncPubB64 = bytesField((s) => b64decode(s), "pub_key (b64)", 32, 44);
export const SignPubB64u = bytesField((s) => b64udecode(s), "sign_pub (b64u)", 32, 43);
/** b64 text whose decoded size is checked separately (413 versus 400). */
export const CiphertextB64 = z
  .string()
  .min(1)
  .max(Math.ceil(MAX_JSON_BODY_BYTES / 3) * 4)
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "ciphertext must be base64");
export const Ts = z
  .number()
  .int()
  .min(0)
  .max(2 ** 53 - 1);
/** PROTOCOL §7.6.1 row cursor. */
export const Seq = Ts;

/** Decoded length of a well-formed b64 string, without decoding it. */
export function b64DecodedLength(s: string): number {
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

// ---- request bodies (PROTOCOL §7) ------------------------------------------

export const RegisterBody = z.strictObject({ uid: Uid, pub_key: EncPubB64, sign_pub: SignPubB64u }); // §7.2
export const KePushBody = z.strictObject({ from_uid: Uid, to_uid: Uid, pub_key: EncPubB64, room_id: RoomId }); // §7.4
export const SendBody = z.strictObject({ room_id: RoomId, ciphertext: CiphertextB64, sender_id: Uid.nullish() }); // §7.6
// §7.6.1: since_ts and after_seq together are refused (400): after_seq replaces since_ts, and
// a relay silently preferring one would answer differently from one preferring the other.
export const FetchBody = z
  .strictObject({
    room_id: RoomId,
    limit: z.number().int().min(1).max(FETCH_LIMIT_MAX).nullish(),
    since_ts: Ts.nullish(),
    after_seq: Seq.nullish(),
  })
  .refine((b) => b.since_ts == null || b.after_seq == null, {
    message: "give since_ts or after_seq, not both",
    path: ["after_seq"],
  }); // §7.6, §7.6.1
export const BurnBody = z.strictObject({ room_id: RoomId, sender_id: Uid.nullish() }); // §7.7
/** §7.8 text fields of the upload form (the relay reads the multipart framing itself). */
export const UploadFields = z.strictObject({ room_id: RoomId, sender_id: Uid.nullish() });

export type RegisterBody = z.infer<typeof RegisterBody>;
export type KePushBody = z.infer<typeof KePushBody>;
export type SendBody = z.infer<typeof SendBody>;
export type FetchBody = z.infer<typeof FetchBody>;
export type BurnBody = z.infer<typeof BurnBody>;

// ---- responses (PROTOCOL §7) -----------------------------------------------
// PROTOCOL §7.10: every answer ignores keys it does not know (z.object strips them), so a
// relay can add fields (e.g. to /health) without breaking this client. Requests stay strict.

export const ErrorBody = z.object({ error: z.string().max(64), message: z.string().max(1024) }); // §7
// PROTOCOL §7.10: /health may gain fields (retention, limits); they are ignored, except
// max_file_size (bytes), which lets a client refuse a file too large before uploading it.
export const HealthResponse = z.object({
  status: z.literal("ok"),
  version: z.string().max(64),
  auth_required: z.boolean(),
  auth_pub: EncPubB64.nullable(),
  max_file_size: z.number().int().positive().nullish().catch(undefined),
  // §7.10, optional: a malformed value is ignored like an absent one.
  retention: z
    .object({ messages_days: z.number().positive().max(36_500).optional() })
    .optional()
    .catch(undefined),
  // PROTOCOL-v3 §V1, §V11, optional: a malformed value is read as absent (a v2-only relay).
  protocols: z.array(z.number().int()).max(16).optional().catch(undefined),
  origins: z.array(z.string().max(300)).max(16).optional().catch(undefined),
}); // §7.1
export const OkResponse = z.object({ ok: z.literal(true) });
export const PubkeyResponse = z.object({ uid: Uid, pub_key: EncPubB64 }); // §7.3
export const KeEntry = z.object({ from_uid: Uid, pub_key: EncPubB64, room_id: RoomId, ts: Ts });
// No count limit: the relay deletes what it returns (§7.5), so refusing a long answer would
// lose those notices for good (anyone could flood an inbox to make it long). Its size is
// bounded by the transport's response cap instead.
export const KePopResponse = z.object({ entries: z.array(KeEntry) }); // §7.5
export const SendResponse = z.object({ ts: Ts }); // §7.6
// `sender_id` is not sent by a v2 relay (§7.6 stores no sender); it is accepted so that a
// relay which does supply it gives legacy rows their sender (§5.2). `seq` is §7.6.1 (absent
// from a 2.2.x relay's rows).
export const StoredMessage = z.object({
  ts: Ts,
  ciphertext: CiphertextB64,
  sender_id: Uid.nullish(),
  seq: Seq.optional(),
});
export const FetchResponse = z.object({
  messages: z.array(StoredMessage).max(FETCH_LIMIT_MAX),
  more: z.boolean().optional(), // §7.6.1, only with after_seq
}); // §7.6
export const BurnResponse = z.object({ ok: z.literal(true), deleted: z.number().int().min(0) }); // §7.7
export const UploadResponse = z.object({
  url: z.string().regex(/^\/file\/[A-Za-z0-9_-]{1,512}$/),
  size: z.number().int().min(0),
  expires_at: Ts,
}); // §7.8
export const WsFrame = z.union([StoredMessage, z.object({ event: z.literal("burned") })]); // §7.9

export type KeEntry = z.infer<typeof KeEntry>;
export type StoredMessage = z.infer<typeof StoredMessage>;
export type HealthResponse = z.infer<typeof HealthResponse>;
export type UploadResponse = z.infer<typeof UploadResponse>;
export type WsFrame = z.infer<typeof WsFrame>;

// ---- identity vault (PROTOCOL §3) ------------------------------------------

export const VaultFile = z.strictObject({
  salt: bytesField((s) => b64decode(s), "salt (b64)", 32, 44),
  nonce: bytesField((s) => b64decode(s), "nonce (b64)", 12, 16),
  ct: bytesField((s) => b64decode(s), "ct (b64)", undefined, 4096),
});
export const VaultPlaintext = z.strictObject({
  priv: EncPubB64,
  pub: EncPubB64,
  sign_priv: SignPubB64u,
  sign_pub: SignPubB64u,
});
export type VaultFile = z.infer<typeof VaultFile>;

/** The most rooms one burn list holds (a contact book is far smaller). */
export const BURN_LIST_MAX_ROOMS = 100_000;
/**
 * The sealed burn list of an unfinished panic (client/state/burn-list.ts): `left`, the number of
 * rooms still to burn, is in the clear so that a start without the password can say it.
 */
export const BurnListFile = z.strictObject({
  left: z.number().int().min(1).max(BURN_LIST_MAX_ROOMS),
  salt: bytesField((s) => b64decode(s), "salt (b64)", 32, 44),
  nonce: bytesField((s) => b64decode(s), "nonce (b64)", 12, 16),
  ct: bytesField((s) => b64decode(s), "ct (b64)", undefined, 8 * 1024 * 1024),
});
export const BurnListPlaintext = z.strictObject({
  uid: Uid,
  sign_seed: bytesField((s) => b64udecode(s), "sign_seed (b64u)", 32, 43),
  relays: z
    .array(
      z.strictObject({
        url: z.string().min(1).max(2048),
        auth_pub: EncPubB64.nullable(),
        burn_key: bytesField((s) => b64decode(s), "burn_key (b64)", 32, 44).nullable(),
        rooms: z.array(RoomId).max(BURN_LIST_MAX_ROOMS),
      }),
    )
    .max(64),
});
export type BurnListFile = z.infer<typeof BurnListFile>;
export type VaultPlaintext = z.infer<typeof VaultPlaintext>;

// ---- parsing helpers -------------------------------------------------------

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const where = issue.path.length ? issue.path.join(".") : "body";
  return `${where}: ${issue.message}`;
}

/** Validate an already-parsed value against a schema; WireError on mismatch. */
export function check<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new WireError("bad-request", `${what}: ${describe(r.error)}`);
  return r.data;
}

/** Parse JSON text and validate it; WireError on any failure. */
export function parseJson<T extends z.ZodType>(schema: T, text: string, what: string): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WireError("bad-json", `${what}: not valid JSON`);
  }
  return check(schema, value, what);
}

/** Parse UTF-8 JSON bytes exactly as received (PROTOCOL §1) and validate them. */
export function parseJsonBytes<T extends z.ZodType>(schema: T, bytes: Uint8Array, what: string): z.infer<T> {
  return parseJson(schema, utf8.decode(bytes, what), what);
}

// ---- PROTOCOL §5.2 envelope --------------------------------------------------

// Written by a peer, not by the relay: readers accept any valid JSON (§5.2), so keys
// a newer or older client adds are ignored rather than making the message vanish.
const EnvelopeJson = z.object({ from: Uid, body: z.string() });

export interface Envelope {
  /** The sender UID, or null for a legacy plaintext without a relay-supplied sender. */
  from: string | null;
  body: string;
  legacy: boolean;
}

/**
 * Compact JSON with every non-ASCII character as a \uXXXX escape, byte for byte
 * what the Python 2.2.x sender writes (json.dumps, ensure_ascii): the known-answer
 * envelope of vectors/v2.json has this form. Readers accept either (PROTOCOL §5.2).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Compact JSON, as senders write it (PROTOCOL §5.2). */
export function encodeEnvelope(from: string, body: string): string {
  return MSG_PREFIX + asciiJson({ from, body });
}

/**
 * PROTOCOL §5.2: a prefixed plaintext is parsed as JSON; anything else is a
 * legacy message whose sender is the relay row's `sender_id` (if any).
 * `members` are the two UIDs of the conversation; any other `from` is dropped.
 */
export function decodeEnvelope(
  plaintext: string,
  members: readonly [string, string],
  legacySender: string | null = null,
): Envelope {
  if (!plaintext.startsWith(MSG_PREFIX)) {
    if (legacySender !== null && !members.includes(legacySender)) {
      throw new WireError("bad-sender", "envelope: legacy sender is not a member of this conversation");
    }
    return { from: legacySender, body: plaintext, legacy: true };
  }
  const env = parseJson(EnvelopeJson, plaintext.slice(MSG_PREFIX.length), "envelope");
  if (!members.includes(env.from))
    throw new WireError("bad-sender", "envelope: sender is not a member of this conversation");
  return { from: env.from, body: env.body, legacy: false };
}

// ---- PROTOCOL §5.3 file message ----------------------------------------------

export const FileMessage = z.strictObject({
  type: z.literal("file"),
  name: z
    .string()
    .min(1)
    .max(MAX_FILE_NAME * 4),
  size: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40),
  cipher_size: z
    .number()
    .int()
    .min(16)
    .max(2 ** 40 + 16),
  mime: z.string().max(MAX_MIME),
  url: z.string().min(1).max(MAX_URL),
  key: bytesField((s) => b64decode(s), "key (b64)", 32, 44),
  nonce: bytesField((s) => b64decode(s), "nonce (b64)", 12, 16),
});
export type FileMessage = z.infer<typeof FileMessage>;

/**
 * What a reader accepts: the writer's schema without `.strict()` (unknown keys are
 * ignored), and a null or missing `mime` (Python's mimetypes.guess_type answers None
 * for unknown extensions) read as application/octet-stream.
 */
const FileMessageIn = FileMessage.extend({
  mime: z
    .string()
    .max(MAX_MIME)
    .nullish()
    .transform((m) => m || "application/octet-stream"),
}).strip();

export function encodeFileMessage(file: FileMessage): string {
  const { type, name, size, cipher_size, mime, url, key, nonce } = file;
  return FILE_PREFIX + asciiJson({ type, name, size, cipher_size, mime, url, key, nonce });
}

/** A message body that announces a file, or null for an ordinary text body. */
export function decodeFileMessage(body: string): FileMessage | null {
  if (!body.startsWith(FILE_PREFIX)) return null;
  return parseJson(FileMessageIn, body.slice(FILE_PREFIX.length), "file message");
}

/**
 * PROTOCOL §5.3: a receiver downloads only the path of the announced URL, from
 * its own relay. Returns `/file/<id>` or throws. `basePath` is the path of the
 * receiver's own relay URL (`/phantom` for `https://host/phantom`): a URL made
 * absolute with that base starts with it, and it is not part of the protocol path.
 */
export function filePathOf(url: string, basePath = ""): string {
  let path: string;
  try {
    path = new URL(url, "http://relay.invalid").pathname;
  } catch {
    throw new WireError("bad-url", "file message: url is not a URL");
  }
  const prefix = basePath.replace(/\/+$/, "");
  if (prefix !== "" && path.startsWith(`${prefix}/file/`)) path = path.slice(prefix.length);
  if (!/^\/file\/[A-Za-z0-9_-]{1,512}$/.test(path))
    throw new WireError("bad-url", "file message: url is not a relay file path");
  return path;
}

// PROTOCOL §5.3 "control characters": C0, DEL, C1 and the bidi formatting marks (lib/text.ts).
const FILE_NAME_UNSAFE = new RegExp(`[${UNSAFE_CHARS}]`, "g");

/** PROTOCOL §5.3: strip folders and control characters from a sender's file name. */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  let clean = base.replace(FILE_NAME_UNSAFE, "").trim();
  if (clean === "" || clean === "." || clean === "..") clean = "file";
  if (clean.startsWith(".")) clean = `_${clean.slice(1)}`;
  // At most MAX_FILE_NAME UTF-8 bytes (the usual file-system limit), cut at a code point.
  let out = "";
  let bytes = 0;
  for (const ch of clean) {
    bytes += utf8.encode(ch).length;
    if (bytes > MAX_FILE_NAME) break;
    out += ch;
  }
  return out;
}

// ---- PROTOCOL §6 canonical request -----------------------------------------

/** canonical = METHOD \n path \n uid \n ts \n nonce \n hex(SHA-256(body)). */
export function canonicalRequest(
  method: string,
  path: string,
  uid: string,
  ts: string,
  nonce: string,
  bodySha256: Uint8Array,
): string {
  return [method.toUpperCase(), path, uid, ts, nonce, hexencode(bodySha256)].join("\n");
}

export const SignedHeaders = z.object({
  [H_UID]: Uid,
  [H_TS]: z.string().regex(/^\d{1,15}$/, "timestamp must be integer seconds"),
  [H_NONCE]: bytesField((s) => b64udecode(s), "nonce (b64u)", 12, 16),
  [H_SIG]: bytesField((s) => b64udecode(s), "signature (b64u)", 64, 86),
});
export type SignedHeaders = z.infer<typeof SignedHeaders>;
