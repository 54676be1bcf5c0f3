// Issue 13 --live redis://…: one connection to Redis for commands (PUBLISH, the limiter's script),
// with a bounded connect and command time. Redis that cannot answer is a StoreBusyError, so the
// route answers 503 busy (PROTOCOL §7.10) and never runs without its limits. The URL may hold a
// password: it is never put in an error or a log line.
import { RedisClient } from "bun";
import { StoreBusyError } from "./store.ts";

/** Milliseconds a connect, and then a command, may take before the request is answered 503. */
export const REDIS_TIMEOUT_MS = 2000;

/** An error that says Redis could not be reached or did not answer in time (not a script's error). */
export class RedisUnavailableError extends StoreBusyError {
  constructor() {
    super();
    this.message = "redis is unavailable";
    this.name = "RedisUnavailableError";
  }
}

/** Redis's answer to EVALSHA of a script it does not hold (it was restarted, or flushed its scripts). */
export function isNoScript(e: unknown): boolean {
  return (
    (e as { code?: unknown } | null)?.code === "ERR_REDIS_SERVER_ERROR" &&
    String((e as Error).message).startsWith("NOSCRIPT")
  );
}

/** `p`, or a RedisUnavailableError after `ms`. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError()), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Options of every connection we open: no offline queue (a command waits for nothing but its
 * answer) and no reconnecting by Bun (its backoff would hold commands while Redis is down):
 * we connect again on demand, so a command fails at once while Redis is down and the first one
 * after it is back connects.
 */
export function clientOptions(timeoutMs: number) {
  return { connectionTimeout: timeoutMs, enableOfflineQueue: false, autoReconnect: false };
}

export class RedisLink {
  private client: RedisClient;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = REDIS_TIMEOUT_MS,
  ) {
    this.client = new RedisClient(url, clientOptions(timeoutMs));
  }

  /** Connect if not connected (again after a loss: autoReconnect is off). */
  private async ready(): Promise<void> {
    if (this.closed) throw new RedisUnavailableError();
    if (this.client.connected) return;
    this.connecting ??= within(this.client.connect(), this.timeoutMs).finally(() => (this.connecting = null));
    await this.connecting;
  }

  /**
   * One command: its reply, or RedisUnavailableError, for a lost connection, a timeout and every
   * error reply alike (OOM under maxmemory noeviction, NOPERM from an ACL, …): the relay answers
   * 503 without it. NOSCRIPT alone is thrown as Bun threw it, for EVALSHA's caller to send EVAL.
   */
  async send(command: string, args: string[]): Promise<unknown> {
    try {
      await this.ready();
      return await within(this.client.send(command, args), this.timeoutMs);
    } catch (e) {
      if (isNoScript(e)) throw e;
      if (e instanceof RedisUnavailableError && this.client.connected) this.replace(); // a hung server
      throw new RedisUnavailableError();
    }
  }

  /** A command timed out on a connection that looks alive: the next one starts on a new connection. */
  private replace(): void {
    const old = this.client;
    this.client = new RedisClient(this.url, clientOptions(this.timeoutMs));
    old.close();
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }
}
