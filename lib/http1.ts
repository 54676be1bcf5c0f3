// HTTP/1.1 on a socket we opened ourselves (lib/socks-http.ts): one request per
// connection (Connection: close), body written in chunks with progress, response
// read with Content-Length, chunked or close-delimited framing, sizes bounded.

import type { Duplex } from "node:stream";

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export type Progress = (done: number, total: number) => void;
/** Where a streamed response body goes, part by part; a returned promise is awaited (backpressure). */
export type BodySink = (part: Uint8Array) => void | Promise<void>;
/** Chooses, once the status line and headers are read, a sink for the body (null: keep it as usual). */
export type BodySinkFor = (status: number, headers: Headers) => BodySink | null;

export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
const WRITE_CHUNK = 64 * 1024;
/** Unread bytes held before the socket is paused (a slow body sink must not fill memory). */
const READ_HIGH_WATER = 1024 * 1024;

/** Buffered reads from a socket; errors and end of stream become exceptions. */
class SocketReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private paused = false;

  constructor(private readonly sock: Duplex) {
    const notify = () => {
      const w = this.wake;
      this.wake = null;
      w?.();
    };
    sock.on("data", (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      if (this.buf.length >= READ_HIGH_WATER && !this.paused) {
        this.paused = true;
        sock.pause();
      }
      notify();
    });
    sock.on("end", () => ((this.ended = true), notify()));
    sock.on("close", () => ((this.ended = true), notify()));
    sock.on("error", (e: Error) => ((this.failure = e), notify()));
  }

  /** The server has sent something (before we finished sending: an early answer). */
  answered(): boolean {
    return this.buf.length > 0;
  }

  /** Wait for more bytes; false at end of stream. */
  private async more(): Promise<boolean> {
    if (this.failure) throw this.failure;
    if (this.ended) return false;
    if (this.paused) {
      this.paused = false;
      this.sock.resume();
    }
    await new Promise<void>((r) => (this.wake = r));
    if (this.failure) throw this.failure;
    return !this.ended || this.buf.length > 0;
  }

  async line(max: number): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString("latin1");
        this.buf = this.buf.subarray(i + 2);
        return l;
      }
      if (this.buf.length > max) throw new Error("response header too long");
      if (!(await this.more()) && this.buf.indexOf("\r\n") < 0) throw new Error("connection closed early");
    }
  }

  /** Up to `n` bytes (at least 1), or null at end of stream. */
  async some(n: number): Promise<Buffer | null> {
    while (this.buf.length === 0) if (!(await this.more())) return null;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
}

