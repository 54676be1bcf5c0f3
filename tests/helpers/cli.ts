// Test helper: run the compiled client (dist/phantom) without a terminal, with its
// own PHANTOM_HOME and the password in the environment, as a script would.
import { within, tail } from "./deadline.ts";
import { CLIENT_BIN, lines } from "./relay.ts";
import { daemonAfterInit } from "./daemon.ts";

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

/** How long a program may run before runProgram kills it and fails with its output so far. */
export const RUN_DEADLINE_MS = 45_000;

export async function phantom(
  env: Record<string, string>,
  args: string[],
  o: { stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return await runProgram([CLIENT_BIN, ...args], env, o);
}

/** All of a stream as text; `sofar()` gives what arrived until now. */
function collect(stream: ReadableStream<Uint8Array>): { text: Promise<string>; sofar(): string } {
  const decoder = new TextDecoder();
  let buf = "";
  const text = (async () => {
    for await (const chunk of stream) buf += decoder.decode(chunk, { stream: true });
    buf += decoder.decode();
    return buf;
  })();
  return { text, sofar: () => buf };
}

/**
 * Run any program to its end with exactly `env`; stdin is `o.stdin` or nothing. A program
 * still running after `o.timeoutMs` (RUN_DEADLINE_MS) is killed and the run fails with its output.
 */
export async function runProgram(
  argv: string[],
  env: Record<string, string>,
  o: { stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  const proc = Bun.spawn(argv, {
    env,
    cwd: o.cwd,
    stdin: o.stdin === undefined ? "ignore" : new TextEncoder().encode(o.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = collect(proc.stdout);
  const err = collect(proc.stderr);
  const ms = o.timeoutMs ?? RUN_DEADLINE_MS;
  const [stdout, stderr, code] = await within(
    Promise.all([out.text, err.text, proc.exited]),
    ms,
    () =>
      `${argv.join(" ")} did not exit within ${ms / 1000} s (killed); ` +
      `stdout:\n${tail(out.sofar())}\nstderr:\n${tail(err.sofar())}`,
    () => proc.kill("SIGKILL"),
  );
  await daemonAfterInit(argv, env, code);
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
 * `phantom listen --json [args]` as a child, returned once it says on stderr that it is listening;
 * `out` gives its stdout lines. The caller ends it (SIGINT) and checks its exit code.
 */
export async function startListen(env: Record<string, string>, timeoutMs = 20_000, args: string[] = []) {
  const proc = Bun.spawn([CLIENT_BIN, "listen", "--json", ...args], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const seen: string[] = [];
  try {
    const errs = lines(proc.stderr);
    const listening = async () => {
      for (;;) {
        const e = await errs.next();
        if (e.done) throw new Error(`listen stopped: exit ${await proc.exited}; stderr:\n${tail(seen.join("\n"))}`);
        if (e.value.startsWith("phantom: listening")) return;
        seen.push(e.value);
      }
    };
    await within(
      listening(),
      timeoutMs,
      () => `listen did not say "phantom: listening" within ${timeoutMs / 1000} s; stderr:\n${tail(seen.join("\n"))}`,
    );
  } catch (e) {
    proc.kill("SIGINT");
    throw e;
  }
  return { proc, out: lines(proc.stdout) };
}

/** The next stdout line of a listen, parsed; fails after `ms` with what it is waiting for. */
export async function nextJson(
  out: AsyncGenerator<string>,
  what: string,
  ms = 30_000,
): Promise<Record<string, unknown>> {
  const r = await within(out.next(), ms, () => `listen printed no line within ${ms / 1000} s (waiting for ${what})`);
  if (r.done) throw new Error(`listen's stdout ended (waiting for ${what})`);
  return JSON.parse(r.value) as Record<string, unknown>;
}

/** The next message line of a listen --json, parsed; event lines before it go to `events`. */
export async function nextMessage(
  out: AsyncGenerator<string>,
  what: string,
  events: Record<string, unknown>[] = [],
  ms = 30_000,
): Promise<Record<string, unknown>> {
  for (;;) {
    const line = await nextJson(out, what, ms);
    if (!("event" in line)) return line;
    events.push(line);
  }
}

/** Run phantom as `u` and expect exit 0; the run, or an error with its stderr. */
export async function ok(u: { env: Record<string, string> }, args: string[], o: { stdin?: string; cwd?: string } = {}) {
  const r = await phantom(u.env, args, o);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}
