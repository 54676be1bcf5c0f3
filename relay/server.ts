// Starts the relay: data folder, store, keys, HTTP + WebSocket server,
// retention, and a clean shutdown on SIGINT/SIGTERM.
import type { Server } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { x25519Public } from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { PhantomError, WireError } from "../lib/errors.ts";
import { Authenticator } from "./auth.ts";
import { DirBlobs } from "./blobs.ts";
import { ProxySet } from "./client-address.ts";
import { listenUrl } from "./config.ts";
import type { RelayConfig } from "./defaults.ts";
import { ConnGuard, FD_BUSY_RETRY_AFTER_S } from "./conn-guard.ts";
import type { Relay } from "./context.ts";
import { DB_FILE, fileIdKey, prepareDataDir } from "./data.ts";
import { DiskGuard, isDiskFull } from "./disk.ts";
import {
  badRequest,
  busy,
  errorResponse,
  insufficientStorage,
  internalError,
  methodNotAllowed,
  notFound,
  RelayError,
} from "./errors.ts";
import { InFlight } from "./inflight.ts";
import { shareWithInstances } from "./instances.ts";
import { Live, type WsData } from "./live.ts";
import { Log } from "./log.ts";
import { relayOrigins, v3OffReason } from "./origins.ts";
import { Quotas } from "./quota.ts";
import { Retention } from "./retention.ts";
import { rawPath, Router } from "./router.ts";
import { routes } from "./routes/index.ts";
import { PgStore } from "./pg-store.ts";
import { ORPHAN_MIN_AGE_S, S3Blobs } from "./s3-blobs.ts";
import { isSqliteBusy, SqliteStore } from "./sqlite-store.ts";
import { type Store, StoreBusyError } from "./store.ts";
import { BUSY_RETRY_AFTER_S, WriteQueue } from "./writes.ts";

const KNOWN_METHODS = new Set(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]);
const IDLE_TIMEOUT_S = 60;

function toResponse(e: unknown, log: Log): Response {
  if (e instanceof RelayError) return errorResponse(e);
  if (e instanceof WireError) return errorResponse(badRequest(e.message));
  if (isDiskFull(e)) return errorResponse(insufficientStorage()); // PROTOCOL §7.10
  // PROTOCOL §7.10: a lock held by another process (a read that met it; writes retry first).
  if (e instanceof StoreBusyError || isSqliteBusy(e)) return errorResponse(busy(BUSY_RETRY_AFTER_S));
  // Not the client's fault: the details stay out of the answer and out of the log line.
  log.error(`internal: ${e instanceof Error ? e.name : typeof e}`);
  if (log.enabled("debug") && e instanceof Error && e.stack) log.error(e.stack);
  return internalError();
}

/**
 * An error Bun reports after a handler returned, while sending its response. The only file
 * responses are blob downloads: a blob removed between the download's checks and Bun opening
 * it (a burn or purge at that moment) is the PROTOCOL §7.8 404 like every download failure.
 */
export function sendError(e: unknown, log: Log): Response {
  if ((e as NodeJS.ErrnoException | null)?.code === "ENOENT") return errorResponse(notFound());
  return toResponse(e, log);
}

/** A TLS file named by the operator, read once at start. */
function readPem(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new PhantomError("tls", `cannot read TLS file '${path}'`);
  }
}

/** The configured store (issue 13): SQLite in the data folder by default, or PostgreSQL. */
async function openStore(config: RelayConfig): Promise<Store> {
  if (config.store.kind === "postgres") {
    // The database's clock stamps rows: instances with skewed clocks never reorder ts (§7.6.1).
    return await PgStore.open(config.store.url, { prepare: config.pgPrepare, clock: "database" });
  }
  return new SqliteStore(config.store.path ?? join(config.dataDir, DB_FILE));
}

export interface StartedRelay {
  url: string;
  /** Write the first line of stdout, ahead of anything logged while starting. */
  announce(line: string): void;
  stop(): Promise<void>;
}

