// PROTOCOL §8 retention: a scheduled purge of messages, key-exchange entries,
// files (rows and blob files), replay-cache entries and old burn counts. It
// works in small steps, yielding between them, so serving never waits long, and
// never deletes anything younger than its limit.
import type { Relay } from "./context.ts";
import type { PurgeLimits } from "./store.ts";
import { freeingBallast } from "./disk.ts";
import { BUNDLE_RATE_WINDOW_S, PREKEY_GRANT_WINDOW_S } from "./prekeys.ts";

const STEP_ROWS = 1000;

/**
 * Cut-offs for a purge at `now` (Unix seconds with a fraction). A row stamped
 * with integer second ts was made at some time in [ts, ts + 1), so it is surely
 * older than `limit` only when ts + 1 ≤ now − limit, i.e. ts < floor(now − limit).
 */
export function purgeLimits(relay: Pick<Relay, "config">, now: number): PurgeLimits {
  const c = relay.config;
  return {
    messagesBefore: Math.floor(now - c.messageRetentionS),
    inboxBefore: Math.floor(now - c.keRetentionS),
    // A file's expiry is ceil(upload time + FILE_RETENTION_HOURS): past it, the file is old enough.
    filesExpiredBy: Math.floor(now),
    // A nonce with expiry E can be replayed only while now ≤ E.
    noncesUntil: Math.floor(now) - 1,
    burnsBefore: Math.floor(now) - c.burnWindowS,
    // PROTOCOL-v3 §V3.3: the 24 h one-time-key window and the hourly bundle rate.
    grantsBefore: Math.floor(now) - PREKEY_GRANT_WINDOW_S,
    bundleRequestsBefore: Math.floor(now) - BUNDLE_RATE_WINDOW_S,
  };
}

export class Retention {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<number> | null = null;
  private readonly relay: Relay;

  constructor(relay: Relay) {
    this.relay = relay;
  }

  start(): void {
    const ms = Math.max(10, Math.round(this.relay.config.purgeIntervalS * 1000));
    this.timer = setInterval(() => void this.run(), ms);
  }

  /** One purge; a second call while one runs joins it. Resolves with the number of rows deleted. */
  run(): Promise<number> {
    this.running ??= this.purge().finally(() => (this.running = null));
    return this.running;
  }

  private async purge(): Promise<number> {
    const { relay } = this;
    let total = 0;
    try {
      const limits = purgeLimits(relay, Date.now() / 1000);
      relay.auth.replay.sweep(Date.now() / 1000);
      relay.quotas.sweep();
      for (;;) {
        const { rows, blobIds } = await freeingBallast(
          relay.disk,
          (m) => relay.log.warn(m),
          "a purge",
          () => relay.store.purgeStep(limits, STEP_ROWS),
        );
        await relay.blobs.remove(blobIds);
        total += rows;
        if (rows === 0) break;
        await new Promise((r) => setImmediate(r)); // let requests in between steps
      }
      if (total > 0) relay.log.info(`purge removed ${total} rows`);
    } catch (e) {
      relay.log.error(`purge failed: ${e instanceof Error ? e.name : "error"}`);
    }
    return total;
  }

  /** Stop scheduling and wait for a purge in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
