// phantom-relay --workers N (issue 13, relay/workers.ts) with the compiled relay on a real
// PostgreSQL and Redis: it is refused without them; N processes share one port; one killed with
// kill -9 is started again while the others serve; SIGHUP replaces every worker while a client
// keeps sending, and every acknowledged message is stored exactly once; SIGTERM stops them all.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
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
      // Once it is dead (gone, or a zombie not yet reaped): a connection the kernel queued on its
      // socket in the instant of the kill is reset, which says nothing about the others.
      const dead = () => {
        try {
          return readFileSync(`/proc/${before[0]}/stat`, "utf8").split(") ")[1]?.startsWith("Z") === true;
        } catch {
          return true;
        }
      };
      for (const end = Date.now() + 5000; !dead() && Date.now() < end;) await Bun.sleep(10);
      // Each on a new connection (not one fetch kept alive to the killed worker): the kernel hands new
      // connections to the listening sockets still open.
      for (let i = 0; i < 20; i++) expect(await healthStatus(relay.port)).toBe(200);
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

/** GET /health on a connection of its own (fetch may reuse one kept alive to a killed worker): the status code. */
async function healthStatus(port: number): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    let text = "";
    const sock = connect(port, "127.0.0.1", () =>
      sock.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    );
    sock.on("data", (d) => (text += d.toString("latin1")));
    sock.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    sock.on("error", reject);
  });
}
