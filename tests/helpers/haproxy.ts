// A real haproxy (Debian's) in front of relay instances for the scale tests (issue 13): HTTP
// mode with WebSocket upgrades (haproxy passes them through as tunnels), round robin, health
// checks on GET /health every 300 ms so a killed instance leaves the rotation at once, and
// X-Forwarded-For added, which the relays trust from this address only (--trusted-proxy).
// The configuration written here is the one docs/deploy.md recommends, with test timings.
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./pg-server.ts";

/** haproxy on PATH or in /usr/sbin, or null. */
export function haproxyBin(): string | null {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const d of dirs) if (d && existsSync(join(d, "haproxy"))) return join(d, "haproxy");
  return null;
}

export const NO_HAPROXY = haproxyBin() === null ? "haproxy is not installed (./build.sh test installs it)" : null;

export interface Haproxy {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * The configuration: `bind` (an address:port, and TLS options in production) in front of relays
 * at `servers` (address:port each). docs/deploy.md shows it for three local instances and TLS;
 * tests/deploy-docs.test.ts checks that the two agree.
 */
export function haproxyConfig(bind: string, servers: readonly string[]): string {
  const lines = servers.map((s, i) => `  server relay${i + 1} ${s} check inter 300ms fall 1 rise 2`);
  return [
    "global",
    "  maxconn 4096", // each connection takes two descriptors: raise LimitNOFILE with it
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 75s",
    "  timeout server 75s",
    "  timeout tunnel 1h", // live sockets (PROTOCOL §7.9) once upgraded
    "  option forwardfor", // X-Forwarded-For: the client address for the relay's per-address limits
    "  option redispatch", // a request whose instance died is tried on another
    "  retries 2",
    "frontend phantom",
    `  bind ${bind}`,
    "  default_backend relays",
    "backend relays",
    "  balance roundrobin",
    "  option httpchk GET /health",
    "  http-check expect status 200",
    ...lines,
    "",
  ].join("\n");
}

/** haproxy on `port` (a free one when 0) in front of relays on 127.0.0.1 at `ports`. */
export async function startHaproxy(ports: readonly number[], port = 0): Promise<Haproxy> {
  const bin = haproxyBin();
  if (!bin) throw new Error(NO_HAPROXY!);
  const dir = mkdtempSync(join(tmpdir(), "phantom-haproxy-"));
  if (port === 0) port = await freePort();
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    haproxyConfig(
      `127.0.0.1:${port}`,
      ports.map((p) => `127.0.0.1:${p}`),
    ),
  );
  const check = Bun.spawnSync([bin, "-c", "-f", cfg]);
  if (check.exitCode !== 0) throw new Error(`haproxy -c: ${check.stderr.toString()}${check.stdout.toString()}`);
  const proc: Subprocess = Bun.spawn([bin, "-db", "-f", cfg], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let log = "";
  void (async () => {
    for await (const c of proc.stderr as ReadableStream<Uint8Array>)
      log = (log + new TextDecoder().decode(c)).slice(-4000);
  })();
  const url = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 10_000; ; await Bun.sleep(50)) {
    const up = await fetch(`${url}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (proc.exitCode !== null || Date.now() > end) {
      proc.kill("SIGKILL");
      throw new Error(`haproxy did not start: ${log}`);
    }
  }
  return {
    url,
    port,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
