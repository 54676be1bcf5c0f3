// `phantom daemon`: one unlocked Session serving the JSON-RPC API (api.ts) on
// $PHANTOM_HOME/daemon.sock, optionally on stdio (--stdio) and loopback HTTP (--http, http.ts),
// while it receives every message of every contact as it arrives. Each message is written to
// the event log (state/daemon-events.ts) before its delivery cursor moves past it
// (daemon_cursors), so named consumers (subscribe/ack) get every event at least once across
// restarts, and v3 messages are decrypted into local history while nothing else runs.

import * as fs from "node:fs";
import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";
import type { Socket, UnixSocketListener } from "bun";
import { PhantomError } from "../../lib/errors.ts";
import type { ChatMessage, Session } from "../core/session.ts";
import type { LiveStatus } from "../net/live.ts";
import type { RequestView } from "../state/requests.ts";
import { ackEvent, appendEvent, openConsumer, pendingEvents, pruneEvents } from "../state/daemon-events.ts";
import { stateOf } from "../state/state-db.ts";
import { loadSettings } from "../state/settings.ts";
import { oneLine } from "../text/sanitise.ts";
import { Event, type EventBody, type Method, METHODS, RPC, type Result } from "./api.ts";
import { claimDaemon, prepareSocketPath } from "./claim.ts";
import { socketPath } from "./files.ts";
import { contactOf, HANDLERS, messageOf, torText } from "./methods.ts";
import { errorResponse, LineReader, notification, parseRequest, response, RpcError, type RpcId } from "./rpc.ts";

/** A connection whose peer does not read: past this many bytes waiting, it is closed. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** Events sent per database read when a consumer catches up. */
const EVENT_BATCH = 200;
const PRUNE_EVERY_MS = 3_600_000;
const RECEIVE_RETRY_MS = 5_000;
/** On stop: how long calls in progress (an upload) may take to finish. */
const STOP_WAIT_MS = 15_000;
/** On stop, after the last answer: time for the acknowledgement it leads to. */
const ACK_GRACE_MS = 300;
/** How often the daemon looks whether its socket is still its own. */
const SOCKET_CHECK_MS = 2_000;

export interface DaemonOptions {
  home: string;
  session: Session;
  /** Lines for the daemon's log (stderr): never a message's text or a secret. */
  log: (line: string) => void;
  /** A desktop notification (notify.ts); called only when the setting is on and no chat with them is open. */
  notify?: (title: string, body: string | null) => void;
  /** The --http address, once http.ts listens (for status). */
  httpAddress?: () => string | null;
}

/** One peer of the API: a socket connection, stdio, an HTTP request or an SSE stream. */
export class Conn {
  private static next = 1;
  readonly id = Conn.next++;
  readonly closed = new AbortController();
  /** Consumer → the newest event id sent to it on this connection. */
  readonly subs = new Map<string, number>();
  readonly listenAcks = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  /** Run once the current reply is written (subscribe sends its backlog after its answer). */
  afterReply: (() => void)[] = [];
  listening = false;
  private readonly out: (line: string) => number;

  /** `out` writes a line and returns how many bytes still wait to be sent. */
  constructor(out: (line: string) => number) {
    this.out = out;
  }

  send(line: string): void {
    if (this.closed.signal.aborted) return;
    if (this.out(`${line}\n`) > MAX_PENDING_BYTES) this.close();
  }

  notify(method: string, params: unknown): void {
    this.send(notification(method, params));
  }

  close(): void {
    if (this.closed.signal.aborted) return;
    this.closed.abort();
    const gone = new PhantomError("connection-closed", "the connection closed");
    for (const a of this.listenAcks.values()) a.reject(gone);
    this.listenAcks.clear();
  }
}

interface CallContext {
  /** null: the daemon's own receiving. */
  conn: Conn | null;
  id: RpcId;
}