export async function startRelay(config: RelayConfig, o: { reusePort?: boolean } = {}): Promise<StartedRelay> {
  prepareDataDir(config.dataDir);
  const log = new Log(config.logLevel);
  const guard = new ConnGuard(log);
  const store = await openStore(config);
  const writes = await WriteQueue.open(store);
  const b = config.blobs;
  const blobs =
    b.kind === "s3"
      ? new S3Blobs({ ...b, warn: (m) => log.warn(m) })
      : new DirBlobs(b.dir ?? join(config.dataDir, "blobs"));
  // An unreachable bucket is told, not fatal: requests that need it get 503 until it is back.
  // A store shared by several relay processes (claimNonce): another may be mid-upload right now.
  const orphanAgeS = store.claimNonce ? ORPHAN_MIN_AGE_S : 0;
  await blobs
    .removeOrphans((id) => store.hasBlob(id), orphanAgeS)
    .catch(() => log.warn("the start-up blob sweep failed"));
  const live = new Live({ perUid: config.wsMaxPerUid, perRoom: config.wsMaxPerRoom });
  const shared = await shareWithInstances(config, live, log); // issue 13 --live: frames and limits
  const relay: Relay = {
    config,
    store,
    writes,
    auth: await Authenticator.open(store, writes, Date.now() / 1000),
    blobs,
    live,
    inflight: new InFlight(config.maxInflightPerUid, config.stallTimeoutS * 1000, IDLE_TIMEOUT_S),
    log,
    fileIdKey: fileIdKey(config.dataDir, config.fileIdKey),
    authPub: config.authPriv ? b64encode(x25519Public(config.authPriv)) : null,
    quotas: new Quotas(config, shared.limiters),
    disk: new DiskGuard(config.dataDir, config.diskReserveBytes),
    proxies: new ProxySet(config.trustedProxies),
    burnKeys: new Map(),
  };
  // §7.8 file URLs are sealed with the file-id key: instances with folders of their own need one key.
  if (config.store.kind === "postgres" && config.fileIdKey === null) {
    log.info(
      "file-id key from the data folder: relays on other folders need the same PHANTOM_FILE_ID_KEY_B64 (docs/deploy.md)",
    );
  }
  const router = new Router(routes);
  const tls =
    config.tlsCert && config.tlsKey ? { cert: readPem(config.tlsCert), key: readPem(config.tlsKey) } : undefined;

  async function handle(req: Request, server: Server<WsData>): Promise<Response | undefined> {
    const started = performance.now();
    const method = KNOWN_METHODS.has(req.method) ? req.method : "OTHER";
    let template = "(unmatched)";
    let res: Response | undefined;
    try {
      const path = rawPath(req.url);
      const match = router.match(path);
      if (!match) throw notFound();
      template = match.route.template;
      // PROTOCOL §7.10: descriptors nearly exhausted; /health still answers.
      if (guard.busy && template !== "/health") {
        guard.noteRefused();
        throw busy(FD_BUSY_RETRY_AFTER_S);
      }
      const handler = match.route.methods[req.method];
      if (!handler) throw methodNotAllowed(Object.keys(match.route.methods).join(", "));
      const ctx = { relay, path, params: match.params, server, now: Date.now() / 1000 };
      res = await relay.inflight.serve(req, ctx, handler); // answers count until sent (relay/inflight.ts)
    } catch (e) {
      res = toResponse(e, log);
    }
    // Under descriptor pressure every answer frees its connection (our answers' headers are mutable).
    if (res && guard.busy) res.headers.set("connection", "close");
    log.request(method, template, res?.status ?? 101, started);
    return res;
  }

  const server = Bun.serve<WsData>({
    hostname: config.host,
    port: config.port,
    // A second relay on the same port must fail, not share it; --workers share it on purpose.
    reusePort: o.reusePort === true,
    tls,
    // Size limits are ours (relay/http.ts, relay/routes/files.ts): decided from Content-Length
    // before reading and enforced while reading, so an oversized request gets the §7 error JSON
    // rather than Bun's plain-text 413.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: IDLE_TIMEOUT_S,
    development: false,
    websocket: live.handler,
    // PROTOCOL §6: routed, sign-checked and logged on one path, the normalised one of req.url
    // (relay/router.ts rawPath). Bun's `routes` would show the target as sent, but cost ~10 %
    // of signed /send throughput (measured with bench/relay-ab.ts), so they are not used.
    fetch: handle,
    error(e) {
      return sendError(e, log);
    },
  });
  // PROTOCOL-v3 §V11: the origins need the port really bound (--port 0). Set in the same turn as
  // Bun.serve, so no request is handled before.
  relay.auth.origins = relayOrigins(config.publicUrls, config.host, server.port ?? config.port, tls !== undefined);
  const off = v3OffReason(relay.auth.origins);
  if (off) log.info(off);
  guard.start(server as Server<unknown>);
  const retention = new Retention(relay);
  void retention.run();
  retention.start();

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop accepting; let HTTP requests in flight finish (at most 5 s), then close
      // live sockets (1001 going away) and what is left.
      void server.stop(false);
      const deadline = Date.now() + 5000;
      while (server.pendingRequests > 0 && Date.now() < deadline) await Bun.sleep(10);
      await server.stop(true);
      await shared.close();
      guard.stop();
      await retention.stop();
      await writes.close();
      await store.close();
      await log.close();
    })());
  const url = listenUrl(config.host, server.port ?? config.port, tls !== undefined);
  return { url, announce: (line) => log.announce(line), stop };
}
