// The few facts of the environment every command needs before anything else is loaded: the home
// folder and where the password comes from. Kept free of heavy imports: a command that goes
// through a running daemon loads this, not the configuration (config.ts) or the session.

import { homedir } from "node:os";
import { join, resolve } from "node:path";

export type Env = Record<string, string | undefined>;

/** The global options of the phantom command line. */
export interface ClientFlags {
  json?: boolean;
  relay?: string;
  direct?: boolean;
  /** --no-daemon (commander: daemon false): unlock in this process even when a daemon runs. */
  daemon?: boolean;
}

/** Where the vault password comes from: PHANTOM_PASSWORD, else PHANTOM_PASSWORD_FILE, else a terminal prompt. */
export type PasswordSource = { kind: "env"; password: string } | { kind: "file"; path: string } | { kind: "prompt" };

export const set = (v: string | undefined): v is string => v !== undefined && v !== "";

/** $PHANTOM_HOME, else `<homedir>/.phantom`, as an absolute path. */
export function resolveHome(env: Env, home: string): string {
  return resolve(set(env.PHANTOM_HOME) ? env.PHANTOM_HOME : join(home, ".phantom"));
}

export function passwordSourceOf(env: Env): PasswordSource {
  if (set(env.PHANTOM_PASSWORD)) return { kind: "env", password: env.PHANTOM_PASSWORD };
  if (set(env.PHANTOM_PASSWORD_FILE)) return { kind: "file", path: env.PHANTOM_PASSWORD_FILE };
  return { kind: "prompt" };
}

/** $PHANTOM_HOME, else ~/.phantom. */
export function homeFromEnv(env: Env = process.env): string {
  return resolveHome(env, homedir());
}
