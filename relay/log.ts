// Relay log (issue 3 item 6): at most one line per request with method, route
// template, status and duration. Never bodies, UIDs, room ids, file ids or IPs:
// callers pass only a route template, never a concrete path.
import type { LogLevel } from "./config.ts";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Log {
  private readonly rank: number;
  private pending = "";
  private scheduled = false;
  private readonly out: (text: string) => void;

  constructor(level: LogLevel, out: (text: string) => void = (t) => process.stdout.write(t)) {
    this.rank = RANK[level];
    this.out = out;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= this.rank;
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

  /** Lines are batched per event-loop turn so a busy relay makes few write calls. */
  private line(text: string): void {
    this.pending += text + "\n";
    if (this.pending.length > 64 * 1024) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    this.out(text);
  }
}
