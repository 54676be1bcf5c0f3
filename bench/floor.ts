#!/usr/bin/env bun
// The benchmark floor: a bare Bun.serve that does only the unavoidable part of
// the relay's work, so bench/relay.ts can print each relay number beside it.
// - POST /send: read the body, JSON.parse it, publish {"ts","ciphertext"} to the
//   room's sockets (PROTOCOL §7.6/§7.9 shape), answer {"ts"}. No auth, no storage.
// - GET /ws/{room}: upgrade and subscribe to the room; echo anything received.
// First line on stdout: "floor listening on <url>" (same shape as the relay's).

interface SocketData {
  room: string;
}

const server = Bun.serve<SocketData>({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/ws/")) {
      const room = url.pathname.slice(4);
      if (srv.upgrade(req, { data: { room } })) return undefined;
      return Response.json({ error: "bad-upgrade", message: "expected a WebSocket upgrade" }, { status: 400 });
    }
    if (req.method === "POST" && url.pathname === "/send") {
      let body: { room_id?: unknown; ciphertext?: unknown };
      try {
        body = JSON.parse(await req.text());
      } catch {
        return Response.json({ error: "bad-json", message: "not JSON" }, { status: 400 });
      }
      const ts = Math.floor(Date.now() / 1000);
      if (typeof body.room_id === "string") {
        srv.publish(body.room_id, JSON.stringify({ ts, ciphertext: body.ciphertext }));
      }
      return Response.json({ ts });
    }
    if (url.pathname === "/health") return Response.json({ status: "ok" });
    return Response.json({ error: "not-found", message: "no such route" }, { status: 404 });
  },
  websocket: {
    open(ws) {
      ws.subscribe(ws.data.room);
    },
    message(ws, msg) {
      ws.send(msg);
    },
  },
});

process.stdout.write(`floor listening on ${server.url.href.replace(/\/$/, "")}\n`);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    void server.stop(true);
    process.exit(0);
  });
}
