// PROTOCOL §7.9 live delivery. Direct: one signed WebSocket per room, re-signed on
// every reconnect, with a /fetch catch-up after each (re)connect so nothing sent
// while it was down is missed. Through Tor: /fetch polling (every 3 s by default),
// never a WebSocket. Messages are deduplicated by messageId (hash of the ciphertext), and by seq.
// Catch-ups page forward with after_seq (§7.6.1) once the relay's rows carry seq, so rows
// that share one second or exceed one answer are never skipped; against a relay without
// seq (2.2.x) they ask for ts ≥ the newest ts seen, as v2 (§7.6) allows.

import { tlsOptions, type Transport } from "../../lib/transport.ts";
import {
  FETCH_LIMIT_MAX as FETCH_LIMIT,
  FETCH_MAX_ANSWER_BYTES,
  MAX_CIPHERTEXT_BYTES,
  parseJson,
  WsFrame,
  type StoredMessage,
} from "../../lib/wire.ts";
import { Seen } from "./live-seen.ts";
import { isPermanent, RelayError } from "./relay-error.ts";

export const DEFAULT_POLL_MS = 3000;
const PING_MS = 25_000;
/** Reconnect backoff: the first retry after this, doubling up to BACKOFF_MAX_MS. */
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 5000;
/** A WebSocket upgrade not answered within this is given up (a black-holed handshake) and retried. */
export const WS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** After this many failed WebSocket connections while /fetch works, poll that room instead. */
const WS_GIVE_UP = 3;
/** Live frames remembered above the seq cursor before a /fetch moves the cursor past them. */
const SEQ_PENDING_MAX = 1000;

export type LiveStatus =
  | { state: "connected"; roomId: string; via: "websocket" | "poll" }
  | { state: "retrying"; roomId: string; inMs: number; error: string };

export interface LiveOptions {
  /** Stop listening; live() then resolves. */
  signal: AbortSignal;
  /** Polling interval (default 3 s). */
  pollMs?: number;
  /** auto: WebSocket when direct, polling through Tor. A WebSocket is never opened through Tor. */
  mode?: "auto" | "websocket" | "poll";
  /**
   * Also deliver stored messages with ts ≥ sinceTs first (one value, or one per room);
   * by default only messages newer than the start.
   */
  sinceTs?: number | ((roomId: string) => number | undefined);
  onStatus?: (s: LiveStatus) => void;
  /**
   * PROTOCOL §7.6.1: per room, every row with seq ≤ this was delivered before; the first catch-up
   * pages forward from it and delivers what follows (a relay without seq: give sinceTs too).
   */
  afterSeq?: (roomId: string) => number | undefined;
  /** Reconnect backoff bounds (default BACKOFF_MIN_MS … BACKOFF_MAX_MS). */
  backoffMs?: { min: number; max: number };
  /** How long a WebSocket upgrade may take (default WS_HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
}

type Emit = (roomId: string, frame: WsFrame) => void;

/** What live delivery needs from a relay client (net/relay-client.ts RelayClient is one). */
export interface LiveRelay {
  readonly transport: Transport;
  /** PROTOCOL §7.6: newest `limit` messages with ts ≥ sinceTs, oldest first. */
  fetch(roomId: string, o: { limit?: number; sinceTs?: number; signal?: AbortSignal }): Promise<StoredMessage[]>;
  /** PROTOCOL §7.6.1: the oldest `limit` rows with seq > afterSeq, and whether more follow. */
  fetchAfter(
    roomId: string,
    afterSeq: number,
    o: { limit?: number; signal?: AbortSignal },
  ): Promise<{ messages: StoredMessage[]; more: boolean }>;
  /** The PROTOCOL §6 headers for one request (v3 §V11 when the relay offers it). */
  signedHeaders(method: string, path: string, body: Uint8Array): Promise<Record<string, string>>;
  /** Absolute URL of a protocol path. */
  urlOf(path: string): string;
}

/** Room for one more row of the largest size in a /fetch answer (PROTOCOL §7.6, §7.6.1). */
const MAX_ROW_JSON = Math.ceil(MAX_CIPHERTEXT_BYTES / 3) * 4 + 64;

/** Whether a since_ts answer may hold only the newest of its rows: at the limit or near 4 MiB. */
function mayBeCut(rows: StoredMessage[]): boolean {
  if (rows.length >= FETCH_LIMIT) return true;
  let bytes = 0;
  for (const r of rows) bytes += r.ciphertext.length + 64;
  return bytes > FETCH_MAX_ANSWER_BYTES - MAX_ROW_JSON;
}

export async function runLive(client: LiveRelay, roomIds: string[], onFrame: Emit, opts: LiveOptions): Promise<void> {
  const mode = opts.mode ?? "auto";
  if (mode === "websocket" && client.transport.via === "tor") {
    throw new RelayError("tor-websocket", "live WebSocket is not used through Tor; use polling");
  }
  const useWs = mode === "websocket" || (mode === "auto" && client.transport.via === "direct");
  const inner = new AbortController();
  const stop = () => inner.abort();
  if (opts.signal.aborted) return;
  opts.signal.addEventListener("abort", stop, { once: true });
  try {
    if (roomIds.length === 0) await new Promise<void>((r) => inner.signal.addEventListener("abort", () => r()));
    await Promise.all(
      roomIds.map((room) =>
        new Room(client, room, onFrame, opts, inner.signal).run(useWs).catch((e: unknown) => {
          inner.abort();
          throw e;
        }),
      ),
    );
  } finally {
    opts.signal.removeEventListener("abort", stop);
    inner.abort();
  }
}

class Room {
  private readonly seen = new Seen();
  private failures = 0;

