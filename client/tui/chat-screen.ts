// The live chat screen: header (chat-header.ts), the last 200 messages, then live ones above a
// one-row input line. Incoming messages are printed with LineEditor.printAbove,
// so whatever is being typed stays intact. Slash commands live in chat-commands.ts.
import type { ChatMessage } from "../core/conversation.ts";
import type { Session } from "../core/session.ts";
import { protocolFacts, relayOffersV3 } from "../core/protocol-info.ts";
import { protocolLabel } from "../text/protocol.ts";
import { runChatCommand, type ChatContext } from "./chat-commands.ts";
import { chatHeader, upgradeNotice } from "./chat-header.ts";
import { ChatFeed, openConversation, type ShownMessage } from "./chat-feed.ts";
import { echoKey } from "./echoes.ts";
import { dayDivider, formatMessage, lineStyle } from "./chat-format.ts";
import { PASTE } from "./keys.ts";
import { LineEditor } from "./line-editor.ts";
import { ansi, truncate } from "./term.ts";
import { contactName, errorText, type Ui } from "./ui.ts";

export const HISTORY_LIMIT = 200;

/** How long the header waits to learn whether the relay offers v3 (PROTOCOL-v3 §V1) before it is drawn without. */
const RELAY_V3_WAIT_MS = 1500;

/** The header, with the contact's protocol; for a v2 contact the relay is asked (briefly) whether it offers v3. */
async function header(ui: Ui, session: Session, peerUid: string): Promise<string> {
  const c = session.contact(peerUid);
  const relayV3 =
    c.protocol === 3
      ? null
      : await Promise.race([relayOffersV3(session), Bun.sleep(RELAY_V3_WAIT_MS).then(() => null)]);
  const protocol = protocolLabel(protocolFacts(session.book[c.uid], relayV3));
  return chatHeader(ui.theme, { contact: c, protocol, viaTor: session.viaTor, columns: process.stdout.columns ?? 80 });
}

