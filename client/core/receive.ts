// The receiving side of a Session: saving files (PROTOCOL §5.3), live delivery
// (§7.9) with new contacts picked up from the key-exchange inbox and the contact book on disk.

import { existsSync } from "node:fs";
import { decryptFile, messageId } from "../../lib/crypto.ts";
import { b64decode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { FETCH_LIMIT_MAX, filePathOf, type WsFrame } from "../../lib/wire.ts";
import { blockedChange, type ContactView, labelOf } from "../state/contacts.ts";
import { stateOf } from "../state/state-db.ts";
import { advanced, type Cursor, type CursorTable, isAfter, loadCursors, updateCursors } from "../state/cursors.ts";
import { isRepeat, loadShown, markShown, updateShown } from "../state/shown.ts";
import { type ChatMessage, decodeRow, fileNumberOf, publicMessage, type RoomContext } from "./conversation.ts";
import { DeliveryLog } from "./delivery-log.ts";
import { downloadFileV3 } from "./v3-files.ts";
import { saveReceivedFile, targetPath } from "../state/files.ts";
import type { LiveStatus } from "../net/live.ts";
import type { ReceivePort } from "./ports.ts";

export interface GetFileOptions {
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
  confirmOverwrite?: (path: string) => Promise<boolean>;
}

/**
 * What listen() reports. A returned promise is awaited before the next event; with a
 * delivery cursor, a message counts as delivered only once `message` has resolved.
 * (Contact requests will add a `request` event here.)
 */
export interface ListenHandlers {
  message(peerUid: string, m: ChatMessage): void | Promise<void>;
  /** Someone became a contact while listening (this process's inbox read, or another's). */
  contact?(c: ContactView): void | Promise<void>;
  /** PROTOCOL §7.9: the relay says the conversation was deleted (burned). */
  burned?(peerUid: string): void | Promise<void>;
}

export interface ListenOptions {
  signal: AbortSignal;
  /** Only this contact (UID or nickname); new contacts are then not picked up. */
  only?: string;
  /** How often the inbox and the contact book are looked at while listening (default LISTEN_POLL_MS). */
  inboxPollMs?: number;
  /** Called when every conversation is connected (again after new contacts join). */
  onReady?: (conversations: number) => void;
  /** Each connection state of each conversation, reconnections after an outage included. */
  onStatus?: (status: LiveStatus) => void;
  /** A conversation's live connection connected, or failed and is retried (net/live.ts). */
  onLiveStatus?: (peerUid: string, status: LiveStatus) => void;
  /** PROTOCOL §7.9 burn events, for a caller that passes a plain message callback. */
  onBurned?: (peerUid: string) => void;
  /**
   * Keep a delivery cursor per contact in $PHANTOM_HOME (state/cursors.ts): deliver first
   * what was never delivered (what the relay still has), then stream; each message once.
   */
  cursor?: boolean;
  /** With `cursor`: skip the backlog (the cursor is set to now). */
  fromNow?: boolean;
  /**
   * With `cursor`: a contact without a cursor yet starts at now (the daemon's first start: what
   * arrived before is history, not news); the others go on from their cursor.
   */
  fromNowIfNew?: boolean;
  /** With `cursor`: whose cursors (default listen's; the daemon keeps its own). */
  cursorTable?: CursorTable;
}

/** How often listen reads the key-exchange inbox and looks at the contact book on disk. */
export const LISTEN_POLL_MS = 5000;

/** Download, decrypt and save file `n` of the conversation; returns the path written. */
export async function getFile(s: ReceivePort, uid: string, n: number, dest: string | undefined, o: GetFileOptions) {
  if (!Number.isSafeInteger(n) || n < 1) throw new PhantomError("bad-number", "a file number is 1 or more");
  const d = (await s.decoded(uid)).find((m) => m.message.file?.n === n);
  if (!(d?.fileMessage || d?.fileInner) || !d.message.file) {
    throw new PhantomError("no-file", `no file ${n} in the conversation with ${labelOf(uid, s.book[uid])}`);
  }
  const relay = await s.relay();
  if (d.fileInner) {
    // PROTOCOL-v3 §V9: streamed, verified chunk by chunk, the target written only once whole.
    const target = targetPath(dest, d.message.file.name);
    return await downloadFileV3(relay, d.fileInner, target, {
      force: o.force === true,
      confirmOverwrite: o.confirmOverwrite,
      onProgress: o.onProgress,
    });
  }
  const fm = d.fileMessage!;
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
  handlers: ListenHandlers | ((peerUid: string, m: ChatMessage) => void),
  o: ListenOptions,
): Promise<void> {
  const h: ListenHandlers =
    typeof handlers === "function" ? { message: handlers, ...(o.onBurned ? { burned: o.onBurned } : {}) } : handlers;
  const only = o.only === undefined ? null : s.contact(o.only).uid;
  const relay = await s.relay();
  const cursorMode = o.cursor === true;
  const table = o.cursorTable ?? "cursors";
  // Without a cursor (the chat screen): after a restart (new contacts), each room is fetched
  // again from its resume point (client/core/delivery-log.ts): a room we already listened to
  // gets what it missed meanwhile, rows delivered before are remembered until they are older
  // than that point. A new contact's room starts a minute before the last inbox read that did
  // not know them, so a first message sent right after adding us is not lost.
  const startTs = nowS();
  const log = new DeliveryLog();
  let inboxReadTs = startTs;
  const window = await s.shownWindowS();
  if (cursorMode && (o.fromNow || o.fromNowIfNew)) {
    const have = o.fromNow ? {} : loadCursors(s.home, table);
    const uids = (only ? [only] : Object.keys(s.book)).filter((u) => have[u] === undefined);
    const at = await Promise.all(uids.map((uid) => cursorAtNewest(s, uid, startTs)));
    updateCursors(
      s.home,
      (c) => {
        for (const [i, uid] of uids.entries()) c[uid] = at[i]!;
      },
      table,
    );
  }
  if (cursorMode) await deliverPurged(s, only ? [only] : Object.keys(s.book), h, window, table);
  const known = new Set(Object.keys(s.book));
  for (let rounds = 0; ; rounds++) {
    if (o.signal.aborted) return;
    const rooms = new Map<string, RoomContext>();
    const cursors = cursorMode ? loadCursors(s.home, table) : {};
    for (const uid of only ? [only] : Object.keys(s.book)) {
      const rec = s.book[uid]!;
      if (blockedChange(rec)) {
        s.warn(`not listening to ${labelOf(uid, rec)}: the key changed since you verified it`);
        continue;
      }
      const { roomId } = s.keys(uid);
      rooms.set(roomId, s.roomContext(uid));
      // The first round delivers only rows newer than its silent baseline (§7.9), whatever their ts.
      if (rounds === 0) log.follow(roomId, startTs, -Infinity);
      else log.follow(roomId, inboxReadTs - 60);
    }
    const roomOf = new Map([...rooms].map(([r, c]) => [c.peer, r]));
    const round = new AbortController();
    const stop = () => round.abort();
    o.signal.addEventListener("abort", stop, { once: true });
    let restart = false;
    let failed: unknown = null;
    let queue: Promise<void> = Promise.resolve();
    const enqueue = (task: () => Promise<void> | void) => {
      queue = queue.then(task).catch((e: unknown) => {
        if (cursorMode) {
          // Not delivered (stdout closed, say): stop here; the cursor still points before it.
          s.warn(`stopped listening: ${e instanceof Error ? e.message : String(e)}`);
          failed ??= e;
          round.abort();
          return;
        }
        s.warn(`could not show a message: ${e instanceof Error ? e.message : String(e)}`);
      });
    };
    const poll = async () => {
      const at = nowS();
      let changed = 0;
      try {
        changed = (await s.processInbox()).length;
      } catch (e) {
        s.warn(`could not read the key-exchange inbox: ${e instanceof Error ? e.message : String(e)}`, "relay");
      }
      // Another phantom process (the menu, `contacts`, `send`) may have read the inbox first:
      // the contact book on disk changing is reason enough to look again.
      try {
        if (s.reloadContacts()) changed++;
      } catch (e) {
        s.warn(`could not read the contact book: ${e instanceof Error ? e.message : String(e)}`);
      }
      const uids = Object.keys(s.book).filter((u) => !blockedChange(s.book[u]!));
      const added = uids.filter((u) => !roomOf.has(u));
      if (added.length > 0 || (changed > 0 && uids.length !== roomOf.size)) {
        for (const uid of added) {
          if (known.has(uid)) continue;
          known.add(uid);
          const c = s.contact(uid);
          if (h.contact) enqueue(() => h.contact!(c));
        }
        restart = true;
        round.abort();
      } else if (!restart) {
        // Whoever adds us after this read is noticed by a later one (§7.5 pops the inbox).
        inboxReadTs = Math.max(inboxReadTs, at);
      }
    };
    let polling = false;
    const timer = only
      ? null
      : setInterval(() => {
          if (polling) return;
          polling = true;
          void poll().finally(() => (polling = false));
        }, o.inboxPollMs ?? LISTEN_POLL_MS);
    const onFrame = (roomId: string, frame: WsFrame) => {
      const ctx = rooms.get(roomId);
      if (!ctx) return;
      if ("event" in frame) {
        if (frame.event === "burned" && h.burned) enqueue(() => h.burned!(ctx.peer));
        return;
      }
      const id = messageId(frame.ciphertext);
      if (cursorMode) {
        enqueue(() => deliverOnce(s, ctx, frame, id, h, window, table));
        return;
      }
      if (!log.accept(roomId, id, frame.ts)) return;
      enqueue(() => deliverShown(s, ctx, frame, id, h, window));
    };
    const connected = new Set<string>();
    const onStatus = (st: LiveStatus) => {
      o.onStatus?.(st);
      const peer = rooms.get(st.roomId)?.peer;
      if (peer !== undefined) o.onLiveStatus?.(peer, st);
      if (st.state !== "connected" || connected.has(st.roomId)) return;
      connected.add(st.roomId);
      if (connected.size === rooms.size) o.onReady?.(rooms.size);
    };
    try {
      if (rooms.size === 0) {
        o.onReady?.(0);
        await new Promise((r) => round.signal.addEventListener("abort", r, { once: true }));
      } else if (cursorMode) {
        // PROTOCOL §7.6.1: from the cursor's seq; a relay without seq: from its ts (§7.6);
        // no cursor yet: the whole room, as far as the relay still has it.
        const cur = new Map([...rooms].map(([r, c]) => [r, cursors[c.peer]]));
        await relay.live([...rooms.keys()], onFrame, {
          signal: round.signal,
          onStatus,
          afterSeq: (r) => cur.get(r)?.seq,
          sinceTs: (r) => {
            const c = cur.get(r);
            return c === undefined ? 0 : c.seq === undefined ? c.ts : undefined;
          },
        });
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
    if (failed !== null) throw failed;
    if (!restart) return;
  }
}

/**
 * PROTOCOL-v3 §V8: what history holds past a contact's cursor that the relay no longer has (another
 * process decrypted it, then the relay purged it) is delivered first, oldest first; the rest comes from
 * the relay as before, so nothing is delivered twice.
 */
async function deliverPurged(
  s: ReceivePort,
  uids: string[],
  h: ListenHandlers,
  windowS: number,
  table: CursorTable,
): Promise<void> {
  const relay = await s.relay();
  for (const uid of uids) {
    if (blockedChange(s.book[uid]!)) continue;
    const cur = loadCursors(s.home, table)[uid];
    const local = s.localHistory(uid, cur?.ts ?? 0).filter((d) => isAfter(cur, { ts: d.message.ts, id: d.message.id }));
    if (local.length === 0) continue;
    const onRelay = new Set((await relay.allRows(s.keys(uid).roomId)).map((r) => messageId(r.ciphertext)));
    for (const d of local) {
      if (onRelay.has(d.message.id)) continue;
      const row = { id: d.message.id, ts: d.message.ts };
      if (d.message.file) d.message.file.n = fileNumberOf(await s.decoded(uid), d.message.id);
      await h.message(uid, publicMessage(d));
      updateShown(s.home, windowS, (sh) => markShown(sh, uid, [row]));
      updateCursors(s.home, (c) => void (c[uid] = advanced(c[uid], row)), table);
    }
  }
}

/** Deliver a row unless the cursor says it was delivered (deliverShown); then advance the cursor. */
async function deliverOnce(
  s: ReceivePort,
  ctx: RoomContext,
  frame: { ts: number; ciphertext: string; seq?: number },
  id: string,
  h: ListenHandlers,
  windowS: number,
  table: CursorTable,
): Promise<void> {
  const row = { id, ts: frame.ts, ...(frame.seq === undefined ? {} : { seq: frame.seq }) };
  if (!isAfter(loadCursors(s.home, table)[ctx.peer], row)) return;
  // The cursor moves in the transaction that marks the row shown: one commit (one fsync) a row.
  await deliverShown(s, ctx, frame, id, h, windowS, () =>
    updateCursors(s.home, (c) => void (c[ctx.peer] = advanced(c[ctx.peer], row)), table),
  );
}

/** Deliver a row unless its id was shown before at an earlier place (a replay, state/shown.ts); remember it. */
async function deliverShown(
  s: ReceivePort,
  ctx: RoomContext,
  frame: { ts: number; ciphertext: string },
  id: string,
  h: ListenHandlers,
  windowS: number,
  andThen: () => void = () => {},
): Promise<void> {
  const row = { id, ts: frame.ts };
  if (isRepeat(loadShown(s.home), ctx.peer, row)) return andThen();
  await deliver(s, ctx, frame, (peer, m) => h.message(peer, m));
  // Lost in a power cut (not in a crash of the process), the row is delivered again: what a delivery
  // wrote first (the daemon's event, keyed by the message) makes that harmless; so no fsync here.
  stateOf(s.home).txLazy(() => {
    updateShown(s.home, windowS, (sh) => markShown(sh, ctx.peer, [row]));
    andThen();
  });
}

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

async function deliver(
  s: ReceivePort,
  ctx: RoomContext,
  frame: { ts: number; ciphertext: string },
  onMessage: (peerUid: string, m: ChatMessage) => void | Promise<void>,
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
  await onMessage(ctx.peer, publicMessage(d));
}

/**
 * `--from now`: a cursor just after the newest row the relay holds for the conversation, so that
 * nothing stored before listen started is printed, even in the same second (PROTOCOL §7.6.1 seq,
 * or ts and the ids at it on a relay without seq). A room the relay cannot show: the start time.
 */
async function cursorAtNewest(s: ReceivePort, uid: string, startTs: number): Promise<Cursor> {
  try {
    const { roomId } = s.keys(uid);
    const relay = await s.relay();
    const last = (await relay.fetch(roomId, { limit: 1 })).at(-1);
    if (last === undefined) return { ts: 0, ids: [] }; // empty: whatever comes is new
    if (last.seq !== undefined) return { seq: last.seq, ts: last.ts, ids: [messageId(last.ciphertext)] };
    const atTs = await relay.fetch(roomId, { sinceTs: last.ts, limit: FETCH_LIMIT_MAX });
    return { ts: last.ts, ids: atTs.filter((r) => r.ts === last.ts).map((r) => messageId(r.ciphertext)) };
  } catch {
    return { ts: startTs, ids: [] };
  }
}
