#!/usr/bin/env bun
// `./build.sh bench abuse [name…]`: runs each attack of bench/abuse/index.ts for a few
// seconds against a fresh compiled relay and prints the relay's peak RSS, its CPU use and
// the latency of /health (probed on a new connection every 250 ms) during the attack.
// Not a test: it prints, it does not assert. PHANTOM_BENCH_RELAY names another relay
// binary (an older build, for before/after figures); BENCH_SECONDS sets the duration (8).
import { join } from "node:path";
import type { Attack } from "./abuse/attack.ts";
import { attacks } from "./abuse/index.ts";
import { cpuSeconds, ROOT, rssBytes, startServer } from "./relay-proc.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "8");
const RELAY = process.env.PHANTOM_BENCH_RELAY ?? join(ROOT, "dist/phantom-relay");
const PROBE_EVERY_MS = 250;
const PROBE_TIMEOUT_MS = 10_000;

interface Figures {
  baseRss: number;
  peakRss: number;
  cpuPercent: number;
  probes: number[];
  failed: number;
  notes: string[];
  error?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function probe(url: string): Promise<number | null> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/health`, { keepalive: false, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.status === 200 ? performance.now() - started : null;
  } catch {
    return null;
  }
}

async function runOne(attack: Attack): Promise<Figures> {
  const argv = attack.nofile ? ["prlimit", `--nofile=${attack.nofile}`, RELAY, "--port", "0"] : [RELAY, "--port", "0"];
  const server = await startServer(attack.name, argv, { ...attack.relayEnv });
  const f: Figures = { baseRss: 0, peakRss: 0, cpuPercent: 0, probes: [], failed: 0, notes: [] };
  try {
    await Bun.sleep(300);
    f.baseRss = f.peakRss = rssBytes(server.pid);
    const stop = new AbortController();
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const sampler = setInterval(() => {
      if (!alive(server.pid)) return stop.abort();
      try {
        f.peakRss = Math.max(f.peakRss, rssBytes(server.pid));
      } catch {
        stop.abort();
      }
    }, 100);
    const prober = (async () => {
      while (!stop.signal.aborted) {
        const ms = await probe(server.url);
        if (ms === null) f.failed++;
        else f.probes.push(ms);
        await Bun.sleep(PROBE_EVERY_MS);
      }
    })();
    const timer = setTimeout(() => stop.abort(), SECONDS * 1000);
    try {
      await attack.run({
        url: server.url,
        pid: server.pid,
        seconds: SECONDS,
        signal: stop.signal,
        note: (line) => f.notes.push(line),
      });
    } catch (e) {
      f.error = e instanceof Error ? e.message : String(e);
    }
    clearTimeout(timer);
    stop.abort();
    clearInterval(sampler);
    await prober;
    const wall = (performance.now() - t0) / 1000;
    if (alive(server.pid)) f.cpuPercent = ((cpuSeconds(server.pid) - cpu0) / wall) * 100;
    else f.error = (f.error ? f.error + "; " : "") + "the relay died";
  } finally {
    await server.stop();
  }
  return f;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const MB = 1024 * 1024;
const wanted = process.argv.slice(2);
const chosen = wanted.length ? attacks.filter((a) => wanted.includes(a.name)) : attacks;
for (const name of wanted) {
  if (!attacks.some((a) => a.name === name)) {
    process.stderr.write(`bench abuse: error: unknown attack '${name}' (${attacks.map((a) => a.name).join(", ")})\n`);
    process.exit(2);
  }
}
console.log(`relay: ${RELAY}`);
console.log(`${SECONDS} s per attack; /health probed every ${PROBE_EVERY_MS} ms on a new connection`);
console.log("");
console.log("attack               base RSS  peak RSS   CPU   /health p50    p99    max  failed");
for (const attack of chosen) {
  const f = await runOne(attack);
  const s = [...f.probes].sort((a, b) => a - b);
  const ms = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(0)).padStart(6);
  console.log(
    `${attack.name.padEnd(20)} ${(f.baseRss / MB).toFixed(0).padStart(6)} MB ${(f.peakRss / MB).toFixed(0).padStart(6)} MB` +
      ` ${f.cpuPercent.toFixed(0).padStart(4)}%  ${ms(pct(s, 0.5))} ms ${ms(pct(s, 0.99))} ${ms(s.at(-1) ?? NaN)}` +
      ` ${String(f.failed).padStart(7)}`,
  );
  console.log(`  ${attack.what}`);
  for (const n of f.notes) console.log(`  ${n}`);
  if (f.error) console.log(`  error: ${f.error}`);
}
