#!/usr/bin/env bun
// phantom: client entry. Parses the command line (client/cli/program.ts defines it), nothing else.
// `--version` needs nothing but the version; commander is loaded for everything
// else, and each command's module (crypto, SQLite-free state, zod, network) only
// when that command runs, so `--version` and `--help` stay fast.

import { writeSync } from "node:fs";
import { protectUids } from "./client/cli/argv.ts";
import { isDebug, reportError, wantsJson } from "./client/cli/errors.ts";
import { buildProgram, out } from "./client/cli/program.ts";
import { warnAboutEnv } from "./lib/env-warnings.ts";
import { VERSION } from "./lib/version.ts";

/**
 * The interactive client: no command, at most the global options --relay and --direct
 * (`phantom --direct`). Returns their values, or null when the command line is for commander.
 */
async function interactiveFlags(argv: string[]): Promise<Record<string, unknown> | null> {
  if (argv.length === 0) return {};
  if (!argv.every((a, i) => a === "--direct" || a.startsWith("--relay") || argv[i - 1] === "--relay")) return null;
  // A program of its own: parseOptions leaves its state behind.
  const program = await buildProgram();
  const { operands, unknown } = program.parseOptions(argv);
  return operands.length === 0 && unknown.length === 0 ? program.opts() : null;
}

async function main(argv: string[]): Promise<number> {
  warnAboutEnv("phantom", process.env, out.writeErr); // SECURITY.md "Environment variables"
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    writeSync(1, `phantom ${VERSION}\n`);
    return 0;
  }
  try {
    const flags = await interactiveFlags(argv);
    if (flags !== null) {
      const [{ runInteractive }, { loadConfig }, { chatOpenedIn }] = await Promise.all([
        import("./client/tui/index.ts"),
        import("./client/cli/config.ts"),
        import("./client/daemon/client.ts"),
      ]);
      const config = loadConfig(flags, process.env);
      // A running daemon raises no notification for a contact whose chat is open here.
      return await runInteractive({ ...config, chatOpened: chatOpenedIn(config.home) });
    }
    // An unfinished panic is said at every start (the interactive client says it on its screen) but panic's own.
    if (argv[0] !== "panic") await (await import("./client/cli/burn-notice.ts")).burnListNotice(process.env);
    // A running daemon serves the frequent commands: started here without commander (fast-path.ts).
    if (await (await import("./client/cli/fast-path.ts")).runFast(argv, process.env)) return 0;
    await (await buildProgram()).parseAsync(protectUids(argv), { from: "user" });
    return 0;
  } catch (e) {
    return reportError(e, isDebug(process.env), wantsJson(argv));
  }
}

process.exitCode = await main(process.argv.slice(2));
// A command that went through the daemon leaves no connection open, whatever it ended with.
(await import("./client/daemon/client.ts")).DaemonClient.closeAll();
