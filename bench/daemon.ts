#!/usr/bin/env bun
// `./build.sh bench daemon`: what `phantom daemon` (client/daemon/) saves and costs, on the compiled
// client and relay (dist/), on loopback. Not a test: it prints, it does not assert.
//   (1) `phantom send <uid> TEXT` wall time: cold (--no-daemon: scrypt unlock in the command) and
//       through a running daemon; beside it `phantom --version` (the process start, the floor).
//   (2) RPC `send` round trip over one persistent socket connection; `status` (no relay: the
//       daemon's floor); and the relay's own answer to a signed /send made here (its floor).
//   (3) Event latency: bob's daemon has a subscriber (consumer "bench"), alice's daemon sends over
//       RPC; from alice's send result to bob's `event` notification (each acked); beside it the
//       relay's own /send → WebSocket frame time.
//   (4) bob's daemon VmRSS idle with 1 contact, and restarted with BENCH_CONTACTS more contacts live.
// Environment: BENCH_CLI (20), BENCH_RPC (200), BENCH_EVENTS (50), BENCH_CONTACTS (100),
// BENCH_PARALLEL (4: identities made at once for (4)).
import { readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket, Subprocess } from "bun";
import { VERSION } from "../lib/version.ts";
import { userEnv } from "../tests/helpers/cli.ts";
import { tail, within } from "../tests/helpers/deadline.ts";
import { CLIENT_BIN, lines, type RunningRelay, startRelay, tempDir } from "../tests/helpers/relay.ts";
import { ciphertext, makePairs, postPrepared, prepareSend } from "./relay-load.ts";
import { percentile } from "./relay-proc.ts";
import { closeAll, openSockets } from "./relay-ws.ts";

const N_CLI = Number(process.env.BENCH_CLI ?? "20");
const N_RPC = Number(process.env.BENCH_RPC ?? "200");
const N_EVENTS = Number(process.env.BENCH_EVENTS ?? "50");
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? "100");
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? "4");
const WARMUP = 3;

// ---------------------------------------------------------------- processes, and their cleanup

const children = new Set<Subprocess>();
let relay: RunningRelay | null = null;
let root: string | null = null;

/** Every child SIGTERM (SIGKILL after 5 s), the relay stopped, the temporary folder removed. */
async function cleanup(): Promise<void> {
  await Promise.all(
    [...children].map(async (p) => {
      p.kill("SIGTERM");
      const ok = await Promise.race([p.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!ok) {
        p.kill("SIGKILL");
        await p.exited;
      }
      children.delete(p);
    }),
  );
  if (relay) {
    const r = relay;
    relay = null;
    const ok = await Promise.race([r.stop().then(() => true), Bun.sleep(5000).then(() => false)]);
    if (!ok) await r.kill9();
  }
  if (root) rmSync(root, { recursive: true, force: true });
  root = null;
}
process.on("exit", () => {
  for (const p of children) p.kill("SIGKILL");
  relay?.proc.kill("SIGKILL");
});
process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));

const progress = (what: string) => process.stderr.write(`  ${what}\n`);

