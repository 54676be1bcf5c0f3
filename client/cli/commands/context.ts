// What every command shares: global options, opening the session (password,
// direct-connection consent, warnings), output (human or one JSON object per
// line), and confirmations that become --yes in scripts.

import { basename } from "node:path";
import { PhantomError } from "../../../lib/errors.ts";
import { escapeText, jsonText, oneLine } from "../../text/sanitise.ts";
import { printWarning } from "../errors.ts";
import { type ClientConfig, type ClientFlags, type Env, homeFromEnv, loadConfig, passwordSourceOf } from "../config.ts";
import { type PasswordSource, readPassword } from "../password.ts";
import { createProgress } from "../../tui/progress.ts";
import { confirm } from "../prompt.ts";
import { Session, sessionConfig, type SessionHooks } from "../../core/session.ts";
import { hasIdentity } from "../../state/vault.ts";

export type Globals = ClientFlags;
export type { Env } from "../config.ts";

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
  get config(): ClientConfig {
    this.resolved ??= loadConfig(this.flags, this.env);
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
  sessionConfig(password: string) {
    return { ...sessionConfig(this.config), password };
  }

  readonly hooks = {
    confirmDirect: this.confirmDirect,
    confirmSigDowngrade: this.confirmSigDowngrade,
    onWarning: printWarning,
  };

  /** `extra`: hooks of one command (listen's contact requests) beside the common ones. */
  async open(extra: Pick<SessionHooks, "onRequest"> = {}): Promise<Session> {
    // Before asking for a password: there must be something to unlock.
    if (!hasIdentity(this.home)) {
      throw new PhantomError("no-identity", `no identity in ${this.home}: run 'phantom init' first`);
    }
    const password = await readPassword({ source: this.passwordSource });
    return await Session.open(this.sessionConfig(password), { ...this.hooks, ...extra });
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
