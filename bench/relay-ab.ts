#!/usr/bin/env bun
// `./build.sh bench relay-ab OLD_RELAY [NEW_RELAY]`: signed /send throughput of two relay
// binaries, measured in alternating rounds so that both see the same machine (the shared
// 2 cores of a build machine make back-to-back runs of ./build.sh bench relay differ by more
// than the effect being looked for). Prints, per binary, the median over the rounds of
// requests per second and of the relay's own CPU time per request (/proc), and their ratio.
// Not a test: it prints, it does not assert. BENCH_ROUNDS (6), BENCH_SECONDS (3), BENCH_CLIENTS (64).
import { join } from "node:path";
import { makePairs, sendThroughput } from "./relay-load.ts";
import { ROOT, startServer, type Server } from "./relay-proc.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "6");
const SECONDS = Number(process.env.BENCH_SECONDS ?? "3");
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? "64");

const [oldBin, newBin = join(ROOT, "dist/phantom-relay")] = process.argv.slice(2);
if (!oldBin) {
  process.stderr.write("bench relay-ab: error: give the older relay binary (and optionally the newer one)\n");
  process.exit(2);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Side {
  name: string;
  server: Server;
  pairs: Awaited<ReturnType<typeof makePairs>>;
  rps: number[];
  usPerReq: number[];
}

async function side(name: string, bin: string): Promise<Side> {
  const server = await startServer(name, [bin, "--port", "0", "--log-level", "warn"]);
  const pairs = await makePairs(server.url, CLIENTS, true);
  await sendThroughput(server.url, server.pid, pairs, CLIENTS, 1, 0); // warm-up
  return { name, server, pairs, rps: [], usPerReq: [] };
}

const sides = [await side("old", oldBin), await side("new", newBin)];
try {
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always runs on a machine the other just warmed.
    for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
      const t = await sendThroughput(s.server.url, s.server.pid, s.pairs, CLIENTS, SECONDS, 0);
      s.rps.push(t.rps);
      s.usPerReq.push((t.serverCpu / t.rps) * 1e6);
      process.stderr.write(
        `  round ${r + 1} ${s.name}: ${t.rps.toFixed(0)} req/s, ${((t.serverCpu / t.rps) * 1e6).toFixed(1)} µs relay CPU/req\n`,
      );
    }
  }
} finally {
  for (const s of sides) await s.server.stop();
}
console.log(`signed /send, ${CLIENTS} clients, fresh signatures, ${ROUNDS} alternating rounds of ${SECONDS} s`);
console.log(`old: ${oldBin}`);
console.log(`new: ${newBin}`);
for (const s of sides) {
  console.log(
    `${s.name}: median ${median(s.rps).toFixed(0)} req/s, ${median(s.usPerReq).toFixed(1)} µs of relay CPU per request`,
  );
}
const [o, n] = sides as [Side, Side];
console.log(
  `new/old: throughput ${((median(n.rps) / median(o.rps)) * 100).toFixed(1)} %, relay CPU per request ${((median(n.usPerReq) / median(o.usPerReq)) * 100).toFixed(1)} %`,
);
