// The definition of phantom's command line (commander): every command, its arguments and
// options. phantom.ts parses with it; the shell completions and the man page are generated
// from it (client/cli/completion.ts, client/cli/manpage.ts), so they list what the program has.
// Commander is loaded here and each command's module only when the command runs.

import { writeSync } from "node:fs";
import type { Command } from "commander";
import { VERSION } from "../../lib/version.ts";
import { restoreUids } from "./argv.ts";

type Opts = Record<string, unknown>;
interface CommandLike {
  optsWithGlobals(): Opts;
}

/** The environment variables phantom reads, for --help and the man page. */
export const ENVIRONMENT: readonly [name: string, text: string][] = [
  ["PHANTOM_HOME", "state folder (default ~/.phantom)"],
  ["PHANTOM_PASSWORD", "vault password for scripts (or PHANTOM_PASSWORD_FILE: a file holding it)"],
  ["PHANTOM_RELAY", 'relay URL (default http://127.0.0.1:8787, or settings.json "relay")'],
  ["PHANTOM_TOR", "auto | always | never (default auto); PHANTOM_TOR_PROXY host:port (127.0.0.1:9050)"],
  ["PHANTOM_DIRECT=1", "same as --direct"],
  ["PHANTOM_UPDATE_URL", "where 'phantom update' looks (else settings update-url, else built in)"],
];

export const ENV_HELP = `
Environment:
${ENVIRONMENT.map(([name, text]) => `  ${name.padEnd(23)}${text}`).join("\n")}

Run 'phantom' alone for the interactive client; 'phantom <command> --help' for one command.
`;

