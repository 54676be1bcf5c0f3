// Groups the writes of many requests into one SQLite transaction per event-loop
// turn. A request is answered only after the transaction holding its write has
// committed, so an acknowledged /send survives kill -9 (issue 3 item 2).
import { RelayError } from "./errors.ts";
import type { Store } from "./store.ts";

interface Job {
  fn: () => unknown;
  resolve?: (value: unknown) => void;
  reject?: (error: unknown) => void;
}

export class WriteQueue {
  private jobs: Job[] = [];
  private scheduled = false;
  private batchTs = 0;
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /**
   * Unix seconds of the batch being committed, for jobs to stamp what they store: taken
   * when the batch starts, never less than an earlier batch's. A row committed later thus
   * never carries an earlier ts than one already stored, however slowly its request's body
   * arrived (PROTOCOL §7.6 since_ts; §8 ages count from the write).
   */
  get ts(): number {
    return this.batchTs;
  }

  /** Run `fn` inside the next batch; resolves with its result after the batch commits. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Queue a write nobody waits for (replay-cache entries). */
  post(fn: () => void): void {
    this.jobs.push({ fn });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Commit everything queued now, in one transaction. Contract for jobs: a job
   * throws a RelayError (a refusal such as 403 or 429) only before it writes, so
   * a refusal is answered alone and the batch goes on. Any other error rolls the
   * batch back, and then each job runs again in a transaction of its own, so one
   * failing job never fails the others.
   */
  flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    if (jobs.length === 0) return;
    this.jobs = [];
    this.batchTs = Math.max(this.batchTs, Math.floor(Date.now() / 1000));
    const results: { ok: boolean; value: unknown }[] = new Array(jobs.length);
    try {
      this.store.transaction(() => {
        for (let i = 0; i < jobs.length; i++) {
          try {
            results[i] = { ok: true, value: jobs[i]!.fn() };
          } catch (error) {
            if (!(error instanceof RelayError)) throw error;
            results[i] = { ok: false, value: error };
          }
        }
      });
    } catch {
      for (let i = 0; i < jobs.length; i++) {
        try {
          results[i] = { ok: true, value: this.store.transaction(jobs[i]!.fn) };
        } catch (error) {
          results[i] = { ok: false, value: error };
        }
      }
    }
    for (let i = 0; i < jobs.length; i++) {
      const r = results[i]!;
      if (r.ok) jobs[i]!.resolve?.(r.value);
      else jobs[i]!.reject?.(r.value);
    }
  }
}
