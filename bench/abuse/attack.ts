// The shape of one attack of `./build.sh bench abuse`. Each attack is a
// module in bench/abuse/ listed in bench/abuse/index.ts; bench/abuse.ts starts a fresh
// compiled relay for it, runs it, and prints the relay's peak RSS, CPU and /health latency
// while it ran. Attacks must also run against older relays (the "before" figures), so they
// use only PROTOCOL v2 requests and tolerate any refusal.

export interface AttackContext {
  /** Base URL of the relay under attack, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The relay's process id (for /proc readings, if the attack wants them). */
  pid: number;
  /** How long to sustain the attack, in seconds. */
  seconds: number;
  /** Aborted when the attack must stop (time is up, or the relay died). */
  signal: AbortSignal;
  /** One line of attack-specific figures for the report (e.g. "2,000 sockets open"). */
  note(line: string): void;
}

export interface Attack {
  /** Short name used on the command line: ./build.sh bench abuse <name>. */
  name: string;
  /** One line: what the attack does. */
  what: string;
  /** Extra environment for the relay (limits made small enough for a few seconds' attack). */
  relayEnv?: Record<string, string>;
  /** Run the relay under this descriptor limit (prlimit --nofile=N), for descriptor attacks. */
  nofile?: number;
  /** Sustain the attack for ctx.seconds, then release everything it holds (sockets, readers). */
  run(ctx: AttackContext): Promise<void>;
}
