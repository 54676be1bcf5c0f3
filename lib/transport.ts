// The client's HTTP transport, built from explicit configuration (STYLE habit 9).
// via "direct": Bun's fetch. via "tor": HTTP/1.1 over a SOCKS5 connection whose
// host name the proxy resolves (lib/socks-http.ts). A Tor transport has no code
// path that opens a direct connection to the relay, so it cannot fall back.

import type * as net from "node:net";
import { TooLarge, http1Exchange, type BodySinkFor, type HttpResponse, type Progress } from "./http1.ts";
import { TransportError, bareHost, hostPort, socksConnect, startTls } from "./socks-http.ts";

export { TransportError } from "./socks-http.ts";

export type Via = "direct" | "tor";
export type TransportConfig = { via: "direct" } | { via: "tor"; proxyHost: string; proxyPort: number };
export type TransportResponse = HttpResponse;
export type { BodySink, BodySinkFor } from "./http1.ts";
/** Extra trust for https relays (a private CA, PEM), used by every route and by live WebSockets. */
export interface TransportTls {
  ca?: string | string[];
}

export interface RequestOptions {
  /** Whole-request deadline: connect, send and receive. */
  timeoutMs: number;
  onUploadProgress?: Progress;
  onDownloadProgress?: Progress;
  signal?: AbortSignal;
  /** Also give up when no byte moved either way for this long (big transfers). */
  idleTimeoutMs?: number;
  /** Refuse bigger responses (default 64 MiB). */
  maxResponseBytes?: number;
  /**
   * Stream the response body (status chosen by the caller) into a sink instead of keeping it: the
   * response's body is then empty. A sink's promise is awaited before more is read (backpressure).
   */
  bodySink?: BodySinkFor;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const UPLOAD_CHUNK = 64 * 1024;

// Errors from fetch that mean nothing reached the server.
const NOT_SENT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  FailedToOpenSocket: "cannot open a connection",
};
// Errors after the request may have been sent, in words (an unknown code is kept as it is).
const BROKEN: Record<string, string> = {
  ECONNRESET: "the connection was reset",
  ConnectionClosed: "the connection was closed",
  EPIPE: "the connection was closed while sending",
  ETIMEDOUT: "the connection timed out",
  ECONNABORTED: "the connection was aborted",
};
// TLS failures: nothing was sent either, and trying again will not help.
const TLS_FAILURES: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS certificate not trusted",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS certificate not trusted",
  CERT_HAS_EXPIRED: "TLS certificate expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate is for another host",
};

export class Transport {
  readonly via: Via;
  readonly proxy: { host: string; port: number } | null;
  readonly tls: TransportTls;

  constructor(cfg: TransportConfig, opts: { tls?: TransportTls } = {}) {
    this.via = cfg.via;
    this.proxy = cfg.via === "tor" ? { host: cfg.proxyHost, port: cfg.proxyPort } : null;
    this.tls = opts.tls ?? {};
  }

  /** "direct" or "Tor (SOCKS5 127.0.0.1:9050)", for status lines. */
  describe(): string {
    return this.proxy ? `Tor (SOCKS5 ${hostPort(this.proxy.host, this.proxy.port)})` : "direct";
  }

