// Per-signer and per-address rates (PROTOCOL §7.10). Counters live in
// memory only and are keyed by the signer's UID or the client address, never by a stored
// row: the relay does not store senders (PROTOCOL §7.6), and nothing here links a UID to
// a message, file or room. A restart forgets them. With --live redis://… the same buckets live
// in Redis (relay/redis-limiter.ts), shared by every instance; the calls are asynchronous for both.
import type { RelayConfig } from "./defaults.ts";
import type { Store } from "./store.ts";
import { busy, rateLimited, type RelayError, tooLarge } from "./errors.ts";

/** Keys a limiter remembers at most; past it, full buckets are forgotten first. */
const MAX_KEYS = 100_000;

/**
 * A token bucket per key: `capacity` units, refilled at capacity per `windowS` seconds. In
 * any window a key spends at most twice its capacity, and capacity per window in the long run.
 * A capacity of 0 means no limit. Implemented in memory (RateLimiter) and in Redis.
 */
export interface Limiter {
  readonly capacity: number;
  readonly unlimited: boolean;
  /** Whole seconds until `cost` units are there for `key`; 0 when they are there now, Infinity never. */
  wait(key: string, cost: number): Promise<number>;
  /** Spend `cost` units even if that takes the bucket below empty (a cost known only afterwards); a negative cost gives units back, never past capacity. */
  charge(key: string, cost: number): Promise<void>;
  /** Spend `cost` units if they are there, atomically: 0, or the whole seconds to wait (nothing spent). */
  take(key: string, cost: number): Promise<number>;
  /** Forget buckets that have refilled. */
  sweep(): void;
}

/** The whole seconds until `missing` units refill at `rate` units per second (0 when none are missing). */
export function waitSeconds(missing: number, rate: number): number {
  return missing <= 0 ? 0 : Math.max(1, Math.ceil(missing / rate - 1e-9)); // 1e-9: float error
}

