#!/usr/bin/env bun
// `./build.sh bench scale` (issue 13): signed /send throughput and live delivery p50/p99 of the
// compiled relay on SQLite (one process, the baseline) and on PostgreSQL + Redis with 1, 2 and 4
// processes (--workers) on this machine, against the same real backends, with the CPU that the
// load client, the relays, PostgreSQL and Redis each used. Then what a stored message costs on
// disk. Not a test: it prints, it does not assert. Environment: BENCH_SECONDS (5),
// BENCH_CLIENTS (64), BENCH_PAIRS (200), BENCH_RATE (1000), BENCH_WORKERS ("1,2,4").
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { VERSION } from "../lib/version.ts";
import { startPostgres } from "../tests/helpers/pg-server.ts";
import { startRedis } from "../tests/helpers/redis-server.ts";
import { makePairs, sendThroughput, type Throughput } from "./relay-load.ts";
import { cpuSeconds, ownCpuSeconds, ROOT, startServer, type Server } from "./relay-proc.ts";
import { closeAll, deliveryAtRate, deliverySequential, openSockets, type Delivery } from "./relay-ws.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "5");
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? "64");
const PAIRS = Number(process.env.BENCH_PAIRS ?? "200");
const RATE = Number(process.env.BENCH_RATE ?? "1000");
const WORKERS = (process.env.BENCH_WORKERS ?? "1,2,4").split(",").map(Number);
const SEQUENTIAL = 300;
const RELAY = join(ROOT, "dist/phantom-relay");

/** CPU seconds of a process and all its descendants that are alive now. */
function treeCpu(pid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const walk = (p: number) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      total += cpuSeconds(p);
    } catch {
      return; // gone
    }
    for (const child of childrenOf(p)) walk(child);
  };
  walk(pid);
  return total;
}

function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return [];
  }
}

/** Processes whose command line starts with `program` and names `needle` (redis-server is not our child). */
function pidsWith(program: string, needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.split(" ")[0]!.endsWith(program) && cmd.includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

interface Result {
  name: string;
  send: Throughput;
  cpu: { client: number; relays: number; postgres: number; redis: number };
  sequential: Delivery;
  loaded: Delivery;
}

async function measure(name: string, server: Server, cpuOf: { postgres: () => number; redis: () => number }) {
  const log = (what: string) => process.stderr.write(`  ${name}: ${what}\n`);
  log(`${PAIRS} pairs`);
  const pairs = await makePairs(server.url, PAIRS, true);
  log("warm-up");
  await sendThroughput(server.url, server.pid, pairs, CLIENTS, 1, 0);
  log(`${CLIENTS} clients × ${SECONDS} s of signed /send`);
  const before = { client: ownCpuSeconds(), relays: treeCpu(server.pid), pg: cpuOf.postgres(), redis: cpuOf.redis() };
  const t0 = performance.now();
  const send = await sendThroughput(server.url, server.pid, pairs, CLIENTS, SECONDS, 0);
  const wall = (performance.now() - t0) / 1000;
  const cpu = {
    client: (ownCpuSeconds() - before.client) / wall,
    relays: (treeCpu(server.pid) - before.relays) / wall,
    postgres: (cpuOf.postgres() - before.pg) / wall,
    redis: (cpuOf.redis() - before.redis) / wall,
  };
  log(`delivery: ${2 * PAIRS} sockets`);
  const pending = new Map();
  const sockets = await openSockets(server.url, pairs, pending);
  await Bun.sleep(300);
  const sequential = await deliverySequential(server.url, pairs, pending, SEQUENTIAL);
  const loaded = await deliveryAtRate(server.url, pairs, pending, RATE, 3);
  closeAll(sockets);
  return { name, send, cpu, sequential, loaded };
}

const n = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (x: number) => n(x, 2);

console.log(`Phantom relay scale benchmark — phantom-relay ${VERSION}, bun ${Bun.version}, ${cpus().length} cores`);
console.log(
  `command: ./build.sh bench scale (BENCH_SECONDS=${SECONDS} BENCH_CLIENTS=${CLIENTS} BENCH_PAIRS=${PAIRS} BENCH_RATE=${RATE} BENCH_WORKERS=${WORKERS.join(",")})`,
);
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  "Everything runs on this machine: the load client, the relays, PostgreSQL (fsync off: a test server) and Redis share its cores.",
);

