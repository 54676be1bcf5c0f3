// What every command shares: global options, opening the session (password,
// direct-connection consent, warnings), output (human or one JSON object per
// line), and confirmations that become --yes in scripts.

import { basename } from "node:path";
import { PhantomError } from "../../../lib/errors.ts";
import { escapeText, jsonText, oneLine } from "../../text/sanitise.ts";
import { printWarning } from "../errors.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClientConfig } from "../config.ts";
import { type ClientFlags, type Env, homeFromEnv, type PasswordSource, passwordSourceOf } from "../env.ts";
import { createProgress } from "../../tui/progress.ts";
import type { Session, SessionHooks } from "../../core/session.ts";
import { type Api, DaemonClient } from "../../daemon/client.ts";

// Kept light: a command through a running daemon loads this module, never the session, the
// configuration (zod schemas, Tor) or the prompts; those are imported when first needed.

export type Globals = ClientFlags;
export type { Env } from "../env.ts";

async function confirm(question: string): Promise<boolean> {
  return await (await import("../prompt.ts")).confirm(question);
}

export class Ctx {
  readonly home: string;
  readonly json: boolean;
  readonly relay: string | undefined;
  readonly passwordSource: PasswordSource;
  private readonly flags: Globals;
  private readonly env: Env;
  private resolved: ClientConfig | null = null;

  constructor(g: Globals, env: Env = process.env) {
    this.flags = g;
    this.env = env;
    this.home = homeFromEnv(env);
    this.json = g.json === true;
    this.relay = g.relay;
    this.passwordSource = passwordSourceOf(env);
  }

  /**
   * The whole configuration, resolved at first use: a bad relay address or Tor setting is
   * reported by the commands that need them, after the identity and password checks.
   */
  async loadConfig(): Promise<ClientConfig> {
    if (this.resolved === null) {
      const { loadConfig } = await import("../config.ts");
      this.resolved = loadConfig(this.flags, this.env);
    }
    return this.resolved;
  }

  get interactive(): boolean {
    return process.stdin.isTTY === true && process.stderr.isTTY === true;
  }

  /**
   * Asked at the first relay request when the route would show our IP address (lib/tor.ts plan).
   * Not asked with --direct or PHANTOM_DIRECT=1: the session accepts and warns.
   */
  confirmDirect = async (reason: string): Promise<boolean> => {
    if (!this.interactive) return false;
    printWarning(`no Tor route to the relay: ${reason}`);
    return await confirm("Connect directly anyway?");
  };

  /** PROTOCOL-v3 §V11: a relay that signed-request-pinned us dropped v3; only a person on a terminal may agree. */
  confirmSigDowngrade = async (origin: string): Promise<boolean> => {
    if (!this.interactive) return false;
    printWarning(
      `the relay ${origin} offered relay-bound signatures (protocol v3) before and does not now: it may have been replaced`,
    );
    return await confirm("Go on with protocol v2 signatures?");
  };

  /** The session's part of the configuration, with the password. */
  async sessionConfig(password: string) {
    const { sessionConfig } = await import("../../core/session.ts");
    return { ...sessionConfig(await this.loadConfig()), password };
  }

  /** Whether commands may use a running daemon (not with --no-daemon, nor with a --relay of their own). */
  get daemonAllowed(): boolean {
    return this.flags.daemon !== false && this.flags.relay === undefined;
  }

  /**
   * The running daemon, when one answers on $PHANTOM_HOME/daemon.sock and serves the relay this
   * command would use; else null (the command unlocks itself). A socket that is not ours is an error.
   */
  async daemon(): Promise<DaemonClient | null> {
    if (!this.daemonAllowed) return null;
    const d = await DaemonClient.connect(this.home);
    if (d === null) return null;
    d.onWarning = printWarning;
    try {
      const st = await d.call("route", {});
      // The daemon's relay and Tor setting must be this command's (the fast path reads no configuration).
      const quick = st.relay === this.quickRelay() && st.tor === this.quickTor();
      if (quick) return d;
      const c = await this.loadConfig();
      if (st.relay === c.relayUrl && st.tor === `${c.tor.mode} ${c.tor.proxyHost}:${c.tor.proxyPort}`) return d;
    } catch {
      // a daemon that does not answer status: not ours to use
    }
    d.close();
    return null;
  }

