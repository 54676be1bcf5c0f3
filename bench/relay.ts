#!/usr/bin/env bun
// `./build.sh bench relay`: load benchmark of the compiled relay,
// each number printed beside the same measurement of the floor (bench/floor.ts,
// a bare Bun.serve that only parses the JSON). Not a test: it prints, it does
// not assert. Environment: BENCH_SECONDS (5), BENCH_CLIENTS (64), BENCH_PAIRS (500),
// BENCH_IDLE_SOCKETS (4000), BENCH_RATE (2000); PHANTOM_BENCH_RELAY names another relay binary.
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { VERSION } from "../lib/version.ts";
import { makePairs, sendThroughput, type Throughput } from "./relay-load.ts";
import { BUN, ROOT, startServer, type Server } from "./relay-proc.ts";
import {
  closeAll,
  deliveryAtRate,
  deliverySequential,
  idleSocketMemory,
  sparePairsFor,
  type Delivery,
  type IdleMemory,
} from "./relay-ws.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "5");
const PAIRS = Number(process.env.BENCH_PAIRS ?? "500"); // 2 sockets each: 1,000 room sockets
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? "64");
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? "4000");
const SEQUENTIAL_MESSAGES = 1000;
const RATE = Number(process.env.BENCH_RATE ?? "2000"); // sends per second in the open-loop latency run
const RATE_SECONDS = 3;
/** Another relay binary (an older build, for before/after figures). */
const RELAY = process.env.PHANTOM_BENCH_RELAY ?? join(ROOT, "dist/phantom-relay");

interface Result {
  fresh: Throughput;
  presigned: Throughput;
  mem: IdleMemory;
  sequential: Delivery;
  loaded: Delivery;
}

async function measure(server: Server, register: boolean): Promise<Result> {
  const log = (what: string) => process.stderr.write(`  ${server.name}: ${what}\n`);
  log(`${PAIRS} pairs (${register ? "registered and joined by /ke/push" : "no setup needed"})`);
  const pairs = await makePairs(server.url, PAIRS, register);
  // More rooms only when BENCH_IDLE_SOCKETS exceeds the relay's 8 sockets per room (not by default).
  const spare = await makePairs(server.url, sparePairsFor(IDLE_SOCKETS, PAIRS), register);
  log("warm-up");
  await sendThroughput(server.url, server.pid, pairs, CLIENTS, 1, 0);
  // Sockets first, while the server's heap has not yet grown from the throughput runs.
  log(`(c) opening ${IDLE_SOCKETS} sockets`);
  const pending = new Map();
  const { mem, sockets } = await idleSocketMemory(server.url, server.pid, pairs, pending, IDLE_SOCKETS, spare);
  log("(b) delivery latency");
  const sequential = await deliverySequential(server.url, pairs, pending, SEQUENTIAL_MESSAGES);
  const loaded = await deliveryAtRate(server.url, pairs, pending, RATE, RATE_SECONDS);
  closeAll(sockets);
  log(`(a) ${CLIENTS} clients × ${SECONDS} s, fresh signatures`);
  const fresh = await sendThroughput(server.url, server.pid, pairs, CLIENTS, SECONDS, 0);
  log(`(a) ${CLIENTS} clients × ${SECONDS} s, signatures made before the clock starts`);
  const presign = Math.min(250_000, Math.ceil(fresh.rps * SECONDS * 1.6));
  const presigned = await sendThroughput(server.url, server.pid, pairs, CLIENTS, SECONDS, presign);
  return { fresh, presigned, mem, sequential, loaded };
}

