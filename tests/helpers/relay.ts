// Test helper: start the real compiled relay (dist/phantom-relay) on an ephemeral
// port with a temporary data folder. Shared by relay and client end-to-end tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { tail, within } from "./deadline.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const RELAY_BIN = join(ROOT, "dist/phantom-relay");
export const CLIENT_BIN = join(ROOT, "dist/phantom");

export interface RelayOptions {
  /** Extra environment variables (e.g. MAX_FILE_SIZE_BYTES). */
  env?: Record<string, string>;
  /** Extra command-line arguments. */
  args?: string[];
  /** Reuse an existing data folder (restart tests). */
  dataDir?: string;
  /**
   * A command the relay is started through, e.g. ["prlimit", "--nofile=512"]. It must exec
   * the relay (so proc.pid is the relay's) and leave stdout alone.
   */
  wrapper?: string[];
}

export interface RunningRelay {
  url: string;
  port: number;
  dataDir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Lines the relay wrote to stdout/stderr so far (after the first line). */
  logs: string[];
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
  /** Remove the data folder (after stop). */
  cleanup(): void;
}

export function tempDir(prefix = "phantom-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The lines of a child's output as they arrive, without their "\n". A last line that
 * has no "\n" is dropped, or yielded too with `tail`.
 */
export async function* lines(stream: ReadableStream<Uint8Array>, o: { tail?: boolean } = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (o.tail && buf) yield buf;
}

async function pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  for await (const line of lines(stream, { tail: true })) onLine(line);
}

/**
 * Start dist/phantom-relay --port 0 and wait (15 s at most) for its "listening on <url>" line;
 * fails with the relay's exit code or its log when the line does not come.
 */
export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const dataDir = opts.dataDir ?? join(tempDir("phantom-relay-"), "data");
  const argv = [RELAY_BIN, "--host", "127.0.0.1", "--port", "0", "--data", dataDir, ...(opts.args ?? [])];
  const proc = Bun.spawn([...(opts.wrapper ?? []), ...argv], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const logs: string[] = [];
  let resolveUrl: (u: string) => void;
  const urlPromise = new Promise<string>((r) => (resolveUrl = r));
  let first = true;
  void pump(proc.stdout, (line) => {
    if (first) {
      first = false;
      const m = /^phantom-relay \S+ listening on (\S+)$/.exec(line);
      if (m) return resolveUrl(m[1]!);
    }
    logs.push(line);
  });
  void pump(proc.stderr, (line) => logs.push(line));
  const url = await within(
    Promise.race([
      urlPromise,
      proc.exited.then((code) => {
        throw new Error(`relay exited with code ${code} before listening:\n${tail(logs.join("\n"))}`);
      }),
    ]),
    15_000,
    () => `relay did not say "listening on" within 15 s (killed):\n${tail(logs.join("\n"))}`,
    () => proc.kill("SIGKILL"),
  );
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    proc,
    logs,
    async stop() {
      proc.kill("SIGTERM");
      return await proc.exited;
    },
    async kill9() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The test certificate for localhost/127.0.0.1 and its CA (tests/fixtures/tls). */
export const TLS_DIR = join(ROOT, "tests/fixtures/tls");

/** The real relay serving HTTPS with the test certificate. */
export function startTlsRelay(o: RelayOptions = {}): Promise<RunningRelay> {
  const tls = [
    "--tls-cert",
    join(TLS_DIR, "localhost-test-cert.pem"),
    "--tls-key",
    join(TLS_DIR, "localhost-test-key.pem"),
  ];
  return startRelay({ ...o, args: [...tls, ...(o.args ?? [])] });
}
