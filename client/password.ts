// Where the vault password comes from: PHANTOM_PASSWORD, then PHANTOM_PASSWORD_FILE
// (for scripts), then a hidden prompt on a terminal (twice when creating).

import { readFileSync } from "node:fs";
import { PhantomError } from "../lib/errors.ts";
import { askLine } from "./prompt.ts";

export const MIN_PASSWORD_LENGTH = 8;

type Env = Record<string, string | undefined>;

export interface PasswordOptions {
  env: Env;
  /** Creating an identity: ask twice on a terminal and require MIN_PASSWORD_LENGTH characters. */
  create?: boolean;
  isTTY?: boolean;
  /** The terminal question when unlocking (default "Password: "). */
  prompt?: string;
  /** Test hook: replaces the terminal prompt. */
  testOnlyAsk?: (question: string) => Promise<string>;
}

/** Strip one final line ending: files written by `echo` end with one. */
function stripNewline(s: string): string {
  return s.replace(/\r?\n$/, "");
}

function fromEnv(env: Env): string | null {
  const direct = env.PHANTOM_PASSWORD;
  if (direct !== undefined && direct !== "") return direct;
  const file = env.PHANTOM_PASSWORD_FILE;
  if (file !== undefined && file !== "") {
    try {
      return stripNewline(readFileSync(file, "utf8"));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? "I/O error";
      throw new PhantomError("password-file", `cannot read PHANTOM_PASSWORD_FILE ${file}: ${code}`, { cause });
    }
  }
  return null;
}

export function checkNewPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new PhantomError("weak-password", `the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

export async function readPassword(o: PasswordOptions): Promise<string> {
  const given = fromEnv(o.env);
  if (given !== null) {
    if (o.create) checkNewPassword(given);
    return given;
  }
  const isTTY = o.isTTY ?? process.stdin.isTTY === true;
  if (!isTTY && !o.testOnlyAsk) {
    throw new PhantomError(
      "no-password",
      "no password: set PHANTOM_PASSWORD or PHANTOM_PASSWORD_FILE, or run in a terminal",
    );
  }
  const ask = o.testOnlyAsk ?? ((q: string) => askLine(q, { hidden: true }));
  if (!o.create) return await ask(o.prompt ?? "Password: ");
  for (;;) {
    const first = await ask(`New password (at least ${MIN_PASSWORD_LENGTH} characters): `);
    if ([...first].length < MIN_PASSWORD_LENGTH) {
      process.stderr.write(`phantom: too short, at least ${MIN_PASSWORD_LENGTH} characters\n`);
      continue;
    }
    if ((await ask("Repeat the password: ")) === first) return first;
    process.stderr.write("phantom: the passwords differ, try again\n");
  }
}
