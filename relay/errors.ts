// The relay's error answers (PROTOCOL §7): {"error": "<code>", "message": "<human text>"}.
// A message never carries a stack trace, SQL, a file path or another user's data.
import { PhantomError } from "../lib/errors.ts";

/** An error that becomes an HTTP answer with the given status. */
export class RelayError extends PhantomError {
  readonly status: number;
  readonly headers: Record<string, string> | undefined;
  constructor(status: number, code: string, message: string, headers?: Record<string, string>) {
    super(code, message);
    this.status = status;
    this.headers = headers;
  }
}

/** A bad command line or environment; printed as one line, exit 2. */
export class ConfigError extends PhantomError {
  constructor(message: string) {
    super("config", message);
  }
}

export const badRequest = (message: string) => new RelayError(400, "bad_request", message);
export const unauthorized = (message: string) => new RelayError(401, "unauthorized", message);
export const forbidden = (message: string) => new RelayError(403, "forbidden", message);
export const notFound = (message = "not found") => new RelayError(404, "not_found", message);
export const conflict = (message: string) => new RelayError(409, "conflict", message);
export const tooLarge = (message: string) => new RelayError(413, "too_large", message);
export const methodNotAllowed = (allow: string) =>
  new RelayError(405, "method_not_allowed", "method not allowed", { allow });
// PROTOCOL §7.10: 429 (a rate or quota), 503 (busy), 507 (the free-disk reserve is reached).
export const rateLimited = (retryAfterS: number, message = "too many requests") =>
  new RelayError(429, "rate_limited", message, { "retry-after": String(retryAfterS) });
/** 503: the database is locked, the connection limit or the upload spool is reached. */
export const busy = (retryAfterS: number, message = "the relay is busy, try again later") =>
  new RelayError(503, "busy", message, { "retry-after": String(retryAfterS) });
export const insufficientStorage = (message = "the relay is short of disk space; reads and burns still work") =>
  new RelayError(507, "insufficient_storage", message);

const JSON_HEADERS = { "content-type": "application/json" };

export function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS,
  });
}

export function errorResponse(e: RelayError): Response {
  return json(e.status, { error: e.code, message: e.message }, e.headers);
}

/** The answer for a failure that is not the client's fault; details stay in the relay. */
export function internalError(): Response {
  return json(500, { error: "internal", message: "internal error" });
}
