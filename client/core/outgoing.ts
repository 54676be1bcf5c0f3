// The sending side of a Session: PROTOCOL §5.1/§5.2 text messages and §5.3 files.

import { encryptFile, encryptMessage, KEY_LEN, NONCE_LEN, randomBytes, TAG_LEN } from "../../lib/crypto.ts";
import { b64encode, utf8 } from "../../lib/encoding.ts";
import { MAX_INNER } from "../../lib/v3/padding.ts";
import { PhantomError } from "../../lib/errors.ts";
import {
  asciiJson,
  encodeEnvelope,
  encodeFileMessage,
  MAX_CIPHERTEXT_BYTES,
  type UploadResponse,
} from "../../lib/wire.ts";
import { RelayError } from "../net/relay-client.ts";
import { formatCount } from "../text/format.ts";
import type { FileInfo } from "./conversation.ts";
import { readLocalFile } from "../state/files.ts";
import type { OutgoingPort } from "./ports.ts";

/**
 * How many characters of `body` fit in one message from `from`: the relay stores at most
 * MAX_CIPHERTEXT_BYTES of ciphertext (§7.6), which is version, nonce, the envelope (§5.2, written as
 * ASCII JSON, so a character outside ASCII takes 6 or 12 bytes) and the tag (§5.1).
 */
export function messageFit(from: string, body: string): { chars: number; fit: number } {
  const room = MAX_CIPHERTEXT_BYTES - 1 - NONCE_LEN - TAG_LEN - encodeEnvelope(from, "").length;
  let used = 0;
  let chars = 0;
  let fit = 0;
  for (const ch of body) {
    chars++;
    used += asciiJson(ch).length - 2;
    if (used <= room) fit++;
  }
  return { chars, fit };
}

/**
 * PROTOCOL-v3 §V6/§V7.1: how many characters of `body` fit in one v3 text message — its inner JSON
 * (raw UTF-8; quotes, backslashes and control characters escaped) holds at most MAX_INNER bytes.
 */
export function messageFitV3(body: string): { chars: number; fit: number } {
  const room = MAX_INNER - utf8.encode(JSON.stringify({ t: "text", id: "A".repeat(16), body: "" })).length;
  let used = 0;
  let chars = 0;
  let fit = 0;
  for (const ch of body) {
    chars++;
    used += utf8.encode(JSON.stringify(ch)).length - 2;
    if (used <= room) fit++;
  }
  return { chars, fit };
}

/** The length error in characters, for this text: refused before anything is encrypted or sent. */
export function checkLength(from: string, body: string, protocol: 2 | 3 = 2): void {
  const { chars, fit } = protocol === 3 ? messageFitV3(body) : messageFit(from, body);
  if (fit < chars) {
    throw new PhantomError(
      "too-large",
      `message too long: this message is ${formatCount(chars)} characters; the limit is ${formatCount(fit)}` +
        (/[^\x00-\x7e]/.test(body) ? " for this text (characters outside ASCII take more room)" : ""),
    );
  }
}

/** Encrypt an envelope from us (§5.2) under the pair's session key (§5.1) and store it; the relay's ts. */
export async function sendBody(s: OutgoingPort, uid: string, body: string): Promise<number> {
  checkLength(s.uid, body);
  const { roomId, sessionKey } = s.keys(uid);
  const relay = await s.relay();
  return await relay.send(roomId, encryptMessage(sessionKey, encodeEnvelope(s.uid, body)));
}

/** A file we sent: as `read` numbers it, and the relay's ts of its announcement. */
export type SentFile = FileInfo & { ts: number };

export interface SendFileOptions {
  onProgress?: (done: number, total: number) => void;
  /** Cancels the upload; once it fires, the file is not announced (the peer never gets it). */
  signal?: AbortSignal;
}

/** PROTOCOL §5.3: encrypt with a fresh key and nonce, upload the blob (§7.8), announce it. */
export async function sendFile(s: OutgoingPort, uid: string, path: string, o: SendFileOptions = {}): Promise<SentFile> {
  const { roomId } = s.keys(uid);
  const file = await readLocalFile(path);
  const relay = await s.relay();
  // PROTOCOL §7.10: a relay that states its limit is not sent a blob it would refuse.
  const max = await relay.maxFileSize();
  const blobSize = file.data.length + TAG_LEN;
  if (max !== null && blobSize > max) throw tooLarge(file.data.length, max);
  cancelled(o.signal);
  const key = randomBytes(KEY_LEN);
  const nonce = randomBytes(NONCE_LEN);
  const blob = encryptFile(key, nonce, file.data);
  let announce: string;
  try {
    let up: UploadResponse;
    try {
      up = await relay.upload(roomId, blob, o.onProgress, { signal: o.signal });
    } catch (e) {
      cancelled(o.signal);
      // A relay that does not state its limit says 413 (PROTOCOL §7.8).
      if (e instanceof RelayError && e.status === 413) throw tooLarge(file.data.length, null, e);
      throw e;
    }
    // Cancelled while the relay was answering: the blob is stored but never announced (§8 expires it).
    cancelled(o.signal);
    announce = encodeFileMessage({
      type: "file",
      name: file.name,
      size: file.data.length,
      cipher_size: blob.length,
      mime: file.mime,
      url: relay.urlOf(up.url), // §5.3: absolute, with our relay's base URL
      key: b64encode(key),
      nonce: b64encode(nonce),
    });
  } finally {
    key.fill(0);
  }
  const ts = await sendBody(s, uid, announce);
  // Its number is its place among the conversation's files, as `read` shows it.
  const same = (await s.files(uid)).filter((m) => m.mine && m.ts === ts && m.file);
  const info = same.at(-1)?.file;
  return { ts, n: info?.n ?? 0, name: info?.name ?? file.name, size: file.data.length, mime: file.mime };
}

/** The one error of a cancelled upload: nothing was announced, so the peer gets nothing. */
export function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PhantomError("cancelled", "upload cancelled: the file was not sent");
}

export function tooLarge(size: number, max: number | null, cause?: unknown): PhantomError {
  const limit =
    max === null ? "the relay does not accept a file this large" : `the relay accepts files up to ${sizeText(max)}`;
  return new PhantomError("too-large", `${limit}; this one is ${sizeText(size)}`, { cause });
}

/** A size in words a person reads at a glance: "50 MiB", "1.5 GiB", "800 KiB", "12 bytes". */
export function sizeText(n: number): string {
  const units = ["KiB", "MiB", "GiB"];
  if (n < 1024) return `${n} bytes`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) || v >= 100 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, "");
  return `${text} ${units[i]}`;
}
