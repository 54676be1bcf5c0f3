// Where the vault password comes from: PHANTOM_PASSWORD, then PHANTOM_PASSWORD_FILE
// (for scripts), then a hidden prompt on a terminal (twice when creating).

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { PhantomError } from "../../lib/errors.ts";
import { checkNewPassword, MIN_PASSWORD_LENGTH } from "../state/vault.ts";
import type { PasswordSource } from "./config.ts";
import { askLine } from "./prompt.ts";
import { describeErrno, formatBytes } from "../text/format.ts";

/** A password file holds one line; anything longer (or endless, like /dev/zero) is refused. */
export const MAX_PASSWORD_FILE_BYTES = 4096;

export type { PasswordSource } from "./config.ts";

export interface PasswordOptions {
  source: PasswordSource;
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

/** The password PHANTOM_PASSWORD or PHANTOM_PASSWORD_FILE gives; null when it is to be asked for. */
function given(source: PasswordSource): string | null {
  if (source.kind === "env") return source.password;
  if (source.kind === "file") return stripNewline(readPasswordFile(source.path));
  return null;
}

/**
 * PHANTOM_PASSWORD_FILE: a regular file only we can read (like ssh's private keys), or a
 * pipe (`<(pass show phantom)`, /dev/stdin). Symbolic links are followed (/dev/stdin is one):
 * what is checked is the file read. At most MAX_PASSWORD_FILE_BYTES are read.
 */
export function readPasswordFile(file: string): string {
  const what = `PHANTOM_PASSWORD_FILE ${file}`;
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new PhantomError("password-file", `cannot read ${what}: ${describeErrno(code)}`, { cause });
  }
  try {
    const st = fstatSync(fd);
    // A file that has no name any more (nlink 0: a here-document, a memfd) is nobody else's to open.
    if (st.isFile() && st.nlink > 0 && (st.mode & 0o044) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
      throw new PhantomError("password-file", `${what} can be read by other users (mode ${mode}): chmod 600 it`);
    }
    const buf = new Uint8Array(MAX_PASSWORD_FILE_BYTES + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > MAX_PASSWORD_FILE_BYTES) {
        throw new PhantomError("password-file", `${what} is longer than ${formatBytes(MAX_PASSWORD_FILE_BYTES)}`);
      }
    }
    return new TextDecoder().decode(buf.subarray(0, got));
  } catch (cause) {
    if (cause instanceof PhantomError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new PhantomError("password-file", `cannot read ${what}: ${describeErrno(code)}`, { cause });
  } finally {
    closeSync(fd);
  }
}

export async function readPassword(o: PasswordOptions): Promise<string> {
  const fromEnv = given(o.source);
  if (fromEnv !== null) {
    if (o.create) checkNewPassword(fromEnv);
    return fromEnv;
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
