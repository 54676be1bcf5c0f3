// The one error type of the relay client: a one-line message for `phantom: error: …`.
import { PhantomError } from "../../lib/errors.ts";
import type { TransportError, TransportResponse } from "../../lib/transport.ts";
import { ErrorBody, parseJsonBytes } from "../../lib/wire.ts";
import { shortLine } from "../text/sanitise.ts";
import { formatBytes } from "../text/format.ts";

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

/** What a request was doing, in words, for error messages ("uploading the file", never "POST /file/upload"). */
const DOING: Record<string, string> = {
  "GET /health": "checking the relay",
  "POST /register": "registering with the relay",
  "GET /pubkey": "looking up a key",
  "GET /ke/pop": "checking for new contacts",
  "POST /ke/push": "introducing you to the contact",
  "POST /send": "sending the message",
  "POST /burn": "deleting the conversation",
  "POST /fetch": "fetching messages",
  "POST /file/upload": "uploading the file",
  "GET /file": "downloading the file",
};

export function doing(label: string): string {
  return DOING[label] ?? label;
}

export function failure(label: string, e: TransportError, attempts: number, viaTor: boolean): RelayError {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  switch (e.code) {
    case "timeout":
      return new RelayError("timeout", `timed out: ${e.message} (${doing(label)}${viaTor ? " through Tor" : ""})`, {
        cause: e,
      });
    case "aborted":
      return new RelayError("aborted", `${doing(label)}: cancelled`, { cause: e });
    case "too-large":
      return new RelayError("bad-response", `relay answer too large: ${e.message} (${doing(label)})`, { cause: e });
    default:
      if (e.sent && label === "POST /file/upload") {
        // A relay that refuses a big body may close before its 413 can travel back (through a proxy especially).
        const hint = "the relay closed the connection; the file may be larger than it accepts";
        return new RelayError("relay-unreachable", `upload interrupted: ${hint} (${e.message})`, { cause: e });
      }
      return new RelayError("relay-unreachable", `relay unreachable: ${e.message}${tries}`, { cause: e });
  }
}

/** A non-200 answer as one line: the relay's message (PROTOCOL §7 error body), sanitised. */
// When the answer is not a PROTOCOL §7 error body (a proxy's page, a server limit), say what the status means.
const STATUS_TEXT: Record<number, string> = {
  400: "bad request",
  401: "not authorized",
  403: "forbidden",
  404: "not found",
  413: "too large for this relay",
  429: "too many requests",
};

export function refused(label: string, res: TransportResponse): RelayError {
  let text = STATUS_TEXT[res.status] ?? (res.status >= 500 ? "relay error" : `HTTP ${res.status}`);
  let relayCode: string | null = null;
  try {
    const e = parseJsonBytes(ErrorBody, res.body, "error");
    relayCode = e.error;
    // A size the relay states in bytes is said as a person reads it ("100 MB").
    text = shortLine(e.message || e.error, 200).replace(/\b(\d{4,15}) bytes\b/g, (_, n: string) =>
      formatBytes(Number(n)),
    );
  } catch {
    // Not a relay error body (a reverse proxy's page, say): the status is all we report.
  }
  const ra = res.headers.get("retry-after");
  const retryAfter = ra !== null && /^\d{1,9}$/.test(ra) ? Number(ra) : null;
  const wait = retryAfter !== null ? `; try again in ${retryAfter} s` : "";
  return new RelayError("relay-refused", `relay refused: ${text}${wait} (${doing(label)})`, {
    status: res.status,
    relayCode,
    retryAfter,
  });
}