  constructor(
    private readonly client: LiveRelay,
    private readonly id: string,
    private readonly onFrame: Emit,
    private readonly opts: LiveOptions,
    private readonly signal: AbortSignal,
  ) {}

  async run(useWs: boolean): Promise<void> {
    const s = this.opts.sinceTs;
    const since = typeof s === "function" ? s(this.id) : s;
    const after = this.opts.afterSeq?.(this.id);
    if (after !== undefined) {
      this.seen.advance(after);
      if (!(await this.sync(true, since))) return;
    } else if (!(await this.sync(since !== undefined, since))) return;
    if (useWs) await this.websocketLoop();
    if (!this.signal.aborted) await this.pollLoop();
  }

  /** Fetch what is new since the last seen row; deliver it unless this is the silent baseline. False when stopped. */
  private async sync(deliver: boolean, sinceTs?: number): Promise<boolean> {
    for (;;) {
      if (this.signal.aborted) return false;
      try {
        await this.catchUp(deliver, sinceTs);
        this.failures = 0;
        return true;
      } catch (e) {
        if (this.signal.aborted) return false;
        if (isPermanent(e)) throw e;
        await this.backoff(e);
      }
    }
  }

  private async catchUp(deliver: boolean, sinceTs?: number): Promise<void> {
    const take = (m: StoredMessage) => {
      if (this.seen.add(m) && deliver) this.onFrame(this.id, m);
    };
    let floor = -1;
    if (this.seen.cursor === null || sinceTs !== undefined) {
      const since = sinceTs ?? (this.seen.maxTs >= 0 ? this.seen.maxTs : undefined);
      const msgs = await this.client.fetch(this.id, { limit: FETCH_LIMIT, sinceTs: since, signal: this.signal });
      const last = msgs.at(-1)?.seq;
      if (last === undefined) {
        for (const m of msgs) take(m); // a relay without seq (2.2.x), or nothing stored yet
        return;
      }
      if (!deliver || (since !== undefined && !mayBeCut(msgs))) {
        for (const m of msgs) take(m);
        this.seen.advance(last);
        return;
      }
      // Asked for the whole room (nothing seen yet), or an answer that may have been cut
      // (only its newest rows): page the room from the start, keeping the rows asked for.
      floor = since ?? -1;
      this.seen.advance(0);
    }
    // PROTOCOL §7.6.1: page forward from the cursor until the relay says there is no more.
    for (;;) {
      const page = await this.client.fetchAfter(this.id, this.seen.cursor ?? 0, {
        limit: FETCH_LIMIT,
        signal: this.signal,
      });
      for (const m of page.messages) if (m.ts >= floor) take(m);
      const last = page.messages.at(-1)?.seq;
      if (last !== undefined) this.seen.advance(last);
      if (!page.more || last === undefined || this.signal.aborted) return;
    }
  }

  private async pollLoop(): Promise<void> {
    this.opts.onStatus?.({ state: "connected", roomId: this.id, via: "poll" });
    while (!this.signal.aborted) {
      await sleep(this.opts.pollMs ?? DEFAULT_POLL_MS, this.signal);
      if (!(await this.sync(true))) return;
    }
  }

