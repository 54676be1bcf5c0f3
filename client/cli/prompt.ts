// Terminal questions for the command-line client: a hidden password prompt and
// yes/no confirmations. Questions go to stderr so stdout stays clean for scripts.

import { PhantomError } from "../../lib/errors.ts";

export function stdinIsTTY(): boolean {
  return process.stdin.isTTY === true;
}

/** Read one line from the terminal; `hidden` echoes nothing. Ctrl-C / Ctrl-D abort. */
export function askLine(question: string, o: { hidden?: boolean } = {}): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new PhantomError("no-terminal", "no terminal to ask on"));
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let line = "";
    const finish = (err: PhantomError | null) => {
      stdin.removeListener("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      const text = chunk.toString("utf8");
      if (text.startsWith("\u001b")) return; // arrow and function keys: ignored
      for (const ch of text) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003") return finish(new PhantomError("interrupted", "interrupted"));
        if (ch === "\u0004") {
          if (line === "") return finish(new PhantomError("interrupted", "interrupted"));
          continue;
        }
        if (ch === "\u007f" || ch === "\b") {
          if (line.length > 0) {
            line = [...line].slice(0, -1).join("");
            if (!o.hidden) process.stderr.write("\b \b");
          }
          continue;
        }
        if (ch < " ") continue; // other control keys are ignored
        line += ch;
        if (!o.hidden) process.stderr.write(ch);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** A yes/no question on the terminal, default No. */
export async function confirm(question: string): Promise<boolean> {
  const answer = (await askLine(`${question} [y/N] `)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}