interface User {
  name: string;
  home: string;
  env: Record<string, string>;
  uid: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** dist/phantom ARGS to its end (killed after `timeoutMs`); `ms` is its wall time from spawn to exit. */
async function phantom(env: Record<string, string>, args: string[], timeoutMs = 60_000): Promise<Run> {
  const t0 = performance.now();
  const proc = Bun.spawn([CLIENT_BIN, ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  children.add(proc);
  try {
    const [stdout, stderr, code] = await within(
      Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]),
      timeoutMs,
      () => `phantom ${args.join(" ")} did not exit within ${timeoutMs / 1000} s (killed)`,
      () => proc.kill("SIGKILL"),
    );
    return { code, stdout, stderr, ms: performance.now() - t0 };
  } finally {
    children.delete(proc);
  }
}

async function ok(u: User | { env: Record<string, string> }, args: string[]): Promise<Run> {
  const r = await phantom(u.env, args);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}:\n${tail(r.stderr)}`);
  return r;
}

async function newUser(name: string, relayUrl: string): Promise<User> {
  const home = join(root!, name);
  const env = userEnv(home, relayUrl);
  const r = await ok({ env }, ["init", "--json"]);
  const uid = (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { uid: string }).uid;
  return { name, home, env, uid };
}

// ---------------------------------------------------------------- the daemon and its socket

interface Daemon {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  log: string[];
  /** ms from spawn to its "ready on" line. */
  readyMs: number;
  stop(): Promise<{ code: number; ms: number }>;
}

async function startDaemon(u: User, timeoutMs = 30_000): Promise<Daemon> {
  const t0 = performance.now();
  const proc = Bun.spawn([CLIENT_BIN, "daemon"], { env: u.env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  children.add(proc);
  const log: string[] = [];
  const errs = lines(proc.stderr, { tail: true });
  const ready = (async () => {
    for (;;) {
      const e = await errs.next();
      if (e.done) throw new Error(`${u.name}'s daemon exited ${await proc.exited}:\n${tail(log.join("\n"))}`);
      log.push(e.value);
      if (/^phantom daemon: \S+ ready on /.test(e.value)) return;
    }
  })();
  await within(
    ready,
    timeoutMs,
    () => `${u.name}'s daemon was not ready within ${timeoutMs / 1000} s (killed):\n${tail(log.join("\n"))}`,
    () => proc.kill("SIGKILL"),
  );
  const readyMs = performance.now() - t0;
  void (async () => {
    for await (const l of { [Symbol.asyncIterator]: () => errs }) log.push(l);
  })();
  return {
    proc,
    log,
    readyMs,
    async stop() {
      const t = performance.now();
      proc.kill("SIGTERM");
      const code = await within(
        proc.exited,
        20_000,
        () => `${u.name}'s daemon did not exit within 20 s of SIGTERM:\n${tail(log.join("\n"))}`,
        () => proc.kill("SIGKILL"),
      );
      children.delete(proc);
      return { code, ms: performance.now() - t };
    },
  };
}

type Msg = Record<string, unknown>;
interface Note {
  method: string;
  params: Msg;
  /** performance.now() when its bytes arrived. */
  at: number;
}

/** A JSON-RPC 2.0 client of daemon.sock, from the wire format: one JSON object per line. */
class Rpc {
  private sock!: Socket<undefined>;
  private buf = "";
  private unsent: Buffer[] = [];
  private id = 0;
  private readonly waiting = new Map<number, (m: Msg, at: number) => void>();
  private readonly notes: Note[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  static async connect(home: string): Promise<Rpc> {
    const r = new Rpc();
    r.sock = await Bun.connect({
      unix: join(home, "daemon.sock"),
      socket: {
        data: (_s, chunk) => r.onData(Buffer.from(chunk).toString("utf8"), performance.now()),
        drain: () => r.flush(),
        close: () => r.onClose(),
        error: () => r.onClose(),
      },
    });
    return r;
  }

  private onClose(): void {
    this.closed = true;
    this.wake?.();
  }

  private onData(text: string, at: number): void {
    this.buf += text;
    for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === "") continue;
      const m = JSON.parse(line) as Msg;
      if (typeof m.method === "string") {
        this.notes.push({ method: m.method, params: (m.params ?? {}) as Msg, at });
        this.wake?.();
      } else {
        const w = this.waiting.get(m.id as number);
        this.waiting.delete(m.id as number);
        w?.(m, at);
      }
    }
  }

  private flush(): void {
    while (this.unsent.length > 0) {
      const head = this.unsent[0]!;
      const n = this.sock.write(head);
      if (n >= head.length) this.unsent.shift();
      else {
        this.unsent[0] = head.subarray(Math.max(0, n));
        return;
      }
    }
  }

  /** The whole answer ({result} or {error}) and when it arrived. */
  async request(method: string, params: unknown = {}, ms = 30_000): Promise<{ msg: Msg; at: number }> {
    if (this.closed) throw new Error(`${method}: the daemon closed the connection`);
    const id = ++this.id;
    const answer = new Promise<{ msg: Msg; at: number }>((resolve) =>
      this.waiting.set(id, (msg, at) => resolve({ msg, at })),
    );
    this.unsent.push(Buffer.from(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`));
    this.flush();
    return await within(answer, ms, () => `no answer to ${method} within ${ms / 1000} s`);
  }

  async call<T = Msg>(method: string, params: unknown = {}, ms = 30_000): Promise<T> {
    const { msg } = await this.request(method, params, ms);
    if (msg.error !== undefined) throw new Error(`${method}: ${JSON.stringify(msg.error)}`);
    return msg.result as T;
  }

  /** The first notification (taken from the queue) that `want` accepts; others stay queued. */
  async next(want: (n: Note) => boolean, what: string, ms = 30_000): Promise<Note> {
    const wait = async () => {
      for (;;) {
        const i = this.notes.findIndex(want);
        if (i >= 0) return this.notes.splice(i, 1)[0]!;
        if (this.closed) throw new Error(`the connection closed (waiting for ${what})`);
        await new Promise<void>((r) => (this.wake = r));
      }
    };
    return await within(wait(), ms, () => `no ${what} within ${ms / 1000} s`);
  }

  /** Drop the queued notifications of `method`. */
  discard(method: string): number {
    let n = 0;
    for (let i = this.notes.length - 1; i >= 0; i--) {
      if (this.notes[i]!.method === method) {
        this.notes.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  close(): void {
    this.sock.end();
  }
}

/** Poll `status` until the daemon says relayStatus "connected"; ms it took. */
async function untilConnected(rpc: Rpc, who: string, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  let last = "";
  for (;;) {
    const st = await rpc.call<{ relayStatus: string }>("status");
    last = st.relayStatus;
    if (last === "connected") return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`${who}'s daemon: relayStatus still "${last}" after ${timeoutMs / 1000} s`);
    }
    await Bun.sleep(100);
  }
}

