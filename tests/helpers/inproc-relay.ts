// Test helper: the relay started inside the test process through relay/server.ts startRelay,
// on 127.0.0.1 with an ephemeral port and a temporary data folder. Unit tests beside the code
// use it, so they need no compiled binary; tests that need a separate process (signals, exit
// codes, stdout, a blocked event loop) use tests/helpers/relay.ts and stay in tests/.
import { mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseConfig } from "../../relay/config.ts";
import type { RelayConfig } from "../../relay/defaults.ts";
import { startRelay as startRelayServer } from "../../relay/server.ts";
import { ROOT, TLS_DIR, tempDir } from "./relay.ts";

export { ROOT, TLS_DIR, tempDir };

export interface RelayOptions {
  /** The relay's environment (e.g. MAX_FILE_SIZE_BYTES), as the binary would read it. */
  env?: Record<string, string>;
  /** Command-line arguments, as the binary would take them (e.g. ["--ws-max-per-room", "1"]). */
  args?: string[];
  /** Reuse an existing data folder (restart tests). */
  dataDir?: string;
}

export interface RunningRelay {
  url: string;
  port: number;
  dataDir: string;
  config: RelayConfig;
  /** Stop serving (HTTP in flight finishes, live sockets close) and close the store. */
  stop(): Promise<void>;
  /** Remove the data folder (after stop). */
  cleanup(): void;
}

const TEMP_PREFIX = join(tmpdir(), "phantom-relay-");

/**
 * The relay's configuration from the same flags and environment the binary would get: the
 * environment is only `opts.env` (the spawned binary gets no more than PATH besides). Request
 * lines are not logged (the log writes to this process's stdout); `args` may set --log-level.
 */
export function relayConfig(opts: RelayOptions = {}): RelayConfig {
  const dataDir = opts.dataDir ?? join(mkdtempSync(TEMP_PREFIX), "data");
  const argv = ["--host", "127.0.0.1", "--port", "0", "--data", dataDir, "--log-level", "error", ...(opts.args ?? [])];
  const parsed = parseConfig(argv, { ...opts.env });
  if (parsed.kind !== "run") throw new Error(`relay options ask for ${parsed.kind}, not a relay`);
  return parsed.config;
}

/** Start the relay in this process; stop it in afterAll so the test run can exit. */
export async function startRelay(opts: RelayOptions = {}): Promise<RunningRelay> {
  const config = relayConfig(opts);
  const started = await startRelayServer(config);
  const dataDir = config.dataDir;
  return {
    url: started.url,
    port: Number(new URL(started.url).port),
    dataDir,
    config,
    stop: () => started.stop(),
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      // The temporary folder made around it, once empty.
      if (dirname(dataDir).startsWith(TEMP_PREFIX)) {
        try {
          rmdirSync(dirname(dataDir));
        } catch {
          // not empty, or gone already
        }
      }
    },
  };
}

/** The relay serving HTTPS with the test certificate. */
export function startTlsRelay(o: RelayOptions = {}): Promise<RunningRelay> {
  const tls = [
    "--tls-cert",
    join(TLS_DIR, "localhost-test-cert.pem"),
    "--tls-key",
    join(TLS_DIR, "localhost-test-key.pem"),
  ];
  return startRelay({ ...o, args: [...tls, ...(o.args ?? [])] });
}

/** Start a stopped relay again on its port and data; the port may linger in use for a moment after a stop. */
export async function restartOnSamePort(old: RunningRelay): Promise<RunningRelay> {
  for (let i = 0; ; i++) {
    try {
      return await startRelay({ dataDir: old.dataDir, args: ["--port", String(old.port)] });
    } catch (e) {
      if (i >= 50) throw e;
      await Bun.sleep(100);
    }
  }
}
