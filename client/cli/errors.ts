// The one printer of the phantom binary (STYLE habit 6): every error becomes one
// line `phantom: error: …` on stderr and an exit code; never a stack trace
// (unless PHANTOM_DEBUG=1). Kept free of heavy imports: phantom.ts loads it eagerly.

import { PhantomError } from "../../lib/errors.ts";
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

/** Print the error (if it is one) and return the exit code; with `debug`, the stack trace too. */
export function reportError(e: unknown, debug: boolean): number {
  const code = exitCodeOf(e);
  if (code === 0) return 0;
  process.stderr.write(`phantom: error: ${errorText(e)}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}

export function printWarning(message: string): void {
  process.stderr.write(`phantom: warning: ${oneLine(message)}\n`);
}
