// phantom read <uid> [--limit N] [--since WHEN]: the decrypted conversation, oldest first.
// WHEN: a Unix time, a date (2026-12-01, local midnight) or a time ago (90s, 30m, 2h, 3d).
// JSON lines {"ts","from","body","protocol"} plus "file":{"n","name","size","mime"} for files,
// "downgraded": true (PROTOCOL-v3 §V1) and "already_read": true (§V8, history off) when so.
import { printWarning } from "../errors.ts";
import type { ChatMessage } from "../../core/conversation.ts";
import { escapeText } from "../../text/sanitise.ts";
import { formatBytes } from "../../text/format.ts";
import { ALREADY_READ_TEXT, DOWNGRADED_MARK } from "../../text/protocol.ts";
import { PhantomError } from "../../../lib/errors.ts";
import { Ctx, type Globals, intOption, timeOf, who } from "./context.ts";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--since`: a Unix time in seconds, a date YYYY-MM-DD (local midnight), or a duration before `now` (2h, 30m, 3d, 90s). */
export function parseSince(value: string | undefined, now: Date = new Date()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d{1,15}$/.test(v)) return intOption(v, "--since", 0, Number.MAX_SAFE_INTEGER);
  const ago = /^(\d{1,9})\s*([smhd])$/i.exec(v);
  if (ago) return Math.max(0, Math.floor(now.getTime() / 1000) - Number(ago[1]) * UNIT_SECONDS[ago[2]!.toLowerCase()]!);
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const midnight = new Date(y, m - 1, d);
    if (midnight.getFullYear() === y && midnight.getMonth() === m - 1 && midnight.getDate() === d) {
      return Math.floor(midnight.getTime() / 1000);
    }
  }
  throw new PhantomError(
    "bad-option",
    "--since must be a date (2026-12-01), a time ago (30m, 2h, 3d) or a Unix time in seconds",
  );
}

export async function run(g: Globals, uid: string, o: { limit?: string; since?: string }): Promise<void> {
  const ctx = new Ctx(g);
  const limit = intOption(o.limit, "--limit", 1, 200);
  const sinceTs = parseSince(o.since);
  const api = await ctx.api();
  // Reads the inbox first, marks the conversation read up to its newest message.
  const r = await api.call("read", {
    contact: uid,
    ...(limit === undefined ? {} : { limit }),
    ...(sinceTs === undefined ? {} : { since: sinceTs }),
  });
  const c = r.contact;
  const list = r.messages;
  for (const m of list) {
    if (ctx.json) ctx.jsonLine(jsonMessage(m));
    else ctx.line(humanMessage(m, c));
  }
  if (r.skipped > 0) {
    printWarning(`${r.skipped} message(s) could not be decrypted or were not from a member, and were skipped`);
  }
  if (!ctx.json && list.length === 0) ctx.line(`no messages with ${who(c)}`);
  api.close();
}

/**
 * The --json line of a message. PROTOCOL-v3 §V1: "protocol" 3 or 2 (a message without one is v2),
 * "downgraded": true on a v2 message from a contact pinned to v3; §V8 history off: "already_read": true
 * (its text was not kept, body "").
 */
export function jsonMessage(m: ChatMessage) {
  const out: Record<string, unknown> = { ts: m.ts, from: m.from === "" ? null : m.from, body: m.body };
  if (m.file) out.file = { n: m.file.n, name: m.file.name, size: m.file.size, mime: m.file.mime };
  out.protocol = m.protocol ?? 2;
  if (m.downgraded) out.downgraded = true;
  if (m.alreadyRead) out.already_read = true;
  return out;
}

export function humanMessage(m: ChatMessage, peer: { uid: string; nickname: string | null }): string {
  const name = m.mine ? "me" : m.from === "" ? "?" : peer.nickname ? escapeText(peer.nickname) : peer.uid.slice(0, 8);
  const head = `[${timeOf(m.ts)}] ${name}: `;
  // PROTOCOL-v3 §V1: a v2 message from a contact pinned to v3 is marked.
  const mark = m.downgraded ? ` ${DOWNGRADED_MARK}` : "";
  if (m.alreadyRead) return `${head}${ALREADY_READ_TEXT}${mark}`;
  if (m.file) {
    const f = m.file;
    return `${head}[file ${f.n}] ${escapeText(f.name)} (${formatBytes(f.size)}, ${escapeText(f.mime) || "?"}) — phantom get ${peer.uid} ${f.n}${mark}`;
  }
  return (
    head +
    escapeText(m.body)
      .split("\n")
      .join(`\n${" ".repeat(head.length)}`) +
    mark
  );
}
