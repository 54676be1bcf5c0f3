// phantom read <uid> [--limit N] [--since TS]: the decrypted conversation, oldest first.
// JSON lines {"ts","from","body"} plus "file":{"n","name","size","mime"} for files.
import { printWarning } from "../errors.ts";
import type { ChatMessage } from "../../core/conversation.ts";
import type { Session } from "../../core/session.ts";
import { escapeText } from "../../text/sanitise.ts";
import { formatBytes } from "../../tui/term.ts";
import { Ctx, type Globals, intOption, timeOf, who } from "./context.ts";

export async function run(g: Globals, uid: string, o: { limit?: string; since?: string }): Promise<void> {
  const ctx = new Ctx(g);
  const limit = intOption(o.limit, "--limit", 1, 200);
  const sinceTs = intOption(o.since, "--since", 0, Number.MAX_SAFE_INTEGER);
  const s = await ctx.open();
  await s.processInbox();
  const c = s.contact(uid);
  const list = await s.history(c.uid, { limit, sinceTs });
  for (const m of list) {
    if (ctx.json) ctx.jsonLine(jsonMessage(m));
    else ctx.line(humanMessage(s, m, c));
  }
  if (s.skippedLast > 0) {
    printWarning(`${s.skippedLast} message(s) could not be decrypted or were not from a member, and were skipped`);
  }
  if (!ctx.json && list.length === 0) ctx.line(`no messages with ${who(c)}`);
  const newest = list.at(-1);
  if (newest) s.markRead(c.uid, newest.ts);
  s.close();
}

export function jsonMessage(m: ChatMessage) {
  const out: Record<string, unknown> = { ts: m.ts, from: m.from === "" ? null : m.from, body: m.body };
  if (m.file) out.file = { n: m.file.n, name: m.file.name, size: m.file.size, mime: m.file.mime };
  return out;
}

export function humanMessage(s: Session, m: ChatMessage, peer: { uid: string; nickname: string | null }): string {
  const name = m.mine ? "me" : m.from === "" ? "?" : peer.nickname ? escapeText(peer.nickname) : peer.uid.slice(0, 8);
  const head = `[${timeOf(m.ts)}] ${name}: `;
  if (m.file) {
    const f = m.file;
    return `${head}[file ${f.n}] ${escapeText(f.name)} (${formatBytes(f.size)}, ${escapeText(f.mime) || "?"}) — phantom get ${peer.uid} ${f.n}`;
  }
  return (
    head +
    escapeText(m.body)
      .split("\n")
      .join(`\n${" ".repeat(head.length)}`)
  );
}
