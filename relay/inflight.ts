// Per-signer requests in flight and slow readers.
// A signed request counts for its UID from the moment its signature is verified until
// its answer has been SENT — its body stream finished or was cancelled — not merely until
// the handler returned: an answer nobody reads is memory the relay still holds. Over the
// limit the relay answers 429 with Retry-After (PROTOCOL §7.10). An answer whose reader
// takes nothing for `stallMs` is dropped (connection reset). The timeout is on progress,
// not on total time. Only /fetch answers (relay/json-stream.ts) are held that way; file
// downloads are sent from disk by Bun (sendfile, with their Content-Length) and other answers
// are small JSON sent at once, so those count only while their handler runs.
import type { Server } from "bun";
import { RelayError } from "./errors.ts";
import { type Pieces, piecesOf } from "./json-stream.ts";

/** Default concurrent signed requests per UID (flag --max-inflight-per-uid). */
export const MAX_INFLIGHT_PER_UID = 32;
/** Default seconds an answer may wait for its reader to take more (flag --stall-timeout). */
export const STALL_TIMEOUT_S = 20;
export const INFLIGHT_RETRY_AFTER_S = 1;

export const tooManyInFlight = () =>
  new RelayError(429, "rate_limited", "too many requests in flight for this identity", {
    "retry-after": String(INFLIGHT_RETRY_AFTER_S),
  });

/**
 * What serve() needs of a request's context (relay/context.ts RequestContext is one): the
 * server, to restore its idle timeout, and the `admit` slot it fills.
 */
export interface Admitting {
  server: Server<unknown>;
  admit?: (uid: string) => void;
}

export class InFlight {
  private readonly counts = new Map<string, number>();

  /** `idleTimeoutS` is the server's idle timeout, restored once a tracked answer is sent. */
  constructor(
    private readonly maxPerUid: number,
    private readonly stallMs: number,
    private readonly idleTimeoutS: number,
  ) {}

  /** Requests of this UID in flight now. */
  count(uid: string): number {
    return this.counts.get(uid) ?? 0;
  }

  /**
   * Run `handler` with `ctx.admit` set: the signed-request helpers (relay/http.ts) call it with
   * the verified UID. The answer of an admitted request is counted until it has been sent.
   */
  async serve<C extends Admitting>(
    req: Request,
    ctx: C,
    handler: (req: Request, ctx: C) => Response | undefined | Promise<Response | undefined>,
  ): Promise<Response | undefined> {
    let uid: string | null = null;
    ctx.admit = (who) => {
      if (uid !== null) return;
      const n = this.count(who);
      if (n >= this.maxPerUid) throw tooManyInFlight();
      this.counts.set(who, n + 1);
      uid = who;
    };
    let res: Response | undefined;
    try {
      res = await handler(req, ctx);
    } catch (e) {
      if (uid !== null) this.release(uid);
      throw e;
    }
    if (uid === null) return res;
    const pieces = res ? piecesOf(res) : undefined;
    if (!res || !pieces) {
      // A WebSocket upgrade, a file sent from disk, or a small JSON answer that Bun sends
      // at once with its Content-Length: no answer of size is held in memory.
      this.release(uid);
      return res;
    }
    return this.track(req, ctx.server, res, pieces, uid);
  }

  private release(uid: string): void {
    const n = this.count(uid) - 1;
    if (n > 0) this.counts.set(uid, n);
    else this.counts.delete(uid);
  }

  /**
   * The same answer, one piece per pull of the socket, with the stall watchdog. Pieces are
   * produced synchronously in pull(): Bun then asks for the next one only when the socket
   * has taken the last (with an asynchronous pull it may read a whole answer ahead).
   */
  private track(req: Request, server: Server<unknown>, res: Response, pieces: Pieces, uid: string): Response {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finished = false;
    const idle = (seconds: number) => {
      try {
        server.timeout(req, seconds);
      } catch {
        // the connection is already gone
      }
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.release(uid);
      idle(this.idleTimeoutS);
    };
    let stalled = finish;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stalled(), this.stallMs);
      timer.unref?.();
    };
    // Bun's idle timeout counts from the start of the answer, not from the last progress:
    // the watchdog below replaces it while the answer is being sent.
    idle(0);
    arm(); // also when the socket never asks for the first piece
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          stalled = () => {
            finish();
            c.error(); // without a reason: Bun resets the connection and logs nothing
          };
        },
        pull: (c) => {
          clearTimeout(timer);
          const piece = pieces();
          if (piece === null) {
            finish();
            c.close();
            return;
          }
          c.enqueue(piece);
          arm();
        },
        cancel: () => finish(),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, headers: res.headers });
  }
}
