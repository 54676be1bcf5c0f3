// phantom send <uid> [text…] — text from the arguments or stdin (PROTOCOL §5.2);
// phantom send <uid> --file PATH — an encrypted file (§5.3) with a progress bar on a terminal.
import { PhantomError } from "../../../lib/errors.ts";
import { escapeText } from "../../text/sanitise.ts";
import { formatBytes } from "../../text/format.ts";
import { resolve } from "node:path";
import type { Result } from "../../daemon/api.ts";
import { Ctx, type Globals, progressBar } from "./context.ts";

export async function run(g: Globals, uid: string, words: string[], o: { file?: string }): Promise<void> {
  const ctx = new Ctx(g);
  if (o.file !== undefined && words.length > 0) {
    throw new PhantomError("bad-arguments", "give either a text or --file, not both");
  }
  let text: string | null = null;
  if (o.file === undefined) {
    if (words.length > 0) text = words.join(" ");
    else if (process.stdin.isTTY) {
      throw new PhantomError("bad-arguments", "nothing to send: give the text, or pipe it on stdin");
    } else text = (await Bun.stdin.text()).replace(/\r?\n$/, "");
    if (text.trim() === "") throw new PhantomError("empty-message", "nothing to send: the message is empty");
  }
  const api = await ctx.api();
  const c = await api.call("contacts.get", { contact: uid });
  if (text !== null) {
    const { ts } = await api.call("send", { contact: c.uid, text });
    if (ctx.json) ctx.jsonLine({ ts });
  } else {
    // Ctrl-C (SIGINT) cancels the upload: nothing is announced, so the peer gets nothing; exit 130.
    const ac = new AbortController();
    const onSignal = (): void => ac.abort();
    process.on("SIGINT", onSignal);
    let sent: Result<"sendFile">;
    try {
      sent = await api.call(
        "sendFile",
        { contact: c.uid, path: resolve(o.file!) },
        { onProgress: progressBar("uploading"), signal: ac.signal },
      );
    } catch (e) {
      if (ac.signal.aborted) {
        api.close();
        throw new PhantomError("interrupted", "interrupted: upload cancelled, the file was not sent", { cause: e });
      }
      throw e;
    } finally {
      process.off("SIGINT", onSignal);
    }
    const { ts, file: f } = sent;
    if (ctx.json) ctx.jsonLine({ ts, file: f });
    else ctx.line(`sent file ${f.n}: ${escapeText(f.name)} (${formatBytes(f.size)})`);
  }
  api.close();
}
