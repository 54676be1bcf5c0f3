// Command line and environment → RelayConfig (PROTOCOL §9, issue 3 item 5).
// Pure: no file system, no sqlite, so --help and --version stay fast.
import { isIP } from "node:net";
import { b64decode } from "../lib/encoding.ts";
import { ConfigError } from "./errors.ts";
import { MAX_INFLIGHT_PER_UID, STALL_TIMEOUT_S } from "./inflight.ts";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RelayConfig {
  host: string;
  port: number;
  dataDir: string;
  tlsCert: string | null;
  tlsKey: string | null;
  logLevel: LogLevel;
  /** Seconds between retention purges (§8). */
  purgeIntervalS: number;
  /** §8/§9 limits in seconds (the variables accept decimals, e.g. KE_RETENTION_HOURS=0.0005). */
  messageRetentionS: number;
  keRetentionS: number;
  fileRetentionS: number;
  /** §7.8 */
  maxFileSizeBytes: number;
  /** §7.1, §7.7: the relay's X25519 auth private key, or null. */
  authPriv: Uint8Array | null;
  /** §7.8: null → generated once and kept in the data folder. */
  fileIdKey: Uint8Array | null;
  /** PROTOCOL §7.9, §7.10: live sockets one UID may hold at once, and one room. */
  wsMaxPerUid: number;
  wsMaxPerRoom: number;
  // Quotas (PROTOCOL §7.10, relay/quota.ts); 0 means no limit.
  /** Bytes one signer may store per day (/send ciphertext + uploaded files). */
  sentBytesPerDay: number;
  uploadsPerHour: number;
  roomsPerHour: number;
  /** Bytes of messages and files one room may hold. */
  roomBytes: number;
  /** Registrations per client address per hour (never for a trusted proxy without X-Forwarded-For). */
  registrationsPerHour: number;
  /** Uploads of one UID whose bodies are still arriving. */
  uploadsInFlightPerUid: number;
  /** Bytes of all uploads still arriving, reserved by their Content-Length. */
  uploadSpoolBytes: number;
  /** Below this many free bytes in the data folder the relay refuses new data (507). */
  diskReserveBytes: number;
  /** Peers whose X-Forwarded-For is believed: addresses, CIDR ranges, "loopback" or "none". */
  trustedProxies: string[];
  /** §7.10: signed requests of one UID in flight at once (relay/inflight.ts); more get 429. */
  maxInflightPerUid: number;
  /** Seconds an answer may wait for its reader to take more before it is dropped. */
  stallTimeoutS: number;
}

export type Parsed = { kind: "help" } | { kind: "version" } | { kind: "run"; config: RelayConfig };

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 8787,
  dataDir: "./phantom-relay-data",
  logLevel: "info" as LogLevel,
  purgeIntervalS: 300,
  messageRetentionDays: 7,
  keRetentionHours: 24,
  fileRetentionHours: 24,
  maxFileSizeBytes: 52_428_800,
  wsMaxPerUid: 256,
  wsMaxPerRoom: 8,
  // Quotas (issue 8 item 2). Why these numbers: README "Running a relay".
  sentBytesPerDay: 1024 ** 3,
  uploadsPerHour: 60,
  roomsPerHour: 60,
  roomBytes: 1024 ** 3,
  registrationsPerHour: 30,
  uploadsInFlightPerUid: 2,
  uploadSpoolBytes: 256 * 1024 ** 2,
  diskReserveBytes: 256 * 1024 ** 2,
  trustedProxies: ["loopback"],
  maxInflightPerUid: MAX_INFLIGHT_PER_UID,
};

/** Upper bound of the live-socket caps (a value beyond it is a typo, not a plan). */
const WS_MAX_CAP = 1_000_000;
const NO_LIMIT = 0; // a quota of 0 means no limit
const ANY = Number.MAX_SAFE_INTEGER;

/**
 * Limits that take a whole number: flag → [environment variable, config field, min, max].
 * Defaults are in DEFAULTS under the same field.
 */
const INTEGER_FLAGS = {
  "--ws-max-per-uid": ["PHANTOM_RELAY_WS_MAX_PER_UID", "wsMaxPerUid", 1, WS_MAX_CAP],
  "--ws-max-per-room": ["PHANTOM_RELAY_WS_MAX_PER_ROOM", "wsMaxPerRoom", 1, WS_MAX_CAP],
  "--sent-bytes-per-day": ["PHANTOM_RELAY_SENT_BYTES_PER_DAY", "sentBytesPerDay", NO_LIMIT, ANY],
  "--uploads-per-hour": ["PHANTOM_RELAY_UPLOADS_PER_HOUR", "uploadsPerHour", NO_LIMIT, ANY],
  "--rooms-per-hour": ["PHANTOM_RELAY_ROOMS_PER_HOUR", "roomsPerHour", NO_LIMIT, ANY],
  "--room-bytes": ["PHANTOM_RELAY_ROOM_BYTES", "roomBytes", NO_LIMIT, ANY],
  "--registrations-per-hour": ["PHANTOM_RELAY_REGISTRATIONS_PER_HOUR", "registrationsPerHour", NO_LIMIT, ANY],
  "--uploads-in-flight": ["PHANTOM_RELAY_UPLOADS_IN_FLIGHT", "uploadsInFlightPerUid", NO_LIMIT, ANY],
  "--upload-spool-bytes": ["PHANTOM_RELAY_UPLOAD_SPOOL_BYTES", "uploadSpoolBytes", NO_LIMIT, ANY],
  "--disk-reserve-bytes": ["PHANTOM_RELAY_DISK_RESERVE_BYTES", "diskReserveBytes", NO_LIMIT, ANY],
  "--max-inflight-per-uid": ["PHANTOM_RELAY_MAX_INFLIGHT_PER_UID", "maxInflightPerUid", 1, 100_000],
} as const;
type IntegerField = (typeof INTEGER_FLAGS)[keyof typeof INTEGER_FLAGS][1];

