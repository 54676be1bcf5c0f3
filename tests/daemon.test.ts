// `phantom daemon` end to end: the compiled client and relay, real sockets and processes.
// Bob's daemon receives while Alice sends through the CLI; the README's bot answers every
// message exactly once across a daemon restart; --http is reachable only with the token and a
// loopback Host; a socket of another user, or readable by others, is refused; the CLI and the
// daemon sending at once never fork a v3 ratchet; kill -9 loses nothing and the CLI falls back.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOneLineError, ok, phantom, type User, userEnv } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { Rpc, type RunningDaemon, startDaemon } from "./helpers/daemon.ts";
import { ROOT, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(120_000);

let relay: RunningRelay;
let root: string;
let n = 0;

beforeAll(async () => {
  relay = await startRelay();
  root = tempDir("phantom-daemon-");
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function user(name: string): Promise<User> {
  const home = join(root, `${name}${++n}`);
  const u = { home, env: userEnv(home, relay.url) } as User;
  u.uid = (await ok(u, ["init", "--json"])).json()[0]!.uid as string;
  return u;
}

/** Alice and Bob, contacts of each other (Alice added Bob, Bob accepted). */
async function pair(): Promise<{ alice: User; bob: User }> {
  const [alice, bob] = await Promise.all([user("alice"), user("bob")]);
  await ok(alice, ["add", bob.uid, "--nick", "bob"]);
  await ok(bob, ["accept", alice.uid]);
  await ok(bob, ["nick", alice.uid, "alice"]);
  return { alice, bob };
}

/** The env of a command that must go through the daemon: without it, it has no password. */
function noPassword(u: User): Record<string, string> {
  const { PHANTOM_PASSWORD: _gone, ...env } = u.env;
  return env;
}

/** The next `message` event of a subscription; others before it (relay-status) are acknowledged and skipped. */
async function nextMessage(r: Rpc, consumer: string): Promise<Record<string, unknown>> {
  for (;;) {
    const e = await r.next("event");
    if (e.type === "message") return e;
    await r.call("ack", { consumer, id: e.id });
  }
}

/** Wait until `check` holds, polling; fails with `what` after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const wait = async () => {
    while (!(await check())) await Bun.sleep(50);
  };
  await within(wait(), ms, () => `timed out waiting for ${what}`);
}

describe("serving", () => {
  let alice: User;
  let bob: User;
  let d: RunningDaemon;

  beforeAll(async () => {
    ({ alice, bob } = await pair());
    d = await startDaemon(bob.env);
  });
  afterAll(async () => {
    await d?.stop();
  });

  test("the socket is 0600 in the 0700 home; status says a daemon serves; a second daemon is refused", async () => {
    expect(statSync(join(bob.home, "daemon.sock")).mode & 0o777).toBe(0o600);
    expect(statSync(bob.home).mode & 0o777).toBe(0o700);
    const st = (await ok({ env: noPassword(bob) }, ["status", "--json"])).json()[0]!;
    expect(st).toMatchObject({ daemon: true, uid: bob.uid, relay: relay.url, pid: d.proc.pid });
    expect((await ok({ env: noPassword(bob) }, ["status"])).stdout).toContain("daemon:      running");
    const second = await phantom(bob.env, ["daemon"]);
    expect(expectOneLineError(second)).toBe(`a daemon already runs for ${bob.home} (pid ${d.proc.pid})`);
    // Without one: said so, and nothing is unlocked.
    const none = await phantom(noPassword(alice), ["status"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("daemon:      not running");
  });

  test("Bob's daemon receives while Alice sends through the CLI; Bob's commands need no password", async () => {
    const sub = await Rpc.connect(bob.home);
    await sub.call("subscribe", { consumer: "t1" });
    const sent = (await ok(alice, ["send", "bob", "first through the CLI", "--json"])).json()[0]!;
    const e = await nextMessage(sub, "t1");
    expect(e).toMatchObject({
      type: "message",
      contact: alice.uid,
      nickname: "alice",
      message: { ts: sent.ts, from: alice.uid, mine: false, body: "first through the CLI", protocol: 3 },
    });
    await sub.call("ack", { consumer: "t1", id: e.id });
    sub.close();
    const read = await ok({ env: noPassword(bob) }, ["read", "alice", "--json"]);
    expect(read.json().at(-1)).toMatchObject({ body: "first through the CLI", protocol: 3 });
    await ok({ env: noPassword(bob) }, ["send", "alice", "answer through the daemon"]);
    const back = (await ok(alice, ["read", "bob", "--json"])).json();
    expect(back.map((m) => m.body)).toEqual(["first through the CLI", "answer through the daemon"]);
    // The same output as a command that unlocks itself.
    const here = await ok(bob, ["read", "alice", "--no-daemon"]);
    expect((await ok({ env: noPassword(bob) }, ["read", "alice"])).stdout).toBe(here.stdout);
    const contacts = await ok(bob, ["contacts", "--no-daemon"]);
    expect((await ok({ env: noPassword(bob) }, ["contacts"])).stdout).toBe(contacts.stdout);
  });

  test("JSON-RPC: errors carry Phantom's line and code; unknown methods and bad params; nothing returns keys", async () => {
    const r = await Rpc.connect(bob.home);
    expect((await r.request("send", { contact: "nobody", text: "x" })).error).toMatchObject({
      code: -32000,
      data: { code: expect.any(String) },
      message: expect.stringContaining("nobody"),
    });
    expect((await r.request("frobnicate")).error).toMatchObject({ code: -32601 });
    expect((await r.request("read", { contact: "alice", limit: 0 })).error).toMatchObject({ code: -32602 });
    const raw = await Bun.connect({ unix: join(bob.home, "daemon.sock"), socket: { data() {} } });
    raw.end();
    const all = JSON.stringify([
      await r.call("status"),
      await r.call("identity"),
      await r.call("contacts.list"),
      await r.call("read", { contact: "alice" }),
      await r.call("settings.get"),
    ]);
    const vault = JSON.parse(readFileSync(join(bob.home, "identity.json"), "utf8")) as Record<string, unknown>;
    for (const v of Object.values(vault)) if (typeof v === "string" && v.length > 20) expect(all).not.toContain(v);
    expect(all).not.toMatch(/"[A-Za-z_-]*(priv|seed|secret|password)[A-Za-z_-]*":/i);
    r.close();
  });

  test("--schema prints the JSON Schema of every method", async () => {
    const out = (await ok({ env: noPassword(bob) }, ["daemon", "--schema"])).stdout;
    const schema = JSON.parse(out) as { methods: Record<string, { params: unknown; result: unknown }> };
    for (const m of ["status", "send", "sendFile", "read", "subscribe", "ack", "contacts.add", "history.search"]) {
      expect(schema.methods[m]?.params).toBeDefined();
      expect(schema.methods[m]?.result).toBeDefined();
    }
  });
});

describe("the README's bot", () => {
  test("answers every message exactly once across a daemon restart", async () => {
    const { alice, bob } = await pair();
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const code = /<!-- bot -->\n```ts\n([\s\S]*?)```\n<!-- \/bot -->/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const botFile = join(root, `echo-bot-${++n}.ts`);
    writeFileSync(botFile, code!);
    const startBot = () =>
      Bun.spawn([join(ROOT, "node_modules/.bin/bun"), botFile], {
        env: { PATH: process.env.PATH ?? "", PHANTOM_HOME: bob.home },
        stdout: "ignore",
        stderr: "pipe",
      });
    // Alice's commands through a daemon of her own: the polling below costs no scrypt each time.
    const da = await startDaemon(alice.env);
    let d = await startDaemon(bob.env);
    let bot = startBot();
    const echoes = async () =>
      (await ok(alice, ["read", "bob", "--json"])).json().filter((m) => String(m.body).startsWith("echo: "));
    for (let i = 1; i <= 6; i++) await ok(alice, ["send", "bob", `m${i}`]);
    await until(async () => (await echoes()).length >= 3, "the first echoes", 60_000);
    // Restart while messages keep coming: the bot ends with the daemon and starts again with it.
    await d.stop();
    expect(await bot.exited).toBe(0);
    for (let i = 7; i <= 10; i++) await ok(alice, ["send", "bob", `m${i}`]);
    d = await startDaemon(bob.env);
    bot = startBot();
    await until(async () => (await echoes()).length >= 10, "ten echoes");
    await Bun.sleep(1500); // a duplicate would come now
    const bodies = (await echoes()).map((m) => m.body).sort();
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `echo: m${i + 1}`).sort());
    await d.stop();
    await bot.exited;
    await da.stop();
  });
});

describe("--http", () => {
  test("only with the token and a loopback Host; 401 reveals nothing; SSE events; never beyond loopback", async () => {
    const { alice, bob } = await pair();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const d = await startDaemon(bob.env, ["--http", `127.0.0.1:${port}`]);
    const da = await startDaemon(alice.env);
    try {
      const token = readFileSync(join(bob.home, "daemon.token"), "utf8").trim();
      expect(statSync(join(bob.home, "daemon.token")).mode & 0o777).toBe(0o600);
      const url = `http://127.0.0.1:${port}`;
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "identity", params: {} });
      for (const auth of [undefined, "Bearer wrong", `Bearer ${token.slice(0, -1)}x`, `Basic ${token}`]) {
        const r = await fetch(`${url}/rpc`, { method: "POST", body, headers: auth ? { authorization: auth } : {} });
        expect(r.status).toBe(401);
        expect(await r.text()).toBe('{"error":"unauthorized"}');
      }
      const events = await fetch(`${url}/events?consumer=x`);
      expect(events.status).toBe(401);
      const rebound = await fetch(`${url}/rpc`, {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${token}`, host: `evil.example:${port}` },
      });
      expect(rebound.status).toBe(403);
      const good = await fetch(`${url}/rpc`, { method: "POST", body, headers: { authorization: `Bearer ${token}` } });
      expect(good.status).toBe(200);
      expect(((await good.json()) as { result: { uid: string } }).result.uid).toBe(bob.uid);
      // Server-sent events of a consumer.
      const ac = new AbortController();
      const sse = await fetch(`${url}/events?consumer=sse`, {
        headers: { authorization: `Bearer ${token}` },
        signal: ac.signal,
      });
      expect(sse.headers.get("content-type")).toBe("text/event-stream");
      const reader = sse.body!.getReader();
      let text = "";
      await ok(alice, ["send", "bob", "over sse"]);
      await until(async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return text.includes("over sse");
      }, "the SSE event");
      expect(text).toMatch(/id: \d+\nevent: message\ndata: \{.*"body":"over sse"/);
      ac.abort();
      // A new token: the old one is refused at once.
      await ok({ env: noPassword(bob) }, ["daemon", "--new-token"]);
      const old = await fetch(`${url}/rpc`, { method: "POST", body, headers: { authorization: `Bearer ${token}` } });
      expect(old.status).toBe(401);
    } finally {
      await d.stop();
      await da.stop();
    }
    for (const addr of ["0.0.0.0:8788", "192.168.1.1:8788", "[::]:8788", "example.com:8788"]) {
      expect(expectOneLineError(await phantom(bob.env, ["daemon", "--http", addr]))).toContain("loopback only");
    }
  });
});

describe("a socket that is not ours", () => {
  test("readable by others, or another user's: the CLI refuses it, the daemon will not start", async () => {
    const bob = await user("bob");
    const path = join(bob.home, "daemon.sock");
    const fake = Bun.listen({ unix: path, socket: { data() {} } });
    try {
      chmodSync(path, 0o666);
      const sent = await phantom(bob.env, ["send", "alice", "hi"]);
      expect(expectOneLineError(sent)).toBe(
        `not using the daemon: ${path} can be reached by other users (mode 666) (remove it, or use --no-daemon)`,
      );
      const start = await phantom(bob.env, ["daemon"]);
      expect(expectOneLineError(start)).toContain(`refusing to start: ${path} can be reached by other users`);
      if (process.getuid?.() === 0) {
        chmodSync(path, 0o600);
        chownSync(path, 65534, 65534);
        expect(expectOneLineError(await phantom(bob.env, ["read", "alice"]))).toContain(
          `${path} belongs to uid 65534, not to you`,
        );
      }
      // --no-daemon does not look at it.
      expect((await phantom(bob.env, ["whoami", "--no-daemon"])).code).toBe(0);
    } finally {
      fake.stop(true);
      rmSync(path, { force: true });
    }
  });
});

describe("crashes and concurrency", () => {
  test("two CLI processes and the daemon sending at once never fork a v3 ratchet", async () => {
    const { alice, bob } = await pair();
    const d = await startDaemon(alice.env);
    try {
      const r = await Rpc.connect(alice.home);
      const viaDaemon = Array.from({ length: 8 }, (_, i) => r.call("send", { contact: "bob", text: `d${i}` }));
      const cli = (tag: string) =>
        (async () => {
          for (let i = 0; i < 4; i++) await ok(alice, ["send", "bob", `${tag}${i}`, "--no-daemon"]);
        })();
      await Promise.all([...viaDaemon, cli("a"), cli("b")]);
      r.close();
      const got = await phantom(bob.env, ["read", "alice", "--json"]);
      expect(got.stderr).toBe(""); // no "could not be decrypted"
      const bodies = got.json().map((m) => m.body as string);
      expect(bodies.length).toBe(16);
      expect(new Set(bodies).size).toBe(16);
      expect(got.json().every((m) => m.protocol === 3)).toBe(true);
      // And the conversation goes on in both directions.
      await ok(bob, ["send", "alice", "still one ratchet"]);
      expect((await ok(alice, ["read", "bob", "--json"])).json().at(-1)).toMatchObject({ body: "still one ratchet" });
    } finally {
      await d.stop();
    }
  });

  test("kill -9 of the daemon loses no accepted message; the CLI falls back; a restart catches up", async () => {
    const { alice, bob } = await pair();
    let d = await startDaemon(bob.env);
    const sub = await Rpc.connect(bob.home);
    await sub.call("subscribe", { consumer: "k" });
    await ok(alice, ["send", "bob", "before"]);
    const first = await nextMessage(sub, "k");
    expect(first).toMatchObject({ type: "message", message: { body: "before" } });
    await sub.call("ack", { consumer: "k", id: first.id });
    await d.kill9();
    expect(existsSync(join(bob.home, "daemon.sock"))).toBe(true); // left behind, stale
    await ok(alice, ["send", "bob", "while down 1"]);
    await ok(alice, ["send", "bob", "while down 2"]);
    // The CLI falls back: it unlocks itself (it has the password) and says nothing about the stale socket.
    const read = await ok(bob, ["read", "alice", "--json"]);
    expect(read.stderr).toBe("");
    expect(read.json().map((m) => m.body)).toEqual(["before", "while down 1", "while down 2"]);
    expect(await phantom(noPassword(bob), ["read", "alice"])).toMatchObject({ code: 1 });
    // A new daemon takes over the stale pid file and socket; the consumer gets what came meanwhile, not "before".
    d = await startDaemon(bob.env);
    const again = await Rpc.connect(bob.home);
    await again.call("subscribe", { consumer: "k" });
    const bodies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const e = await nextMessage(again, "k");
      bodies.push((e.message as { body: string }).body);
      await again.call("ack", { consumer: "k", id: e.id });
    }
    expect(bodies).toEqual(["while down 1", "while down 2"]);
    await Bun.sleep(500);
    expect(again.notes.filter((x) => x.method === "event" && x.params.type === "message")).toEqual([]);
    again.close();
    await d.stop();
  });

  test("panic stops the daemon first", async () => {
    const bob = await user("bob");
    const d = await startDaemon(bob.env);
    const r = await phantom(bob.env, ["panic", "--yes"]);
    expect(r.code).toBe(0);
    expect(await within(d.proc.exited, 20_000, () => "the daemon did not stop")).toBe(0);
    expect(existsSync(bob.home)).toBe(false);
  });
});

describe("stdio, notifications, service", () => {
  test("--stdio: a parent talks JSON-RPC on the daemon's stdin and stdout; EOF stops it", async () => {
    const bob = await user("bob");
    const d = await startDaemon(bob.env, ["--stdio"], { stdin: "pipe" });
    const stdin = d.proc.stdin as import("bun").FileSink;
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 7, method: "identity", params: {} })}\n`);
    stdin.flush();
    const reader = (d.proc.stdout as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(text.split("\n")[0]!)).toMatchObject({ jsonrpc: "2.0", id: 7, result: { uid: bob.uid } });
    stdin.end();
    expect(await within(d.proc.exited, 20_000, () => "the daemon did not stop at EOF")).toBe(0);
  });

  test("notify on: the sender's nickname only (the text with notify-preview), none while a chat is open", async () => {
    const { alice, bob } = await pair();
    const bin = join(root, `bin${++n}`);
    mkdirSync(bin);
    const calls = join(bin, "calls");
    // notify-send stands in for the desktop's: it writes down what it was given.
    writeFileSync(join(bin, "notify-send"), `#!/bin/sh\nprintf '%s|' "$@" >> '${calls}'\necho >> '${calls}'\n`, {
      mode: 0o755,
    });
    const env = { ...bob.env, PATH: `${bin}:${bob.env.PATH}` };
    await ok({ env }, ["settings", "notify", "on"]);
    const d = await startDaemon(env);
    const da = await startDaemon(alice.env);
    try {
      const got = () =>
        existsSync(calls)
          ? readFileSync(calls, "utf8")
              .split("\n")
              .filter((l) => l !== "")
          : [];
      await ok(alice, ["send", "bob", "secret words"]);
      await until(() => got().length === 1, "a notification");
      expect(got()[0]).toBe("--app-name=Phantom|--|Phantom: alice|new message|");
      await ok({ env }, ["settings", "notify-preview", "on"]);
      await ok(alice, ["send", "bob", "now <b>shown</b>"]);
      await until(() => got().length === 2, "a second notification");
      expect(got()[1]).toBe("--app-name=Phantom|--|Phantom: alice|now &lt;b&gt;shown&lt;/b&gt;|");
      const chat = await Rpc.connect(bob.home);
      await chat.call("chat.open", { contact: "alice" });
      await ok(alice, ["send", "bob", "while the chat is open"]);
      const sub = await Rpc.connect(bob.home);
      await sub.call("subscribe", { consumer: "n", from: "oldest" });
      await until(() => sub.notes.some((x) => JSON.stringify(x).includes("while the chat is open")), "the message");
      await Bun.sleep(500);
      expect(got().length).toBe(2);
      chat.close();
      sub.close();
    } finally {
      await d.stop();
      await da.stop();
    }
  });

  test("--install-service writes a systemd user unit that starts the daemon with the password file", async () => {
    const bob = await user("bob");
    const pw = join(bob.home, "..", `pw${++n}`);
    writeFileSync(pw, "correct horse battery\n");
    chmodSync(pw, 0o644);
    const env = { ...noPassword(bob), XDG_CONFIG_HOME: join(bob.home, "config") };
    expect(expectOneLineError(await phantom(env, ["daemon", "--install-service", "--password-file", pw]))).toContain(
      "no one else can read (chmod 600)",
    );
    chmodSync(pw, 0o600);
    const r = await ok({ env }, ["daemon", "--install-service", "--password-file", pw]);
    const unit = join(bob.home, "config", "systemd", "user", "phantom-daemon.service");
    expect(r.stdout).toContain(`wrote ${unit}`);
    const text = readFileSync(unit, "utf8");
    expect(text).toContain(`ExecStart="${join(ROOT, "dist/phantom")}" daemon`);
    expect(text).toContain(`Environment="PHANTOM_PASSWORD_FILE=${pw}"`);
    expect(text).toContain(`Environment="PHANTOM_HOME=${bob.home}"`);
    // What the unit runs, run by hand with the unit's environment: it starts without a password variable.
    const d = await startDaemon({ ...noPassword(bob), PHANTOM_PASSWORD_FILE: pw });
    expect(await d.stop()).toBe(0);
  });
});
