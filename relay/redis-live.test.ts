// relay/redis-live.ts against a real redis-server: a hung Redis (SIGSTOP: the connection stays
// open, nothing answers) is noticed by the subscription's PING, the instance's live sockets are
// closed with 1013 and no upgrade is admitted until it answers again; a hung command is a
// StoreBusyError within the command timeout; a PUBLISH that fails closes the room's sockets the
// same way (they would have missed the frame). The hub's sockets are real: Bun.serve with the
// hub's handler and Bun's WebSocket client.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { NO_REDIS, type RedisServer, startRedis } from "../tests/helpers/redis-server.ts";
import { Live, WS_CLOSE_TRY_AGAIN, type WsData } from "./live.ts";
import { Log } from "./log.ts";
import { RedisLiveBus } from "./redis-live.ts";
import { RedisLink } from "./redis.ts";
import { StoreBusyError } from "./store.ts";

const ROOM = "AAAAAAAAAAAAAAAAAAAAAA";

/** Until `ok()` holds, checked every 20 ms, at most `tries` times. */
async function until(ok: () => boolean, tries = 250): Promise<void> {
  for (let i = 0; i < tries && !ok(); i++) await Bun.sleep(20);
  expect(ok()).toBe(true);
}

if (NO_REDIS) test.skip(`Redis live bus: ${NO_REDIS}`, () => {});
else {
  let redis: RedisServer;
  let server: Server<WsData>;
  let live: Live;
  let bus: RedisLiveBus;
  let link: RedisLink;

  beforeAll(async () => {
    redis = await startRedis();
    live = new Live({ perUid: 10, perRoom: 10 });
    link = new RedisLink(redis.url, 200);
    bus = await RedisLiveBus.open(redis.url, link, live, new Log("error"), { timeoutMs: 200, retryMs: 50, pingMs: 50 });
    live.useBus(bus);
    server = Bun.serve<WsData>({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, srv) {
        try {
          live.admit("u", ROOM);
        } catch {
          return new Response("busy", { status: 503 });
        }
        return srv.upgrade(req, { data: { roomId: ROOM, uid: "u", counted: false } })
          ? undefined
          : new Response("no upgrade", { status: 400 });
      },
      websocket: live.handler,
    });
  });
  afterAll(async () => {
    await server?.stop(true);
    await bus?.close();
    link?.close();
    await redis?.stop();
  });

  function socket() {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const frames: string[] = [];
    ws.onmessage = (e) => frames.push(String(e.data));
    const opened = new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("refused"));
    });
    const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
    return { ws, frames, opened, closed };
  }

  test("a published frame comes back through the subscription to the room's socket", async () => {
    const s = socket();
    await s.opened;
    live.burned(ROOM);
    await until(() => s.frames.length === 1);
    expect(JSON.parse(s.frames[0]!)).toEqual({ event: "burned" });
    s.ws.close();
    await s.closed;
  });

  test("a PUBLISH refused (here by an ACL without it): the room's sockets are closed with 1013, the bus stays up", async () => {
    await link.send("ACL", ["SETUSER", "nopub", "on", ">pw", "allchannels", "allkeys", "+@all", "-publish"]);
    const noPublish = new RedisLink(redis.url.replace("redis://", "redis://nopub:pw@"), 200);
    const refused = await RedisLiveBus.open(redis.url, noPublish, live, new Log("error"));
    const s = socket();
    await s.opened;
    live.useBus(refused);
    try {
      live.message(ROOM, { ts: 1, ciphertext: "QUFB", seq: 1 });
      expect(await s.closed).toBe(WS_CLOSE_TRY_AGAIN);
      expect(s.frames).toEqual([]);
      expect(refused.up).toBe(true);
    } finally {
      live.useBus(bus);
      await refused.close();
      noPublish.close();
    }
  });

  test("a hung Redis: sockets closed with 1013, upgrades refused, commands busy; all back when it answers", async () => {
    const s = socket();
    await s.opened;
    redis.pause();
    try {
      expect(await s.closed).toBe(WS_CLOSE_TRY_AGAIN);
      expect(bus.up).toBe(false);
      await expect(socket().opened).rejects.toThrow("refused");
      await expect(link.send("PING", [])).rejects.toBeInstanceOf(StoreBusyError);
    } finally {
      redis.resume();
    }
    await until(() => bus.up);
    expect(await link.send("PING", [])).toBe("PONG");
    const again = socket();
    await again.opened;
    live.burned(ROOM);
    await until(() => again.frames.length === 1);
    again.ws.close();
    await again.closed;
  });
}
