// A pair room's stored rows turned into chat messages: PROTOCOL §5.1 decryption,
// the §5.2 envelope with its members check, and §5.3 file announcements.
// A row that does not decrypt or parse is skipped and counted, never shown as text.

import { decryptMessage, messageId } from "../../lib/crypto.ts";
import {
  cleanFileName,
  decodeEnvelope,
  decodeFileMessage,
  type FileMessage,
  type StoredMessage,
} from "../../lib/wire.ts";
import type { FileInner } from "../../lib/v3/inner.ts";

export interface FileInfo {
  /** 1-based position among the files of the conversation, oldest first. */
  n: number;
  /** The sender's name with folders and control characters removed (§5.3). */
  name: string;
  size: number;
  mime: string;
}

export interface ChatMessage {
  /**
   * The stored row's messageId (b64u of the SHA-256 of its ciphertext): two rows never share
   * it, even with the same second and text (the nonce is random); internal, never printed.
   */
  id: string;
  ts: number;
  /** Sender UID; "" for a legacy row whose sender is unknown (§5.2). */
  from: string;
  mine: boolean;
  /** The text; for a file, its cleaned name. */
  body: string;
  file?: FileInfo;
  /**
   * PROTOCOL-v3 §V1: the protocol the message came in (3: a ratchet message, 2: v2 §5.1). Every message
   * the session decodes has it; a row the chat screen echoes before the relay answers may not.
   */
  protocol?: 2 | 3;
  /** §V1: a v2 message from a contact pinned to v3 ("sent without forward secrecy"). */
  downgraded?: true;
  /**
   * PROTOCOL-v3 §V8 with `history off`: a v3 message this identity decrypted before, whose text was not kept
   * (its key is gone): shown as "already read", `body` is "".
   */
  alreadyRead?: true;
}

/** A decoded row with the secret parts of a file announcement, which never leave the session. */
export interface DecodedMessage {
  message: ChatMessage;
  /** A v2 file announcement (§5.3). */
  fileMessage: FileMessage | null;
  /** A v3 file message (PROTOCOL-v3 §V7.1, §V9). */
  fileInner?: FileInner | null;
}

export interface RoomContext {
  me: string;
  peer: string;
  sessionKey: Uint8Array;
  /** PROTOCOL-v3: opens a v3 row (history, else the ratchet: client/core/v3.ts openRow); absent: v3 rows are skipped. */
  v3?: (row: StoredMessage) => DecodedMessage | null;
  /** PROTOCOL-v3 §V1: the peer is pinned to v3, so a v2 row from them is marked. */
  pinnedV3?: boolean;
}

/** PROTOCOL-v3 §V1: the first byte of a decoded ciphertext is 0x03 for v3 (0x01 for v2). */
export function isV3Ciphertext(ciphertextB64: string): boolean {
  // Base64's first 4 characters hold the first 3 bytes; the first character's 6 bits start the version byte.
  return ciphertextB64.length >= 2 && Buffer.from(ciphertextB64.slice(0, 4), "base64")[0] === 0x03;
}

/** One stored row; null when it must be skipped (undecryptable, bad envelope, foreign sender, bad file message). */
export function decodeRow(row: StoredMessage, ctx: RoomContext): DecodedMessage | null {
  if (isV3Ciphertext(row.ciphertext)) return ctx.v3 ? ctx.v3(row) : null;
  const d = decodeV2Row(row, ctx);
  if (d !== null && ctx.pinnedV3 && !d.message.mine) d.message.downgraded = true;
  return d;
}

function decodeV2Row(row: StoredMessage, ctx: RoomContext): DecodedMessage | null {
  let plaintext: string;
  try {
    plaintext = decryptMessage(ctx.sessionKey, row.ciphertext); // PROTOCOL §5.1
  } catch {
    return null;
  }
  let from: string | null;
  let body: string;
  try {
    // PROTOCOL §5.2: `from` must be one of the two members. A legacy row's sender is the
    // row's sender_id, which a v2 relay never supplies (§7.6), so it is usually unknown.
    ({ from, body } = decodeEnvelope(plaintext, [ctx.me, ctx.peer], row.sender_id ?? null));
  } catch {
    return null;
  }
  const sender = from ?? "";
  let fileMessage: FileMessage | null;
  try {
    fileMessage = decodeFileMessage(body); // PROTOCOL §5.3
  } catch {
    return null;
  }
  const message: ChatMessage = {
    id: messageId(row.ciphertext),
    ts: row.ts,
    from: sender,
    mine: sender === ctx.me,
    body,
    protocol: 2,
  };
  if (fileMessage) {
    const name = cleanFileName(fileMessage.name);
    message.body = name;
    message.file = { n: 0, name, size: fileMessage.size, mime: fileMessage.mime };
  }
  return { message, fileMessage };
}

/** Decode a room's rows (oldest first) and number its files 1.. in conversation order. */
export function decodeRows(rows: StoredMessage[], ctx: RoomContext): { messages: DecodedMessage[]; skipped: number } {
  const messages: DecodedMessage[] = [];
  let skipped = 0;
  let files = 0;
  const ids = new Set<string>();
  for (const row of rows) {
    const d = decodeRow(row, ctx);
    if (d === null) {
      skipped++;
      continue;
    }
    // The same ciphertext stored again (a relay replaying it with a new ts): shown at its first place only.
    if (ids.has(d.message.id)) continue;
    ids.add(d.message.id);
    if (d.message.file) d.message.file.n = ++files;
    messages.push(d);
  }
  return { messages, skipped };
}

/** A live row's file number: its place among the conversation's files (`all`, from decodeRows), 0 when absent. */
export function fileNumberOf(all: DecodedMessage[], id: string): number {
  return all.find((m) => m.message.id === id)?.message.file?.n ?? 0;
}

/** A copy safe to hand out: no keys, no URLs. */
export function publicMessage(d: DecodedMessage): ChatMessage {
  const { id, ts, from, mine, body, protocol, downgraded, alreadyRead } = d.message;
  const m: ChatMessage = { id, ts, from, mine, body };
  if (protocol !== undefined) m.protocol = protocol;
  if (downgraded) m.downgraded = true;
  if (alreadyRead) m.alreadyRead = true;
  if (d.message.file) m.file = { ...d.message.file };
  return m;
}