  /**
   * The relay this command would use, read without the configuration's checks (a fast path: equal
   * to the daemon's, the daemon serves it; otherwise the whole configuration decides).
   */
  private quickRelay(): string | null {
    const env = this.env.PHANTOM_RELAY;
    if (env !== undefined && env !== "") return env;
    try {
      const relay = (JSON.parse(readFileSync(join(this.home, "settings.json"), "utf8")) as { relay?: unknown }).relay;
      return typeof relay === "string" ? relay : "http://127.0.0.1:8787";
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ENOENT" ? "http://127.0.0.1:8787" : null;
    }
  }

  /** The Tor setting when the environment sets none (the default: "auto 127.0.0.1:9050"); else null. */
  private quickTor(): string | null {
    const set = (v: string | undefined) => v !== undefined && v !== "";
    return set(this.env.PHANTOM_TOR) || set(this.env.PHANTOM_TOR_PROXY) ? null : "auto 127.0.0.1:9050";
  }

  /** The API: through the daemon when one runs, else on a session this process unlocks. */
  async api(extra: Pick<SessionHooks, "onRequest"> = {}): Promise<Api> {
    const d = await this.daemon();
    if (d !== null) return d;
    const { LocalApi } = await import("../../daemon/local.ts");
    return new LocalApi(await this.open(extra));
  }

  readonly hooks = {
    confirmDirect: this.confirmDirect,
    confirmSigDowngrade: this.confirmSigDowngrade,
    onWarning: printWarning,
  };

  /** `extra`: hooks of one command (listen's contact requests) beside the common ones. */
  async open(extra: Pick<SessionHooks, "onRequest" | "onWarning"> = {}): Promise<Session> {
    // Before asking for a password: there must be something to unlock.
    const { hasIdentity } = await import("../../state/vault.ts");
    if (!hasIdentity(this.home)) {
      throw new PhantomError("no-identity", `no identity in ${this.home}: run 'phantom init' first`);
    }
    const { readPassword } = await import("../password.ts");
    const password = await readPassword({ source: this.passwordSource });
    const { Session } = await import("../../core/session.ts");
    return await Session.open(await this.sessionConfig(password), { ...this.hooks, ...extra });
  }

  /** A destructive step: --yes, else a question on a terminal, else refuse. */
  async confirmDestructive(yes: boolean | undefined, question: string, what: string): Promise<void> {
    if (yes) return;
    if (!this.interactive) {
      throw new PhantomError("needs-yes", `${what} needs --yes when there is no terminal to confirm on`);
    }
    if (!(await confirm(question))) throw new PhantomError("cancelled", "cancelled, nothing was changed");
  }

  /** Human output line (stdout). Text from peers must go through escapeText first. */
  line(text = ""): void {
    process.stdout.write(`${text}\n`);
  }

  /** One JSON object per line. Characters some terminals act on are escaped (still valid JSON). */
  jsonLine(value: unknown): void {
    process.stdout.write(`${jsonText(value)}\n`);
  }
}

/** A single-line label for a contact: nickname (uid) or uid, safe for the terminal. */
export function who(c: { uid: string; nickname: string | null }): string {
  return c.nickname ? `${oneLine(escapeText(c.nickname))} (${c.uid})` : c.uid;
}

/** A positive integer option. */
export function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new PhantomError("bad-option", `${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

export function timeOf(ts: number): string {
  const d = new Date(ts * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A progress bar (percent, sizes, speed, ETA) on stderr when it is a terminal; undefined otherwise. */
export function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  const bar = createProgress(label, { out: process.stderr });
  let finished = false;
  return (done, total) => {
    if (finished) return;
    bar.update(done, total);
    if (done >= total) {
      finished = true;
      bar.finish();
    }
  };
}

/** Run from source, process.execPath is the bun runtime, not phantom: nothing to bundle or start at login. */
export function needCompiled(command: string): void {
  if (/^bun(\.exe)?$/i.test(basename(process.execPath)))
    throw new PhantomError(`${command}-source`, `phantom ${command} needs the compiled phantom (./build.sh), not bun`);
}
