// Test helper: a reverse proxy in front of a relay, serving it under a path prefix
// (`http://127.0.0.1:<port>/phantom/…` → the relay's `/…`), HTTP and WebSocket, as a
// web server in front of a relay would. With `holdUploads`, a `POST /file/upload` is
// held, its body unread, until release(): a transfer that stays in progress as long as
// a test needs, then completes unless its client gave up meanwhile.
import type { ServerWebSocket } from "bun";

export interface PrefixProxy {
  /** The relay's URL through the proxy, with the prefix (no final "/"). */
  url: string;
  /** Uploads that reached the proxy so far. */
  uploads: number;
  /** Uploads forwarded to the relay after release() (a cancelled one is not). */
  forwarded: number;
  /** Resolves when `n` uploads reached the proxy. */
  uploadsReached(n: number): Promise<void>;
  /** Let held uploads (and later ones) through. */
  release(): void;
  stop(): void;
}

interface WsData {
  target: string;
  headers: Record<string, string>;
  up: WebSocket | null;
  pending: (string | Buffer)[];
}

const HOP_BY_HOP = new Set(["host", "connection", "upgrade", "keep-alive", "transfer-encoding"]);

export function startPrefixProxy(
  relayUrl: string,
  o: { prefix?: string; holdUploads?: boolean; hideMaxFileSize?: boolean } = {},
): PrefixProxy {
  const prefix = o.prefix ?? "/phantom";
  let release: () => void = () => {};
  const released = o.holdUploads ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const waiters: { n: number; done: () => void }[] = [];
  const state = { uploads: 0, forwarded: 0 };

  const server = Bun.serve<WsData, never>({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req, srv) {
      const u = new URL(req.url);
      if (!u.pathname.startsWith(`${prefix}/`)) return new Response("not under the prefix", { status: 404 });
      const path = u.pathname.slice(prefix.length);
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k) && !k.startsWith("sec-websocket")) headers[k] = v;
      });
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        const target = relayUrl.replace(/^http/, "ws") + path + u.search;
        if (srv.upgrade(req, { data: { target, headers, up: null, pending: [] } })) return undefined;
        return new Response("upgrade failed", { status: 400 });
      }
      if (req.method === "POST" && path === "/file/upload") {
        state.uploads++;
        for (const w of waiters) if (state.uploads >= w.n) w.done();
        await released;
        let body: ArrayBuffer;
        try {
          body = await req.arrayBuffer();
        } catch {
          return new Response("client went away", { status: 499 });
        }
        if (req.signal.aborted) return new Response("client went away", { status: 499 });
        state.forwarded++;
        return await forward(relayUrl + path + u.search, req.method, headers, body);
      }
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await forward(relayUrl + path + u.search, req.method, headers, body);
      if (path !== "/health" || !o.hideMaxFileSize) return res;
      // A relay that does not say its file limit (PROTOCOL §7.10 makes it optional).
      const { max_file_size: _hidden, ...rest } = (await res.json()) as Record<string, unknown>;
      return Response.json(rest);
    },
    websocket: {
      open(ws: ServerWebSocket<WsData>) {
        const up = new WebSocket(ws.data.target, { headers: ws.data.headers } as unknown as string[]);
        ws.data.up = up;
        up.onopen = () => {
          for (const m of ws.data.pending) up.send(m);
          ws.data.pending = [];
        };
        up.onmessage = (e) => ws.send(e.data as string);
        up.onclose = (e) => ws.close(e.code === 1005 || e.code === 1006 ? 1011 : e.code, e.reason);
        up.onerror = () => ws.close(1011, "relay unreachable");
      },
      message(ws: ServerWebSocket<WsData>, m: string | Buffer) {
        const up = ws.data.up;
        if (up && up.readyState === WebSocket.OPEN) up.send(m);
        else ws.data.pending.push(m);
      },
      close(ws: ServerWebSocket<WsData>) {
        ws.data.up?.close();
      },
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}${prefix}`,
    get uploads() {
      return state.uploads;
    },
    get forwarded() {
      return state.forwarded;
    },
    uploadsReached: (n) =>
      new Promise<void>((done) => {
        if (state.uploads >= n) done();
        else waiters.push({ n, done });
      }),
    release: () => release(),
    stop: () => void server.stop(true),
  };
}

async function forward(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: ArrayBuffer | undefined,
): Promise<Response> {
  const res = await fetch(url, { method, headers, body, redirect: "manual" });
  const out = new Headers(res.headers);
  out.delete("content-encoding");
  out.delete("content-length");
  return new Response(await res.arrayBuffer(), { status: res.status, headers: out });
}
