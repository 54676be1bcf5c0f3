// The one printer of the phantom binary (STYLE habit 6): every error becomes one
// line `phantom: error: …` on stderr and an exit code; never a stack trace
// (unless PHANTOM_DEBUG=1). Kept free of heavy imports: phantom.ts loads it eagerly.

import { PhantomError } from "../../lib/errors.ts";
import { describeErrno } from "../text/format.ts";
import { oneLine } from "../text/sanitise.ts";

interface CommanderLike {
  code: string;
  exitCode: number;
  message: string;
}

function isCommanderError(e: unknown): e is CommanderLike {
  if (!(e instanceof Error)) return false;
  const c = e as Partial<CommanderLike>;
  return typeof c.code === "string" && c.code.startsWith("commander.") && typeof c.exitCode === "number";
}

/** The text after `phantom: error: `. */
export function errorText(e: unknown): string {
  if (isCommanderError(e)) return oneLine(e.message.replace(/^error:\s*/, ""));
  if (e instanceof PhantomError) return oneLine(e.message);
  const sys = e as Partial<NodeJS.ErrnoException>;
  if (e instanceof Error && typeof sys.code === "string" && /^E[A-Z]+$/.test(sys.code)) {
    // A system error that no command turned into words: say it in words, with the path it concerns.
    return `${describeErrno(sys.code)}${typeof sys.path === "string" ? `: ${oneLine(sys.path)}` : ""}`;
  }
  if (e instanceof Error) return `unexpected error: ${oneLine(e.message || e.name)}`;
  return `unexpected error: ${oneLine(String(e))}`;
}

/** Exit code for an error: 0 for commander's help/version exits, 130 when interrupted, else 1. */
export function exitCodeOf(e: unknown): number {
  if (isCommanderError(e)) return e.exitCode === 0 ? 0 : 1;
  if (e instanceof PhantomError && e.code === "interrupted") return 130;
  return 1;
}

/** PHANTOM_DEBUG=1: errors are printed with their stack trace. */
export function isDebug(env: Record<string, string | undefined>): boolean {
  return env.PHANTOM_DEBUG === "1";
}

/** The error's code for `--json` output: the PhantomError code, else bad-arguments or unexpected. */
export function errorCode(e: unknown): string {
  if (isCommanderError(e)) return "bad-arguments";
  if (e instanceof PhantomError) return e.code;
  return "unexpected";
}

/** The one line printed for an error: `phantom: error: …`, or with `--json` {"error":code,"message":…}. */
export function errorLine(e: unknown, json: boolean): string {
  if (!json) return `phantom: error: ${errorText(e)}`;
  return JSON.stringify({ error: errorCode(e), message: errorText(e) });
}

/** Whether the command line asks for JSON output (`--json` before any `--`), known before commander parses it. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** Print the error (if it is one) and return the exit code; with `debug`, the stack trace too. */
export function reportError(e: unknown, debug: boolean, json = false): number {
  const code = exitCodeOf(e);
  if (code === 0) return 0;
  process.stderr.write(`${errorLine(e, json)}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}

export function printWarning(message: string): void {
  process.stderr.write(`phantom: warning: ${oneLine(message)}\n`);
}