/** Send one HTTP/1.1 request on `sock` and read the whole response. Closes nothing. */
export async function http1Exchange(
  sock: Duplex,
  req: {
    method: string;
    host: string;
    path: string;
    headers: Record<string, string>;
    body?: Uint8Array | ReadableStream<Uint8Array>;
  },
  opts: {
    maxResponseBytes: number;
    onUploadProgress?: Progress;
    onDownloadProgress?: Progress;
    /** Hand each body part here instead of keeping it (the response's body is then empty). */
    onBodyPart?: (part: Uint8Array) => void;
    /** The same, chosen by status (a sink that returns a promise is awaited before more is read). */
    bodySink?: BodySinkFor;
  },
  markSent: () => void,
): Promise<HttpResponse> {
  const reader = new SocketReader(sock);
  const headers: Record<string, string> = { host: req.host, connection: "close", ...lower(req.headers) };
  const body = req.body;
  if (body instanceof Uint8Array) headers["content-length"] = String(body.length);
  else if (body !== undefined && headers["content-length"] === undefined) headers["transfer-encoding"] = "chunked";
  let head = `${req.method.toUpperCase()} ${req.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (/[\r\n]/.test(k + v) || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(k))
      throw new Error(`bad header ${JSON.stringify(k)}`);
    head += `${k}: ${v}\r\n`;
  }
  markSent();
  try {
    await write(sock, Buffer.from(`${head}\r\n`, "latin1"));
    await writeBody(sock, body, headers, opts.onUploadProgress, () => reader.answered());
  } catch (writeError) {
    // The relay may answer early (413 from Content-Length) and close: its answer beats our write error.
    if (!reader.answered()) throw writeError;
  }
  return await readResponse(reader, req.method, opts);
}

/** Write the body in chunks, with progress; stop early once the server has started answering. */
async function writeBody(
  sock: Duplex,
  body: Uint8Array | ReadableStream<Uint8Array> | undefined,
  headers: Record<string, string>,
  progress: Progress | undefined,
  answered: () => boolean,
): Promise<void> {
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.length && !answered();) {
      const part = body.subarray(at, at + WRITE_CHUNK);
      await write(sock, part);
      at += part.length;
      progress?.(at, body.length);
    }
  } else if (body !== undefined) {
    const chunked = headers["transfer-encoding"] === "chunked";
    const total = Number(headers["content-length"] ?? 0);
    let sent = 0;
    for await (const part of body) {
      if (answered()) return;
      if (part.length === 0) continue;
      await write(sock, chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, CRLF]) : part);
      sent += part.length;
      progress?.(sent, total);
    }
    if (chunked) await write(sock, Buffer.from("0\r\n\r\n"));
  }
}

const CRLF = Buffer.from("\r\n");

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function write(sock: Duplex, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => sock.write(data, (e) => (e ? reject(e) : resolve())));
}

async function readResponse(
  reader: SocketReader,
  method: string,
  opts: {
    maxResponseBytes: number;
    onDownloadProgress?: Progress;
    onBodyPart?: (part: Uint8Array) => void;
    bodySink?: BodySinkFor;
  },
): Promise<HttpResponse> {
  let status: number;
  let headers: Headers;
  // Every head line (interim responses and trailers included) counts against one budget,
  // so a relay cannot keep us reading header lines until the request times out.
  let headBytes = 0;
  const headLine = async (): Promise<string> => {
    const l = await reader.line(MAX_RESPONSE_HEAD_BYTES);
    headBytes += l.length + 2;
    if (headBytes > MAX_RESPONSE_HEAD_BYTES) throw new Error("response header too long");
    return l;
  };
  // Skip interim 1xx responses (100 Continue).
  do {
    const statusLine = await headLine();
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!m) throw new Error("not an HTTP/1.1 response");
    status = Number(m[1]);
    headers = new Headers();
    for (;;) {
      const l = await headLine();
      if (l === "") break;
      const colon = l.indexOf(":");
      if (colon <= 0) throw new Error("malformed response header");
      try {
        headers.append(l.slice(0, colon).trim(), l.slice(colon + 1).trim());
      } catch {
        // Not a token name or a bad value: say so without quoting the relay's bytes.
        throw new Error("malformed response header");
      }
    }
  } while (status >= 100 && status < 200);
  if (method.toUpperCase() === "HEAD" || status === 204 || status === 304) {
    return { status, headers, body: new Uint8Array(0) };
  }
  const max = opts.maxResponseBytes;
  const progress = opts.onDownloadProgress;
  const sink: BodySink | undefined = (opts.bodySink ? opts.bodySink(status, headers) : null) ?? opts.onBodyPart;
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const parts: Buffer[] = [];
    let got = 0;
    for (;;) {
      const sizeLine = await reader.line(1024);
      const m = /^([0-9a-fA-F]{1,12})(?:;.*)?$/.exec(sizeLine);
      if (!m) throw new Error("malformed chunked encoding");
      let left = parseInt(m[1]!, 16);
      if (left === 0) break;
      if (got + left > max) throw new TooLarge(max);
      while (left > 0) {
        const part = await reader.some(left);
        if (!part) throw new Error("connection closed early");
        if (sink) await sink(part);
        else parts.push(part);
        left -= part.length;
        got += part.length;
        progress?.(got, 0);
      }
      if ((await reader.line(2)) !== "") throw new Error("malformed chunked encoding");
    }
    while ((await headLine()) !== ""); // trailers
    return { status, headers, body: new Uint8Array(Buffer.concat(parts)) };
  }
  const lengthHeader = headers.get("content-length");
  if (lengthHeader !== null) {
    if (!/^\d{1,15}$/.test(lengthHeader)) throw new Error("malformed Content-Length");
    const total = Number(lengthHeader);
    if (total > max) throw new TooLarge(max);
    const body = new Uint8Array(sink ? 0 : total);
    let got = 0;
    while (got < total) {
      const part = await reader.some(total - got);
      if (!part) throw new Error("connection closed early");
      if (sink) await sink(part);
      else body.set(part, got);
      got += part.length;
      progress?.(got, total);
    }
    return { status, headers, body };
  }
  const parts: Buffer[] = [];
  let got = 0;
  for (let part = await reader.some(WRITE_CHUNK); part; part = await reader.some(WRITE_CHUNK)) {
    got += part.length;
    if (got > max) throw new TooLarge(max);
    if (sink) await sink(part);
    else parts.push(part);
    progress?.(got, 0);
  }
  return { status, headers, body: new Uint8Array(Buffer.concat(parts)) };
}

/** The response is bigger than the caller accepts. */
export class TooLarge extends Error {
  constructor(readonly max: number) {
    super(`response larger than ${max} bytes`);
  }
}
