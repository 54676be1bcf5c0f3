// Test helper: a relay that withholds prekey bundles (PROTOCOL-v3 §V1, §V3.3). An HTTP proxy in
// front of the real relay that answers 404 to every `POST /v3/bundle` — as a relay would for a
// peer who never published one — and forwards everything else unchanged. It listens before it
// knows its relay, so the relay can be started with the proxy's origin as a --public-url (§V11:
// v3 request signatures name the origin the client uses).
export interface WithholdingProxy {
  /** The proxy's base URL (http://127.0.0.1:<port>), also its origin. */
  url: string;
  /** Where to forward to (set once the relay is up). */
  target: string;
  /** `POST /v3/bundle` requests answered 404 so far. */
  withheld: number;
  stop(): void;
}

const HOP_BY_HOP = new Set(["host", "connection", "upgrade", "keep-alive", "transfer-encoding", "content-length"]);

export function startWithholdingProxy(): WithholdingProxy {
  const state = { target: "", withheld: 0 };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const u = new URL(req.url);
      if (req.method === "POST" && u.pathname === "/v3/bundle") {
        state.withheld++;
        await req.arrayBuffer();
        return Response.json({ error: "no bundle" }, { status: 404 });
      }
      if (state.target === "") return new Response("no relay yet", { status: 502 });
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k)) headers[k] = v;
      });
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(state.target + u.pathname + u.search, {
        method: req.method,
        headers,
        body,
        redirect: "manual",
      });
      const out = new Headers(res.headers);
      out.delete("content-encoding");
      out.delete("content-length");
      return new Response(await res.arrayBuffer(), { status: res.status, headers: out });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    get target() {
      return state.target;
    },
    set target(t: string) {
      state.target = t;
    },
    get withheld() {
      return state.withheld;
    },
    stop: () => void server.stop(true),
  };
}
