#!/usr/bin/env bun
// phantom-relay: relay entry. Reads flags/env into a config, starts the server.
// --help and --version answer before anything heavy (sqlite, the server) loads.
import { writeSync } from "node:fs";
import { warnAboutEnv } from "./lib/env-warnings.ts";
import { VERSION } from "./lib/version.ts";
import { parseConfig } from "./relay/config.ts";
import { ConfigError } from "./relay/errors.ts";

const HELP = `phantom-relay ${VERSION} — the Phantom protocol v2 relay

Usage: phantom-relay [options]

Options (each also an environment variable):
  --host ADDR            listen address (PHANTOM_RELAY_HOST, default 127.0.0.1)
  --port N               listen port, 0 picks a free one (PHANTOM_RELAY_PORT, default 8787)
  --data DIR             data folder (PHANTOM_RELAY_DATA, default ./phantom-relay-data)
  --tls-cert FILE        TLS certificate, PEM (PHANTOM_RELAY_TLS_CERT)
  --tls-key FILE         TLS private key, PEM (PHANTOM_RELAY_TLS_KEY)
  --log-level LEVEL      error, warn, info or debug (PHANTOM_RELAY_LOG_LEVEL, default info)
  --purge-interval S     seconds between retention purges (PHANTOM_PURGE_INTERVAL_S, default 300)
  --max-inflight-per-uid N  signed requests of one identity in flight at once, more get 429
                         (PHANTOM_RELAY_MAX_INFLIGHT_PER_UID, default 32)
  --stall-timeout S      drop an answer whose reader takes nothing for S seconds
                         (PHANTOM_RELAY_STALL_TIMEOUT_S, default 20)
  -V, --version          print the version
  -h, --help             print this help

Limits (PROTOCOL §7.10, README "Running a relay"; whole numbers, a quota of 0 means no limit):
  --ws-max-per-uid N          live sockets one user may hold (PHANTOM_RELAY_WS_MAX_PER_UID, default 256)
  --ws-max-per-room N         live sockets one room may hold (PHANTOM_RELAY_WS_MAX_PER_ROOM, default 8)
  --sent-bytes-per-day N      bytes a signer stores per day (PHANTOM_RELAY_SENT_BYTES_PER_DAY, default 1 GiB)
  --uploads-per-hour N        uploads per signer (PHANTOM_RELAY_UPLOADS_PER_HOUR, default 60)
  --rooms-per-hour N          rooms a signer creates (PHANTOM_RELAY_ROOMS_PER_HOUR, default 60)
  --room-bytes N              bytes one room holds (PHANTOM_RELAY_ROOM_BYTES, default 1 GiB)
  --registrations-per-hour N  per client address (PHANTOM_RELAY_REGISTRATIONS_PER_HOUR, default 30)
  --trusted-proxy LIST        proxies whose X-Forwarded-For counts (PHANTOM_RELAY_TRUSTED_PROXIES, default loopback)
  --uploads-in-flight N       uploads of one UID spooled at once (PHANTOM_RELAY_UPLOADS_IN_FLIGHT, default 2)
  --upload-spool-bytes N      all uploads in flight (PHANTOM_RELAY_UPLOAD_SPOOL_BYTES, default 256 MiB)
  --disk-reserve-bytes N      free disk kept; below it 507 (PHANTOM_RELAY_DISK_RESERVE_BYTES, default 256 MiB)

Environment (PROTOCOL §9):
  MESSAGE_RETENTION_DAYS   default 7     (decimals accepted)
  KE_RETENTION_HOURS       default 24    (decimals accepted)
  FILE_RETENTION_HOURS     default 24    (decimals accepted)
  MAX_FILE_SIZE_BYTES      default 52428800
  PHANTOM_AUTH_PRIV_B64    b64 X25519 private key: enables burn authentication
  PHANTOM_FILE_ID_KEY_B64  b64 32-byte file-id key (default: generated once in the data folder)
`;

function fail(message: string, code: number): number {
  process.stderr.write(`phantom-relay: error: ${message}\n`);
  return code;
}

async function main(argv: string[]): Promise<number | null> {
  warnAboutEnv("phantom-relay", process.env, (s) => void writeSync(2, s)); // SECURITY.md "Environment variables"
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
    process.stdout.write(HELP);
    return 0;
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
    relay = await startRelay(parsed.config);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    return fail(`cannot start: ${msg.replace(/\.$/, "")}`, 1);
  }
  // Through the relay's log: a closed or full stdout must not stop it (issue 8 item 2).
  relay.announce(`phantom-relay ${VERSION} listening on ${relay.url}`);
  if (stopping) shutdown();
  return null; // keep serving
}

const code = await main(process.argv.slice(2));
if (code !== null) process.exitCode = code;
