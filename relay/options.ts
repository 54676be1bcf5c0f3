// The relay's options, one table (OPTIONS): for each flag and PROTOCOL §9 variable, its field of
// RelayConfig, its default, its help line and how its text is read. parseConfig (relay/config.ts)
// reads exactly these, and --help (relay/help.ts) and the man page (relay/man.ts) list exactly them.
import { isIP } from "node:net";
import { b64decode } from "../lib/encoding.ts";
import { normaliseOrigin } from "../lib/v3/request-sig.ts";
import { parseBlobsTarget } from "./blobs.ts";
import { DEFAULTS, LOG_LEVELS, type LogLevel, type RelayConfig, type StoreChoice } from "./defaults.ts";
import { ConfigError } from "./errors.ts";

/** Upper bound of the live-socket caps (a value beyond it is a typo, not a plan). */
const WS_MAX_CAP = 1_000_000;
const NO_LIMIT = 0; // a quota of 0 means no limit
const ANY = Number.MAX_SAFE_INTEGER;

function positiveNumber(text: string, what: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new ConfigError(`${what} must be a positive number, got '${text}'`);
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new ConfigError(`${what} must be a positive number, got '${text}'`);
  return n;
}

function integer(text: string, what: string, min: number, max: number): number {
  if (!/^\d{1,16}$/.test(text)) throw new ConfigError(`${what} must be an integer, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(`${what} must be between ${min} and ${max}, got '${text}'`);
  return n;
}

function key32(text: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = b64decode(text.trim(), name);
  } catch {
    throw new ConfigError(`${name} must be base64 of 32 bytes`);
  }
  if (bytes.length !== 32) throw new ConfigError(`${name} must be base64 of 32 bytes`);
  return bytes;
}

/** --trusted-proxy: comma-separated addresses, CIDR ranges, "loopback", or "none". */
function proxyList(text: string): string[] {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const item of items) {
    if (item === "loopback" || item === "none") continue;
    const [addr, bits, extra] = item.split("/");
    const family = isIP(addr ?? "");
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !okBits || extra !== undefined) {
      throw new ConfigError(`--trusted-proxy: '${item}' is not an address, a CIDR range, 'loopback' or 'none'`);
    }
  }
  return items.includes("none") ? [] : items;
}

/** PROTOCOL-v3 §V11 --public-url: comma-separated http(s) base URLs → their origins, deduplicated. */
function publicUrls(text: string, name: string): string[] {
  const out: string[] = [];
  for (const item of text.split(",").map((s) => s.trim())) {
    if (item === "") continue;
    let origin: string;
    try {
      origin = normaliseOrigin(item);
    } catch {
      throw new ConfigError(`${name}: '${item}' is not an http or https URL`);
    }
    if (!out.includes(origin)) out.push(origin);
  }
  return out;
}

/** --store: sqlite:PATH or a postgres:// URL. The text is never echoed: a URL may hold a password. */
function storeChoice(text: string, name: string): StoreChoice {
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length);
    if (path === "") throw new ConfigError(`${name}: sqlite: needs a file path (sqlite:PATH)`);
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    let host = "";
    try {
      host = new URL(text).hostname;
    } catch {
      // reported below
    }
    if (host === "")
      throw new ConfigError(`${name}: the postgres:// URL is malformed (postgres://USER:PASSWORD@HOST:PORT/DB)`);
    return { kind: "postgres", url: text };
  }
  throw new ConfigError(`${name} must be sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB`);
}

function onOff(text: string, name: string): boolean {
  if (text === "on") return true;
  if (text === "off") return false;
  throw new ConfigError(`${name} must be on or off, got '${text.slice(0, 16)}'`);
}

/** Issue 13 --live: "local", or a redis:// or rediss:// URL. The value is never echoed (it may hold a password). */
function liveBackend(text: string, name: string): string {
  if (text === "local") return text;
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {}
  if (!url || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    throw new ConfigError(`${name} must be 'local' or a redis:// or rediss:// URL`);
  }
  return text;
}

