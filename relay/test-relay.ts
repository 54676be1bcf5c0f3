// Test helper for the relay's own tests: a relay started in this process through
// startRelay(config), on an ephemeral port with a fresh temporary data folder, so tests beside
// the code never need the built binary. Flags and variables are the command line's
// (parseConfig); the defaults here (port 0, the temporary folder, log level error) come first,
// so a test's own flags win.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Env, parseConfig, type RelayConfig } from "./config.ts";
import { startRelay, type StartedRelay } from "./server.ts";

export interface TestRelay {
  url: string;
  dataDir: string;
  config: RelayConfig;
  relay: StartedRelay;
  /** Stop the relay and remove its data folder. */
  stop(): Promise<void>;
}

/** The config of a test relay: the command line's flags and variables over test defaults. */
export function testRelayConfig(dataDir: string, args: string[] = [], env: Env = {}): RelayConfig {
  const parsed = parseConfig(["--port", "0", "--data", dataDir, "--log-level", "error", ...args], env);
  if (parsed.kind !== "run") throw new Error(`expected a run config, got ${parsed.kind}`);
  return parsed.config;
}

export async function startTestRelay(o: { args?: string[]; env?: Env } = {}): Promise<TestRelay> {
  const dataDir = mkdtempSync(join(tmpdir(), "phantom-relay-test-"));
  const config = testRelayConfig(dataDir, o.args, o.env);
  let relay: StartedRelay;
  try {
    relay = await startRelay(config);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: relay.url,
    dataDir,
    config,
    relay,
    async stop() {
      await relay.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
