// Issue 13 --live with the compiled relay (dist/phantom-relay): two relay processes, one given
// --live and the other PHANTOM_RELAY_LIVE, share a real redis-server that needs a password (an
// ACL user). A message sent to one reaches a live socket on the other (PROTOCOL §7.9); when Redis
// is killed the socket is closed with 1013, the relay says so in its log, the password is in no
// log line, and the relay still stops cleanly.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { RedisLink } from "../relay/redis.ts";
import { LiveSocket, pairOn } from "./helpers/live-sockets.ts";
import { NO_REDIS, type RedisServer, startRedis } from "./helpers/redis-server.ts";
import { RELAY_BIN, startRelay, type RunningRelay } from "./helpers/relay.ts";
import { signed } from "./helpers/signer.ts";

setDefaultTimeout(30_000);

const PASSWORD = "s3cret-never-logged";

if (NO_REDIS) test.skip(`--live redis, compiled relays: ${NO_REDIS}`, () => {});
else {
  let redis: RedisServer;
  const relays: RunningRelay[] = [];
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    if (!existsSync(RELAY_BIN)) throw new Error("dist/phantom-relay is missing: run ./build.sh first");
    redis = await startRedis();
    const admin = new RedisLink(redis.url);
    // docs/deploy.md's ACL: only what the relay needs.
    await admin.send("ACL", [
      ...["SETUSER", "phantom", "on", `>${PASSWORD}`, "resetkeys", "~phantom:rl:*", "resetchannels", "&phantom:live"],
      ...["-@all", "+@connection", "+publish", "+subscribe", "+eval", "+evalsha", "+hmget", "+hset", "+pexpire"],
    ]);
    admin.close();
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.close();
    for (const r of relays) {
      if (r.proc.exitCode === null) await r.stop();
      r.cleanup();
    }
    await redis?.stop();
  });

  test("a frame crosses relay processes; Redis killed: 1013, a log line without the password, a clean stop", async () => {
    const url = redis.url.replace("redis://", `redis://phantom:${PASSWORD}@`);
    const A = await startRelay({ args: ["--live", url, "--log-level", "warn"] });
    relays.push(A);
    const B = await startRelay({ args: ["--log-level", "warn"], env: { PHANTOM_RELAY_LIVE: url } });
    relays.push(B);
    const { a, b, roomId } = await pairOn([A.url, B.url]); // spends rooms-per-hour in Redis
    const onB = new LiveSocket(B.url, b, roomId);
    sockets.push(onB);
    await onB.opened;
    const r = await signed(A.url, a, "POST", "/send", { room_id: roomId, ciphertext: "QUJD" });
    expect(r.status).toBe(200);
    expect(await onB.next()).toMatchObject({ ciphertext: "QUJD" });

    await redis.halt();
    expect(await onB.closed).toBe(1013);
    for (const relay of [A, B]) {
      for (let i = 0; i < 100 && !relay.logs.some((l) => l.includes("subscription lost")); i++) await Bun.sleep(50);
    }
    expect(B.logs.some((l) => l.includes("live fan-out: Redis subscription lost"))).toBe(true);
    expect(await A.stop()).toBe(0);
    expect(await B.stop()).toBe(0);
    for (const line of [...A.logs, ...B.logs]) expect(line).not.toContain(PASSWORD);
  });
}
