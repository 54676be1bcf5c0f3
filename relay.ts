#!/usr/bin/env bun
// phantom-relay: relay entry. Reads flags/env into a config, starts the server.
// --help and --version answer before anything heavy (sqlite, the server) loads.
import { writeSync } from "node:fs";
import { envWarnings, RELAY_S3_RULES, warnAboutEnv } from "./lib/env-warnings.ts";
import { VERSION } from "./lib/version.ts";
import { parseConfig } from "./relay/config.ts";
import { relayHelp } from "./relay/help.ts";
import { ConfigError } from "./relay/errors.ts";
import { PhantomError } from "./lib/errors.ts";
import { superviseWorkers, WORKER_ENV } from "./relay/workers.ts";

function fail(message: string, code: number): number {
  process.stderr.write(`phantom-relay: error: ${message}\n`);
  return code;
}

async function main(argv: string[]): Promise<number | null> {
  warnAboutEnv("phantom-relay", process.env, (s) => void writeSync(2, s)); // SECURITY.md "Environment variables"
  if (argv[0] === "update") {
    const { parseUpdateArgs, runUpdate } = await import("./relay/update.ts");
    try {
      await runUpdate(parseUpdateArgs(argv.slice(1)), process.env, (l) => void writeSync(1, `${l}\n`));
      return 0;
    } catch (e) {
      if (e instanceof ConfigError) return fail(e.message, 2);
      if (e instanceof PhantomError) return fail(e.message, 1);
      const code = (e as NodeJS.ErrnoException).code;
      return fail(`update failed: ${code ?? (e instanceof Error ? e.message.split("\n")[0] : String(e))}`, 1);
    }
  }
  if (argv[0] === "migrate") {
    const { parseMigrateArgs, migrate } = await import("./relay/migrate.ts");
    try {
      await migrate(parseMigrateArgs(argv.slice(1)), (l) => void writeSync(1, `${l}\n`));
      return 0;
    } catch (e) {
      if (e instanceof ConfigError) return fail(e.message, 2);
      const msg =
        e instanceof Error && e.name !== "StoreBusyError" ? e.message.split("\n")[0]! : "the database is unavailable";
      return fail(`migrate failed: ${msg}`, 1);
    }
  }
  let parsed;
  try {
    parsed = parseConfig(argv, process.env);
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message, 2);
    throw e;
  }
  if (parsed.kind === "version") {
    process.stdout.write(`phantom-relay ${VERSION}\n`);
    return 0;
  }
  if (parsed.kind === "help") {
    process.stdout.write(relayHelp(VERSION));
    return 0;
  }
  // An S3 bucket is the relay's one outgoing connection, where Bun acts on more variables.
  if (parsed.config.blobs.kind === "s3") {
    for (const line of envWarnings("phantom-relay", process.env, RELAY_S3_RULES)) writeSync(2, `${line}\n`);
  }
  if (parsed.config.workers > 1 && !process.env[WORKER_ENV]) {
    return await superviseWorkers(argv, parsed.config.workers, process.env); // relay/workers.ts
  }
  // Signal handlers go in before anything is announced: a supervisor that
  // signals right after the "listening" line must get a clean stop, not exit 143.
  let relay: Awaited<ReturnType<typeof import("./relay/server.ts").startRelay>> | undefined;
  let stopping = false;
  const shutdown = () => {
    stopping = true;
    if (!relay) return; // still starting: stop as soon as it is up
    relay.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // A write to a closed stdout pipe is EPIPE for the log to count, never a fatal signal.
  process.on("SIGPIPE", () => {});
  const { startRelay } = await import("./relay/server.ts");
  try {
    // A worker of --workers shares the port with its siblings (SO_REUSEPORT).
    relay = await startRelay(parsed.config, { reusePort: process.env[WORKER_ENV] !== undefined });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    return fail(`cannot start: ${msg.replace(/\.$/, "")}`, 1);
  }
  // Through the relay's log: a closed or full stdout must not stop it.
  relay.announce(`phantom-relay ${VERSION} listening on ${relay.url}`);
  if (stopping) shutdown();
  return null; // keep serving
}

const code = await main(process.argv.slice(2));
if (code !== null) process.exitCode = code;
