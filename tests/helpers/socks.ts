// Test helper: a real SOCKS5 proxy (microsocks, installed by ./build.sh tools) on a
// free loopback port, with the "connected to host:port" lines it logs per connection.
import * as net from "node:net";
import type { Subprocess } from "bun";
import { probeProxy } from "../../lib/tor.ts";
import { lines } from "./relay.ts";

export interface RunningProxy {
  host: string;
  port: number;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Destinations the proxy connected to, as it logged them ("localhost:1234"). */
  connects: string[];
  /** Wait until at least `n` connections to `dest` were logged (gives up after 10 s). */
  waitForConnects(dest: string, n: number): Promise<number>;
  stop(): Promise<void>;
}

/** Fail (never skip) when microsocks is missing: the Tor path must be tested. */
export function requireMicrosocks(): string {
  const bin = Bun.which("microsocks");
  if (!bin) {
    throw new Error(
      "microsocks is not installed: the Tor tests need a real SOCKS5 proxy. Run ./build.sh tools (it installs it)",
    );
  }
  return bin;
}

/** A loopback port that was free a moment ago (bind 0, read, close). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function startProxy(): Promise<RunningProxy> {
  const bin = requireMicrosocks();
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const proc = Bun.spawn([bin, "-i", "127.0.0.1", "-p", String(port)], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const connects: string[] = [];
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const line of lines(stream)) {
        const m = / connected to (\S+)$/.exec(line);
        if (m) connects.push(m[1]!);
      }
    };
    void collect(proc.stdout);
    void collect(proc.stderr);
    // Ready when it answers a SOCKS5 greeting (probe connections are not "connected to" lines).
    let up = false;
    for (let i = 0; i < 100 && !up && proc.exitCode === null; i++) {
      up = await probeProxy({ proxyHost: "127.0.0.1", proxyPort: port }, 500);
      if (!up) await Bun.sleep(20);
    }
    if (!up) {
      proc.kill();
      await proc.exited;
      if (tries < 3) continue; // the port was taken in between: pick another
      throw new Error("microsocks did not start");
    }
    return {
      host: "127.0.0.1",
      port,
      proc,
      connects,
      async waitForConnects(dest, n) {
        const count = () => connects.filter((c) => c === dest).length;
        for (let i = 0; i < 500 && count() < n; i++) await Bun.sleep(20);
        return count();
      },
      async stop() {
        proc.kill();
        await proc.exited;
      },
    };
  }
}
