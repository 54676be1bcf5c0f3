// Test helper for the relay's own tests: the config of a relay on an ephemeral port with a
// fresh temporary data folder, for startRelay(config) (relay/server.ts) to run in the test's
// own process, so tests beside the code never need the built binary. Flags and variables
// are the command line's (parseConfig); the defaults here (port 0, the temporary folder,
// log level error) come first, so a test's own flags win. This module stays below the
// server: the test itself calls startRelay.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Env, parseConfig } from "./config.ts";
import type { RelayConfig } from "./defaults.ts";

export interface TestRelayConfig {
  config: RelayConfig;
  dataDir: string;
  /** Remove the data folder (after the relay stopped). */
  cleanup(): void;
}

export function testRelayConfig(o: { args?: string[]; env?: Env } = {}): TestRelayConfig {
  const dataDir = mkdtempSync(join(tmpdir(), "phantom-relay-test-"));
  const parsed = parseConfig(
    ["--port", "0", "--data", dataDir, "--log-level", "error", ...(o.args ?? [])],
    o.env ?? {},
  );
  if (parsed.kind !== "run") {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`expected a run config, got ${parsed.kind}`);
  }
  return { config: parsed.config, dataDir, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}