function logLevel(text: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got '${text}'`);
  }
  return text as LogLevel;
}

/** The help's spelling of a byte count: "1 GiB", "256 MiB", else the number. */
const bytesText = (n: number) =>
  n % 1024 ** 3 === 0 ? `${n / 1024 ** 3} GiB` : n % 1024 ** 2 === 0 ? `${n / 1024 ** 2} MiB` : String(n);

/** Where an option is listed in the help: flags, §7.10 limits, or variables without a flag (§9). */
export type Section = "options" | "limits" | "environment";

/**
 * One option of the relay: how it is given, read and described. parseConfig reads exactly the
 * options of OPTIONS and the help (relay/help.ts) lists exactly them, so an option cannot be
 * added without its help line.
 */
export interface Option<K extends keyof RelayConfig = keyof RelayConfig> {
  section: Section;
  /** The command-line flag; absent for a variable without a flag (PROTOCOL §9). */
  flag?: `--${string}`;
  /** The environment variable; the flag wins over it, and an empty value counts as unset. */
  env: string;
  field: K;
  /** The value's placeholder in the help (N, S, DIR…). */
  arg?: string;
  help: string;
  /** The value when neither is given. */
  value: RelayConfig[K];
  /** The default as the help shows it; absent: the help names no default. */
  shown?: string;
  /** The flag may be given more than once: its values are joined with "," before `read`. */
  repeatable?: boolean;
  /** Text → value; throws ConfigError naming `name` (the flag, or the variable without one). */
  read(text: string, name: string): RelayConfig[K];
}

const option = <K extends keyof RelayConfig>(o: Option<K>): Option => o as unknown as Option;

/** A whole-number limit of PROTOCOL §7.10 with its flag and variable. */
function limit(
  flag: `--${string}`,
  env: string,
  field: keyof typeof DEFAULTS & keyof RelayConfig,
  help: string,
  min: number,
  max: number,
  bytes = false,
): Option {
  const value = DEFAULTS[field] as number;
  return option({
    section: "limits",
    flag,
    env,
    field,
    arg: "N",
    help,
    value,
    shown: bytes ? bytesText(value) : String(value),
    read: (text, name) => integer(text, name, min, max),
  });
}

/** A §9 retention period: a positive number of `unit`s (decimals accepted), kept in seconds. */
function retention(env: string, field: keyof RelayConfig, units: number, unitS: number): Option {
  return option({
    section: "environment",
    env,
    field,
    help: "(decimals accepted)",
    value: units * unitS,
    shown: String(units),
    read: (text, name) => positiveNumber(text, name) * unitS,
  });
}

export const OPTIONS: readonly Option[] = [
  option({
    section: "options",
    flag: "--host",
    env: "PHANTOM_RELAY_HOST",
    field: "host",
    arg: "ADDR",
    help: "listen address",
    value: DEFAULTS.host,
    shown: DEFAULTS.host,
    read: (text) => text,
  }),
  option({
    section: "options",
    flag: "--port",
    env: "PHANTOM_RELAY_PORT",
    field: "port",
    arg: "N",
    help: "listen port, 0 picks a free one",
    value: DEFAULTS.port,
    shown: String(DEFAULTS.port),
    read: (text, name) => integer(text, name, 0, 65535),
  }),
  option({
    section: "options",
    flag: "--data",
    env: "PHANTOM_RELAY_DATA",
    field: "dataDir",
    arg: "DIR",
    help: "data folder",
    value: DEFAULTS.dataDir,
    shown: DEFAULTS.dataDir,
    read: (text) => text,
  }),
  option({
    section: "options",
    flag: "--store",
    env: "PHANTOM_RELAY_STORE",
    field: "store",
    arg: "URL",
    help: "state: sqlite:PATH, or a postgres:// URL shared between relays",
    value: { kind: "sqlite", path: null },
    shown: "sqlite:DIR/relay.db",
    read: storeChoice,
  }),
  option({
    section: "options",
    flag: "--pg-prepare",
    env: "PHANTOM_RELAY_PG_PREPARE",
    field: "pgPrepare",
    arg: "on|off",
    help: "PostgreSQL prepared statements (off behind a pooler in transaction mode)",
    value: true,
    shown: "on",
    read: onOff,
  }),
  option({
    section: "options",
    flag: "--workers",
    env: "PHANTOM_RELAY_WORKERS",
    field: "workers",
    arg: "N",
    help: "relay processes sharing the port; more than 1 needs --store postgres:// and --live redis://",
    value: 1,
    shown: "1",
    read: (text, name) => integer(text, name, 1, 256),
  }),
  option({
    section: "options",
    flag: "--tls-cert",
    env: "PHANTOM_RELAY_TLS_CERT",
    field: "tlsCert",
    arg: "FILE",
    help: "TLS certificate, PEM",
    value: null,
    read: (text) => text,
  }),
  option({
    section: "options",
    flag: "--tls-key",
    env: "PHANTOM_RELAY_TLS_KEY",
    field: "tlsKey",
    arg: "FILE",
    help: "TLS private key, PEM",
    value: null,
    read: (text) => text,
  }),
  option({
    section: "options",
    flag: "--public-url",
    env: "PHANTOM_RELAY_PUBLIC_URL",
    field: "publicUrls",
    arg: "URL",
    help: "a URL clients use for this relay (repeatable; comma-separated in the variable): enables protocol v3",
    value: [],
    repeatable: true,
    read: publicUrls,
  }),
  option({
    section: "options",
    flag: "--live",
    env: "PHANTOM_RELAY_LIVE",
    field: "live",
    arg: "URL",
    help: "local, or a redis:// URL: live frames and rate limits shared with other instances",
    value: "local",
    shown: "local",
    read: liveBackend,
  }),
  option({
    section: "options",
    flag: "--blobs",
    env: "PHANTOM_RELAY_BLOBS",
    field: "blobs",
    arg: "WHERE",
    help: "file blobs: dir:PATH, or s3://BUCKET/PREFIX with the AWS_* credential variables",
    value: { kind: "dir", dir: null },
    shown: "dir:DIR/blobs",
    read: parseBlobsTarget,
  }),
  option({
    section: "options",
    flag: "--log-level",
    env: "PHANTOM_RELAY_LOG_LEVEL",
    field: "logLevel",
    arg: "LEVEL",
    help: "error, warn, info or debug",
    value: DEFAULTS.logLevel,
    shown: DEFAULTS.logLevel,
    read: logLevel,
  }),
  option({
    section: "options",
    flag: "--purge-interval",
    env: "PHANTOM_PURGE_INTERVAL_S",
    field: "purgeIntervalS",
    arg: "S",
    help: "seconds between retention purges",
    value: DEFAULTS.purgeIntervalS,
    shown: String(DEFAULTS.purgeIntervalS),
    read: positiveNumber,
  }),
  option({
    section: "options",
    flag: "--max-inflight-per-uid",
    env: "PHANTOM_RELAY_MAX_INFLIGHT_PER_UID",
    field: "maxInflightPerUid",
    arg: "N",
    help: "signed requests of one identity in flight at once, more get 429",
    value: DEFAULTS.maxInflightPerUid,
    shown: String(DEFAULTS.maxInflightPerUid),
    read: (text, name) => integer(text, name, 1, 100_000),
  }),
  option({
    section: "options",
    flag: "--stall-timeout",
    env: "PHANTOM_RELAY_STALL_TIMEOUT_S",
    field: "stallTimeoutS",
    arg: "S",
    help: "drop an answer whose reader takes nothing for S seconds",
    value: DEFAULTS.stallTimeoutS,
    shown: String(DEFAULTS.stallTimeoutS),
    read: positiveNumber,
  }),
  limit(
    "--ws-max-per-uid",
    "PHANTOM_RELAY_WS_MAX_PER_UID",
    "wsMaxPerUid",
    "live sockets one user may hold",
    1,
    WS_MAX_CAP,
  ),
  limit(
    "--ws-max-per-room",
    "PHANTOM_RELAY_WS_MAX_PER_ROOM",
    "wsMaxPerRoom",
    "live sockets one room may hold",
    1,
    WS_MAX_CAP,
  ),
  limit(
    "--sent-bytes-per-day",
    "PHANTOM_RELAY_SENT_BYTES_PER_DAY",
    "sentBytesPerDay",
    "bytes a signer stores per day",
    NO_LIMIT,
    ANY,
    true,
  ),
  limit("--uploads-per-hour", "PHANTOM_RELAY_UPLOADS_PER_HOUR", "uploadsPerHour", "uploads per signer", NO_LIMIT, ANY),
  limit("--rooms-per-hour", "PHANTOM_RELAY_ROOMS_PER_HOUR", "roomsPerHour", "rooms a signer creates", NO_LIMIT, ANY),
  limit("--room-bytes", "PHANTOM_RELAY_ROOM_BYTES", "roomBytes", "bytes one room holds", NO_LIMIT, ANY, true),
  limit(
    "--registrations-per-hour",
    "PHANTOM_RELAY_REGISTRATIONS_PER_HOUR",
    "registrationsPerHour",
    "per client address",
    NO_LIMIT,
    ANY,
  ),
  limit("--burn-limit", "PHANTOM_RELAY_BURN_LIMIT", "burnLimit", "burns per user per burn window", 1, 1_000_000),
  limit("--burn-window", "PHANTOM_RELAY_BURN_WINDOW_S", "burnWindowS", "the burn window, seconds", 1, 86_400 * 7),
  option({
    section: "limits",
    flag: "--trusted-proxy",
    env: "PHANTOM_RELAY_TRUSTED_PROXIES",
    field: "trustedProxies",
    arg: "LIST",
    help: "proxies whose X-Forwarded-For counts",
    value: DEFAULTS.trustedProxies,
    shown: DEFAULTS.trustedProxies.join(","),
    read: proxyList,
  }),
  limit(
    "--uploads-in-flight",
    "PHANTOM_RELAY_UPLOADS_IN_FLIGHT",
    "uploadsInFlightPerUid",
    "uploads of one UID spooled at once",
    NO_LIMIT,
    ANY,
  ),
  limit(
    "--upload-spool-bytes",
    "PHANTOM_RELAY_UPLOAD_SPOOL_BYTES",
    "uploadSpoolBytes",
    "all uploads in flight",
    NO_LIMIT,
    ANY,
    true,
  ),
  limit(
    "--disk-reserve-bytes",
    "PHANTOM_RELAY_DISK_RESERVE_BYTES",
    "diskReserveBytes",
    "free disk kept; below it 507",
    NO_LIMIT,
    ANY,
    true,
  ),
  // PROTOCOL §9
  retention("MESSAGE_RETENTION_DAYS", "messageRetentionS", DEFAULTS.messageRetentionDays, 86_400),
  retention("KE_RETENTION_HOURS", "keRetentionS", DEFAULTS.keRetentionHours, 3600),
  retention("FILE_RETENTION_HOURS", "fileRetentionS", DEFAULTS.fileRetentionHours, 3600),
  option({
    section: "environment",
    env: "MAX_FILE_SIZE_BYTES",
    field: "maxFileSizeBytes",
    help: "",
    value: DEFAULTS.maxFileSizeBytes,
    shown: String(DEFAULTS.maxFileSizeBytes),
    read: (text, name) => integer(text, name, 1, 4 * 1024 ** 3),
  }),
  option({
    section: "environment",
    env: "PHANTOM_AUTH_PRIV_B64",
    field: "authPriv",
    help: "b64 X25519 private key: enables burn authentication",
    value: null,
    read: key32,
  }),
  option({
    section: "environment",
    env: "PHANTOM_FILE_ID_KEY_B64",
    field: "fileIdKey",
    help: "b64 32-byte file-id key (default: generated once in the data folder)",
    value: null,
    read: key32,
  }),
];