/** The in-process token buckets of one relay. */
export class RateLimiter implements Limiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  readonly capacity: number;
  private readonly rate: number; // units per second
  private readonly clock: () => number;

  constructor(capacity: number, windowS: number, clock: () => number) {
    this.capacity = capacity;
    this.rate = capacity / windowS;
    this.clock = clock;
  }

  get unlimited(): boolean {
    return this.capacity === 0;
  }

  private level(key: string, now: number): number {
    const b = this.buckets.get(key);
    if (!b) return this.capacity;
    // A clock that went back refills nothing (the Redis buckets meet other instances' clocks too).
    return Math.min(this.capacity, b.tokens + Math.max(0, now - b.at) * this.rate);
  }

  private waitNow(key: string, cost: number): number {
    if (this.unlimited) return 0;
    if (cost > this.capacity) return Infinity;
    return waitSeconds(cost - this.level(key, this.clock()), this.rate);
  }

  private chargeNow(key: string, cost: number): void {
    if (this.unlimited) return;
    const now = this.clock();
    const tokens = Math.min(this.capacity, this.level(key, now) - cost);
    if (!this.buckets.has(key) && this.buckets.size >= MAX_KEYS) this.sweep(now);
    this.buckets.set(key, { tokens, at: Math.max(now, this.buckets.get(key)?.at ?? now) });
  }

  async wait(key: string, cost: number): Promise<number> {
    return this.waitNow(key, cost);
  }

  async charge(key: string, cost: number): Promise<void> {
    this.chargeNow(key, cost);
  }

  // Synchronous inside: nothing runs between the check and the spending.
  async take(key: string, cost: number): Promise<number> {
    const wait = this.waitNow(key, cost);
    if (wait === 0) this.chargeNow(key, cost);
    return wait;
  }

  /** Forget buckets that have refilled (they hold nothing a fresh one would not). */
  sweep(now = this.clock()): void {
    for (const [key, b] of this.buckets)
      if (b.tokens + (now - b.at) * this.rate >= this.capacity) this.buckets.delete(key);
    // Still full of keys that are all spending: the oldest go (they may spend again).
    if (this.buckets.size >= MAX_KEYS) {
      for (const key of this.buckets.keys()) {
        this.buckets.delete(key);
        if (this.buckets.size < MAX_KEYS / 2) break;
      }
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** The §7.10 answer for a wait of `wait` seconds: 413 when it can never fit, else 429 with Retry-After. */
function refusal(limiter: Limiter, wait: number, what: string): RelayError {
  if (wait === Infinity) return tooLarge(`${what}: larger than the limit of ${limiter.capacity}`);
  return rateLimited(wait, `${what} limit reached`);
}

/** Throw the §7.10 answer for a refused `cost` (nothing is spent). */
export async function refuse(limiter: Limiter, key: string, cost: number, what: string): Promise<void> {
  const wait = await limiter.wait(key, cost);
  if (wait !== 0) throw refusal(limiter, wait, what);
}

/** Spend `cost` units of `key` in one atomic take, or throw the §7.10 answer of refuse() and spend nothing. */
export async function spend(limiter: Limiter, key: string, cost: number, what: string): Promise<void> {
  const wait = await limiter.take(key, cost);
  if (wait !== 0) throw refusal(limiter, wait, what);
}

export const DAY_S = 86_400;
export const HOUR_S = 3600;
/** Seconds a client is told to wait when every upload slot is taken (503). */
export const UPLOAD_BUSY_RETRY_S = 5;

/** Uploads whose bodies are still arriving, before their signature could be checked. */
export class UploadSlots {
  private readonly perUid = new Map<string, number>();
  private bytes = 0;
  private readonly maxPerUid: number;
  private readonly maxBytes: number;

  constructor(maxPerUid: number, maxBytes: number) {
    this.maxPerUid = maxPerUid;
    this.maxBytes = maxBytes;
  }

  /**
   * Reserve `bytes` of spool for an upload of `uid`; the caller must call the release.
   * 503 when the spool of all uploads is full; null when `uid` has its uploads in flight.
   */
  acquire(uid: string, bytes: number): (() => void) | null {
    const n = this.perUid.get(uid) ?? 0;
    if (this.maxPerUid > 0 && n >= this.maxPerUid) return null;
    if (this.maxBytes > 0 && this.bytes + bytes > this.maxBytes) {
      throw busy(UPLOAD_BUSY_RETRY_S, "too many uploads in progress");
    }
    this.perUid.set(uid, n + 1);
    this.bytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.bytes -= bytes;
      const left = (this.perUid.get(uid) ?? 1) - 1;
      if (left > 0) this.perUid.set(uid, left);
      else this.perUid.delete(uid);
    };
  }

  get inFlightBytes(): number {
    return this.bytes;
  }
}

/**
 * Makes the limiter `name` (a short word, part of its Redis keys) of `capacity` per `windowS`
 * seconds: in memory by default, in Redis when the relay shares its limits.
 */
export type LimiterFactory = (name: string, capacity: number, windowS: number) => Limiter;

export const memoryLimiters =
  (clock: () => number = () => Date.now() / 1000): LimiterFactory =>
  (_name, capacity, windowS) =>
    new RateLimiter(capacity, windowS, clock);

/** Every quota of the relay, built from its configuration. */
export class Quotas {
  /** Bytes a signer stores per day: /send ciphertext and uploaded files. */
  readonly sentBytes: Limiter;
  readonly uploads: Limiter;
  readonly roomsCreated: Limiter;
  /** Keyed by client address (relay/client-address.ts). */
  readonly registrations: Limiter;
  /** In-process concurrency of this instance: never shared. */
  readonly uploadSlots: UploadSlots;
  readonly roomBytes: number;

  constructor(c: RelayConfig, limiters: LimiterFactory = memoryLimiters()) {
    this.sentBytes = limiters("sent", c.sentBytesPerDay, DAY_S);
    this.uploads = limiters("uploads", c.uploadsPerHour, HOUR_S);
    this.roomsCreated = limiters("rooms", c.roomsPerHour, HOUR_S);
    this.registrations = limiters("registrations", c.registrationsPerHour, HOUR_S);
    this.uploadSlots = new UploadSlots(c.uploadsInFlightPerUid, c.uploadSpoolBytes);
    this.roomBytes = c.roomBytes;
  }

  /** Forget refilled buckets (called with the retention purge). */
  sweep(): void {
    for (const l of [this.sentBytes, this.uploads, this.roomsCreated, this.registrations]) l.sweep();
  }
}

/** What the room quota needs of the relay (relay/context.ts Relay has it). */
interface RoomRelay {
  store: Pick<Store, "roomBytes">;
  quotas: Pick<Quotas, "roomBytes">;
  config: Pick<RelayConfig, "purgeIntervalS">;
}

/** Whether the room can store `bytes` more within its quota. */
export async function roomHas(relay: RoomRelay, roomId: string, bytes: number): Promise<boolean> {
  const cap = relay.quotas.roomBytes;
  return cap === 0 || (await relay.store.roomBytes(roomId)) + bytes <= cap;
}

/**
 * 429 when `bytes` more would take the room past its stored-bytes quota. The room frees space
 * when its oldest data is purged (§8) or a member burns it (§7.7): retry after a purge.
 */
export async function checkRoomSpace(relay: RoomRelay, roomId: string, bytes: number): Promise<void> {
  if (await roomHas(relay, roomId, bytes)) return;
  throw roomFull(relay, bytes);
}

/** The answer when the store refused `bytes` more for the room (Store.addMessage/addFile roomCap). */
export function roomFull(relay: Pick<RoomRelay, "quotas" | "config">, bytes: number): RelayError {
  const cap = relay.quotas.roomBytes;
  if (bytes > cap) return tooLarge(`larger than the room's limit of ${cap} bytes`);
  return rateLimited(Math.max(1, Math.ceil(relay.config.purgeIntervalS)), "the room's storage quota is reached");
}
