// `phantom daemon --http 127.0.0.1:PORT`: the API over loopback HTTP, for scripts that speak
// HTTP rather than a UNIX socket. POST /rpc takes one JSON-RPC request (or batch) and answers
// it; GET /events?consumer=NAME streams that consumer's events as server-sent events (acked
// with POST /rpc "ack"). Every request needs `Authorization: Bearer <daemon.token>` and a
// loopback Host header (a web page that rebinds a name to 127.0.0.1 sends its own name); anything
// else is answered with a status and nothing more. It never listens beyond loopback.

import { timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import { isIP } from "node:net";
import { PhantomError } from "../../lib/errors.ts";
import { oneLine } from "../text/sanitise.ts";
import type { Conn, Daemon } from "./server.ts";
import { tokenPath } from "./files.ts";
import { MAX_REQUEST_BYTES } from "./rpc.ts";

const SSE_KEEPALIVE_MS = 15_000;

export interface HttpAddress {
  host: string;
  port: number;
}

/** `--http` HOST:PORT: a loopback address only (127.0.0.0/8, ::1, localhost). */
export function parseHttpAddress(text: string): HttpAddress {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const bad = () =>
    new PhantomError(
      "bad-option",
      `--http takes a loopback address and port, like 127.0.0.1:8788 (got ${oneLine(text).slice(0, 80)})`,
    );
  if (!m) throw bad();
  const host = (m[1] ?? m[2]!).toLowerCase();
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw bad();
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  if (!loopback) {
    throw new PhantomError(
      "bad-option",
      `--http listens on loopback only (127.0.0.1, ::1, localhost), not ${oneLine(host).slice(0, 80)}: the API unlocks your identity`,
    );
  }
  return { host: host === "localhost" ? "127.0.0.1" : host, port };
}

/** The names a loopback client puts in Host for this port. */
function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** The token file, read again when it changes (phantom daemon --new-token while running). */
class TokenFile {
  private readonly path: string;
  private stamp = "";
  private token: Buffer | null = null;
  constructor(home: string) {
    this.path = tokenPath(home);
  }
  current(): Buffer | null {
    try {
      const st = fs.statSync(this.path);
      const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
      if (stamp !== this.stamp) {
        this.stamp = stamp;
        const t = fs.readFileSync(this.path, "utf8").trim();
        this.token = /^[A-Za-z0-9_-]{43}$/.test(t) ? Buffer.from(t) : null;
      }
    } catch {
      this.token = null;
      this.stamp = "";
    }
    return this.token;
  }
}

function authorized(req: Request, tokens: TokenFile): boolean {
  const want = tokens.current();
  const auth = req.headers.get("authorization") ?? "";
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(auth);
  if (want === null || !m) return false;
  const got = Buffer.from(m[1]!);
  return got.length === want.length && timingSafeEqual(got, want);
}

const plain = (status: number, text: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: text }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });

/** Listen on `addr`; returns the server (stop() ends it) and the address it listens on. */
export function serveHttp(daemon: Daemon, home: string, addr: HttpAddress): { stop: () => void; url: string } {
  const tokens = new TokenFile(home);
  if (tokens.current() === null) {
    throw new PhantomError("daemon-token", `no token in ${tokenPath(home)}: run 'phantom daemon --new-token' first`);
  }
  const hosts = allowedHosts(addr.port);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: addr.host,
      port: addr.port,
      // Bodies past this are refused by Bun before they are read whole.
      maxRequestBodySize: MAX_REQUEST_BYTES,
      idleTimeout: 0,
      fetch: (req) => handle(req),
    });
  } catch (e) {
    throw new PhantomError("daemon-http", `cannot listen on ${addr.host}:${addr.port}: ${(e as Error).message}`);
  }
  const handle = async (req: Request): Promise<Response> => {
    if (!hosts.has((req.headers.get("host") ?? "").toLowerCase())) return plain(403, "forbidden");
    if (!authorized(req, tokens)) return plain(401, "unauthorized", { "www-authenticate": "Bearer" });
    const url = new URL(req.url);
    if (url.pathname === "/rpc") {
      if (req.method !== "POST") return plain(405, "method not allowed", { allow: "POST" });
      let text: string;
      try {
        text = await req.text();
      } catch {
        return plain(400, "bad body");
      }
      if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) return plain(413, "too large");
      const conn = daemon.attach(() => 0); // notifications of a plain request are not sent
      try {
        const reply = await daemon.answer(conn, text);
        if (reply === null) return new Response(null, { status: 204 });
        return new Response(reply, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
      } finally {
        for (const f of conn.afterReply) f();
        daemon.drop(conn);
      }
    }
    if (url.pathname === "/events") {
      if (req.method !== "GET") return plain(405, "method not allowed", { allow: "GET" });
      return events(daemon, url, req.signal);
    }
    return plain(404, "not found");
  };
  return {
    stop: () => server.stop(true),
    url: `http://${addr.host.includes(":") ? `[${addr.host}]` : addr.host}:${server.port}`,
  };
}

/** GET /events?consumer=NAME[&from=oldest]: the consumer's events, as `event: <type>` with `id: <n>`. */
function events(daemon: Daemon, url: URL, signal: AbortSignal): Response {
  const consumer = url.searchParams.get("consumer") ?? "";
  const from = url.searchParams.get("from") ?? "now";
  const enc = new TextEncoder();
  let conn: Conn | null = null;
  let keepalive: ReturnType<typeof setInterval> | null = null;
  const stream = new ReadableStream<Uint8Array>({
    start: async (ctl) => {
      const push = (line: string): number => {
        const msg = JSON.parse(line) as { method?: string; params?: { id?: number; type?: string } };
        if (msg.method !== "event" || !msg.params) return 0;
        try {
          ctl.enqueue(
            enc.encode(`id: ${msg.params.id}\nevent: ${msg.params.type}\ndata: ${JSON.stringify(msg.params)}\n\n`),
          );
        } catch {
          conn?.close();
        }
        return ctl.desiredSize !== null && ctl.desiredSize < 0 ? -ctl.desiredSize : 0;
      };
      conn = daemon.attach(push);
      const reply = JSON.parse(
        (await daemon.answer(
          conn,
          JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe", params: { consumer, from } }),
        )) ?? "{}",
      ) as { error?: { message: string } };
      if (reply.error) {
        ctl.enqueue(enc.encode(`event: error\ndata: ${JSON.stringify(reply.error)}\n\n`));
        ctl.close();
        daemon.drop(conn);
        return;
      }
      ctl.enqueue(enc.encode(": subscribed\n\n"));
      for (const f of conn.afterReply) f();
      conn.afterReply = [];
      keepalive = setInterval(() => {
        try {
          ctl.enqueue(enc.encode(": keepalive\n\n"));
        } catch {
          conn?.close();
        }
      }, SSE_KEEPALIVE_MS);
      const end = () => {
        if (keepalive) clearInterval(keepalive);
        if (conn) daemon.drop(conn);
        try {
          ctl.close();
        } catch {
          // closed already
        }
      };
      signal.addEventListener("abort", end, { once: true });
      conn.closed.signal.addEventListener("abort", end, { once: true });
    },
    cancel: () => {
      if (keepalive) clearInterval(keepalive);
      if (conn) daemon.drop(conn);
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" },
  });
}