  /** One HTTP request. Throws TransportError for anything but an HTTP response. */
  async request(
    method: string,
    url: string | URL,
    headers: Record<string, string>,
    body: Uint8Array | ReadableStream<Uint8Array> | undefined,
    opts: RequestOptions,
  ): Promise<TransportResponse> {
    const u = typeof url === "string" ? new URL(url) : url;
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new TransportError("bad-url", `not an http(s) URL: ${u.protocol}`, false);
    }
    const signals = [AbortSignal.timeout(opts.timeoutMs)];
    if (opts.signal) signals.push(opts.signal);
    const idle = opts.idleTimeoutMs ? idleWatch(opts.idleTimeoutMs) : null;
    if (idle) signals.push(idle.signal);
    const signal = AbortSignal.any(signals);
    const o: RequestOptions = idle
      ? {
          ...opts,
          onUploadProgress: (d, t) => (idle.kick(), opts.onUploadProgress?.(d, t)),
          onDownloadProgress: (d, t) => (idle.kick(), opts.onDownloadProgress?.(d, t)),
        }
      : opts;
    const max = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    try {
      return this.proxy
        ? await this.viaSocks(this.proxy, method, u, headers, body, o, signal, max)
        : await this.viaFetch(method, u, headers, body, o, signal, max);
    } finally {
      idle?.stop();
    }
  }

  private async viaSocks(
    proxy: { host: string; port: number },
    method: string,
    u: URL,
    headers: Record<string, string>,
    body: Uint8Array | ReadableStream<Uint8Array> | undefined,
    opts: RequestOptions,
    signal: AbortSignal,
    max: number,
  ): Promise<TransportResponse> {
    const host = bareHost(u.hostname);
    const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
    let sent = false;
    let sock: net.Socket | null = null;
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => {
        sock?.destroy();
        reject(abortError(signal, sent, opts.timeoutMs));
      };
      if (signal.aborted) fail();
      else signal.addEventListener("abort", fail, { once: true });
    });
    aborted.catch(() => {});
    const work = (async () => {
      const raw = await socksConnect(proxy, { host, port }, opts.timeoutMs);
      sock = raw;
      if (signal.aborted) raw.destroy();
      const s = u.protocol === "https:" ? await startTls(raw, host, this.tls) : raw;
      sock = s;
      try {
        return await http1Exchange(
          s,
          { method, host: u.host, path: u.pathname + u.search, headers, body },
          {
            maxResponseBytes: max,
            onUploadProgress: opts.onUploadProgress,
            onDownloadProgress: opts.onDownloadProgress,
            bodySink: opts.bodySink,
          },
          () => (sent = true),
        );
      } catch (cause) {
        if (cause instanceof TooLarge) throw new TransportError("too-large", cause.message, true, { cause });
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new TransportError("broken", `connection to ${u.host} through Tor failed: ${why}`, sent, { cause });
      } finally {
        s.destroy();
      }
    })();
    return await Promise.race([work, aborted]);
  }

  private async viaFetch(
    method: string,
    u: URL,
    headers: Record<string, string>,
    body: Uint8Array | ReadableStream<Uint8Array> | undefined,
    opts: RequestOptions,
    signal: AbortSignal,
    max: number,
  ): Promise<TransportResponse> {
    let sendBody: Uint8Array | ReadableStream<Uint8Array> | undefined = body;
    const h = { ...headers };
    if (body instanceof Uint8Array && opts.onUploadProgress && body.length > 0) {
      // Stream in chunks so progress follows what the socket takes (backpressure).
      h["content-length"] = String(body.length);
      sendBody = chunkStream(body, opts.onUploadProgress);
    } else if (body instanceof ReadableStream && opts.onUploadProgress) {
      sendBody = countingStream(body, Number(h["content-length"] ?? 0), opts.onUploadProgress);
    }
    let res: Response;
    try {
      res = await fetch(u, {
        method,
        headers: h,
        body: sendBody,
        signal,
        redirect: "manual",
        // Explicit, so that no environment variable changes them (SECURITY.md "Environment
        // variables"): certificates are always checked (NODE_TLS_REJECT_UNAUTHORIZED), "direct"
        // never goes through an HTTP proxy (HTTP(S)_PROXY, ALL_PROXY), headers are never
        // printed (BUN_CONFIG_VERBOSE_FETCH).
        tls: tlsOptions(this.tls),
        proxy: false,
        verbose: false,
        // Bun needs this to stream a request body.
        duplex: "half",
      } as RequestInit);
    } catch (cause) {
      throw fetchError(cause, u, signal, opts.timeoutMs);
    }
    try {
      const total = Number(res.headers.get("content-length") ?? 0);
      if (total > max) throw new TooLarge(max);
      const parts: Uint8Array[] = [];
      const sink = opts.bodySink?.(res.status, res.headers) ?? null;
      let got = 0;
      if (res.body) {
        for await (const part of res.body) {
          got += part.length;
          if (got > max) throw new TooLarge(max);
          if (sink) await sink(part);
          else parts.push(part);
          opts.onDownloadProgress?.(got, total);
        }
      }
      const out = parts.length === 1 ? parts[0]! : new Uint8Array(Buffer.concat(parts));
      return { status: res.status, headers: res.headers, body: out };
    } catch (cause) {
      if (cause instanceof TooLarge) {
        void res.body?.cancel().catch(() => {});
        throw new TransportError("too-large", cause.message, true, { cause });
      }
      throw fetchError(cause, u, signal, opts.timeoutMs, true);
    }
  }
}

/** TLS options of every connection to a relay: certificate checks on, whatever the environment says. */
export function tlsOptions(t: TransportTls): { rejectUnauthorized: true; ca?: string | string[] } {
  return t.ca ? { rejectUnauthorized: true, ca: t.ca } : { rejectUnauthorized: true };
}

function chunkStream(body: Uint8Array, progress: Progress): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at > 0) progress(at, body.length);
      if (at >= body.length) return controller.close();
      const part = body.subarray(at, at + UPLOAD_CHUNK);
      at += part.length;
      controller.enqueue(part);
    },
  });
}

/** A request body stream passed through as it is, reporting the bytes taken so far. */
function countingStream(
  body: ReadableStream<Uint8Array>,
  total: number,
  progress: Progress,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at > 0) progress(at, total);
      const r = await reader.read();
      if (r.done) return controller.close();
      at += r.value.length;
      controller.enqueue(r.value);
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

/** An abort signal that fires when kick() was not called for `ms`. */
function idleWatch(ms: number) {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(new TransportError("timeout", `no data moved for ${seconds(ms)}`, true)), ms);
  };
  kick();
  return { signal: ctl.signal, kick, stop: () => clearTimeout(timer) };
}

function abortError(signal: AbortSignal, sent: boolean, timeoutMs: number): TransportError {
  const reason: unknown = signal.reason;
  if (reason instanceof TransportError) return reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new TransportError("timeout", `no complete answer within ${seconds(timeoutMs)}`, sent);
  }
  return new TransportError("aborted", "request cancelled", sent);
}

function fetchError(cause: unknown, u: URL, signal: AbortSignal, timeoutMs: number, sent = false): TransportError {
  if (signal.aborted) return abortError(signal, true, timeoutMs);
  const code = (cause as { code?: unknown } | null)?.code;
  const tlsFailure = typeof code === "string" ? TLS_FAILURES[code] : undefined;
  if (tlsFailure && !sent) return new TransportError("tls", `${tlsFailure} (${u.host})`, false, { cause });
  const known = typeof code === "string" ? NOT_SENT[code] : undefined;
  if (known && !sent) return new TransportError("unreachable", `${known} (${u.host})`, false, { cause });
  const why =
    typeof code === "string"
      ? (BROKEN[code] ?? code)
      : cause instanceof Error
        ? cause.message.split("\n")[0]!
        : "failed";
  return new TransportError("broken", `connection to ${u.host} failed (${why})`, true, { cause });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