const pg = await startPostgres();
const redis = await startRedis();
const results: Result[] = [];
const sizes: string[] = [];
// PostgreSQL: the postmaster and its backends (its children); Redis: the one redis-server process.
const postmaster = Number(readFileSync(join(pg.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
const redisPid = pidsWith("redis-server", `:${redis.port}`)[0] ?? 0;
const cpuOf = { postgres: () => treeCpu(postmaster), redis: () => (redisPid ? treeCpu(redisPid) : 0) };

try {
  {
    const server = await startServer("sqlite", [
      RELAY,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--data",
      "data",
      "--log-level",
      "warn",
    ]);
    try {
      results.push(await measure("SQLite, 1 process", server, { postgres: () => 0, redis: () => 0 }));
      const file = join(server.dir, "data", "relay.db");
      const db = new Database(file, { readonly: true });
      const { rows } = db.query("SELECT count(*) AS rows FROM messages").get() as { rows: number };
      db.close();
      const bytes = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
      if (rows > 0)
        sizes.push(`SQLite: ${n(rows)} messages of 100-byte ciphertexts, ${n(bytes / rows)} bytes each in the file`);
    } finally {
      await server.stop();
    }
  }
  for (const workers of WORKERS) {
    const url = await pg.newDatabase();
    const argv = [RELAY, "--host", "127.0.0.1", "--port", "0", "--data", "data", "--log-level", "warn"];
    argv.push("--store", url, "--live", redis.url, "--workers", String(workers));
    const server = await startServer(`pg-${workers}`, argv);
    try {
      results.push(await measure(`PostgreSQL + Redis, ${workers} process${workers > 1 ? "es" : ""}`, server, cpuOf));
      const sql = new SQL(url, { max: 1 });
      const [r] = (await sql`SELECT count(*)::bigint AS rows, pg_total_relation_size('messages') AS bytes,
        coalesce(avg(octet_length(ciphertext)), 0) AS ct FROM messages`) as {
        rows: string;
        bytes: string;
        ct: string;
      }[];
      await sql.close();
      if (Number(r!.rows) > 0) {
        sizes.push(
          `PostgreSQL (${workers}): ${n(Number(r!.rows))} messages of ${n(Number(r!.ct))} b64 characters take ${n(Number(r!.bytes) / Number(r!.rows))} bytes each with indexes`,
        );
      }
    } finally {
      await server.stop();
    }
  }
} finally {
  await redis.stop();
  await pg.stop();
}

const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(14))).join(" "));
console.log("");
row(["", "send req/s", "p50 ms", "p99 ms", "CPU client", "CPU relays", "CPU postgres", "CPU redis"]);
for (const r of results) {
  row([
    r.name,
    n(r.send.rps),
    ms(r.send.p50),
    ms(r.send.p99),
    n(r.cpu.client, 2),
    n(r.cpu.relays, 2),
    n(r.cpu.postgres, 2),
    n(r.cpu.redis, 2),
  ]);
}
console.log("(CPU: cores busy on average during the send run; 1.00 = one core)");
console.log("");
row(["live delivery, /send → frame", "seq p50 ms", "seq p99 ms", `${n(RATE)}/s p50`, `${n(RATE)}/s p99`, "lost"]);
for (const r of results) {
  row([
    r.name,
    ms(r.sequential.p50),
    ms(r.sequential.p99),
    ms(r.loaded.p50),
    ms(r.loaded.p99),
    String(r.sequential.lost + r.loaded.lost),
  ]);
}
console.log("");
for (const s of sizes) console.log(s);
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
process.exit(0);
