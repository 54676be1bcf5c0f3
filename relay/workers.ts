// `phantom-relay --workers N` (issue 13): N relay processes on one host, sharing the listening
// port (SO_REUSEPORT: the kernel spreads new connections across them) and the configured
// PostgreSQL and Redis. This process only supervises: it starts the workers, prints the one
// "listening on" line once all listen, passes their log lines on, starts a worker again when it
// dies (a client's reconnect lands on another worker meanwhile), replaces them one at a time on
// SIGHUP (a restart that loses nothing: each old worker finishes its requests before it stops),
// and on SIGTERM/SIGINT stops them all the graceful way and exits when they have.
import type { Subprocess } from "bun";
import { basename } from "node:path";
import { VERSION } from "../lib/version.ts";

/** Set in a worker's environment: its number; it then listens with reusePort. */
export const WORKER_ENV = "PHANTOM_RELAY_WORKER";
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before dying is restarted at once (backoff starts again). */
const HEALTHY_AFTER_MS = 10_000;
const START_TIMEOUT_MS = 30_000;

type Proc = Subprocess<"ignore", "pipe", "inherit">;

interface Worker {
  id: number;
  proc: Proc;
  started: number;
  /** Resolves with the URL of its "listening on" line, rejects if it exits first. */
  listening: Promise<string>;
}

/** How to start this same relay again: the compiled binary, or bun and the script from source. */
function selfCommand(): string[] {
  const runtime = /^bun(\.exe)?$/i.test(basename(process.execPath));
  return runtime ? [process.execPath, Bun.main] : [process.execPath];
}

/** The user's arguments without --workers (a worker never supervises) and with the port fixed. */
export function workerArgs(argv: readonly string[], port: number | null): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--workers") i++;
    else if (!a.startsWith("--workers=")) out.push(a);
  }
  if (port !== null) out.push("--port", String(port)); // the last --port wins (relay/config.ts)
  return out;
}

const LISTENING = /^phantom-relay \S+ listening on (\S+)$/;

/** `env`: the supervisor's environment (relay.ts passes its own), which the workers get too. */
export async function superviseWorkers(
  argv: readonly string[],
  count: number,
  env: Record<string, string | undefined>,
): Promise<number> {
  const write = (line: string) => void Bun.write(Bun.stdout, `${line}\n`);
  // The workers' lines wait until ours says "listening on": it stays the first line of stdout.
  let held: string[] | null = [];
  const passOn = (line: string) => (held ? held.push(line) : write(line));
  let port: number | null = null;
  let stopping = false;
  const workers = new Map<number, Worker>();
  const backoff = new Map<number, number>();

  const spawn = (id: number): Worker => {
    const proc = Bun.spawn([...selfCommand(), ...workerArgs(argv, port)], {
      // Empty counts as unset: the worker runs one relay, not a supervisor of its own.
      env: { ...env, [WORKER_ENV]: String(id), PHANTOM_RELAY_WORKERS: "" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
    }) as Proc;
    let announced: (url: string) => void = () => {};
    let failed: (e: Error) => void = () => {};
    const listening = new Promise<string>((res, rej) => ((announced = res), (failed = rej)));
    listening.catch(() => {}); // awaited by whoever needs it
    void (async () => {
      let first = true;
      let buf = "";
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) {
        buf += decoder.decode(chunk, { stream: true });
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const m = first ? LISTENING.exec(line) : null;
          first = false;
          if (m) announced(m[1]!);
          else passOn(line);
        }
      }
    })();
    void proc.exited.then((code) => {
      failed(new Error(`worker ${id} exited with code ${code} before listening`));
      onExit(id, proc, code);
    });
    const w = { id, proc, started: Date.now(), listening };
    workers.set(id, w);
    return w;
  };

  const onExit = (id: number, proc: Proc, code: number) => {
    const w = workers.get(id);
    if (stopping || !w || w.proc !== proc) return; // stopping, or already replaced (SIGHUP)
    workers.delete(id);
    const ranMs = Date.now() - w.started;
    const wait = ranMs > HEALTHY_AFTER_MS ? 0 : Math.min(RESTART_MAX_MS, (backoff.get(id) ?? RESTART_MIN_MS / 2) * 2);
    backoff.set(id, wait || RESTART_MIN_MS / 2);
    write(`warn: worker ${id} exited (code ${code}); starting it again in ${wait} ms`);
    setTimeout(() => {
      if (!stopping) spawn(id);
    }, wait);
  };

  const stopAll = async () => {
    stopping = true;
    const all = [...workers.values()];
    for (const w of all) w.proc.kill("SIGTERM");
    await Promise.all(all.map((w) => w.proc.exited));
  };

  /** SIGHUP: each worker in turn is replaced by a new one that listens before the old one stops. */
  let rolling = false;
  const rollingRestart = async () => {
    if (rolling || stopping) return;
    rolling = true;
    try {
      for (const id of [...workers.keys()]) {
        const old = workers.get(id);
        if (!old || stopping) continue;
        const fresh = spawn(id); // takes the slot: the old one's exit is not a crash
        await within(fresh.listening, START_TIMEOUT_MS);
        old.proc.kill("SIGTERM");
        await old.proc.exited;
      }
      write("info: every worker was restarted");
    } catch (e) {
      write(`warn: rolling restart stopped: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      rolling = false;
    }
  };

  let done: (code: number) => void;
  const finished = new Promise<number>((res) => (done = res));
  const shutdown = () => void stopAll().then(() => done(0));
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  process.on("SIGHUP", () => void rollingRestart());
  process.on("SIGPIPE", () => {});

  try {
    // The first worker binds the port (it may be 0: a free one); the others share what it got.
    const first = spawn(0);
    const url = await within(first.listening, START_TIMEOUT_MS);
    port = Number(new URL(url).port);
    const rest = Array.from({ length: count - 1 }, (_, i) => spawn(i + 1));
    await Promise.all(rest.map((w) => within(w.listening, START_TIMEOUT_MS)));
    if (stopping) return await finished;
    write(`phantom-relay ${VERSION} listening on ${url}`); // as one relay says it: scripts read this line
    write(`info: ${count} workers share port ${port}`);
    for (const line of held ?? []) write(line);
    held = null;
  } catch (e) {
    await stopAll();
    process.stderr.write(`phantom-relay: error: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return await finished;
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("a worker did not start in time")), ms))),
  ]).finally(() => clearTimeout(timer));
}
