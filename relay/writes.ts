// Groups the writes of many requests into one SQLite transaction per event-loop
// turn. A request is answered only after the transaction holding its write has
// committed, so an acknowledged /send survives kill -9.
// A store locked by another process rolls the batch back; its jobs are tried
// again every BUSY_RETRY_MS, the event loop free in between, and a job still not committed
// BUSY_GIVE_UP_MS after its first try is refused 503 busy (PROTOCOL §7.10): never acknowledged,
// never half written. The store is asynchronous (relay/store.ts): a job gets the transaction's
// `tx` and makes its calls on it; a rule that reads and then writes is one store call, so no
// other request runs between its read and its write.
import { busy, RelayError } from "./errors.ts";
import { type Store, StoreBusyError } from "./store.ts";

/** Pause between two tries of a batch that found the store locked. */
export const BUSY_RETRY_MS = 250;
/** A write not committed this long after its first try is answered 503. */
export const BUSY_GIVE_UP_MS = 2000;
/** Retry-After of that 503. */
export const BUSY_RETRY_AFTER_S = 1;

/** A job of a batch: its store calls go to `tx`, the batch's transaction. */
export type WriteJob<T> = (tx: Store) => Promise<T>;

interface Job {
  fn: WriteJob<unknown>;
  resolve?: (value: unknown) => void;
  reject?: (error: unknown) => void;
  /** performance.now() of the first try that found the store locked. */
  lockedSince?: number;
}

export class WriteQueue {
  private jobs: Job[] = [];
  private scheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The batch being committed: one at a time, so batch ts never decreases as seq grows. */
  private flushing: Promise<void> | null = null;
  private batchTs = 0;
  private readonly store: Store;
  /** What the jobs of the batch being committed asked to finish before its COMMIT (hold()). */
  private held: Promise<unknown>[] = [];

  private constructor(store: Store, batchTs: number) {
    this.store = store;
    this.batchTs = batchTs;
  }

  static async open(store: Store): Promise<WriteQueue> {
    // Never below a stored row's ts, even when the clock went back across a restart: ts then
    // never decreases as seq grows, which /fetch after_seq relies on (relay/sqlite-store.ts).
    return new WriteQueue(store, await store.newestMessageTs());
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
  run<T>(fn: WriteJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * From a job: `p` settles before its batch commits (relay/routes/messages.ts publishes a shared
   * live frame while the batch holds the store's writer lock). A rejection rolls the batch back.
   */
  hold(p: Promise<unknown>): void {
    p.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
    this.held.push(p);
  }

  /** Await what the jobs held, inside the transaction, right before it commits. */
  private async settleHeld(): Promise<void> {
    const held = this.held;
    this.held = [];
    await Promise.all(held);
  }

  /** Queue a write nobody waits for (replay-cache entries). */
  post(fn: WriteJob<void>): void {
    this.jobs.push({ fn });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Put jobs that met a locked store back in front, or refuse those that waited long enough. */
  private locked(jobs: Job[]): void {
    const now = performance.now();
    const again: Job[] = [];
    for (const job of jobs) {
      job.lockedSince ??= now;
      if (now - job.lockedSince < BUSY_GIVE_UP_MS) again.push(job);
      else job.reject?.(busy(BUSY_RETRY_AFTER_S));
    }
    if (again.length === 0) return;
    this.jobs = again.concat(this.jobs);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, BUSY_RETRY_MS);
  }

  /** At shutdown: one last try; what the lock still keeps out is refused (503), never left waiting. */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.flushing;
    await this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const left = this.jobs;
    this.jobs = [];
    for (const job of left) job.reject?.(busy(BUSY_RETRY_AFTER_S));
  }

  /**
   * Commit everything queued now, in one transaction. Contract for jobs: a job
   * throws a RelayError (a refusal such as 403 or 429) only before it writes, so
   * a refusal is answered alone and the batch goes on. Any other error rolls the
   * batch back, and then each job runs again in a transaction of its own, so one
   * failing job never fails the others.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing; // its end flushes what was queued meanwhile
    this.flushing = this.commit().finally(() => {
      this.flushing = null;
      if (this.jobs.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async commit(): Promise<void> {
    this.scheduled = false;
    const jobs = this.jobs;
    if (jobs.length === 0) return;
    this.jobs = [];
    this.batchTs = Math.max(this.batchTs, Math.floor(Date.now() / 1000));
    const results: { ok: boolean; value: unknown }[] = new Array(jobs.length);
    try {
      await this.store.transaction(async (tx) => {
        for (let i = 0; i < jobs.length; i++) {
          try {
            results[i] = { ok: true, value: await jobs[i]!.fn(tx) };
          } catch (error) {
            if (!(error instanceof RelayError)) throw error;
            results[i] = { ok: false, value: error };
          }
        }
        await this.settleHeld();
      });
    } catch (error) {
      this.held = [];
      if (error instanceof StoreBusyError) return this.locked(jobs);
      for (let i = 0; i < jobs.length; i++) {
        try {
          const fn = jobs[i]!.fn;
          results[i] = {
            ok: true,
            value: await this.store.transaction(async (tx) => {
              const value = await fn(tx);
              await this.settleHeld();
              return value;
            }),
          };
        } catch (error) {
          this.held = [];
          results[i] = { ok: false, value: error };
        }
      }
    }
    const relocked: Job[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const r = results[i]!;
      if (r.ok) jobs[i]!.resolve?.(r.value);
      else if (r.value instanceof StoreBusyError) relocked.push(jobs[i]!);
      else jobs[i]!.reject?.(r.value);
    }
    if (relocked.length > 0) this.locked(relocked);
  }
}
