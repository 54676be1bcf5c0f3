// The commands' side of the daemon: connect to $PHANTOM_HOME/daemon.sock when a daemon answers
// there, and call its methods (JSON-RPC 2.0, one line each way). Loaded without the Session,
// so a command through the daemon starts fast and never asks for the password.

import type { Socket } from "bun";
import { PhantomError } from "../../lib/errors.ts";
import type { Method, Params, Result } from "./api.ts";
import { alive, runningPid, socketPath, socketProblem } from "./files.ts";

export interface CallOptions {
  onProgress?: (done: number, total: number) => void;
  /** Aborting closes the connection: the daemon stops the call (an upload is cancelled). */
  signal?: AbortSignal;
}

/** What a command calls: the daemon (DaemonClient) or its own unlocked session (LocalApi). */
export interface Api {
  readonly viaDaemon: boolean;
  call<M extends Method>(method: M, params: Params<M>, o?: CallOptions): Promise<Result<M>>;
  close(): void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onProgress?: (done: number, total: number) => void;
}

type NotificationHandler = (params: Record<string, unknown>) => void;

/** Every connection this process opened: closed when the command ends, however it ends. */
const open = new Set<DaemonClient>();

export class DaemonClient implements Api {
  readonly viaDaemon = true;

  /** Close every connection still open (phantom.ts, after a command; an error leaves none behind). */
  static closeAll(): void {
    for (const c of open) c.close();
  }

  private sock: Socket<undefined> | null = null;
  private buf = "";
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, NotificationHandler>();
  private closedError: PhantomError | null = null;
  /** Warnings the daemon sends while a call runs (printed as a command's own would be). */
  onWarning: (message: string) => void = () => {};
  /** Called when the daemon closes the connection. */
  onClose: () => void = () => {};

  /**
   * The daemon of `home`, or null when none answers there (no socket, or a stale one). A socket
   * that is not ours (another owner, reachable by others) is an error: never talk to it.
   */
  static async connect(home: string): Promise<DaemonClient | null> {
    const path = socketPath(home);
    const problem = socketProblem(path);
    if (problem === "missing") return null;
    if (problem !== null) {
      throw new PhantomError("daemon-socket", `not using the daemon: ${problem} (remove it, or use --no-daemon)`);
    }
    const c = new DaemonClient();
    try {
      c.sock = await Bun.connect({
        unix: path,
        socket: {
          data: (_s, chunk) => c.onData(chunk),
          close: () => c.onEnd(),
          error: () => c.onEnd(),
        },
      });
    } catch {
      return null; // nothing listens: a daemon that was killed
    }
    open.add(c);
    return c;
  }

  on(method: string, handler: NotificationHandler): void {
    this.handlers.set(method, handler);
  }

  call<M extends Method>(method: M, params: Params<M>, o: CallOptions = {}): Promise<Result<M>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const p = new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: o.onProgress });
    });
    if (o.signal) {
      if (o.signal.aborted) this.close();
      else o.signal.addEventListener("abort", () => this.close(), { once: true });
    }
    this.write({ jsonrpc: "2.0", id, method, params });
    return p;
  }

  /** A notification to the daemon (no answer). */
  tell(method: string, params: unknown): void {
    this.write({ jsonrpc: "2.0", method, params });
  }

  private write(msg: unknown): void {
    const line = `${JSON.stringify(msg)}\n`;
    const n = this.sock?.write(line) ?? 0;
    // A request line is small: the kernel's socket buffer takes it whole, or the rest is flushed later.
    if (n < Buffer.byteLength(line)) this.sock?.flush();
  }

  private onData(chunk: Uint8Array): void {
    this.buf += Buffer.from(chunk).toString("utf8");
    for (;;) {
      const nl = this.buf.indexOf("\n");
      if (nl < 0) return;
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() !== "") this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.method === "string") {
      const params = (msg.params ?? {}) as Record<string, unknown>;
      if (msg.method === "warning" && typeof params.message === "string") return this.onWarning(params.message);
      if (msg.method === "progress") {
        const p = this.pending.get(params.call as number);
        p?.onProgress?.(Number(params.done), Number(params.total));
        return;
      }
      this.handlers.get(msg.method)?.(params);
      return;
    }
    const p = typeof msg.id === "number" ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id as number);
    if (msg.error !== undefined) p.reject(phantomErrorOf(msg.error as Record<string, unknown>));
    else p.resolve(msg.result);
  }

  private onEnd(): void {
    open.delete(this);
    if (this.closedError) return;
    this.closedError = new PhantomError("daemon-gone", "the daemon closed the connection (it stopped?)");
    for (const p of this.pending.values()) p.reject(this.closedError);
    this.pending.clear();
    this.onClose();
  }

  close(): void {
    this.sock?.end();
    this.onEnd();
  }
}

/** A PhantomError again from a JSON-RPC error (the CLI's side): same code, same line. */
export function phantomErrorOf(err: { code?: unknown; message?: unknown; data?: unknown }): PhantomError {
  const data = err.data as { code?: unknown } | undefined;
  const code = typeof data?.code === "string" ? data.code : "daemon-error";
  const message = typeof err.message === "string" ? err.message : "the daemon answered with an error";
  return new PhantomError(code, message);
}

/**
 * Stop the daemon of `home` if one runs (phantom panic does this first): asked over the socket,
 * then SIGTERM, then SIGKILL, each given a few seconds. Returns whether one was running.
 */
export async function stopDaemon(home: string): Promise<boolean> {
  const pid = runningPid(home);
  let d: DaemonClient | null = null;
  try {
    d = await DaemonClient.connect(home);
  } catch {
    d = null; // a socket not ours: the pid file decides
  }
  if (d === null && pid === null) return false;
  if (d !== null) {
    await Promise.race([d.call("stop", {}).catch(() => {}), Bun.sleep(3000)]);
    d.close();
  }
  if (pid === null) return true;
  const gone = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      if (!alive(pid)) return true;
      await Bun.sleep(50);
    }
    return !alive(pid);
  };
  if (await gone(5000)) return true;
  for (const sig of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(pid, sig);
    } catch {
      return true;
    }
    if (await gone(5000)) return true;
  }
  throw new PhantomError("daemon-running", `the daemon (pid ${pid}) does not stop`);
}

/**
 * The chat screen's side of notifications: while a chat with `peerUid` is open, a running daemon
 * of `home` raises none for them (one connection holds `chat.open`; closing it ends it). Nothing
 * when no daemon runs.
 */
export function chatOpenedIn(home: string): (peerUid: string) => () => void {
  return (peerUid) => {
    let c: DaemonClient | null = null;
    let closed = false;
    void DaemonClient.connect(home)
      .then(async (d) => {
        if (d === null) return;
        if (closed) return d.close();
        c = d;
        await d.call("chat.open", { contact: peerUid });
      })
      .catch(() => {}); // no daemon, or one not ours: nothing to tell
    return () => {
      closed = true;
      c?.close();
    };
  };
}
