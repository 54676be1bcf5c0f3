// Per-signer requests in flight and slow readers (issue 8 §2 "Unread /fetch answers").
// A signed request counts for its UID from the moment its signature is verified until
// its answer has been SENT — its body stream finished or was cancelled — not merely until
// the handler returned: an answer nobody reads is memory the relay still holds. Over the
// limit the relay answers 429 with Retry-After (PROTOCOL §7.10). An answer whose reader
// takes nothing for `stallMs` is dropped (connection reset). The timeout is on progress,
// not on total time, so a 50 MB download by a slow Tor client still completes.
import type { Server } from "bun";
import type { Handler, RequestContext } from "./context.ts";
import { RelayError } from "./errors.ts";

/** Default concurrent signed requests per UID (flag --max-inflight-per-uid). */
export const MAX_INFLIGHT_PER_UID = 32;
/** Default seconds an answer may wait for its reader to take more (flag --stall-timeout). */
export const STALL_TIMEOUT_S = 20;
/** Answers are handed to the socket in pieces of this size, one when the socket asks for it. */
export const ANSWER_CHUNK_BYTES = 64 * 1024;
export const INFLIGHT_RETRY_AFTER_S = 1;

export const tooManyInFlight = () =>
  new RelayError(429, "rate_limited", "too many requests in flight for this identity", {
    "retry-after": String(INFLIGHT_RETRY_AFTER_S),
  });

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
  async serve(req: Request, ctx: RequestContext, handler: Handler): Promise<Response | undefined> {
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
    if (!res?.body) {
      this.release(uid); // a WebSocket upgrade or an empty answer: nothing left to send
      return res;
    }
    return this.track(req, ctx.server, res, uid);
  }

  private release(uid: string): void {
    const n = this.count(uid) - 1;
    if (n > 0) this.counts.set(uid, n);
    else this.counts.delete(uid);
  }

  /** The same answer, streamed one chunk per pull of the socket, with the stall watchdog. */
  private track(req: Request, server: Server<unknown>, res: Response, uid: string): Response {
    const source = res.body!.getReader();
    let chunk: Uint8Array | null = null;
    let offset = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      chunk = null;
      this.release(uid);
      try {
        server.timeout(req, this.idleTimeoutS);
      } catch {
        // the connection is already gone
      }
    };
    let stalled = () => {};
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stalled(), this.stallMs);
      timer.unref?.();
    };
    // Bun's idle timeout counts from the start of the answer, not from the last progress:
    // the watchdog below replaces it while the answer is being sent.
    server.timeout(req, 0);
    arm(); // also when the socket never asks for the first chunk
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          stalled = () => {
            finish();
            source.cancel().catch(() => {});
            c.error(); // without a reason: Bun resets the connection and logs nothing
          };
        },
        pull: async (c) => {
          clearTimeout(timer);
          try {
            while (chunk === null || offset >= chunk.length) {
              const r = await source.read();
              if (r.done) {
                finish();
                c.close();
                return;
              }
              chunk = r.value;
              offset = 0;
            }
          } catch {
            finish();
            c.error();
            return;
          }
          const end = Math.min(offset + ANSWER_CHUNK_BYTES, chunk.length);
          c.enqueue(chunk.subarray(offset, end));
          offset = end;
          arm();
        },
        cancel: async (reason) => {
          finish();
          await source.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, headers: res.headers });
  }
}
