// Test helper: run the compiled client (dist/phantom) without a terminal, with its
// own PHANTOM_HOME and the password in the environment, as a script would.
import { CLIENT_BIN, lines } from "./relay.ts";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (throws if a line is not JSON). */
  json(): Record<string, unknown>[];
}

export const PASSWORD = "correct horse battery";

export interface User {
  home: string;
  env: Record<string, string>;
  uid: string;
}

/** Environment for one user: no Tor probing of a real proxy, no inherited PHANTOM_* variables. */
export function userEnv(home: string, relayUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    PHANTOM_HOME: home,
    PHANTOM_RELAY: relayUrl,
    PHANTOM_PASSWORD: PASSWORD,
    ...extra,
  };
}

/** A terminal user's environment: userEnv without PHANTOM_PASSWORD, so the interactive client asks. */
export function terminalEnv(
  home: string,
  relayUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const { PHANTOM_PASSWORD: _none, ...env } = userEnv(home, relayUrl, extra);
  return env;
}

export async function phantom(
  env: Record<string, string>,
  args: string[],
  o: { stdin?: string; cwd?: string } = {},
): Promise<Run> {
  return await runProgram([CLIENT_BIN, ...args], env, o);
}

/** Run any program to its end with exactly `env`; stdin is `o.stdin` or nothing. */
export async function runProgram(
  argv: string[],
  env: Record<string, string>,
  o: { stdin?: string; cwd?: string } = {},
): Promise<Run> {
  const proc = Bun.spawn(argv, {
    env,
    cwd: o.cwd,
    stdin: o.stdin === undefined ? "ignore" : new TextEncoder().encode(o.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return {
    code,
    stdout,
    stderr,
    json: () =>
      stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A failed run: exit 1, exactly one stderr line `phantom: error: …`, no stack trace. */
export function expectOneLineError(r: Run): string {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  const errors = lines.filter((l) => l.startsWith("phantom: error: "));
  if (r.code !== 1 || errors.length !== 1 || /\n\s+at /.test(r.stderr)) {
    throw new Error(`expected one error line and exit 1, got ${r.code}:\n${r.stderr}`);
  }
  return errors[0]!.slice("phantom: error: ".length);
}

/**
 * `phantom listen --json` as a child, returned once it says on stderr that it is listening;
 * `out` gives its stdout lines. The caller ends it (SIGINT) and checks its exit code.
 */
export async function startListen(env: Record<string, string>) {
  const proc = Bun.spawn([CLIENT_BIN, "listen", "--json"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  try {
    const errs = lines(proc.stderr);
    for (;;) {
      const e = await errs.next();
      if (e.done) throw new Error(`listen stopped: exit ${await proc.exited}`);
      if (e.value.startsWith("phantom: listening")) break;
    }
  } catch (e) {
    proc.kill("SIGINT");
    throw e;
  }
  return { proc, out: lines(proc.stdout) };
}
