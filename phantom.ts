#!/usr/bin/env bun
// phantom: client entry. Parses the command line and wires commands, nothing else.
import { VERSION } from "./lib/version.ts";

const HELP = `phantom ${VERSION} — end-to-end encrypted messaging for the command line

Usage: phantom [command] [options]

Options:
  -V, --version  print the version
  -h, --help     print this help
`;

async function main(argv: string[]): Promise<number> {
  const arg = argv[0];
  if (arg === "--version" || arg === "-V") {
    process.stdout.write(`phantom ${VERSION}\n`);
    return 0;
  }
  if (arg === "--help" || arg === "-h" || arg === undefined) {
    process.stdout.write(HELP);
    return 0;
  }
  process.stderr.write(`phantom: error: unknown command '${arg}'\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
