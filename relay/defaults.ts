// What a relay is configured with (RelayConfig) and the values it has when nothing is given.
// Which flag or variable sets each, and how the help shows it: relay/options.ts.
import { BURN_LIMIT, BURN_WINDOW_S } from "../lib/wire.ts";
import type { BlobsTarget } from "./blobs.ts";
import { MAX_INFLIGHT_PER_UID, STALL_TIMEOUT_S } from "./inflight.ts";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the relay keeps its state (issue 13): SQLite (default: <data>/relay.db) or PostgreSQL. */
export type StoreChoice = { kind: "sqlite"; path: string | null } | { kind: "postgres"; url: string };

export interface RelayConfig {
  host: string;
  port: number;
  dataDir: string;
  store: StoreChoice;
  /** PostgreSQL named prepared statements; off behind a pooler in transaction mode. */
  pgPrepare: boolean;
  /** Relay processes sharing the port (SO_REUSEPORT) and the backends; more than 1 needs PostgreSQL and Redis. */
  workers: number;
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
  /** PROTOCOL §7.7: burns one UID may make per window, and the window in seconds. */
  burnLimit: number;
  burnWindowS: number;
  /**
   * PROTOCOL-v3 §V11: the relay's public origins from --public-url (normalised, paths dropped).
   * Empty and not loopback-only: v3 signatures are refused and /health lists protocol 2 only.
   */
  publicUrls: string[];
  /** Issue 13: "local", or the Redis URL (it may hold a password: never logged) of the live fan-out and shared limits. */
  live: string;
  /** PROTOCOL §7.8 file blobs: a folder (null: <data>/blobs) or an S3 bucket (relay/blobs.ts). */
  blobs: BlobsTarget;
}

/** The default values; relay/options.ts OPTIONS says which flag or variable sets each and how it is shown. */
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
  // Quotas. Why these numbers: README "Running a relay".
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
  stallTimeoutS: STALL_TIMEOUT_S,
  burnLimit: BURN_LIMIT,
  burnWindowS: BURN_WINDOW_S,
};
