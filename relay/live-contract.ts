// The contract of live delivery (relay/live.ts Live and its LiveBus) as one bun:test suite that
// every bus runs: `liveContract("local", open)` and `liveContract("Redis", open)` in
// relay/live.test.ts. `open` gives the hubs of one deployment (one for a local bus; two instances
// sharing a Redis); frames published on one reach each socket of the room on every hub exactly
// once, in the order published, and no socket of another room. The sockets are real: Bun.serve
// with each hub's handler, and Bun's WebSocket client.
import { afterEach, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { Live, WsData } from "./live.ts";

const ROOM_A = "A".repeat(22);
const ROOM_B = "B".repeat(22);

export interface LiveDeployment {
  /** The hubs of one deployment; the first publishes in the tests. */
  hubs: Live[];
  /** Whether the bus reaches other instances (Live.shared). */
  shared: boolean;
  close(): Promise<void>;
}

interface Client {
  frames: string[];
  ws: WebSocket;
}

/** Until `ok()` holds, checked every 10 ms, at most 3 s. */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await Bun.sleep(10);
}

export function liveContract(name: string, open: () => Promise<LiveDeployment>): void {
  describe(`Live contract: ${name}`, () => {
    let dep: LiveDeployment;
    let servers: Server<WsData>[] = [];
    let clients: Client[] = [];

    afterEach(async () => {
      for (const c of clients) c.ws.close();
      await Promise.all(servers.map((s) => s.stop(true)));
      await dep.close();
      servers = [];
      clients = [];
    });

    /** A socket of `roomId` on hub `i`, open and counted. */
    async function socket(i: number, roomId: string): Promise<Client> {
      let server = servers[i];
      if (!server) {
        const live = dep.hubs[i]!;
        server = servers[i] = Bun.serve<WsData>({
          hostname: "127.0.0.1",
          port: 0,
          fetch(req, srv) {
            const room = new URL(req.url).pathname.slice(1);
            live.admit("u" + clients.length, room);
            return srv.upgrade(req, { data: { roomId: room, uid: "u" + clients.length, counted: false } })
              ? undefined
              : new Response("no upgrade", { status: 400 });
          },
          websocket: live.handler,
        });
      }
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/${roomId}`);
      const c: Client = { frames: [], ws };
      ws.onmessage = (e) => c.frames.push(String(e.data));
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("socket did not open"));
      });
      clients.push(c);
      return c;
    }

    const row = (i: number) => ({ ts: 100 + i, ciphertext: `c${i}`, seq: i + 1 });

    test("shared says whether other instances get the frames", async () => {
      dep = await open();
      expect(dep.hubs[0]!.shared).toBe(dep.shared);
      expect(dep.hubs.length).toBe(dep.shared ? 2 : 1);
    });

    test("a frame reaches every socket of its room on every hub once, and no socket of another room", async () => {
      dep = await open();
      const inRoom = [await socket(0, ROOM_A), await socket(0, ROOM_A)];
      if (dep.hubs.length > 1) inRoom.push(await socket(1, ROOM_A));
      const other = await socket(dep.hubs.length - 1, ROOM_B);
      await Bun.sleep(50);
      await dep.hubs[0]!.message(ROOM_A, row(0)); // settles once the bus has it
      await until(() => inRoom.every((c) => c.frames.length > 0));
      await Bun.sleep(100); // a second copy would be here by now
      for (const c of inRoom) expect(c.frames).toEqual([JSON.stringify(row(0))]);
      expect(other.frames).toEqual([]);
    });

    test("frames arrive in the order they were published; a burn is the burned event", async () => {
      dep = await open();
      const far = await socket(dep.hubs.length - 1, ROOM_A);
      await Bun.sleep(50);
      const sent = Array.from({ length: 100 }, (_, i) => row(i));
      await Promise.all(sent.map((r) => dep.hubs[0]!.message(ROOM_A, r)));
      dep.hubs[0]!.burned(ROOM_A);
      await until(() => far.frames.length === 101);
      expect(far.frames).toEqual([...sent.map((r) => JSON.stringify(r)), '{"event":"burned"}']);
    });
  });
}
