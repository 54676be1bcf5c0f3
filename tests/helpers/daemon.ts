// Test helper: `phantom daemon` as a child process (the compiled client), and a JSON-RPC client
// of its socket written here from the wire format (one JSON object per line), as a bot would,
// sharing no code with the client's own (client/daemon/client.ts).
//
// PHANTOM_TEST_DAEMON=1: every CLI user gets a daemon as soon as `phantom init` made their
// identity (tests/daemon-mode.test.ts runs whole test files so): the same tests, through it.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { within, tail } from "./deadline.ts";
import { CLIENT_BIN, lines } from "./relay.ts";

export interface RunningDaemon {
  proc: ReturnType<typeof Bun.spawn>;
  /** Its stderr lines so far (the log). */
  log: string[];
  /** SIGTERM; resolves with its exit code. */
  stop(): Promise<number>;
  /** SIGKILL, as a crash would. */
  kill9(): Promise<void>;
}

const running = new Set<RunningDaemon>();
process.on("exit", () => {
  for (const d of running) d.proc.kill("SIGKILL");
});

/** Start `phantom daemon ARGS` for env's PHANTOM_HOME; resolves once it says it is ready. */
export async function startDaemon(
  env: Record<string, string>,
  args: string[] = [],
  o: { timeoutMs?: number; stdin?: "pipe" } = {},
): Promise<RunningDaemon> {
  const proc = Bun.spawn([CLIENT_BIN, "daemon", ...args], {
    env,
    stdin: o.stdin ?? "ignore",
    stdout: args.includes("--stdio") ? "pipe" : "ignore",
    stderr: "pipe",
  });
  const log: string[] = [];
  const errs = lines(proc.stderr);
  const ready = (async () => {
    for (;;) {
      const e = await errs.next();
      if (e.done) throw new Error(`the daemon exited ${await proc.exited}:\n${tail(log.join("\n"))}`);
      log.push(e.value);
      if (/^phantom daemon: \S+ ready on /.test(e.value)) return;
    }
  })();
  const ms = o.timeoutMs ?? 30_000;
  await within(
    ready,
    ms,
    () => `the daemon was not ready within ${ms / 1000} s:\n${tail(log.join("\n"))}`,
    () => proc.kill("SIGKILL"),
  );
  // The rest of the log is kept as it comes.
  void (async () => {
    for await (const l of { [Symbol.asyncIterator]: () => errs }) log.push(l);
  })();
  const d: RunningDaemon = {
    proc,
    log,
    stop: async () => {
      proc.kill("SIGTERM");
      const code = await within(
        proc.exited,
        20_000,
        () => `the daemon did not stop on SIGTERM:\n${tail(log.join("\n"))}`,
      );
      running.delete(d);
      return code;
    },
    kill9: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
      running.delete(d);
    },
  };
  running.add(d);
  return d;
}

/** Whether this run puts a daemon behind every CLI user (PHANTOM_TEST_DAEMON=1). */
export const DAEMON_MODE = process.env.PHANTOM_TEST_DAEMON === "1";

/** In daemon mode, after a `phantom init` that made an identity: its daemon. */
export async function daemonAfterInit(argv: string[], env: Record<string, string>, code: number): Promise<void> {
  if (!DAEMON_MODE || code !== 0 || argv[0] !== CLIENT_BIN || !argv.includes("init")) return;
  if (argv.slice(1).some((a) => a === "--help" || a === "-h")) return;
  await startDaemon(env);
  // From now on a command that does not go through the daemon fails (it has no password): the
  // test proves its commands were served by the daemon.
  delete env.PHANTOM_PASSWORD;
  started++;
  if (process.env.PHANTOM_TEST_DAEMON_COUNT) appendFileSync(process.env.PHANTOM_TEST_DAEMON_COUNT, "1\n");
}

let started = 0;

export interface Notification {
  method: string;
  params: Record<string, unknown>;
}

/** A JSON-RPC 2.0 client of a daemon socket. */
export class Rpc {
  private sock!: Awaited<ReturnType<typeof Bun.connect>>;
  private buf = "";
  private id = 0;
  private readonly waiting = new Map<number, (m: Record<string, unknown>) => void>();
  /** Notifications not yet taken by next(). */
  readonly notes: Notification[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  static async connect(home: string): Promise<Rpc> {
    const r = new Rpc();
    r.sock = await Bun.connect({
      unix: join(home, "daemon.sock"),
      socket: {
        data: (_s, chunk) => r.onData(Buffer.from(chunk).toString("utf8")),
        close: () => {
          r.closed = true;
          r.wake?.();
        },
      },
    });
    return r;
  }

  private onData(text: string): void {
    this.buf += text;
    for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const m = JSON.parse(line) as Record<string, unknown>;
      if (typeof m.method === "string") {
        this.notes.push({ method: m.method, params: m.params as Record<string, unknown> });
        this.wake?.();
      } else this.waiting.get(m.id as number)?.(m);
    }
  }

  /** The whole response object ({result} or {error}). */
  async request(method: string, params: unknown = {}, ms = 30_000): Promise<Record<string, unknown>> {
    const id = ++this.id;
    const answer = new Promise<Record<string, unknown>>((r) => this.waiting.set(id, r));
    this.sock.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    return await within(answer, ms, () => `no answer to ${method} within ${ms / 1000} s`);
  }

  /** The result, or an Error with the JSON-RPC error's message. */
  async call<T = Record<string, unknown>>(method: string, params: unknown = {}, ms = 30_000): Promise<T> {
    const r = await this.request(method, params, ms);
    if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
    return r.result as T;
  }

  /** The next notification of `method` (others are left in notes). */
  async next(method: string, ms = 30_000): Promise<Record<string, unknown>> {
    const take = () => {
      const i = this.notes.findIndex((n) => n.method === method);
      return i < 0 ? null : this.notes.splice(i, 1)[0]!.params;
    };
    const wait = async () => {
      for (;;) {
        const n = take();
        if (n) return n;
        if (this.closed) throw new Error(`the connection closed (waiting for ${method})`);
        await new Promise<void>((r) => (this.wake = r));
      }
    };
    return await within(wait(), ms, () => `no ${method} notification within ${ms / 1000} s`);
  }

  close(): void {
    this.sock.end();
  }
}
