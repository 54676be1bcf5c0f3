// Environment variables that Bun acts on by itself, before or beside Phantom's code
// (SECURITY.md "Environment variables"). Each binary warns once, at start, about those
// set in its environment that matter to it, saying what the variable does and whether
// Phantom refuses it. Nothing here reads the working directory: the build turns off
// bunfig.toml and .env autoloading (build.sh).
// Kept free of imports: both binaries run it before `--version` and `--help`.

export type Binary = "phantom" | "phantom-relay";
export type Env = Record<string, string | undefined>;

interface Rule {
  /** The variable, and the other spellings Bun also reads. */
  names: readonly string[];
  /** The binaries it matters to. */
  binaries: readonly Binary[];
  /** What it does, and what Phantom does about it. */
  effect: string;
}

const BOTH: readonly Binary[] = ["phantom", "phantom-relay"];
const CLIENT: readonly Binary[] = ["phantom"];

// Only variables that run code or weaken a check. The relay makes no outgoing connection,
// so proxy, TLS-check and fetch-logging variables do not matter to it.
export const RULES: readonly Rule[] = [
  {
    names: ["BUN_OPTIONS"],
    binaries: BOTH,
    effect:
      "Bun read it as command-line flags before Phantom started (its --preload runs code inside Phantom); Phantom cannot refuse it",
  },
  {
    names: ["BUN_INSPECT"],
    binaries: BOTH,
    effect: "Bun opened a debugger, and whoever reaches it can run code inside Phantom; Phantom cannot refuse it",
  },
  {
    names: ["BUN_INSPECT_CONNECT_TO"],
    binaries: BOTH,
    effect: "Bun connects to the debugger it names, which can run code inside Phantom; Phantom cannot refuse it",
  },
  {
    names: ["NODE_TLS_REJECT_UNAUTHORIZED"],
    binaries: CLIENT,
    effect: "it can turn off TLS certificate checks in Bun; Phantom ignores it and checks every certificate",
  },
  {
    names: ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"],
    binaries: CLIENT,
    effect:
      "Phantom ignores it: it reaches the relay directly or through Tor (PHANTOM_TOR_PROXY), never through an HTTP proxy",
  },
  {
    names: ["BUN_CONFIG_VERBOSE_FETCH"],
    binaries: CLIENT,
    effect: "it makes Bun print every request's headers (your UID, signatures); Phantom ignores it",
  },
];

const RELAY: readonly Binary[] = ["phantom-relay"];

// With --blobs s3://… the relay does connect out, to its bucket, through Bun's S3 client, which
// acts on these (the proxy and logging variables seen with Bun 1.4.4) and has no option to refuse
// them: the relay warns about them then (SECURITY.md "Variables Bun acts on by itself").
export const RELAY_S3_RULES: readonly Rule[] = [
  {
    names: ["NODE_TLS_REJECT_UNAUTHORIZED"],
    binaries: RELAY,
    effect:
      "it can turn off TLS certificate checks on the connections to the S3 bucket (--blobs); Phantom cannot refuse it",
  },
  {
    names: RULES.find((r) => r.names.includes("HTTPS_PROXY"))!.names,
    binaries: RELAY,
    effect: "the requests to the S3 bucket (--blobs) go through that HTTP proxy; Phantom cannot refuse it",
  },
  {
    names: ["BUN_CONFIG_VERBOSE_FETCH"],
    binaries: RELAY,
    effect:
      "Bun prints every request to the S3 bucket (--blobs) with its headers (access key id, signatures); Phantom cannot refuse it",
  },
];

/** The warning lines for `env`, one per rule that has a variable set (non-empty). */
export function envWarnings(binary: Binary, env: Env, rules: readonly Rule[] = RULES): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    if (!rule.binaries.includes(binary)) continue;
    const set = rule.names.filter((n) => (env[n] ?? "").trim() !== "");
    if (set.length === 0) continue;
    const which = set.length === 1 ? `${set[0]} is set` : `${set.join(", ")} are set`;
    out.push(`${binary}: warning: ${which}: ${rule.effect}`);
  }
  return out;
}

/** Write the warnings to stderr through `write` (once: each binary calls it once, at start). */
export function warnAboutEnv(binary: Binary, env: Env, write: (s: string) => void): void {
  const lines = envWarnings(binary, env);
  if (lines.length > 0) write(`${lines.join("\n")}\n`);
}