const n = (x: number, digits = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (x: number) => `${n(x, 2)} ms`;
const col = (s: string) => s.padEnd(24);
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

function report(relay: Result, floor: Result): void {
  const row = (label: string, r: string, f: string, target = "") =>
    console.log(`${label.padEnd(58)}${col(r)}${col(f)}${target}`.trimEnd());
  const rps = (t: Throughput) => `${n(t.rps)} req/s`;
  const lat = (t: { p50: number; p99: number }) => `${ms(t.p50)} / ${ms(t.p99)}`;
  const cpu = (t: Throughput) => `${n(t.clientCpu, 2)} / ${n(t.serverCpu, 2)}`;
  const kb = (m: IdleMemory) => `${n(m.perSocket / 1024, 1)} KB`;
  const rssLine = (m: IdleMemory) => `${n(m.before / 2 ** 20, 1)} → ${n(m.after / 2 ** 20, 1)} MiB`;
  console.log("");
  row("", "relay", "floor", "target (relay)");
  row(
    `(a) signed /send, ${CLIENTS} clients, fresh signatures`,
    rps(relay.fresh),
    rps(floor.fresh),
    `≥ 5,000 req/s: ${verdict(relay.fresh.rps >= 5000)}`,
  );
  row("    latency p50 / p99", lat(relay.fresh), lat(floor.fresh));
  row("    CPU cores used: load client / server", cpu(relay.fresh), cpu(floor.fresh));
  row(
    `(a) same, signatures made before the clock`,
    rps(relay.presigned),
    rps(floor.presigned),
    `≥ 5,000 req/s: ${verdict(relay.presigned.rps >= 5000)}`,
  );
  row("    latency p50 / p99", lat(relay.presigned), lat(floor.presigned));
  row("    CPU cores used: load client / server", cpu(relay.presigned), cpu(floor.presigned));
  const socketsLabel = `${n(2 * PAIRS)} sockets`;
  for (const [label, key] of [
    ["one at a time", "sequential"],
    [`${n(RATE)} sends/s`, "loaded"],
  ] as const) {
    const r = relay[key];
    const f = floor[key];
    row(`(b) delivery p50 / p99, ${socketsLabel}, ${label}`, lat(r), lat(f), `p99 < 10 ms: ${verdict(r.p99 < 10)}`);
    row(`    max, frames (lost)`, `${ms(r.max)}, ${r.messages} (${r.lost})`, `${ms(f.max)}, ${f.messages} (${f.lost})`);
  }
  row(
    `(c) RSS per idle socket, ${n(relay.mem.sockets)} sockets`,
    kb(relay.mem),
    kb(floor.mem),
    `< 30 KB: ${verdict(relay.mem.perSocket < 30 * 1024)}`,
  );
  row("    server RSS before → after", rssLine(relay.mem), rssLine(floor.mem));
}

console.log(`Phantom relay benchmark — phantom-relay ${VERSION}, bun ${Bun.version}, ${cpus().length} cores`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
console.log(
  `command: ./build.sh bench relay (BENCH_SECONDS=${SECONDS} BENCH_CLIENTS=${CLIENTS} BENCH_PAIRS=${PAIRS} BENCH_IDLE_SOCKETS=${IDLE_SOCKETS} BENCH_RATE=${RATE})`,
);
console.log(`load average at start: ${load()}`);
console.log("The load client, the server and any other work on this machine share its cores: numbers are noisy.");
console.log(
  `relay: ${RELAY === join(ROOT, "dist/phantom-relay") ? "dist/phantom-relay" : RELAY}, temp data dir, --port 0, --log-level warn (signed requests, SQLite, live sockets)`,
);
console.log("floor: bench/floor.ts on the same bun — bare Bun.serve: JSON.parse the body, publish to the room topic");
console.log(
  `(a) each client signs every request just before sending it (Ed25519 + SHA-256, native), so signing cost is in the run;\n` +
    `    the second (a) line signs them all first, to show how much of the 2 cores the client's signing took.`,
);
console.log(
  `(b) ${PAIRS} rooms × 2 members = ${2 * PAIRS} signed room sockets (both members of every pair connected);\n` +
    "    latency = from just before the /send leaves to the frame at the other member's socket (one clock);\n" +
    `    once with one send at a time, once with ${n(RATE)} sends/s started on schedule (open loop, ${RATE_SECONDS} s).`,
);
console.log(
  `(c) server VmRSS (median of 10 samples over 2 s) before and after opening ${IDLE_SOCKETS} signed sockets\n` +
    `    (the ${2 * PAIRS} room sockets plus more of the same members, at most 8 per room), divided by their number, while they sit idle.`,
);

const results: Result[] = [];
for (const [name, argv, register] of [
  ["relay", [RELAY, "--host", "127.0.0.1", "--port", "0", "--data", "data", "--log-level", "warn"], true],
  ["floor", [BUN, join(ROOT, "bench/floor.ts")], false],
] as const) {
  process.stderr.write(`starting ${name}\n`);
  const server = await startServer(name, [...argv]);
  try {
    results.push(await measure(server, register));
  } finally {
    await server.stop();
  }
}
report(results[0]!, results[1]!);
console.log(`load average at end: ${load()}`);
process.exit(0);