export class Daemon {
  readonly home: string;
  readonly since = Math.floor(Date.now() / 1000);
  private readonly s: Session;
  private readonly o: DaemonOptions;
  private readonly conns = new Set<Conn>();
  private readonly openChats = new Map<string, number>();
  private readonly als = new AsyncLocalStorage<CallContext>();
  private readonly stopping = new AbortController();
  private listener: UnixSocketListener<{ conn: Conn; reader: LineReader; pending: Uint8Array[] }> | null = null;
  private release: (() => void) | null = null;
  private pruneTimer: ReturnType<typeof setInterval> | null = null;
  private watchTimer: ReturnType<typeof setInterval> | null = null;
  private socketIno = -1;
  private receiving: Promise<void> = Promise.resolve();
  private roomsDown = new Set<string>();
  private relayState: "connected" | "connecting" | "unreachable" = "connecting";
  private stopped: Promise<void> | null = null;
  /** Stopping: calls in progress finish, acknowledgements are still taken, nothing else starts. */
  private draining = false;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  /** Resolves once the daemon has stopped. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(o: DaemonOptions) {
    this.o = o;
    this.home = o.home;
    this.s = o.session;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get socket(): string {
    return socketPath(this.home);
  }

  /** The session's warnings go to the call that caused them (a `warning` notification), else to the log. */
  onWarning = (message: string): void => {
    const ctx = this.als.getStore();
    if (ctx?.conn) ctx.conn.notify("warning", { call: ctx.id, message });
    else this.o.log(`warning: ${oneLine(message)}`);
  };

  /** A contact request read from the inbox: an event, and a line for every `listen`. */
  onRequest = (r: RequestView): void => {
    this.record({ type: "request", uid: r.uid, fingerprint: r.fingerprint }, `request:${r.uid}:${r.firstSeen}`);
    // As with processes of their own: a request another command read (contacts, accept) is not
    // news to a running listen; one read by a listen or by the daemon's own receiving is.
    const ctx = this.als.getStore();
    if (ctx !== undefined && ctx.conn !== null && !ctx.conn.listening) return;
    for (const c of this.conns) {
      if (c.listening) {
        c.notify("listen", {
          id: 0,
          line: { kind: "request", uid: r.uid, fingerprint: r.fingerprint, firstSeen: r.firstSeen },
        });
      }
    }
  };

  /** Take daemon.pid, listen on the socket, start receiving. */
  async start(): Promise<void> {
    this.release = claimDaemon(this.home);
    try {
      const path = this.socket;
      prepareSocketPath(path);
      const old = process.umask(0o177); // the socket is born 0600
      try {
        this.listener = Bun.listen({
          unix: path,
          socket: {
            open: (sock) => {
              const pending: Uint8Array[] = [];
              const conn = new Conn((line) => writeBuffered(sock, pending, line));
              sock.data = { conn, reader: new LineReader(), pending };
              this.conns.add(conn);
            },
            data: (sock, chunk) => this.onData(sock.data.conn, sock.data.reader, chunk, () => sock.end()),
            drain: (sock) => void writeBuffered(sock, sock.data.pending, null),
            close: (sock) => this.drop(sock.data.conn),
            error: (sock) => this.drop(sock.data.conn),
          },
        });
      } finally {
        process.umask(old);
      }
      fs.chmodSync(path, 0o600);
      this.socketIno = fs.lstatSync(path).ino;
    } catch (e) {
      this.release();
      this.release = null;
      if (e instanceof PhantomError) throw e;
      throw new PhantomError("daemon-socket", `cannot listen on ${this.socket}: ${(e as Error).message}`);
    }
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    // Its socket removed or replaced (the home deleted, another daemon after a wipe): nobody can
    // reach this one any more, and its folder may be gone: it stops.
    this.watchTimer = setInterval(() => {
      let ino = -1;
      try {
        ino = fs.lstatSync(this.socket).ino;
      } catch {
        // gone
      }
      if (ino === this.socketIno) return;
      this.o.log("the socket was removed or replaced: stopping");
      void this.stop();
    }, SOCKET_CHECK_MS);
    this.receiving = this.als.run({ conn: null, id: null }, () => this.receive());
  }

  /** A connection of another transport (stdio, HTTP, SSE). */
  attach(out: (line: string) => number): Conn {
    const conn = new Conn(out);
    this.conns.add(conn);
    return conn;
  }

  drop(conn: Conn): void {
    conn.close();
    this.conns.delete(conn);
  }

  /** Bytes from a stream transport: each line is one request (or a batch). */
  onData(conn: Conn, reader: LineReader, chunk: Uint8Array, end: () => void): void {
    let lines: string[];
    try {
      lines = reader.push(chunk);
    } catch (e) {
      conn.send(errorResponse(null, e));
      this.drop(conn);
      end();
      return;
    }
    for (const line of lines) if (line.trim() !== "") void this.handleLine(conn, line);
  }