/** Run the chat with one contact until the user leaves. Never throws for network trouble. */
export async function runChat(ui: Ui, session: Session, peerUid: string): Promise<void> {
  const out = process.stdout;
  const stdin = process.stdin;
  const t = ui.theme;
  const peerName = contactName(session.contact(peerUid));
  const style = lineStyle(t, peerName);
  const elsewhere = new Map<string, number>();
  const ac = new AbortController();
  let ready = false;

  let leave: () => void = () => {};
  const left = new Promise<void>((r) => (leave = r));

  // After leaving, late output (a transfer finishing) must not draw over the menu.
  let closed = false;
  const screen = {
    write: (s: string): boolean => (closed ? true : out.write(s)),
    get columns(): number {
      return out.columns ?? 80;
    },
  };
  const editor = new LineEditor({ out: screen, prompt: `${t.accent("›")} ` });
  const print = (text: string): void => (ready ? editor.printAbove(text) : void out.write(`${text}\n`));

  let lastTs: number | null = null;
  // PROTOCOL-v3 §V1: the first v3 message (sent or received) pins the contact; said once, below the header.
  let protocolShown = session.contact(peerUid).protocol;
  const message = (m: ShownMessage): void => {
    const divider = dayDivider(lastTs, m.ts, t);
    if (divider !== null) print(divider);
    lastTs = m.ts;
    print(formatMessage(m, style));
    let now = protocolShown;
    try {
      now = session.contact(peerUid).protocol;
    } catch {
      // blocked or removed from another process meanwhile: nothing to say here
    }
    const upgraded = upgradeNotice(t, protocolShown, now, peerName);
    protocolShown = now;
    if (upgraded !== null) print(upgraded);
    // The history is marked read once, below; each later message as it is shown.
    if (ready) session.markRead(peerUid, m.ts);
  };
  const other = (peer: string): void => {
    const n = (elsewhere.get(peer) ?? 0) + 1;
    elsewhere.set(peer, n);
    let who = `${peer.slice(0, 8)}…`;
    try {
      who = contactName(session.contact(peer));
    } catch {
      // a contact we do not know (yet): keep the UID prefix
    }
    print(t.dim(`  · ${who} wrote (${n} new) — leave with Esc and pick ${who} in the menu`));
  };
  // The relay does not say who burned: a burn from this session in the last minute was ours.
  const burned = (): void =>
    print(
      t.dim(
        session.burnedHere(peerUid)
          ? "  · you deleted this conversation on the relay"
          : `  · ${peerName} deleted this conversation on the relay`,
      ),
    );
  const feed = new ChatFeed(peerUid, { message, other, burned });

  out.write(`${await header(ui, session, peerUid)}\n`);
  const conversation = openConversation(session, peerUid, feed, {
    signal: ac.signal,
    limit: HISTORY_LIMIT,
    onError: (e) => print(t.danger(`could not catch up with the history: ${errorText(e)}`)),
    onHistoryLoaded: (n) =>
      print(
        t.dim(n === 0 ? "  The relay answers again: no messages yet." : "  The relay answers again: history loaded."),
      ),
  });
  const listening = conversation.listening.catch((e: unknown) => {
    if (!ac.signal.aborted) print(t.danger(`live updates stopped: ${errorText(e)}`));
  });

  try {
    const history = await conversation.history;
    if (history.length === 0) out.write(`${t.dim("  No messages yet. Say hello!")}\n`);
    for (const m of history) feed.row(m);
    const last = history[history.length - 1];
    if (last) session.markRead(peerUid, last.ts);
  } catch (e) {
    out.write(`${t.danger(`could not load the history: ${errorText(e)} (it loads when the relay answers again)`)}\n`);
  }

  const ctx: ChatContext = {
    ui,
    session,
    peerUid,
    peerName,
    style,
    editor,
    print: (text) => editor.printAbove(text),
    sendOwn: (key, send) => feed.sendOwn(key, send),
    leave: () => leave(),
    upload: null,
  };

  // One task at a time (sends stay in order); typing continues meanwhile.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (task: () => Promise<void>): void => {
    chain = chain.then(task).catch((e: unknown) => editor.printAbove(t.danger(`  ${errorText(e)}`)));
  };
  editor.onSubmit = (line) => {
    if (line.trim() === "") return;
    if (line.startsWith("/") && !line.startsWith("//")) return enqueue(() => runChatCommand(ctx, line));
    const text = line.startsWith("//") ? line.slice(1) : line;
    enqueue(() =>
      ctx.sendOwn(echoKey({ body: text }), async () => {
        const ts = await session.send(peerUid, text);
        return { ts, from: session.uid, mine: true, body: text };
      }),
    );
  };
  // Ctrl-C / Esc: clear a half-typed line first; on an empty line, leave. Ctrl-C during an
  // upload cancels the upload (the peer never gets the file) and stays in the chat.
  const clearLine = (): boolean => {
    if (editor.value === "") return false;
    editor.handle({ kind: "home" });
    editor.handle({ kind: "kill-end" });
    return true;
  };
  editor.onInterrupt = () => {
    if (clearLine()) return;
    if (ctx.upload) ctx.upload.abort();
    else leave();
  };
  editor.onEscape = () => void (clearLine() || leave());
  editor.onEof = () => leave();

  const onData = (chunk: Buffer): void => editor.feed(chunk);
  const onResize = (): void => editor.render();
  ready = true;
  feed.release();
  stdin.setRawMode(true);
  out.write(PASTE.enable); // a paste arrives as one insertion, its line breaks kept (one message)
  stdin.on("data", onData);
  stdin.resume();
  out.on("resize", onResize);
  editor.render();
  const chatClosed = ui.config.chatOpened?.(peerUid);
  try {
    await left;
  } finally {
    chatClosed?.();
    closed = true;
    ac.abort();
    // Leaving cancels an upload in progress: the chat never says it left while a file still goes out.
    ctx.upload?.abort();
    stdin.off("data", onData);
    out.off("resize", onResize);
    editor.dispose();
    out.write(PASTE.disable);
    stdin.setRawMode(false);
    stdin.pause();
    out.write(`\r${ansi.clearLine}${t.dim(truncate(`Left the chat with ${peerName}.`, 72))}\n`);
    await Promise.race([listening, Bun.sleep(1000)]);
  }
}
