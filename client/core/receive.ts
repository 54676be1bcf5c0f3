// The receiving side of a Session: saving files (PROTOCOL §5.3), live delivery
// (§7.9) with new contacts picked up from the key-exchange inbox.

import { existsSync } from "node:fs";
import { decryptFile, messageId } from "../../lib/crypto.ts";
import { b64decode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { filePathOf, type WsFrame } from "../../lib/wire.ts";
import { blockedChange, labelOf } from "../state/contacts.ts";
import { type ChatMessage, decodeRow, fileNumberOf, publicMessage, type RoomContext } from "./conversation.ts";
import { DeliveryLog } from "./delivery-log.ts";
import { saveReceivedFile, targetPath } from "../state/files.ts";
import type { LiveStatus } from "../net/live.ts";
import type { ReceivePort } from "./ports.ts";

export interface GetFileOptions {
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
  confirmOverwrite?: (path: string) => Promise<boolean>;
}

export interface ListenOptions {
  signal: AbortSignal;
  /** Only this contact (UID or nickname); new contacts are then not picked up. */
  only?: string;
  /** How often the key-exchange inbox is read while listening (default 30 s). */
  inboxPollMs?: number;
  /** Called when every conversation is connected (again after new contacts join). */
  onReady?: (conversations: number) => void;
  /** Each connection state of each conversation, reconnections after an outage included. */
  onStatus?: (status: LiveStatus) => void;
}

export const INBOX_POLL_MS = 30_000;

/** Download, decrypt and save file `n` of the conversation; returns the path written. */
export async function getFile(s: ReceivePort, uid: string, n: number, dest: string | undefined, o: GetFileOptions) {
  if (!Number.isSafeInteger(n) || n < 1) throw new PhantomError("bad-number", "a file number is 1 or more");
  const d = (await s.decoded(uid)).find((m) => m.message.file?.n === n);
  if (!d?.fileMessage || !d.message.file) {
    throw new PhantomError("no-file", `no file ${n} in the conversation with ${labelOf(uid, s.book[uid])}`);
  }
  const fm = d.fileMessage;
  const relay = await s.relay();
  // PROTOCOL §5.3: only the path of the announced URL, requested from our own relay (whose
  // base URL may have a path of its own, kept in front of every protocol path).
  const path = filePathOf(fm.url, new URL(relay.baseUrl).pathname);
  const target = targetPath(dest, d.message.file.name);
  let force = o.force === true;
  if (!force && existsSync(target)) {
    force = o.confirmOverwrite ? await o.confirmOverwrite(target) : false;
    if (!force) throw new PhantomError("file-exists", `${target} already exists (use --force to overwrite)`);
  }
  const blob = await relay.download(path, o.onProgress, { expectedBytes: fm.cipher_size });
  const data = decryptFile(b64decode(fm.key), b64decode(fm.nonce), blob);
  await saveReceivedFile(target, data, { force });
  return target;
}

/** Stream new messages of every contact (or one) until the signal aborts. Own messages are delivered too. */
export async function listen(
  s: ReceivePort,
  onMessage: (peerUid: string, m: ChatMessage) => void,
  o: ListenOptions,
): Promise<void> {
  const only = o.only === undefined ? null : s.contact(o.only).uid;
  const relay = await s.relay();
  // After a restart (new contacts), each room is fetched again from its resume point
  // (client/core/delivery-log.ts): a room we already listened to gets what it missed
  // meanwhile, rows delivered before are remembered until they are older than that
  // point. A new contact's room starts a minute before the last inbox read that did
  // not know them, so a first message sent right after adding us is not lost.
  const startTs = nowS();
  const log = new DeliveryLog();
  let inboxReadTs = startTs;
  for (let rounds = 0; ; rounds++) {
    if (o.signal.aborted) return;
    const rooms = new Map<string, RoomContext>();
    for (const uid of only ? [only] : Object.keys(s.book)) {
      const rec = s.book[uid]!;
      if (blockedChange(rec)) {
        s.warn(`not listening to ${labelOf(uid, rec)}: the key changed since you verified it`);
        continue;
      }
      const { roomId, sessionKey } = s.keys(uid);
      rooms.set(roomId, { me: s.uid, peer: uid, sessionKey });
      // The first round delivers only rows newer than its silent baseline (§7.9), whatever their ts.
      if (rounds === 0) log.follow(roomId, startTs, -Infinity);
      else log.follow(roomId, inboxReadTs - 60);
    }
    const round = new AbortController();
    const stop = () => round.abort();
    o.signal.addEventListener("abort", stop, { once: true });
    let restart = false;
    let queue: Promise<void> = Promise.resolve();
    const timer = only
      ? null
      : setInterval(() => {
          const at = nowS();
          s.processInbox().then(
            (changed) => {
              if (changed.length > 0) {
                restart = true;
                round.abort();
              } else if (!restart) {
                // Whoever adds us after this read is noticed by a later one (§7.5 pops the inbox).
                inboxReadTs = Math.max(inboxReadTs, at);
              }
            },
            (e: unknown) =>
              s.warn(`could not read the key-exchange inbox: ${e instanceof Error ? e.message : e}`, "relay"),
          );
        }, o.inboxPollMs ?? INBOX_POLL_MS);
    const onFrame = (roomId: string, frame: WsFrame) => {
      const ctx = rooms.get(roomId);
      if (!ctx || "event" in frame || !log.accept(roomId, messageId(frame.ciphertext), frame.ts)) return;
      queue = queue
        .then(() => deliver(s, ctx, frame, onMessage))
        .catch((e: unknown) => {
          s.warn(`could not show a message: ${e instanceof Error ? e.message : String(e)}`);
        });
    };
    const connected = new Set<string>();
    const onStatus = (st: LiveStatus) => {
      o.onStatus?.(st);
      if (st.state !== "connected" || connected.has(st.roomId)) return;
      connected.add(st.roomId);
      if (connected.size === rooms.size) o.onReady?.(rooms.size);
    };
    try {
      if (rooms.size === 0) {
        o.onReady?.(0);
        await new Promise((r) => round.signal.addEventListener("abort", r, { once: true }));
      } else {
        const since = new Map(rounds > 0 ? [...rooms.keys()].map((r) => [r, log.resume(r)]) : []);
        await relay.live([...rooms.keys()], onFrame, { signal: round.signal, onStatus, sinceTs: (r) => since.get(r) });
      }
    } finally {
      if (timer) clearInterval(timer);
      o.signal.removeEventListener("abort", stop);
      round.abort();
    }
    await queue;
    if (!restart) return;
  }
}

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

async function deliver(
  s: ReceivePort,
  ctx: RoomContext,
  frame: { ts: number; ciphertext: string },
  onMessage: (peerUid: string, m: ChatMessage) => void,
): Promise<void> {
  const d = decodeRow(frame, ctx);
  if (d === null) {
    s.warn(`skipped a message in the conversation with ${ctx.peer}: it could not be decrypted or is not from a member`);
    return;
  }
  if (d.message.file) {
    // Number the file like `read` does: its place among the conversation's files.
    d.message.file.n = fileNumberOf(await s.decoded(ctx.peer), d.message.id);
  }
  onMessage(ctx.peer, publicMessage(d));
}