// ---------------------------------------------------------------- numbers

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Median VmRSS of 10 samples over 2 s (a garbage collection in between does not decide it). */
async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    await Bun.sleep(200);
    samples.push(procStatus(pid, "VmRSS"));
  }
  return samples.sort((x, y) => x - y)[samples.length >> 1]!;
}

/** The established TCP connections a process holds to 127.0.0.1:`port` (its fds matched in /proc/PID/net/tcp). */
function tcpTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "01") continue; // 01: ESTABLISHED
      if (Number.parseInt(cols[2]!.split(":")[1]!, 16) === port && inodes.has(cols[9]!)) n++;
    }
  }
  return n;
}

const f = (x: number) => (Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** "median X ms  p90 Y ms  (min … max, n=N)". */
function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return (
    `median ${f(percentile(s, 50)).padStart(7)} ms   p90 ${f(percentile(s, 90)).padStart(7)} ms` +
    `   (min ${f(s[0]!)}, max ${f(s.at(-1)!)}, n=${s.length})`
  );
}
const row = (label: string, value: string) => console.log(`${label.padEnd(64)}${value}`);

/** Run `jobs` with at most `width` at once. */
async function limited<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

/** bob's event of the message whose body is `text`. */
const eventOf = (text: string) => (n: Note) =>
  n.method === "event" && n.params.type === "message" && (n.params.message as Msg | undefined)?.body === text;

/**
 * `n` sends of alice's daemon (RPC) to bob, one at a time: for each, ms from the send call and from
 * its result to bob's `event` (acked before the next send).
 */
