// Issue 13 --live: what relay instances share. "local" (the default): nothing, frames go straight
// to this process's hub and the limits are counted in memory. A redis:// URL: live frames fan out
// to every instance (relay/redis-live.ts) and the §7.10 rates are one budget for all of them
// (relay/redis-limiter.ts), over one command connection and one subscription.
import type { RelayConfig } from "./defaults.ts";
import type { Live } from "./live.ts";
import type { Log } from "./log.ts";
import type { LimiterFactory } from "./quota.ts";
import { redisLimiters } from "./redis-limiter.ts";
import { RedisLiveBus } from "./redis-live.ts";
import { RedisLink } from "./redis.ts";

export interface SharedState {
  /** The limiters of relay/quota.ts Quotas; undefined: in memory. */
  limiters?: LimiterFactory;
  close(): Promise<void>;
}

export async function shareWithInstances(
  config: Pick<RelayConfig, "live">,
  live: Live,
  log: Log,
): Promise<SharedState> {
  if (config.live === "local") return { close: async () => {} };
  const link = new RedisLink(config.live);
  live.useBus(await RedisLiveBus.open(config.live, link, live, log));
  return {
    limiters: redisLimiters(link),
    async close() {
      await live.closeBus();
      link.close();
    },
  };
}