  /** One request line (or batch): the answer is sent on `conn`. */
  async handleLine(conn: Conn, text: string): Promise<void> {
    const reply = await this.answer(conn, text);
    if (reply !== null) conn.send(reply);
    const after = conn.afterReply;
    conn.afterReply = [];
    for (const f of after) f();
  }

  /** The answer to one request line or batch (null: notifications only). */
  async answer(conn: Conn, text: string): Promise<string | null> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return errorResponse(null, new RpcError(RPC.parse, "parse error: not JSON", "bad-json"));
    }
    if (!Array.isArray(value)) return await this.one(conn, value);
    if (value.length === 0) return errorResponse(null, new RpcError(RPC.invalidRequest, "empty batch", "bad-request"));
    if (value.length > 100)
      return errorResponse(null, new RpcError(RPC.invalidRequest, "batch of more than 100", "bad-request"));
    const out = (await Promise.all(value.map((v) => this.one(conn, v)))).filter((r): r is string => r !== null);
    return out.length === 0 ? null : `[${out.join(",")}]`;
  }

  private async one(conn: Conn, value: unknown): Promise<string | null> {
    let req;
    try {
      req = parseRequest(value);
    } catch (e) {
      return errorResponse((e as { id?: RpcId }).id ?? null, e);
    }
    try {
      const result = await this.als.run({ conn, id: req.id }, () => this.call(conn, req.method, req.params));
      return req.notification ? null : response(req.id, result);
    } catch (e) {
      if (!(e instanceof PhantomError || e instanceof RpcError || e instanceof z.ZodError)) {
        this.o.log(
          `error in ${oneLine(req.method)}: ${oneLine(e instanceof Error ? (e.stack ?? e.message) : String(e))}`,
        );
      }
      return req.notification ? null : errorResponse(req.id, e);
    }
  }

  private async call(conn: Conn, method: string, rawParams: unknown): Promise<unknown> {
    if (!Object.hasOwn(METHODS, method)) {
      throw new RpcError(RPC.noMethod, `unknown method '${oneLine(method).slice(0, 100)}'`, "no-method");
    }
    const m = method as Method;
    const spec = METHODS[m];
    if (Array.isArray(rawParams)) throw new RpcError(RPC.invalidParams, "params must be an object", "bad-params");
    const params = spec.params.parse(rawParams) as never;
    if (this.draining && m !== "ack" && m !== "listen.ack") {
      throw new RpcError(RPC.busy, "the daemon is stopping: try again once it is back", "daemon-stopping");
    }
    this.inFlight++;
    try {
      const result = await this.run(conn, m, params);
      return spec.result.parse(result);
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
  }

  private async run(conn: Conn, m: Method, p: Record<string, unknown>): Promise<unknown> {
    const s = this.s;
    switch (m) {
      case "subscribe": {
        const name = p.consumer as string;
        const { pending } = openConsumer(stateOf(this.home), name, (p.from as "now" | "oldest" | undefined) ?? "now");
        conn.subs.set(name, conn.subs.get(name) ?? 0);
        conn.afterReply.push(() => this.flush(conn, name));
        return { consumer: name, pending };
      }
      case "ack":
        ackEvent(stateOf(this.home), p.consumer as string, p.id as number);
        return { ok: true };
      case "listen":
        return await this.listenFor(conn, p.fromNow === true);
      case "listen.ack": {
        const a = conn.listenAcks.get(p.id as number);
        conn.listenAcks.delete(p.id as number);
        a?.resolve();
        return { ok: true };
      }
      case "chat.open": {
        const uid = s.contact(p.contact as string).uid;
        this.openChats.set(uid, (this.openChats.get(uid) ?? 0) + 1);
        conn.closed.signal.addEventListener("abort", () => {
          const n = (this.openChats.get(uid) ?? 1) - 1;
          if (n <= 0) this.openChats.delete(uid);
          else this.openChats.set(uid, n);
        });
        return { ok: true };
      }
      case "route":
        return { relay: s.relayUrl, tor: torText(s.tor) };
      case "stop":
        conn.afterReply.push(() => void this.stop());
        return { ok: true };
      default: {
        const h = HANDLERS[m] as ((s: Session, p: unknown, env: object) => Promise<unknown>) | undefined;
        if (!h) throw new RpcError(RPC.noMethod, `unknown method '${m}'`, "no-method");
        s.refresh();
        const ctx = this.als.getStore();
        const call = ctx?.id ?? null;
        let last = 0;
        const onProgress = (done: number, total: number) => {
          const now = Date.now();
          if (done < total && now - last < 100) return;
          last = now;
          conn.notify("progress", { call: call ?? "", done, total });
        };
        try {
          return await h(s, p, { onProgress, signal: conn.closed.signal, daemon: () => this.facts() });
        } catch (e) {
          if (m === "send" || m === "sendFile") {
            const contact = safeUid(s, p.contact as string);
            this.record(
              { type: "delivery-error", contact, error: oneLine(e instanceof Error ? e.message : String(e)) },
              null,
            );
          }
          throw e;
        }
      }
    }
  }

  private facts(): Result<"status">["daemon"] & { relayStatus: Result<"status">["relayStatus"] } {
    return {
      pid: process.pid,
      since: this.since,
      socket: this.socket,
      http: this.o.httpAddress?.() ?? null,
      relayStatus: this.relayState,
    };
  }

  /** `phantom listen` through the daemon: its cursor, its lines, each message acknowledged once printed. */
  private async listenFor(conn: Conn, fromNow: boolean): Promise<{ ok: true }> {
    const s = this.s;
    s.refresh();
    let next = 1;
    const line = (l: Record<string, unknown>) =>
      new Promise<void>((resolve, reject) => {
        if (conn.closed.signal.aborted) return reject(new PhantomError("connection-closed", "the connection closed"));
        const id = next++;
        conn.listenAcks.set(id, { resolve, reject });
        conn.notify("listen", { id, line: l });
      });
    const show = (l: Record<string, unknown>) => conn.notify("listen", { id: 0, line: l });
    conn.listening = true;
    try {
      await s.processInbox();
      await s.listen(
        {
          message: async (peer: string, m: ChatMessage) => {
            if (m.mine) return;
            await line({ kind: "message", contact: contactOf(s, s.contact(peer)), message: messageOf(m) });
          },
          contact: async (c) => line({ kind: "contact", contact: contactOf(s, c) }),
          burned: async (peer) => line({ kind: "burned", contact: contactOf(s, s.contact(peer)) }),
        },
        {
          signal: anySignal(conn.closed.signal, this.stopping.signal),
          cursor: true,
          fromNow,
          onReady: (n) => show({ kind: "ready", conversations: n }),
          onLiveStatus: (peer, st) =>
            show({
              kind: "live-status",
              contact: contactOf(s, s.contact(peer)),
              state: st.state,
              error: st.state === "retrying" ? st.error : "",
              inMs: st.state === "retrying" ? st.inMs : 0,
            }),
        },
      );
    } catch (e) {
      if (conn.closed.signal.aborted) return { ok: true };
      throw e;
    } finally {
      conn.listening = false;
    }
    return { ok: true };
  }

  /** Send `consumer`'s pending events on `conn`, from the newest sent on. */
  private flush(conn: Conn, consumer: string): void {
    if (conn.closed.signal.aborted) return;
    const db = stateOf(this.home);
    for (;;) {
      const after = conn.subs.get(consumer);
      if (after === undefined) return;
      const batch = pendingEvents(db, consumer, after, EVENT_BATCH);
      for (const e of batch) {
        conn.notify("event", { ...e.body, id: e.id, at: e.at });
        conn.subs.set(consumer, e.id);
      }
      if (batch.length < EVENT_BATCH || conn.closed.signal.aborted) return;
    }
  }

  /** Write an event to the log (once per `key`), then send it to every subscribed connection. */
  private record(body: EventBody, key: string | null): void {
    const at = Math.floor(Date.now() / 1000);
    const check = { ...body, id: 1, at } as Event;
    // A value outside the schema is a bug here, never the peer's doing: said in the log, not sent.
    const parsed = Event.safeParse(check);
    if (!parsed.success) {
      this.o.log(`internal: an event of type ${body.type} does not match its schema; not recorded`);
      return;
    }
    const stored = appendEvent(stateOf(this.home), body as Record<string, unknown>, key, at);
    if (stored === null) return;
    for (const c of this.conns) for (const consumer of c.subs.keys()) this.flush(c, consumer);
  }

  /** Every message of every contact, as it arrives, from the daemon's own cursors. */
  private async receive(): Promise<void> {
    const s = this.s;
    while (!this.stopping.signal.aborted) {
      try {
        await s.listen(
          {
            message: (peer, m) => {
              if (m.mine) return;
              const c = s.contact(peer);
              this.record(
                { type: "message", contact: peer, nickname: c.nickname, message: messageOf(m) },
                `message:${m.id}`,
              );
              this.desktopNotice(peer, c.nickname, m);
            },
            contact: (c) => this.record({ type: "contact", contact: c.uid, nickname: c.nickname }, `contact:${c.uid}`),
            burned: (peer) => this.record({ type: "burned", contact: peer }, null),
          },
          {
            signal: this.stopping.signal,
            cursor: true,
            cursorTable: "daemon_cursors",
            fromNowIfNew: true,
            onReady: () => this.roomStatus(null),
            onLiveStatus: (_peer, st) => this.roomStatus(st),
          },
        );
      } catch (e) {
        if (this.stopping.signal.aborted) return;
        const msg = oneLine(e instanceof Error ? e.message : String(e));
        this.o.log(`receiving stopped: ${msg}; again in ${RECEIVE_RETRY_MS / 1000} s`);
        this.setRelayState("unreachable", msg);
        await Bun.sleep(RECEIVE_RETRY_MS);
      }
    }
  }

  private roomStatus(st: LiveStatus | null): void {
    if (st === null) {
      if (this.roomsDown.size === 0) this.setRelayState("connected", null);
      return;
    }
    if (st.state === "connected") {
      this.roomsDown.delete(st.roomId);
      if (this.roomsDown.size === 0) this.setRelayState("connected", null);
    } else {
      this.roomsDown.add(st.roomId);
      this.setRelayState("unreachable", st.error);
    }
  }

  private setRelayState(state: "connected" | "unreachable", error: string | null): void {
    if (this.relayState === state) return;
    this.relayState = state;
    this.o.log(state === "connected" ? "relay: connected" : `relay: unreachable (${oneLine(error ?? "")})`);
    this.record({ type: "relay-status", status: state, error: error === null ? null : oneLine(error) }, null);
  }

  private desktopNotice(peer: string, nickname: string | null, m: ChatMessage): void {
    const st = loadSettings(this.home); // `phantom settings notify …` takes effect at once
    if (!this.o.notify || !st.notify || this.openChats.has(peer)) return;
    const title = `Phantom: ${nickname ?? peer.slice(0, 8)}`;
    this.o.notify(title, st.notifyPreview ? (m.file ? `file: ${m.file.name}` : m.body) : null);
  }

  private prune(): void {
    try {
      pruneEvents(stateOf(this.home), Math.floor(Date.now() / 1000));
    } catch (e) {
      this.o.log(`could not prune the event log: ${oneLine((e as Error).message)}`);
    }
  }

  /** Stop: no new connections, every stream ends, the socket and daemon.pid go. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // What was accepted is finished and answered, and its acknowledgement still taken, before anything closes.
      this.draining = true;
      this.stopping.abort();
      const longCalls = [...this.conns].filter((c) => c.listening);
      for (const c of longCalls) c.close(); // a listen runs until stopped: it ends now
      if (this.inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (this.idle = r)), Bun.sleep(STOP_WAIT_MS)]);
      }
      await Bun.sleep(ACK_GRACE_MS);
      if (this.pruneTimer) clearInterval(this.pruneTimer);
      if (this.watchTimer) clearInterval(this.watchTimer);
      this.listener?.stop(true);
      for (const c of this.conns) c.close();
      this.conns.clear();
      await this.receiving.catch(() => {});
      try {
        if (fs.lstatSync(this.socket).ino === this.socketIno) fs.rmSync(this.socket, { force: true });
      } catch {
        // gone already
      }
      this.release?.();
      this.resolveDone();
    })();
    return this.stopped;
  }
}

function safeUid(s: Session, ref: string): string | null {
  try {
    return s.contact(ref).uid;
  } catch {
    return null;
  }
}

/** Aborts when either does. */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  return AbortSignal.any([a, b]);
}

/**
 * Write `line` (or, on drain, what waits) to a Bun socket, keeping what it did not take;
 * returns the bytes still waiting.
 */
function writeBuffered(sock: Socket<unknown>, pending: Uint8Array[], line: string | null): number {
  if (line !== null) pending.push(Buffer.from(line, "utf8"));
  while (pending.length > 0) {
    const head = pending[0]!;
    const n = sock.write(head);
    if (n >= head.length) {
      pending.shift();
      continue;
    }
    pending[0] = head.subarray(Math.max(0, n));
    break;
  }
  return pending.reduce((a, p) => a + p.length, 0);
}