async function eventLatency(alice: Rpc, bob: Rpc, bobUid: string, n: number, tag: string) {
  const fromCall: number[] = [];
  const fromResult: number[] = [];
  for (let i = -WARMUP; i < n; i++) {
    const text = `bench ${tag} event ${i} ${Math.random().toString(36).slice(2)}`;
    const t0 = performance.now();
    const { msg, at: tResult } = await alice.request("send", { contact: bobUid, text });
    if (msg.error !== undefined) throw new Error(`send: ${JSON.stringify(msg.error)}`);
    const ev = await bob.next(eventOf(text), `bob's event for message ${i} (${tag})`, 15_000);
    await bob.call("ack", { consumer: "bench", id: ev.params.id });
    if (i < 0) continue;
    fromCall.push(ev.at - t0);
    fromResult.push(ev.at - tResult);
  }
  return { fromCall, fromResult };
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const t00 = performance.now();
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(" ");
  console.log(
    `Phantom daemon benchmark — phantom ${VERSION}, bun ${Bun.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})`,
  );
  console.log(
    `command: ./build.sh bench daemon (BENCH_CLI=${N_CLI} BENCH_RPC=${N_RPC} BENCH_EVENTS=${N_EVENTS} ` +
      `BENCH_CONTACTS=${CONTACTS} BENCH_PARALLEL=${PARALLEL}); ${WARMUP} warm-up runs before each series, not counted`,
  );
  console.log(`load average at start: ${load()}`);
  console.log(
    "dist/phantom-relay on 127.0.0.1, --port 0, temp data, --registrations-per-hour 0 --rooms-per-hour 0 (no limits);\n" +
      "alice and bob made by `phantom init`, alice `add`s bob, bob `accept`s; password in PHANTOM_PASSWORD; no Tor;\n" +
      `for (4), ${CONTACTS} more identities by \`phantom init\`, each added by bob (RPC contacts.add: bob's side of the room).\n` +
      "Everything (relay, daemons, this client, the commands) shares this machine's cores: numbers are noisy.",
  );
  console.log(
    `homes and relay data in ${tmpdir()} (state.db is synchronous=FULL: its fsyncs cost what that disk costs; ` +
      "TMPDIR=/dev/shm takes them out)",
  );

  root = tempDir("phantom-bench-daemon-");
  relay = await startRelay({
    dataDir: join(root, "relay"),
    args: ["--log-level", "error", "--registrations-per-hour", "0", "--rooms-per-hour", "0"],
  });
  const url = relay.url;
  progress(`relay ${url}; making alice and bob`);
  const [alice, bob] = await Promise.all([newUser("alice", url), newUser("bob", url)]);
  await ok(alice, ["add", bob.uid, "--nick", "bob", "--json"]);
  await ok(bob, ["accept", alice.uid, "--json"]);

  // (4a) bob's daemon, fresh, 1 contact.
  progress("starting bob's daemon");
  let bobD = await startDaemon(bob);
  let bobRpc = await Rpc.connect(bob.home);
  const bobConnected1 = await untilConnected(bobRpc, "bob");
  const bobReady1 = bobD.readyMs;
  const rssIdle1 = await settledRss(bobD.proc.pid);
  const sockets1 = tcpTo(bobD.proc.pid, relay!.port);

  // (1) cold: alice has no daemon.
  progress(`(1) cold: ${N_CLI} × phantom --no-daemon send`);
  const cold: number[] = [];
  for (let i = -WARMUP; i < N_CLI; i++) {
    const r = await ok(alice, ["--no-daemon", "send", bob.uid, `cold ${i}`]);
    if (i >= 0) cold.push(r.ms);
  }
  progress("starting alice's daemon");
  const aliceD = await startDaemon(alice);
  const aliceRpc = await Rpc.connect(alice.home);
  await untilConnected(aliceRpc, "alice");
  const st = JSON.parse((await ok(alice, ["status", "--json"])).stdout.trim()) as { daemon?: boolean };
  if (st.daemon !== true) throw new Error(`phantom status does not go through alice's daemon: ${JSON.stringify(st)}`);
  progress(`(1) through the daemon: ${N_CLI} × phantom send, status --json, --version`);
  const warm: number[] = [];
  const status: number[] = [];
  const version: number[] = [];
  for (let i = -WARMUP; i < N_CLI; i++) {
    const r = await ok(alice, ["send", bob.uid, `through the daemon ${i}`]);
    const s = await ok(alice, ["status", "--json"]);
    const v = await ok(alice, ["--version"]);
    if (i < 0) continue;
    warm.push(r.ms);
    status.push(s.ms);
    version.push(v.ms);
  }
  const coldDaemonRunning: number[] = [];
  for (let i = -1; i < 5; i++) {
    const r = await ok(alice, ["--no-daemon", "send", bob.uid, `cold beside the daemon ${i}`]);
    if (i >= 0) coldDaemonRunning.push(r.ms);
  }

  // (2) RPC round trips on one connection.
  progress(`(2) ${N_RPC} × RPC send, ${N_RPC} × RPC status`);
  const rpcSend: number[] = [];
  const rpcStatus: number[] = [];
  for (let i = -WARMUP * 3; i < N_RPC; i++) {
    const t0 = performance.now();
    const { msg, at } = await aliceRpc.request("send", { contact: bob.uid, text: `rpc ${i}` });
    if (msg.error !== undefined) throw new Error(`send: ${JSON.stringify(msg.error)}`);
    if (i >= 0) rpcSend.push(at - t0);
  }
  for (let i = -WARMUP * 3; i < N_RPC; i++) {
    const t0 = performance.now();
    const { msg, at } = await aliceRpc.request("status");
    if (msg.error !== undefined) throw new Error(`status: ${JSON.stringify(msg.error)}`);
    if (i >= 0) rpcStatus.push(at - t0);
  }

  // The relay's own answer: a signed /send from here (100-byte ciphertext, keep-alive fetch),
  // and its WebSocket frame at the other member's socket.
  progress(`relay floor: ${N_RPC} signed /send from this process, with the other member's socket`);
  const pairs = await makePairs(url, 1, true);
  const pending = new Map<string, { t0: number; pair: number; member: number; done: (ms: number) => void }>();
  const sockets = await openSockets(url, pairs, pending);
  const relaySend: number[] = [];
  const relayFrameFromCall: number[] = [];
  const relayFrameFromAnswer: number[] = [];
  for (let i = -WARMUP * 3; i < N_RPC; i++) {
    const ct = ciphertext();
    const req = prepareSend(pairs[0]!.members[0], pairs[0]!.roomId, ct);
    let frameAt = 0;
    const frame = new Promise<void>((done) =>
      pending.set(ct, { t0: 0, pair: 0, member: 1, done: () => ((frameAt = performance.now()), done()) }),
    );
    const t0 = performance.now();
    await postPrepared(url, req);
    const t1 = performance.now();
    await within(frame, 5000, () => `the relay's frame of send ${i} did not come within 5 s`);
    if (i < 0) continue;
    relaySend.push(t1 - t0);
    relayFrameFromCall.push(frameAt - t0);
    relayFrameFromAnswer.push(frameAt - t1);
  }
  closeAll(sockets);

  // (3) event latency.
  progress(`(3) ${N_EVENTS} events: alice's daemon sends, bob's subscriber receives`);
  await bobRpc.call("subscribe", { consumer: "bench", from: "now" });
  await Bun.sleep(200);
  bobRpc.discard("event"); // events of before (relay-status) are not measured
  const ev1 = await eventLatency(aliceRpc, bobRpc, bob.uid, N_EVENTS, "1 contact");
  // Every message bob got so far: the CLI and RPC series with their warm-ups, the events.
  const received = 2 * (N_CLI + WARMUP) + 6 + N_RPC + 3 * WARMUP + N_EVENTS + WARMUP;
  const rssAfterTraffic = await settledRss(bobD.proc.pid);
  const hwmAfterTraffic = procStatus(bobD.proc.pid, "VmHWM");

  // (4b) CONTACTS more contacts of bob.
  // Each identity costs one scrypt (init); bob adds it through his daemon (RPC contacts.add: no
  // scrypt), one add at a time while the next inits run.
  progress(`(4) making ${CONTACTS} more identities (phantom init), ${PARALLEL} at a time; bob adds each (RPC)`);
  const tSetup = performance.now();
  const addMs: number[] = [];
  let adds: Promise<unknown> = Promise.resolve();
  await limited(
    Array.from({ length: CONTACTS }, (_, i) => async () => {
      const u = await newUser(`extra-${i}`, url);
      const added = adds.then(async () => {
        const t = performance.now();
        await bobRpc.call("contacts.add", { uid: u.uid, nick: `extra-${i}` });
        addMs.push(performance.now() - t);
      });
      adds = added.catch(() => {});
      await added;
      if ((i + 1) % 20 === 0) progress(`    ${i + 1} of ${CONTACTS}`);
    }),
    PARALLEL,
  );
  const setupMs = performance.now() - tSetup;
  const contactsLive = (await bobRpc.call<{ contacts: number }>("status")).contacts;
  await Bun.sleep(3000);
  const rssBeforeRestart = await settledRss(bobD.proc.pid);
  const socketsBeforeRestart = tcpTo(bobD.proc.pid, relay!.port);

  progress("restarting bob's daemon (SIGTERM, wait, start)");
  bobRpc.close();
  const stopped = await bobD.stop();
  bobD = await startDaemon(bob, 60_000);
  bobRpc = await Rpc.connect(bob.home);
  const bobConnected2 = await untilConnected(bobRpc, "bob", 90_000);
  const tcpAtConnected = tcpTo(bobD.proc.pid, relay!.port);
  const contactsAfter = (await bobRpc.call<{ contacts: number }>("status")).contacts;
  await Bun.sleep(3000);
  const rssIdle2 = await settledRss(bobD.proc.pid);
  const sockets2 = tcpTo(bobD.proc.pid, relay!.port);
  const nEv2 = Math.min(20, N_EVENTS);
  progress(`(3') ${nEv2} events with ${contactsAfter} contacts live`);
  await bobRpc.call("subscribe", { consumer: "bench", from: "now" });
  await Bun.sleep(200);
  bobRpc.discard("event");
  const ev2 = await eventLatency(aliceRpc, bobRpc, bob.uid, nEv2, `${contactsAfter} contacts`);

  // ---------------------------------------------------------------- report
  console.log("");
  console.log(`(1) phantom send <uid> TEXT, wall time from spawn to exit (n=${N_CLI} each)`);
  row("    cold: --no-daemon (unlock with scrypt in the command)", stats(cold));
  row("    cold: --no-daemon while alice's daemon runs", stats(coldDaemonRunning));
  row("    through alice's running daemon", `${stats(warm)}   target ≤ 30 ms`);
  row("    phantom status --json through the daemon (1 RPC, no relay)", stats(status));
  row("    floor: phantom --version (process start only)", stats(version));
  console.log(`(2) JSON-RPC on one socket connection to alice's daemon, sequential (n=${N_RPC} each)`);
  row("    RPC send {contact, text} → {ts}", `${stats(rpcSend)}`);
  row("    RPC status (no relay: the daemon's floor)", stats(rpcStatus));
  row("    relay alone: signed POST /send from here", stats(relaySend));
  const med = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  row(
    "    → daemon's part of a send (medians: RPC send − relay)",
    `${f(med(rpcSend) - med(relaySend))} ms   target ≤ 5 ms plus the relay's answer`,
  );
  console.log(
    `(3) event latency: alice's daemon RPC send → bob's daemon \`event\` on its socket (consumer "bench", acked; n=${N_EVENTS})`,
  );
  row("    from alice's send result arriving", `${stats(ev1.fromResult)}   target ≤ 10 ms`);
  row("    from alice's send call", stats(ev1.fromCall));
  row("    relay alone: /send answer → frame at the member's socket", stats(relayFrameFromAnswer));
  row("    relay alone: /send call → frame at the member's socket", stats(relayFrameFromCall));
  row(`    same with ${contactsAfter} contacts live, from the send result (n=${nEv2})`, stats(ev2.fromResult));
  row("    same, from the send call", stats(ev2.fromCall));
  console.log(
    "(4) bob's daemon: VmRSS (median of 10 samples over 2 s), established TCP connections to the relay (its WebSockets and HTTP keep-alive)",
  );
  row(
    "    1 contact, idle after start",
    `${mib(rssIdle1)}, ${sockets1} TCP to the relay (ready in ${f(bobReady1)} ms, connected ${f(bobConnected1)} ms later)`,
  );
  row(`    1 contact, after ${received} messages received`, `${mib(rssAfterTraffic)} (VmHWM ${mib(hwmAfterTraffic)})`);
  row(
    `    ${contactsLive} contacts, added while running`,
    `${mib(rssBeforeRestart)}, ${socketsBeforeRestart} TCP to the relay`,
  );
  row(
    `    ${contactsAfter} contacts, restarted, idle`,
    `${mib(rssIdle2)}, ${sockets2} TCP to the relay (ready in ${f(bobD.readyMs)} ms, "connected" ${f(bobConnected2)} ms later, with ${tcpAtConnected} TCP then)`,
  );
  row(
    `    setup: ${CONTACTS} × init, ${PARALLEL} at a time, each added by bob`,
    `${(setupMs / 1000).toFixed(1)} s; RPC contacts.add median ${f(
      percentile(
        [...addMs].sort((a, b) => a - b),
        50,
      ),
    )} ms; ` + `SIGTERM → exit ${f(stopped.ms)} ms (code ${stopped.code})`,
  );
  const noise = (d: Daemon) =>
    d.log.filter((l) => !/ ready on |relay: connected$|^phantom daemon: stopped$/.test(l)).slice(-10);
  for (const [who, d] of [
    ["alice", aliceD],
    ["bob", bobD],
  ] as const) {
    const extra = noise(d);
    if (extra.length > 0) console.log(`${who}'s daemon log (other lines, last 10):\n  ${extra.join("\n  ")}`);
  }
  console.log(`load average at end: ${load()}; total ${((performance.now() - t00) / 1000).toFixed(0)} s`);
  aliceRpc.close();
  bobRpc.close();
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error(`bench/daemon: error: ${e instanceof Error ? e.message : String(e)}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
