// The one error type of the relay client: a one-line message for `phantom: error: …`.
import { PhantomError } from "../lib/errors.ts";

/**
 * A relay request failed. `code`: relay-refused, relay-unreachable, timeout,
 * bad-response, aborted. `status` is the HTTP status, or 0 when the relay gave no HTTP answer.
 */
export class RelayError extends PhantomError {
  readonly status: number;
  /** The relay's error code (PROTOCOL §7 error body), when it sent one. */
  readonly relayCode: string | null;
  /** Seconds from a Retry-After header (429). */
  readonly retryAfter: number | null;
  constructor(
    code: string,
    message: string,
    o: { status?: number; relayCode?: string | null; retryAfter?: number | null; cause?: unknown } = {},
  ) {
    super(code, message, { cause: o.cause });
    this.status = o.status ?? 0;
    this.relayCode = o.relayCode ?? null;
    this.retryAfter = o.retryAfter ?? null;
  }
}

/** Errors that waiting will not fix: the relay understood and said no (401, 403, 404, 400…), or answers nonsense. */
export function isPermanent(e: unknown): boolean {
  if (!(e instanceof RelayError)) return true;
  if (e.code === "bad-response") return true;
  return e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
}
