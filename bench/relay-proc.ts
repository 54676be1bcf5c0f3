// Benchmark helpers: start a server process (the compiled relay or the floor),
// wait for its "listening on <url>" line, and read its memory and CPU time
// from /proc. Used by bench/relay.ts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const ROOT = resolve(import.meta.dir, "..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

export interface Server {
  name: string;
  url: string;
  pid: number;
  /** The folder it runs in (its relative --data lives here). */
  dir: string;
  proc: Subprocess<"ignore", "pipe", "inherit">;
  stop(): Promise<void>;
}

/**
 * Spawn `argv` through a shell that first raises the soft file-descriptor limit
 * to the hard one (1,000+ sockets per process), then wait for the first line.
 */
export async function startServer(name: string, argv: string[], env: Record<string, string> = {}): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), `phantom-bench-${name}-`));
  const proc = Bun.spawn(["sh", "-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh", ...argv], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (!text.includes("\n")) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (next === null || next.done) throw new Error(`${name} did not start: ${text}`);
    text += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
  void proc.stdout.pipeTo(new WritableStream()); // keep draining its output
  const m = / listening on (\S+)/.exec(text.split("\n")[0]!);
  if (!m) throw new Error(`${name}: unexpected first line: ${text}`);
  return {
    name,
    url: m[1]!,
    pid: proc.pid,
    dir: dataDir,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(8000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resident memory of a process in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/** User + system CPU seconds a process has used (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** CPU seconds used by this (the load client) process. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
