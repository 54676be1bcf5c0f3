// Commands a running daemon serves, started without commander: when $PHANTOM_HOME/daemon.sock
// exists, `phantom send bob hi`, `phantom read bob --limit 5`, `phantom contacts` and `phantom
// status` are recognised here and their module is run with exactly the arguments commander would
// give it (program.ts defines the same). Anything else — another option, a word that looks like
// one, help — goes through commander as always; so does everything when no daemon runs.

import { lstatSync } from "node:fs";
import { join } from "node:path";
import { DAEMON_SOCKET_FILE } from "../state/names.ts";
import { type Env, homeFromEnv } from "./env.ts";

interface Shape {
  /** Fewest and most positional arguments; `rest`: the last one is variadic. */
  min: number;
  max: number;
  rest?: boolean;
  /** Options taking a value: flag → the key commander gives it. */
  values?: Record<string, string>;
  /** Options without a value. */
  flags?: Record<string, string>;
  load: () => Promise<{ run: (...a: never[]) => Promise<void> }>;
}

const FAST: Record<string, Shape> = {
  send: { min: 1, max: 2, rest: true, values: { "--file": "file" }, load: () => import("./commands/send.ts") },
  read: {
    min: 1,
    max: 1,
    values: { "--limit": "limit", "--since": "since" },
    load: () => import("./commands/read.ts"),
  },
  contacts: {
    min: 0,
    max: 0,
    flags: { "--requests": "requests", "--blocked": "blocked" },
    load: () => import("./commands/contacts.ts"),
  },
  status: { min: 0, max: 0, load: () => import("./commands/status.ts") },
};

/** A word commander would read as an option (or that needs its rules): not for the fast path. */
const optionLike = (a: string) => a.startsWith("-");

/**
 * Run `argv` here when it is one of the fast commands and a daemon socket exists; true when it
 * ran. False: give the command line to commander.
 */
export async function runFast(argv: string[], env: Env): Promise<boolean> {
  const shape = FAST[argv[0] ?? ""];
  if (!shape) return false;
  try {
    if (!lstatSync(join(homeFromEnv(env), DAEMON_SOCKET_FILE)).isSocket()) return false;
  } catch {
    return false;
  }
  const globals: Record<string, unknown> = { daemon: true };
  const opts: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") globals.json = true;
    else if (shape.flags?.[a] !== undefined) opts[shape.flags[a]!] = true;
    else if (shape.values?.[a] !== undefined) {
      const v = argv[++i];
      if (v === undefined || optionLike(v) || opts[shape.values[a]!] !== undefined) return false;
      opts[shape.values[a]!] = v;
    } else if (optionLike(a)) return false;
    else positional.push(a);
  }
  if (positional.length < shape.min || (!shape.rest && positional.length > shape.max)) return false;
  const args: unknown[] = positional.slice(0, shape.rest ? shape.max - 1 : shape.max);
  if (shape.rest) args.push(positional.slice(shape.max - 1));
  while (args.length < (shape.rest ? shape.max : shape.max)) args.push(undefined);
  const mod = await shape.load();
  await (mod.run as (...a: unknown[]) => Promise<void>)(globals, ...args, opts);
  return true;
}
