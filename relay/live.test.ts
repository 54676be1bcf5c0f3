// The live-delivery contract (relay/live-contract.ts) on both buses: this process only (--live
// local), and two relay instances sharing a real redis-server (--live redis://).
import { afterAll, beforeAll } from "bun:test";
import { NO_REDIS, type RedisServer, startRedis } from "../tests/helpers/redis-server.ts";
import { liveContract } from "./live-contract.ts";
import { Live } from "./live.ts";
import { Log } from "./log.ts";
import { RedisLiveBus } from "./redis-live.ts";
import { RedisLink } from "./redis.ts";

const LIMITS = { perUid: 100, perRoom: 100 };

liveContract("local", async () => ({ hubs: [new Live(LIMITS)], shared: false, close: async () => {} }));

let redis: RedisServer | null = null;
beforeAll(async () => {
  if (!NO_REDIS) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

if (!NO_REDIS) {
  let n = 0;
  liveContract("Redis, two instances", async () => {
    const prefix = `t${++n}:`; // a channel of its own per test
    const parts = await Promise.all(
      [0, 1].map(async () => {
        const live = new Live(LIMITS);
        const link = new RedisLink(redis!.url);
        const bus = await RedisLiveBus.open(redis!.url, link, live, new Log("error"), { prefix });
        live.useBus(bus);
        return { live, link, bus };
      }),
    );
    return {
      hubs: parts.map((p) => p.live),
      shared: true,
      async close() {
        for (const p of parts) {
          await p.bus.close();
          p.link.close();
        }
      },
    };
  });
}
