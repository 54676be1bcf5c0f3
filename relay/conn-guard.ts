// Descriptor pressure (PROTOCOL §7.10). Past its descriptor limit Bun's accept
// loop spins on EMFILE and serves almost nothing (oven-sh/bun#32705), and Bun.serve has no
// connection cap, so the relay watches its own descriptor count and, from FD_BUSY_FRACTION of
// the limit on:
// - answers requests 503 busy with Retry-After and closes their connection (relay/server.ts),
// - closes idle keep-alive connections (Bun's closeIdleConnections),
// - shuts down connections that sent nothing for STALLED_AFTER_MS (relay/fds.ts, Linux).
// Below the limit Bun itself closes a connection that has not sent a complete request within
// NO_REQUEST_TIMEOUT_S, however slowly it sends header bytes (measured on Bun 1.4.4: 10–14 s,
// whatever Bun.serve's idleTimeout; idleTimeout applies once a request has arrived).
import type { Server } from "bun";
import { canShutDownStalled, countOpenFds, raiseFdLimit, shutDownStalled } from "./fds.ts";
import type { Log } from "./log.ts";

/** Share of the descriptor limit from which the relay refuses new work. */
export const FD_BUSY_FRACTION = 0.8;
/** How often descriptors are counted from half the busy threshold on. */
export const FD_SAMPLE_MS = 250;
/** … and below it: a count blocks the event loop ~1 µs per descriptor (5 ms at 5,000). */
export const FD_CALM_SAMPLE_MS = 1000;
/** Counting may use at most 1/FD_SAMPLE_COST_RATIO of the time. */
const FD_SAMPLE_COST_RATIO = 50;
/** Under pressure, a connection silent in both directions this long is shut down. */
export const STALLED_AFTER_MS = 2000;
/**
 * At the limit itself (accept failing, the loop spinning, honest clients shut out) the wait is
 * shorter: an honest client sends its request right after connecting, even over Tor.
 */
export const STALLED_AT_LIMIT_MS = 500;
/** "At the limit": fewer than this many descriptors free. */
const AT_LIMIT_MARGIN = 8;
/** Bun closes a connection without a complete request after this long (not configurable). */
export const NO_REQUEST_TIMEOUT_S = 10;
/** Retry-After of the 503 answered under descriptor pressure. */
export const FD_BUSY_RETRY_AFTER_S = 5;

export class ConnGuard {
  private readonly log: Log;
  private readonly threshold: number | null;
  private readonly limit: number;
  private server: Server<unknown> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pressured = false;
  private refused = 0;
  private shut = 0;

  constructor(log: Log) {
    this.log = log;
    const { limit, warning } = raiseFdLimit();
    if (warning) log.warn(warning);
    const soft = limit?.soft ?? null;
    this.threshold = soft !== null && Number.isFinite(soft) ? Math.floor(soft * FD_BUSY_FRACTION) : null;
    this.limit = soft ?? Infinity;
    if (this.threshold !== null && countOpenFds() === null) {
      log.warn("cannot count open descriptors: no 503 under descriptor pressure");
      this.threshold = null;
    }
    if (this.threshold !== null && !canShutDownStalled()) {
      log.warn("silent connections are left to the 10 s request timeout (no early shutdown on this system)");
    }
  }

  /** True while descriptors in use are at or above FD_BUSY_FRACTION of the limit. */
  get busy(): boolean {
    return this.pressured;
  }

  /** Count a request refused because of pressure (for the log line that ends it). */
  noteRefused(): void {
    this.refused++;
  }

  start(server: Server<unknown>): void {
    if (this.threshold === null) return;
    this.server = server;
    this.schedule(FD_SAMPLE_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.server = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.sample(), ms);
    this.timer.unref();
  }

  private sample(): void {
    if (!this.server || this.threshold === null) return;
    const started = performance.now();
    const open = countOpenFds();
    // Counting worked at start (constructor): failing now means no descriptor was free.
    const now = open === null || open >= this.threshold;
    if (now && !this.pressured) {
      this.log.warn(`descriptor pressure: ${open ?? this.limit} of ${this.limit} open; refusing new work`);
    }
    if (now) {
      this.server.closeIdleConnections();
      const atLimit = open === null || open >= this.limit - AT_LIMIT_MARGIN;
      if (canShutDownStalled()) this.shut += shutDownStalled(atLimit ? STALLED_AT_LIMIT_MS : STALLED_AFTER_MS);
    } else if (this.pressured) {
      this.log.warn(`descriptor pressure over: ${this.refused} requests refused, ${this.shut} silent connections shut`);
      this.refused = this.shut = 0;
    }
    this.pressured = now;
    const cost = performance.now() - started;
    const calm = open !== null && open < this.threshold / 2;
    this.schedule(Math.max(calm ? FD_CALM_SAMPLE_MS : FD_SAMPLE_MS, cost * FD_SAMPLE_COST_RATIO));
  }
}
