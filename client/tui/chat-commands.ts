// Slash commands of the chat screen: /file, /files, /get, /burn, /verify, /help, /quit.
// Each one calls the Session (no protocol code here) and talks to the user through
// the input line (ask) and the lines above it (print).
import { homedir } from "node:os";
import { PhantomError } from "../../lib/errors.ts";
import { cleanFileName } from "../../lib/wire.ts";
import type { Session } from "../core/session.ts";
import type { ShownMessage } from "./chat-feed.ts";
import { formatFileRow, type LineStyle } from "./chat-format.ts";
import { echoKey } from "./echoes.ts";
import type { LineEditor } from "./line-editor.ts";
import { createProgress } from "./progress.ts";
import { burnFlow, type Dialog, verifyFlow } from "./flows.ts";
import { cleanText } from "../text/sanitise.ts";
import type { Ui } from "./ui.ts";

export interface ChatContext {
  ui: Ui;
  session: Session;
  peerUid: string;
  peerName: string;
  style: LineStyle;
  editor: LineEditor;
  /** Print above the input line. */
  print(text: string): void;
  /** Send one of our messages; it is shown once, whether the send or the relay's echo finishes first. */
  sendOwn(key: string, send: () => Promise<ShownMessage>): Promise<void>;
  leave(): void;
  /** The upload in progress, if any: Ctrl-C and leaving the chat abort it. */
  upload: AbortController | null;
}

export const CHAT_HELP = [
  "  /file <path>        send a file (encrypted before upload; Ctrl-C cancels)",
  "  /files              list the files of this conversation",
  "  /get <n> [path]     download file #n (to the current folder, or path)",
  "  /burn               delete this conversation from the relay (asks twice)",
  "  /verify             compare fingerprints and mark the contact verified",
  "  /help               this help",
  "  /quit, Esc          back to the menu",
  "  //text              send a message that starts with /",
];

