// PROTOCOL §7.9 live frames across relay instances (issue 13 --live redis://…). A frame is
// PUBLISHed after the store committed; every instance SUBSCRIBEs on a dedicated connection (a
// subscribed connection can run nothing else) and hands what arrives to its hub (relay/live.ts).
//
// Once per instance: frames are delivered ONLY from the subscription, the publishing instance's
// own frames included, so there is one path and no instance id to compare; the cost is one
// round trip to Redis for local sockets too.
// One channel, not one per room: SUBSCRIBE once at start, no subscription per room to keep in
// step with sockets opening and closing (a socket could open before its room's SUBSCRIBE is
// confirmed and miss frames), and no PSUBSCRIBE, whose patterns Redis matches on every PUBLISH.
// The cost: every instance receives every room's frames and drops those of rooms it has no socket of.
//
// Best effort, never a loss: the messages are in the store. When the subscription breaks (Redis
// gone, or silent past a PING), this instance's sockets are closed with 1013 (their clients
// reconnect and /fetch) and upgrades answer 503 until it is subscribed again. A PUBLISH that
// fails closes the room's local sockets the same way (other instances' sockets of the room may
// miss that frame only if they reach Redis while this instance does not).
import { RedisClient } from "bun";
import type { Live, LiveBus } from "./live.ts";
import type { Log } from "./log.ts";
import { clientOptions, REDIS_TIMEOUT_MS, type RedisLink, within } from "./redis.ts";

export const LOST_REASON = "live delivery interrupted: fetch to catch up";
/** Milliseconds between PINGs on the subscription: how long a hung Redis can go unnoticed, plus REDIS_TIMEOUT_MS. */
export const LIVE_PING_MS = 5000;
/** Milliseconds between attempts to subscribe again after a loss. */
export const LIVE_RESUBSCRIBE_MS = 1000;

export interface RedisLiveOptions {
  /** The channel's name is `<prefix>live`. */
  prefix?: string;
  timeoutMs?: number;
  /** Milliseconds between attempts to subscribe again. */
  retryMs?: number;
  /** Milliseconds between PINGs on the subscription (a hung Redis sends no close). */
  pingMs?: number;
}

export class RedisLiveBus implements LiveBus {
  private sub: RedisClient | null = null;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private readonly pinger: ReturnType<typeof setInterval>;
  private readonly channel: string;
  private readonly timeoutMs: number;
  private readonly retryMs: number;

  private constructor(
    private readonly url: string,
    private readonly link: RedisLink,
    private readonly live: Live,
    private readonly log: Log,
    o: RedisLiveOptions,
  ) {
    this.channel = `${o.prefix ?? "phantom:"}live`;
    this.timeoutMs = o.timeoutMs ?? REDIS_TIMEOUT_MS;
    this.retryMs = o.retryMs ?? LIVE_RESUBSCRIBE_MS;
    this.pinger = setInterval(() => void this.ping(), o.pingMs ?? LIVE_PING_MS);
    this.pinger.unref();
  }

  /** Subscribed, or (Redis unreachable at start) retrying in the background with upgrades refused. */
  static async open(url: string, link: RedisLink, live: Live, log: Log, o: RedisLiveOptions = {}) {
    const bus = new RedisLiveBus(url, link, live, log, o);
    await bus.subscribe().catch(() => {
      log.warn(
        "live fan-out: cannot subscribe to Redis (is it up? check the URL, its password and the ACL); retrying, live sockets refused meanwhile",
      );
      bus.again();
    });
    return bus;
  }

  get up(): boolean {
    return this.sub !== null;
  }

  readonly shared = true;

  publish(roomId: string, frame: string): Promise<void> {
    // Room ids are base64url (PROTOCOL §7.4): the first space ends the id. Commands on the one
    // connection reach Redis in the order they are sent: frames keep the order they were given.
    return this.link.send("PUBLISH", [this.channel, `${roomId} ${frame}`]).then(
      () => {},
      () => this.live.closeRoom(roomId, LOST_REASON),
    );
  }

  private receive = (message: string): void => {
    const space = message.indexOf(" ");
    if (space > 0) this.live.deliver(message.slice(0, space), message.slice(space + 1));
  };

  private async subscribe(): Promise<void> {
    const client = new RedisClient(this.url, clientOptions(this.timeoutMs));
    client.onclose = () => this.lost(client);
    try {
      await within(client.connect(), this.timeoutMs);
      await within(client.subscribe(this.channel, this.receive), this.timeoutMs);
    } catch (e) {
      client.onclose = null;
      client.close();
      throw e;
    }
    if (this.closed) return client.close();
    this.sub = client;
  }

  /** The subscription `client` broke: sockets that may miss frames are closed, and we subscribe again. */
  private lost(client: RedisClient): void {
    if (this.sub !== client) return; // not subscribed yet, or already handled
    this.sub = null;
    client.onclose = null;
    client.close();
    if (this.closed) return;
    this.log.warn("live fan-out: Redis subscription lost; live sockets closed (1013), subscribing again");
    this.live.closeAll(LOST_REASON);
    this.again();
  }

  private again(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.subscribe().then(
        () => this.log.info("live fan-out: subscribed to Redis again"),
        () => this.again(),
      );
    }, this.retryMs);
  }

  private async ping(): Promise<void> {
    const client = this.sub;
    if (!client) return;
    try {
      await within(client.ping(), this.timeoutMs);
    } catch {
      this.lost(client);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pinger);
    if (this.retry) clearTimeout(this.retry);
    const client = this.sub;
    this.sub = null;
    if (client) {
      client.onclose = null;
      client.close();
    }
  }
}