  /** Returns when stopped, or when WebSockets keep failing while /fetch works (then the caller polls). */
  private async websocketLoop(): Promise<void> {
    let wsFailures = 0;
    while (!this.signal.aborted) {
      const r = await this.connectOnce();
      if (r.fatal) throw r.fatal;
      if (this.signal.aborted) return;
      wsFailures = r.opened ? 0 : wsFailures + 1;
      // Re-sync through /fetch: catches up on the gap (a relay closes a socket that fell behind
      // with 1013, §7.9) and surfaces 401/403/429 that an upgrade cannot report.
      if (!(await this.sync(true))) return;
      if (wsFailures >= WS_GIVE_UP) return;
      const why = r.opened
        ? `live connection closed (${r.code})`
        : r.handshakeTimedOut
          ? `live connection not answered within ${(this.opts.handshakeTimeoutMs ?? WS_HANDSHAKE_TIMEOUT_MS) / 1000} s`
          : "live connection refused";
      await this.backoff(new Error(why));
    }
  }

  private async connectOnce(): Promise<{ opened: boolean; fatal: unknown; code: number; handshakeTimedOut: boolean }> {
    const path = `/ws/${encodeURIComponent(this.id)}`;
    // PROTOCOL §7.9: signed like a GET with an empty body.
    const headers = await this.client.signedHeaders("GET", path, new Uint8Array(0));
    return new Promise((resolve) => {
      const url = this.client.urlOf(path).replace(/^http/, "ws");
      let opened = false;
      let handshakeTimedOut = false;
      let catchingUp = false;
      let fatal: unknown = null;
      let alive = true;
      // Certificates always checked, whatever NODE_TLS_REJECT_UNAUTHORIZED says (lib/transport.ts).
      const ws = new WebSocket(url, { headers, tls: tlsOptions(this.client.transport.tls) });
      const close = () => ws.close();
      const pinger = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (!alive) return ws.close();
        alive = false;
        ws.ping();
      }, PING_MS);
      const fail = (e: unknown) => {
        fatal ??= e;
        ws.close();
      };
      this.signal.addEventListener("abort", close, { once: true });
      const handshakeMs = this.opts.handshakeTimeoutMs ?? WS_HANDSHAKE_TIMEOUT_MS;
      const handshake = setTimeout(() => {
        handshakeTimedOut = true;
        ws.close();
        // A socket still CONNECTING may never report "close": do not wait for it.
        setTimeout(() => finish(1006), 1000).unref();
      }, handshakeMs);
      ws.addEventListener("open", () => {
        clearTimeout(handshake);
        opened = true;
        this.failures = 0;
        this.opts.onStatus?.({ state: "connected", roomId: this.id, via: "websocket" });
        // Messages stored while we were connecting: ask once the socket is up, so there is no gap.
        this.sync(true).catch((e: unknown) => (isPermanent(e) ? fail(e) : undefined));
      });
      ws.addEventListener("pong", () => (alive = true));
      ws.addEventListener("message", (ev) => {
        alive = true;
        if (typeof ev.data !== "string") return;
        let frame: WsFrame;
        try {
          frame = parseJson(WsFrame, ev.data, "live frame");
        } catch {
          return; // a malformed frame is dropped, never shown
        }
        try {
          if ("event" in frame || this.seen.add(frame)) this.onFrame(this.id, frame);
        } catch (e) {
          fail(e);
        }
        if (this.seen.pending >= SEQ_PENDING_MAX && !catchingUp) {
          // Move the cursor past the frames so far, so the seqs remembered stay few.
          catchingUp = true;
          this.sync(true)
            .catch((e: unknown) => (isPermanent(e) ? fail(e) : undefined))
            .finally(() => (catchingUp = false));
        }
      });
      let finished = false;
      const finish = (code: number) => {
        if (finished) return;
        finished = true;
        clearTimeout(handshake);
        clearInterval(pinger);
        this.signal.removeEventListener("abort", close);
        resolve({ opened, fatal, code, handshakeTimedOut });
      };
      ws.addEventListener("close", (ev) => finish(ev.code));
      // "close" follows "error"; should it ever not, do not hang.
      ws.addEventListener("error", () => setTimeout(() => finish(1006), 2000).unref());
    });
  }

  private async backoff(e: unknown): Promise<void> {
    const inMs = backoffDelayMs(this.failures, this.opts.backoffMs);
    this.failures++;
    const error = e instanceof Error ? e.message : String(e);
    this.opts.onStatus?.({ state: "retrying", roomId: this.id, inMs, error });
    await sleep(inMs, this.signal);
  }
}

/** The wait before retry number `failures` + 1: doubling from min, at most max. */
export function backoffDelayMs(
  failures: number,
  bounds: { min: number; max: number } = { min: BACKOFF_MIN_MS, max: BACKOFF_MAX_MS },
): number {
  return Math.min(bounds.max, bounds.min * 2 ** Math.min(failures, 30));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
