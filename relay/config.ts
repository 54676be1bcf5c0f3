// Command line and environment → RelayConfig (PROTOCOL §9), through the one option table of
// relay/options.ts. Pure: no file system, no sqlite, so --help and --version stay fast.
import { s3AccessFromEnv } from "./blobs.ts";
import { type RelayConfig } from "./defaults.ts";
import { ConfigError } from "./errors.ts";
import { type Option, OPTIONS } from "./options.ts";

export type Env = Record<string, string | undefined>;

export type Parsed = { kind: "help" } | { kind: "version" } | { kind: "run"; config: RelayConfig };

const BY_FLAG = new Map(OPTIONS.filter((o) => o.flag !== undefined).map((o) => [o.flag as string, o]));

/** Parse argv (without the program name) and the environment. Flags win over the environment. */
export function parseConfig(argv: readonly string[], env: Env): Parsed {
  const given = new Map<Option, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "-V" || arg === "--version") return { kind: "version" };
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const opt = BY_FLAG.get(name);
    if (!opt) throw new ConfigError(`unknown option '${name}'`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new ConfigError(`option '${name}' needs a value`);
      i++;
    }
    const before = given.get(opt);
    given.set(opt, opt.repeatable && before !== undefined ? `${before},${value}` : value);
  }
  const text = (o: Option): string | undefined => {
    const v = given.get(o) ?? env[o.env];
    return v === "" ? undefined : v;
  };
  const config = {} as Record<keyof RelayConfig, unknown>;
  for (const o of OPTIONS) {
    const t = text(o);
    config[o.field] = t === undefined ? o.value : o.read(t, o.flag ?? o.env);
    if (o.field === "tlsKey" && (config.tlsCert === null) !== (config.tlsKey === null)) {
      throw new ConfigError("--tls-cert and --tls-key go together");
    }
  }
  const c = config as unknown as RelayConfig;
  // --blobs s3://…: the bucket's credentials are the standard AWS variables, never a flag.
  if (c.blobs.kind === "s3") c.blobs.access = s3AccessFromEnv(env);
  // Issue 13: processes that share nothing would each keep their own state and live sockets.
  if (c.workers > 1 && (c.store.kind !== "postgres" || c.live === "local")) {
    throw new ConfigError("--workers needs --store postgres://… and --live redis://… (the processes share them)");
  }
  return { kind: "run", config: c };
}

/** The URL printed in the first line of stdout. */
export function listenUrl(host: string, port: number, tls: boolean): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${tls ? "https" : "http"}://${h}:${port}`;
}
