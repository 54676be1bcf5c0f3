// A real redis-server for the tests (issue 13 --live redis://…): started on 127.0.0.1 and a free
// port with a temporary folder and no persistence, stopped and removed afterwards. halt() and
// start() stop and start it again on the same port, for the tests of Redis going away.
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./pg-server.ts";

/** redis-server on PATH, else Debian's /usr/bin/redis-server, else null. */
export function redisServerBin(): string | null {
  return Bun.which("redis-server") ?? (existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : null);
}

export const NO_REDIS =
  redisServerBin() === null ? "redis-server is not installed (./build.sh test installs it)" : null;

export interface RedisServer {
  /** redis://127.0.0.1:PORT (no password: bound to loopback). */
  url: string;
  port: number;
  dir: string;
  /** Stop the server (connections are cut); everything it held is gone (no persistence). */
  halt(): Promise<void>;
  /** Start it again after halt(), on the same port. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers (a hung server); resume() with SIGCONT. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** True once the server answers PING with +PONG. */
async function answersPing(port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  let got = "";
  try {
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write("PING\r\n");
        },
        data(s, chunk) {
          got += chunk.toString();
          if (got.includes("\r\n")) {
            resolve(got.startsWith("+PONG"));
            s.end();
          }
        },
        close() {
          resolve(false);
        },
        error() {
          resolve(false);
        },
      },
    });
    const timer = setTimeout(() => {
      resolve(false);
      socket.end();
    }, 1000);
    const ok = await promise;
    clearTimeout(timer);
    return ok;
  } catch {
    return false; // refused: not listening yet
  }
}

export async function startRedis(): Promise<RedisServer> {
  const bin = redisServerBin();
  if (!bin) throw new Error(NO_REDIS!);
  const dir = mkdtempSync(join(tmpdir(), "phantom-redis-"));
  const port = await freePort();
  let proc: Subprocess<"ignore", "pipe", "ignore"> | null = null;
  let log = "";
  const launch = async () => {
    const p = Bun.spawn(
      [bin, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdin: "ignore", stdout: "pipe", stderr: "ignore" },
    );
    proc = p;
    void (async () => {
      // Drained, so a chatty server never blocks on a full pipe; the tail says why it failed.
      for await (const chunk of p.stdout) log = (log + new TextDecoder().decode(chunk)).slice(-4000);
    })();
    for (const end = Date.now() + 10_000; ; await Bun.sleep(20)) {
      if (await answersPing(port)) return;
      if (p.exitCode !== null || Date.now() > end) throw new Error(`redis-server did not start: ${log.slice(-600)}`);
    }
  };
  const halt = async () => {
    const p = proc as Subprocess | null;
    if (!p || p.exitCode !== null) return;
    p.kill("SIGCONT"); // a paused one too
    p.kill("SIGKILL"); // gone at once, as a crash or a lost network would be
    await p.exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    halt,
    start: launch,
    pause: () => (proc as Subprocess | null)?.kill("SIGSTOP"),
    resume: () => (proc as Subprocess | null)?.kill("SIGCONT"),
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
