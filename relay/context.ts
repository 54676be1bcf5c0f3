// What every route handler gets: the relay's parts and the request's facts.
import type { Server } from "bun";
import type { Authenticator } from "./auth.ts";
import type { Blobs } from "./blobs.ts";
import type { ProxySet } from "./client-address.ts";
import type { RelayConfig } from "./defaults.ts";
import type { Live, WsData } from "./live.ts";
import type { DiskGuard } from "./disk.ts";
import type { InFlight } from "./inflight.ts";
import type { Log } from "./log.ts";
import type { Quotas } from "./quota.ts";
import type { Store } from "./store.ts";
import type { WriteQueue } from "./writes.ts";

export interface Relay {
  config: RelayConfig;
  store: Store;
  writes: WriteQueue;
  auth: Authenticator;
  blobs: Blobs;
  live: Live;
  /** Signed requests in flight per UID, and slow readers (relay/inflight.ts). */
  inflight: InFlight;
  log: Log;
  fileIdKey: Uint8Array;
  /** b64 X25519 auth public key (PROTOCOL §7.1), or null. */
  authPub: string | null;
  /** Issue 8 item 2: rates and upload slots, the free-disk reserve, the proxies whose X-Forwarded-For counts. */
  quotas: Quotas;
  disk: DiskGuard;
  proxies: ProxySet;
  /** PROTOCOL §7.7 burn HMAC keys by UID, computed once per UID (relay/routes/burn.ts). */
  burnKeys: Map<string, Uint8Array>;
}

export interface RequestContext {
  relay: Relay;
  /** The URL path exactly as requested, without the query string (PROTOCOL §6). */
  path: string;
  /** Values of the route's :params, in order. */
  params: string[];
  server: Server<WsData>;
  /** Unix seconds with a fraction, taken when the request arrived. */
  now: number;
  /**
   * Counts the request for its verified signer until its answer is sent; throws 429 over the
   * limit (relay/inflight.ts). Set by InFlight.serve; called by the signed-request helpers.
   */
  admit?: (uid: string) => void;
}

/** Answers with a Response, or undefined after a WebSocket upgrade. */
export type Handler = (req: Request, ctx: RequestContext) => Response | undefined | Promise<Response | undefined>;