// flag → environment variable
const FLAGS = {
  "--host": "PHANTOM_RELAY_HOST",
  "--port": "PHANTOM_RELAY_PORT",
  "--data": "PHANTOM_RELAY_DATA",
  "--tls-cert": "PHANTOM_RELAY_TLS_CERT",
  "--tls-key": "PHANTOM_RELAY_TLS_KEY",
  "--log-level": "PHANTOM_RELAY_LOG_LEVEL",
  "--purge-interval": "PHANTOM_PURGE_INTERVAL_S",
  "--trusted-proxy": "PHANTOM_RELAY_TRUSTED_PROXIES",
  "--stall-timeout": "PHANTOM_RELAY_STALL_TIMEOUT_S",
  ...(Object.fromEntries(Object.entries(INTEGER_FLAGS).map(([f, [env]]) => [f, env])) as {
    [F in keyof typeof INTEGER_FLAGS]: (typeof INTEGER_FLAGS)[F][0];
  }),
} as const;
type Flag = keyof typeof FLAGS;

export type Env = Record<string, string | undefined>;

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

/** Parse argv (without the program name) and the environment. Flags win over the environment. */
export function parseConfig(argv: readonly string[], env: Env): Parsed {
  const given = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    if (arg === "-V" || arg === "--version") return { kind: "version" };
    const eq = arg.indexOf("=");
    const name = (eq > 0 ? arg.slice(0, eq) : arg) as Flag;
    if (!(name in FLAGS)) throw new ConfigError(`unknown option '${name}'`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new ConfigError(`option '${name}' needs a value`);
      i++;
    }
    given.set(name, value);
  }
  const get = (flag: Flag): string | undefined => {
    const v = given.get(flag) ?? env[FLAGS[flag]];
    return v === "" ? undefined : v;
  };

  const host = get("--host") ?? DEFAULTS.host;
  const portText = get("--port");
  const port = portText === undefined ? DEFAULTS.port : integer(portText, "--port", 0, 65535);
  const dataDir = get("--data") ?? DEFAULTS.dataDir;
  const tlsCert = get("--tls-cert") ?? null;
  const tlsKey = get("--tls-key") ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) throw new ConfigError("--tls-cert and --tls-key go together");
  const level = get("--log-level") ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got '${level}'`);
  }
  const purgeText = get("--purge-interval");
  const purgeIntervalS =
    purgeText === undefined ? DEFAULTS.purgeIntervalS : positiveNumber(purgeText, "--purge-interval");
  const stallText = get("--stall-timeout");
  const stallTimeoutS = stallText === undefined ? STALL_TIMEOUT_S : positiveNumber(stallText, "--stall-timeout");

  // PROTOCOL §9
  const num = (name: string, dflt: number) => (env[name] ? positiveNumber(env[name]!, name) : dflt);
  const maxText = env.MAX_FILE_SIZE_BYTES;
  const maxFileSizeBytes = maxText
    ? integer(maxText, "MAX_FILE_SIZE_BYTES", 1, 4 * 1024 ** 3)
    : DEFAULTS.maxFileSizeBytes;

  const limits = {} as Record<IntegerField, number>;
  for (const [flag, [, field, min, max]] of Object.entries(INTEGER_FLAGS)) {
    const text = get(flag as Flag);
    limits[field] = text === undefined ? DEFAULTS[field] : integer(text, flag, min, max);
  }
  const proxyText = get("--trusted-proxy");
  const trustedProxies = proxyText === undefined ? DEFAULTS.trustedProxies : proxyList(proxyText);

  return {
    kind: "run",
    config: {
      ...limits,
      trustedProxies,
      host,
      port,
      dataDir,
      tlsCert,
      tlsKey,
      logLevel: level as LogLevel,
      purgeIntervalS,
      messageRetentionS: num("MESSAGE_RETENTION_DAYS", DEFAULTS.messageRetentionDays) * 86_400,
      keRetentionS: num("KE_RETENTION_HOURS", DEFAULTS.keRetentionHours) * 3600,
      fileRetentionS: num("FILE_RETENTION_HOURS", DEFAULTS.fileRetentionHours) * 3600,
      maxFileSizeBytes,
      authPriv: env.PHANTOM_AUTH_PRIV_B64 ? key32(env.PHANTOM_AUTH_PRIV_B64, "PHANTOM_AUTH_PRIV_B64") : null,
      fileIdKey: env.PHANTOM_FILE_ID_KEY_B64 ? key32(env.PHANTOM_FILE_ID_KEY_B64, "PHANTOM_FILE_ID_KEY_B64") : null,
      stallTimeoutS,
    },
  };
}

/** The URL printed in the first line of stdout. */
export function listenUrl(host: string, port: number, tls: boolean): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${tls ? "https" : "http"}://${h}:${port}`;
}
