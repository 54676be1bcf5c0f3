// PROTOCOL §7.10 rates shared by every relay instance (issue 13 --live redis://…): the token
// buckets of relay/quota.ts RateLimiter, kept in Redis. Each call is ONE Lua script run by Redis
// atomically, so two instances cannot both spend the last unit, and a limit is not multiplied by
// the number of instances. A bucket is a hash {t: tokens, a: time of the last change} under
// `<prefix>rl:<limiter>:<key>`; it expires when it would have refilled, so Redis holds only
// buckets that are spending (what a fresh bucket holds needs no key). The time is the instance's
// clock (as in memory); a clock behind the bucket's last change refills nothing, so clock skew
// between instances shifts a refill by at most the skew and never grants more.
import type { Limiter, LimiterFactory } from "./quota.ts";
import { waitSeconds } from "./quota.ts";
import { isNoScript, type RedisLink } from "./redis.ts";

/** KEYS[1] the bucket; ARGV op ("wait", "take" or "charge"), capacity, rate (units/s), now (s), cost. Returns the units missing. */
const SCRIPT = `
local cap = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local b = redis.call('HMGET', KEYS[1], 't', 'a')
local level, at = cap, now
if b[1] then
  local a = tonumber(b[2])
  if a > now then at = a end
  level = math.min(cap, tonumber(b[1]) + (at - a) * rate)
end
local missing = cost - level
if ARGV[1] == 'wait' or (ARGV[1] == 'take' and missing > 0) then return tostring(missing) end
local tokens = math.min(cap, level - cost)
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / rate * 1000) + 1000)
return tostring(missing)
`;
const SHA = new Bun.CryptoHasher("sha1").update(SCRIPT).digest("hex");

type Op = "wait" | "take" | "charge";

export class RedisLimiter implements Limiter {
  private readonly rate: number;

  constructor(
    private readonly link: RedisLink,
    /** The bucket keys' prefix, e.g. "phantom:rl:sent:". */
    private readonly keyPrefix: string,
    readonly capacity: number,
    windowS: number,
    private readonly clock: () => number,
  ) {
    this.rate = capacity / windowS;
  }

  get unlimited(): boolean {
    return this.capacity === 0;
  }

  /** Run the script (EVALSHA; EVAL when Redis does not have it, e.g. after a restart): the units missing. */
  private async run(op: Op, key: string, cost: number): Promise<number> {
    const args = [
      "1",
      this.keyPrefix + key,
      op,
      String(this.capacity),
      String(this.rate),
      String(this.clock()),
      String(cost),
    ];
    let reply: unknown;
    try {
      reply = await this.link.send("EVALSHA", [SHA, ...args]);
    } catch (e) {
      if (!isNoScript(e)) throw e;
      reply = await this.link.send("EVAL", [SCRIPT, ...args]);
    }
    return Number(reply);
  }

  private async ask(op: "wait" | "take", key: string, cost: number): Promise<number> {
    if (this.unlimited) return 0;
    if (cost > this.capacity) return Infinity;
    return waitSeconds(await this.run(op, key, cost), this.rate);
  }

  wait(key: string, cost: number): Promise<number> {
    return this.ask("wait", key, cost);
  }

  take(key: string, cost: number): Promise<number> {
    return this.ask("take", key, cost);
  }

  async charge(key: string, cost: number): Promise<void> {
    if (this.unlimited) return;
    await this.run("charge", key, cost);
  }

  sweep(): void {
    // Nothing to do: Redis expires refilled buckets itself.
  }
}

/** Every limiter of relay/quota.ts Quotas in Redis under `prefix` (default "phantom:"). */
export const redisLimiters =
  (link: RedisLink, prefix = "phantom:", clock: () => number = () => Date.now() / 1000): LimiterFactory =>
  (name, capacity, windowS) =>
    new RedisLimiter(link, `${prefix}rl:${name}:`, capacity, windowS, clock);
