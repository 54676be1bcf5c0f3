// phantom-relay --workers N (issue 13, relay/workers.ts) with the compiled relay on a real
// PostgreSQL and Redis: it is refused without them; N processes share one port; one killed with
// kill -9 is started again while the others serve; SIGHUP replaces every worker while a client
// keeps sending, and every acknowledged message is stored exactly once; SIGTERM stops them all.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { b64encode } from "../lib/encoding.ts";
import { runProgram } from "./helpers/cli.ts";
import { NO_POSTGRES, type Postgres, startPostgres } from "./helpers/pg-server.ts";
import { NO_REDIS, type RedisServer, startRedis } from "./helpers/redis-server.ts";
import { RELAY_BIN, type RunningRelay, startRelay } from "./helpers/relay.ts";
import { pair, signed } from "./helpers/signer.ts";

setDefaultTimeout(60_000);

test("--workers without PostgreSQL and Redis: a one-line error, exit 2", async () => {
  const r = await runProgram([RELAY_BIN, "--workers", "2", "--port", "0"], { PATH: process.env.PATH ?? "/usr/bin" });
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    "phantom-relay: error: --workers needs --store postgres://… and --live redis://… (the processes share them)\n",
  );
});

const MISSING = NO_POSTGRES ?? NO_REDIS;
let pg: Postgres;
let redis: RedisServer;
let relay: RunningRelay;

/** The worker processes: the supervisor's children. */
function workers(): number[] {
  const r = Bun.spawnSync(["pgrep", "-P", String(relay.proc.pid)]);
  return r.stdout.toString().trim().split("\n").filter(Boolean).map(Number).sort();
}

describe.skipIf(MISSING !== null)(
  `three workers on PostgreSQL + Redis${MISSING ? ` (skipped: ${MISSING})` : ""}`,
  () => {
    beforeAll(async () => {
      [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
      relay = await startRelay({ args: ["--store", pg.url, "--live", redis.url, "--workers", "3"] });
    }, 60_000);
    afterAll(async () => {
      await relay?.stop();
      relay?.cleanup();
      await Promise.all([pg?.stop(), redis?.stop()]);
    });

    test("one port, three processes; one killed is started again while the others answer", async () => {
      const shared = `info: 3 workers share port ${relay.port}`;
      for (const end = Date.now() + 5000; !relay.logs.includes(shared) && Date.now() < end;) await Bun.sleep(20);
      expect(relay.logs).toContain(shared);
      const before = workers();
      expect(before.length).toBe(3);
      process.kill(before[0]!, "SIGKILL");
      // Each on a new connection (not one fetch kept alive to the killed worker): the kernel hands new
      // connections to the listening sockets still open.
      const fresh = { headers: { connection: "close" }, keepalive: false };
      for (let i = 0; i < 20; i++) expect((await fetch(`${relay.url}/health`, fresh)).status).toBe(200);
      // Until the supervisor reaped the killed one (a zombie is still its child) and started another.
      const replaced = () => {
        const now = workers();
        return now.length === 3 && !now.includes(before[0]!);
      };
      for (const end = Date.now() + 10_000; !replaced() && Date.now() < end;) await Bun.sleep(100);
      const after = workers();
      expect(after.length).toBe(3);
      expect(after).not.toContain(before[0]);
      expect(relay.logs.some((l) => /^warn: worker \d exited \(code 137\)/.test(l))).toBe(true);
    });

    test("SIGHUP replaces every worker while a client sends: every acknowledged message is stored once", async () => {
      const { a, roomId } = await pair(relay.url);
      const old = workers();
      const acked: string[] = [];
      let failed = 0;
      let sending = true;
      const sender = (async () => {
        for (let i = 0; sending && i < 2000; i++) {
          const ciphertext = b64encode(new TextEncoder().encode(`m${i}`));
          const r = await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext }).catch(() => null);
          if (r?.status === 200) acked.push(ciphertext);
          else failed++;
          await r?.arrayBuffer();
        }
      })();
      relay.proc.kill("SIGHUP");
      for (const end = Date.now() + 30_000; Date.now() < end; await Bun.sleep(100)) {
        if (relay.logs.includes("info: every worker was restarted")) break;
      }
      sending = false;
      await sender;
      expect(relay.logs).toContain("info: every worker was restarted");
      const now = workers();
      expect(now.length).toBe(3);
      for (const pid of old) expect(now).not.toContain(pid);
      expect(acked.length).toBeGreaterThan(10);
      const stored: string[] = [];
      for (let after = 0, more = true; more;) {
        const r = await signed(relay.url, a, "POST", "/fetch", { room_id: roomId, after_seq: after });
        expect(r.status).toBe(200);
        const page = (await r.json()) as { messages: { ciphertext: string; seq: number }[]; more: boolean };
        stored.push(...page.messages.map((m) => m.ciphertext));
        more = page.more;
        after = page.messages.at(-1)?.seq ?? after;
      }
      // Acknowledged: stored, once. A request cut by a stopping worker may or may not be stored.
      for (const c of acked) expect(stored.filter((s) => s === c).length).toBe(1);
      console.log(`rolling restart: ${acked.length} sends acknowledged, ${failed} failed (connection cut or refused)`);
    });
  },
);