/** The shells `phantom completion` writes a script for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

// Writes straight to the file descriptor: faster to start than process.stdout.
export const out = {
  writeOut: (s: string) => void writeSync(1, s),
  writeErr: (s: string) => void writeSync(2, s),
  getOutHelpWidth: () => 100,
  getErrHelpWidth: () => 100,
  getOutHasColors: () => false,
  getErrHasColors: () => false,
  outputError: () => {}, // errors go through reportError, as one line
};

/** The whole command line of phantom: commands, their arguments and options (nothing runs). */
export async function buildProgram(): Promise<Command> {
  const { Command } = await import("commander");
  const program = new Command("phantom")
    .description("end-to-end encrypted messaging for the command line (Phantom protocol v2)")
    .version(`phantom ${VERSION}`, "-V, --version", "print the version")
    .helpOption("-h, --help", "print help")
    .helpCommand(false)
    .option("--json", "output one JSON object per line")
    .option("--relay <url>", "relay URL (else PHANTOM_RELAY, settings.json, http://127.0.0.1:8787)")
    .option("--direct", "allow a direct connection to a remote relay (it sees your IP address)")
    .option("--no-daemon", "unlock in this process even when 'phantom daemon' runs")
    .configureOutput(out)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .addHelpText("after", ENV_HELP);

  // Each command's module is imported only when the command runs.
  const run =
    <A extends unknown[]>(load: () => Promise<{ run: (g: Opts, ...a: A) => Promise<void> }>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as CommandLike;
      const rest = args.slice(0, -1).map(restoreUids) as A; // positional arguments, then the command's own options
      await (await load()).run(cmd.optsWithGlobals(), ...rest);
    };
  const cmd = (name: string, description: string) => program.command(name).description(description);

  cmd("init", "create your identity, register it with the relay, print your UID").action(
    run(() => import("./commands/init.ts")),
  );
  cmd("whoami", "print your UID, fingerprint, relay and whether Tor is used").action(
    run(() => import("./commands/whoami.ts")),
  );
  cmd("add", "add a contact by UID: fetch and show their key's fingerprint, tell them")
    .argument("<uid>", "their UID")
    .option("--trust", "mark the key as verified at once")
    .option("--nick <name>", "a nickname to use instead of the UID")
    .action(run(() => import("./commands/add.ts")));
  cmd("contacts", "list contacts (people who added you appear as contact requests)")
    .option("--requests", "list contact requests (people who added you) instead")
    .option("--blocked", "list blocked UIDs instead")
    .action(run(() => import("./commands/contacts.ts")));
  cmd("accept", "accept a contact request: they become a contact and their messages are shown")
    .argument("<uid>", "their UID")
    .action(run(() => import("./commands/accept.ts")));
  cmd("block", "block a contact, a contact request or any UID: drop their notices and messages")
    .argument("<uid>", "UID (or a contact's nickname)")
    .action(run(() => import("./commands/block.ts")));
  cmd("unblock", "unblock a UID: a blocked contact or request comes back")
    .argument("<uid>", "their UID")
    .action(run(() => import("./commands/unblock.ts")));
  cmd(
    "verify",
    "compare the safety code (v3) or fingerprints (v2), asking on a terminal, and mark the contact as checked",
  )
    .argument("<uid>", "UID or nickname")
    .option("--force", "accept a key that changed since you verified it")
    .action(run(() => import("./commands/verify.ts")));
  cmd("nick", "set a contact's nickname")
    .argument("<uid>", "UID or nickname")
    .argument("<name>", "the new nickname")
    .action(run(() => import("./commands/nick.ts")));
  cmd("remove", "burn the conversation, then remove the contact")
    .argument("<uid>", "UID or nickname")
    .option("-y, --yes", "do not ask for confirmation")
    .action(run(() => import("./commands/remove.ts")));
  cmd("send", "send a message (the text, or stdin when there is none) or a file")
    .argument("<uid>", "UID or nickname")
    .argument("[text...]", "the message")
    .option("--file <path>", "send this file, encrypted")
    .action(run(() => import("./commands/send.ts")));
  cmd("read", "print the conversation, oldest first")
    .argument("<uid>", "UID or nickname")
    .option("--limit <n>", "only the newest n messages")
    .option("--since <when>", "only messages since: a date (2026-12-01), a time ago (30m, 2h, 3d) or a Unix time")
    .action(run(() => import("./commands/read.ts")));
  cmd("search", "search the local history of v3 conversations for a text (ignoring case)")
    .argument("<text>", "the text to look for, in messages and file names")
    .option("--contact <uid>", "only the conversation with this contact (UID or nickname)")
    .action(run(() => import("./commands/search.ts")));
  cmd("history", "delete local history (this device's copies; 'burn' deletes the relay's)")
    .addArgument(program.createArgument("<action>", "clear").choices(["clear"]))
    .argument("[uid]", "the contact whose conversation to clear (UID or nickname)")
    .option("--all", "clear every conversation's history")
    .option("-y, --yes", "do not ask for confirmation")
    .action(run(() => import("./commands/history.ts")));
  cmd("get", "download, decrypt and save file n of a conversation")
    .argument("<uid>", "UID or nickname")
    .argument("<n>", "the file number shown by 'read'")
    .argument("[path]", "a folder (the file keeps its name) or a file path; default the current folder")
    .option("--force", "overwrite an existing file")
    .action(run(() => import("./commands/get.ts")));
  cmd("chat", "open the live chat screen with a contact (needs a terminal)")
    .argument("<uid>", "UID or nickname")
    .action(run(() => import("./commands/chat.ts")));
  cmd("listen", "print what was not yet delivered, then incoming messages from every contact until interrupted")
    .option("--from <now>", "'now': skip what arrived before (the backlog)")
    .action(run(() => import("./commands/listen.ts")));
  cmd("burn", "delete a conversation's messages and files from the relay")
    .argument("<uid>", "UID or nickname")
    .option("-y, --yes", "do not ask for confirmation")
    .action(run(() => import("./commands/burn.ts")));
  cmd("panic", "burn every conversation, then delete all local Phantom data")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--finish", "burn the conversations an earlier panic left on the relay (asks for the password)")
    .action(run(() => import("./commands/panic.ts")));
  cmd("update", "replace this binary with the newest signed release (checks its signature)")
    .option("--check", "only say whether a newer release exists")
    .option("-y, --yes", "do not ask (install, and trust a first-seen server key)")
    .option("--rollback", "go back to the binary before the last update")
    .option("--reset-pin", "forget the pinned update server keys")
    .action(run(() => import("./commands/update.ts")));
  cmd("usb", "write a portable bundle: binaries, launchers and your encrypted state")
    .argument("<folder>", "where to write it (new, or without the bundle's names: bin, home, run-*)")
    .option("--offline", "bundle this binary only; do not fetch the other platforms' from the release")
    .option("-y, --yes", "trust a first-seen update server key without asking")
    .action(run(() => import("./commands/usb.ts")));
  cmd("tor", "show Tor status and how to set it up").action(run(() => import("./commands/tor.ts")));
  cmd("settings", "show or change the settings (theme, mascot, motd, tor-warning, relay, history, require-v3, notify)")
    .argument(
      "[key]",
      "theme | color | mascot | motd | motd-add | motd-clear | tor-warning | relay | updates | update-url | history | require-v3 | notify | notify-preview",
    )
    .argument("[value...]", "the new value, e.g. 'theme amber', 'color accent #ffaa00', 'tor-warning off'")
    .action(run(() => import("./commands/settings.ts")));
  cmd("daemon", "unlock once, then serve the JSON-RPC API on $PHANTOM_HOME/daemon.sock while receiving")
    .option("--http <addr>", "also serve HTTP on a loopback address, e.g. 127.0.0.1:8788 (bearer token: daemon.token)")
    .option("--stdio", "also serve JSON-RPC on stdin and stdout (for a parent process)")
    .option("--schema", "print the API's JSON Schema and exit")
    .option("--new-token", "write a new bearer token for --http and exit")
    .option("--install-service", "start the daemon at login: a systemd user unit (Linux) or a LaunchAgent (macOS)")
    .option("--password-file <path>", "with --install-service: the file holding the password (yours, mode 0600)")
    .action(run(() => import("./commands/daemon.ts")));
  cmd("status", "say whether a daemon serves this identity (commands then need no password)").action(
    run(() => import("./commands/status.ts")),
  );
  cmd("startup", "start the interactive client at login: enable, disable or status")
    .addArgument(
      program.createArgument("<action>", "enable | disable | status").choices(["enable", "disable", "status"]),
    )
    .action(run(() => import("./commands/startup.ts")));
  program
    .command("completion")
    .description("print the shell completion script for bash, zsh or fish")
    .addArgument(program.createArgument("<shell>", SHELLS.join(" | ")).choices(SHELLS))
    .action(async (shell: string) => (await import("./commands/completion.ts")).run(program, shell));
  return program;
}
