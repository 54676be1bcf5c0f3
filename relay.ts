#!/usr/bin/env bun
// phantom-relay: relay entry. Reads flags/env into a config, starts the server.
import { VERSION } from "./lib/version.ts";

const HELP = `phantom-relay ${VERSION} — the Phantom protocol v2 relay

Usage: phantom-relay [options]

Options:
  -V, --version  print the version
  -h, --help     print this help
`;

async function main(argv: string[]): Promise<number> {
  const arg = argv[0];
  if (arg === "--version" || arg === "-V") {
    process.stdout.write(`phantom-relay ${VERSION}\n`);
    return 0;
  }
  if (arg === "--help" || arg === "-h") {
    process.stdout.write(HELP);
    return 0;
  }
  process.stderr.write(`phantom-relay: error: unknown option '${arg}'\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