function expandHome(p: string): string {
  const s = p.trim().replace(/^(["'])(.*)\1$/, "$2");
  return s === "~" ? homedir() : s.startsWith("~/") ? homedir() + s.slice(1) : s;
}

async function yes(ctx: ChatContext, question: string): Promise<boolean> {
  const answer = await ctx.editor.ask(`${question} [y/N] `);
  return answer !== null && /^y(es)?$/i.test(answer.trim());
}

/** Run `task` with a progress bar on the status line; its final state stays above as a record. */
async function withProgress<T>(
  ctx: ChatContext,
  label: string,
  task: (onProgress: (done: number, total: number) => void) => Promise<T>,
): Promise<T> {
  let lastLine = "";
  let recorded = false;
  const bar = createProgress(label, {
    draw: (line) => {
      lastLine = line;
      ctx.editor.setStatus(line);
    },
    out: { isTTY: true, columns: process.stdout.columns ?? 80, write: () => true },
  });
  // At 100 % the bar's last state is kept above the input line (transfer time and
  // speed), before whatever the transfer leads to is printed.
  const record = (): void => {
    if (recorded || lastLine === "") return;
    recorded = true;
    ctx.print(ctx.ui.theme.dim(`  ${lastLine}`));
  };
  ctx.editor.setStatus(`${label} …`);
  try {
    const result = await task((done, total) => {
      bar.update(done, total);
      if (total > 0 && done >= total) record();
    });
    bar.finish();
    record();
    return result;
  } finally {
    ctx.editor.setStatus(null);
  }
}

async function sendFile(ctx: ChatContext, arg: string): Promise<void> {
  const path = expandHome(arg);
  if (path === "") return ctx.print(ctx.ui.theme.warn("  usage: /file <path>"));
  const name = cleanFileName(path);
  const ac = new AbortController();
  ctx.upload = ac;
  try {
    await ctx.sendOwn(echoKey({ body: name, file: { name } }), async () => {
      const info = await withProgress(ctx, `↑ ${cleanText(name, { oneLine: true })}`, (p) =>
        ctx.session.sendFile(ctx.peerUid, path, { onProgress: p, signal: ac.signal }),
      );
      const { ts, ...file } = info;
      return { ts, from: ctx.session.uid, mine: true, body: file.name, file };
    });
  } catch (e) {
    if (!ac.signal.aborted) throw e;
    ctx.print(ctx.ui.theme.warn(`  upload cancelled: ${cleanText(name, { oneLine: true })} was not sent`));
  } finally {
    if (ctx.upload === ac) ctx.upload = null;
  }
}

async function listFiles(ctx: ChatContext): Promise<void> {
  const files = await ctx.session.files(ctx.peerUid);
  if (files.length === 0) return ctx.print(ctx.ui.theme.dim("  No files in this conversation."));
  ctx.print(
    [ctx.ui.theme.bold("  Files (/get <n> to save):"), ...files.map((m) => formatFileRow(m, ctx.style))].join("\n"),
  );
}

async function getFile(ctx: ChatContext, arg: string): Promise<void> {
  const m = /^#?(\d+)\s*(.*)$/.exec(arg.trim());
  if (!m) return ctx.print(ctx.ui.theme.warn("  usage: /get <n> [path]   (see /files)"));
  const n = Number(m[1]);
  const dest = m[2] ? expandHome(m[2]) : undefined;
  const t = ctx.ui.theme;
  let saved: string;
  try {
    saved = await withProgress(ctx, `↓ file #${n}`, (onProgress) =>
      ctx.session.getFile(ctx.peerUid, n, dest, {
        onProgress,
        confirmOverwrite: async (path) => {
          ctx.editor.setStatus(null);
          const ok = await yes(ctx, t.warn(`${cleanText(path, { oneLine: true })} exists. Overwrite?`));
          ctx.editor.setStatus(`↓ file #${n} …`);
          return ok;
        },
      }),
    );
  } catch (e) {
    if (e instanceof PhantomError && e.code === "file-exists") return ctx.print(t.dim("  Kept the existing file."));
    throw e;
  }
  ctx.print(t.ok(`  saved file #${n} to ${cleanText(saved, { oneLine: true })}`));
}

/** The shared flows (flows.ts) on the input line, printing above it. */
function chatDialog(ctx: ChatContext): Dialog {
  const t = ctx.ui.theme;
  return {
    theme: t,
    note: (lines, title) => ctx.print([`  ${title}:`, ...lines.map((l) => `    ${l}`)].join("\n")),
    info: (text) => ctx.print(t.dim(`  ${text}`)),
    success: (text) => ctx.print(t.ok(`  ${text}`)),
    warn: (text) => ctx.print(t.danger(`  ${text}`)),
    confirm: (question) => yes(ctx, question),
    text: (question) => ctx.editor.ask(`${question} `),
  };
}

export async function runChatCommand(ctx: ChatContext, line: string): Promise<void> {
  const m = /^\/(\S+)\s*(.*)$/s.exec(line.trim());
  const cmd = m?.[1]?.toLowerCase() ?? "";
  const arg = m?.[2] ?? "";
  switch (cmd) {
    case "file":
    case "send":
      return sendFile(ctx, arg);
    case "files":
      return listFiles(ctx);
    case "get":
      return getFile(ctx, arg);
    case "burn":
      return burnFlow(chatDialog(ctx), ctx.session, ctx.peerUid);
    case "verify":
      return verifyFlow(chatDialog(ctx), ctx.session, ctx.peerUid);
    case "help":
    case "?":
      return ctx.print([ctx.ui.theme.bold("  Commands:"), ...CHAT_HELP].join("\n"));
    case "quit":
    case "q":
    case "exit":
    case "back":
      return ctx.leave();
    default:
      return ctx.print(ctx.ui.theme.warn(`  unknown command /${cleanText(cmd, { oneLine: true })} (try /help)`));
  }
}
