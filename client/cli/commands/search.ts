// phantom search <text> [--contact C]: the messages of local history (PROTOCOL-v3 §V8) whose text or
// file name contains <text>, ignoring case, oldest first; decrypted in memory, nothing is fetched.
// The `history days N` setting is applied first.
// Human: one line per message, like `read`, with the conversation's label. --json: one array of
// {uid, nickname, id, ts, from, mine, body, protocol, file?}. No match: "no messages match" (human)
// or [] (JSON), exit 0 — as `read` does for an empty conversation.
import type { ChatMessage } from "../../core/conversation.ts";
import type { ContactView } from "../../state/contacts.ts";
import { escapeText, oneLine } from "../../text/sanitise.ts";
import { formatBytes } from "../../text/format.ts";
import { PhantomError } from "../../../lib/errors.ts";
import { restoreUids } from "../argv.ts";
import { Ctx, type Globals, timeOf } from "./context.ts";

export async function run(g: Globals, text: string, o: { contact?: string }): Promise<void> {
  // Before the password: an empty search is a usage error.
  if (text.trim() === "") throw new PhantomError("bad-search", "the text to search for is empty");
  const ctx = new Ctx(g);
  const api = await ctx.api();
  try {
    // An option's value is not restored by program.ts (a UID beginning with "-", client/cli/argv.ts).
    const contact = restoreUids(o.contact);
    // `history days N` is applied first: older rows are not found.
    const { results: found } = await api.call("history.search", {
      text,
      ...(contact === undefined ? {} : { contact }),
    });
    if (ctx.json) {
      ctx.jsonLine(found.map(({ contact: c, message }) => jsonFound(c, message)));
      return;
    }
    for (const { contact: c, message } of found) ctx.line(humanFound(c, message));
    if (found.length === 0) ctx.line("no messages match");
  } finally {
    api.close();
  }
}

export function jsonFound(c: { uid: string; nickname: string | null }, m: ChatMessage) {
  const out: Record<string, unknown> = {
    uid: c.uid,
    nickname: c.nickname,
    id: m.id,
    ts: m.ts,
    from: m.from,
    mine: m.mine,
    body: m.body,
    protocol: m.protocol ?? 3,
  };
  if (m.file) out.file = { name: m.file.name, size: m.file.size, mime: m.file.mime };
  return out;
}

/** `[time] bob: text`, or `[time] me → bob: text` for ours (read's layout, with the conversation named). */
export function humanFound(c: { uid: string; nickname: string | null }, m: ChatMessage): string {
  const label = c.nickname ? oneLine(escapeText(c.nickname)) : c.uid.slice(0, 8);
  const head = `[${timeOf(m.ts)}] ${m.mine ? `me → ${label}` : label}: `;
  if (m.file) {
    const f = m.file;
    return `${head}[file] ${escapeText(f.name)} (${formatBytes(f.size)}, ${escapeText(f.mime) || "?"})`;
  }
  return (
    head +
    escapeText(m.body)
      .split("\n")
      .join(`\n${" ".repeat(head.length)}`)
  );
}
