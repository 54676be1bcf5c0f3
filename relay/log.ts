// Relay log: at most one line per request with method, route
// template, status and duration. Never bodies, UIDs, room ids, file ids or IPs:
// callers pass only a route template, never a concrete path.
//
// The log never stops the relay: stdout may be a closed pipe (EPIPE), a
// full disk (ENOSPC) or a reader that does not keep up (EAGAIN, or a blocking pipe). Lines go
// out through one asynchronous write at a time, so a stuck reader never blocks the event loop;
// what a failed write carried, and what does not fit LOG_BUFFER_MAX while a write is stuck, is
// dropped and counted, and the count is reported in the next line that gets through (and on
// stderr at shutdown if it never does).
import { write } from "node:fs";
import type { LogLevel } from "./defaults.ts";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** Lines waiting behind a write that has not completed; beyond this they are dropped. */
export const LOG_BUFFER_MAX = 256 * 1024;
/** A batch is written once it is this large, without waiting for the end of the turn. */
const LOG_BATCH_BYTES = 64 * 1024;
/** How long shutdown waits for the last lines to be written. */
const LOG_CLOSE_WAIT_MS = 1000;

/** Writes `text` and calls back with an error or null. Default: fd 1 (stdout). */
export type LogSink = (text: string, done: (err: Error | null) => void) => void;

export const fdSink =
  (fd: number): LogSink =>
  (text, done) => {
    const bytes = Buffer.from(text);
    const next = (offset: number) =>
      write(fd, bytes, offset, bytes.length - offset, null, (err, n) => {
        if (err) return done(err);
        if (offset + n < bytes.length) return next(offset + n);
        done(null);
      });
    next(0);
  };

const countLines = (text: string) => {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
};

export class Log {
  private readonly rank: number;
  private pending = "";
  private scheduled = false;
  private writing = false;
  private lost = 0; // dropped since the last report
  private lostTotal = 0;
  private readonly out: LogSink;

  constructor(level: LogLevel, out: LogSink = fdSink(1)) {
    this.rank = RANK[level];
    this.out = out;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= this.rank;
  }

  /** Lines dropped since the relay started. */
  get dropped(): number {
    return this.lostTotal;
  }

  /** One request line; `route` is a template such as "/file/:id". */
  request(method: string, route: string, status: number, startedMs: number): void {
    if (this.rank < RANK.info) return;
    const ms = (performance.now() - startedMs).toFixed(1);
    this.line(`${method} ${route} ${status} ${ms}ms`);
  }

  info(message: string): void {
    if (this.rank >= RANK.info) this.line(`info: ${message}`);
  }

  warn(message: string): void {
    if (this.rank >= RANK.warn) this.line(`warn: ${message}`);
  }

  error(message: string): void {
    this.line(`error: ${message}`);
  }

  /** The first line of stdout ("… listening on <url>"), ahead of anything logged while starting. */
  announce(text: string): void {
    this.pending = text + "\n" + this.pending;
    this.schedule();
  }

  /** Lines are batched per event-loop turn so a busy relay makes few write calls. */
  private line(text: string): void {
    if (this.pending.length + text.length >= LOG_BUFFER_MAX) {
      this.drop(1);
      return;
    }
    this.pending += text + "\n";
    if (this.pending.length > LOG_BATCH_BYTES) return this.flush();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private drop(lines: number): void {
    this.lost += lines;
    this.lostTotal += lines;
  }

  /** Start writing what is pending, unless a write is under way (it continues when that one ends). */
  flush(): void {
    this.scheduled = false;
    if (this.writing || this.pending === "") return;
    let text = this.pending;
    this.pending = "";
    if (this.lost > 0) text = `warn: ${this.lost} log lines dropped (stdout failed or fell behind)\n` + text;
    const reported = this.lost;
    this.lost = 0;
    this.writing = true;
    this.out(text, (err) => {
      this.writing = false;
      if (err) {
        this.lost += reported;
        this.drop(countLines(text) - (reported > 0 ? 1 : 0));
      }
      if (this.pending !== "") this.flush();
    });
  }

  /** At shutdown: wait (bounded) for the last lines; say on stderr how many were dropped. */
  async close(): Promise<void> {
    this.flush();
    const deadline = Date.now() + LOG_CLOSE_WAIT_MS;
    while ((this.writing || this.pending !== "") && Date.now() < deadline) {
      await Bun.sleep(10);
      this.flush();
    }
    const lost = this.lostTotal + countLines(this.pending);
    if (lost === 0) return;
    await new Promise<void>((resolve) => {
      fdSink(2)(`phantom-relay: ${lost} log lines were dropped (stdout failed or fell behind)\n`, () => resolve());
      setTimeout(resolve, LOG_CLOSE_WAIT_MS).unref();
    });
  }
}
