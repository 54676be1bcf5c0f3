// Issue 8 §1: a folder must not be able to run code inside Phantom or change its settings.
// Each compiled binary runs from a folder holding a bunfig.toml whose preload writes a marker
// file, and .env files that set Phantom's and Bun's variables; the preload must never run and
// every effective value must be the default. Then the variables Bun acts on by itself, set in
// the real environment: the client refuses those it can (TLS checks off, HTTP proxies, fetch
// logging), and both binaries warn once about each (lib/env-warnings.ts, SECURITY.md).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { VERSION } from "../lib/version.ts";
import { PASSWORD, phantom, runProgram, type Run } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { lines, RELAY_BIN, startRelay, startTlsRelay, tempDir, TLS_DIR, type RunningRelay } from "./helpers/relay.ts";

setDefaultTimeout(30_000);

const PATH = process.env.PATH ?? "/usr/bin:/bin";

let folder: string; // the hostile working directory
let marker: string; // written by its preload, if that ever runs
let relay: RunningRelay; // plain http
let tlsRelay: RunningRelay; // https with a certificate nobody trusts
let proxy: { port: number; connections: number; close(): void };

/** A TCP server that counts connections and closes them: any HTTP proxy use shows up here. */
async function countingServer(): Promise<typeof proxy> {
  const s = { port: 0, connections: 0, close: () => srv.close() };
  const srv = net.createServer((sock) => {
    s.connections++;
    sock.destroy();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  s.port = (srv.address() as net.AddressInfo).port;
  return s;
}

beforeAll(async () => {
  [relay, tlsRelay, proxy] = await Promise.all([startRelay(), startTlsRelay(), countingServer()]);
  folder = tempDir("phantom-hostile-");
  marker = join(folder, "MARKER");
  writeFileSync(
    join(folder, "x.js"),
    `require("fs").appendFileSync(${JSON.stringify(marker)}, "preload ran: " + process.argv.join(" ") + "\\n");\n`,
  );
  writeFileSync(join(folder, "bunfig.toml"), 'preload = ["./x.js"]\n\n[run]\npreload = ["./x.js"]\n');
  const proxyUrl = `http://127.0.0.1:${proxy.port}`;
  const hostile = {
    // the client
    PHANTOM_RELAY: "https://relay.evil.example",
    PHANTOM_TOR: "never",
    PHANTOM_TOR_PROXY: "127.0.0.1:1",
    PHANTOM_DIRECT: "1",
    PHANTOM_HOME: join(folder, "evil-home"),
    NODE_TLS_REJECT_UNAUTHORIZED: "0",
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    BUN_CONFIG_VERBOSE_FETCH: "curl",
    // the relay
    PHANTOM_RELAY_DATA: join(folder, "evil-data"),
    PHANTOM_RELAY_LOG_LEVEL: "error",
    PHANTOM_AUTH_PRIV_B64: Buffer.alloc(32, 7).toString("base64"),
    MAX_FILE_SIZE_BYTES: "1",
  };
  const text = Object.entries(hostile)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
  // Bun's dotenv reads .env, .env.local and .env.<NODE_ENV> (development when unset).
  for (const f of [".env", ".env.local", ".env.development", ".env.production"]) writeFileSync(join(folder, f), text);
});

afterAll(async () => {
  await Promise.all([relay?.stop(), tlsRelay?.stop()]);
  relay?.cleanup();
  tlsRelay?.cleanup();
  proxy?.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A fresh state folder outside the hostile one, and the environment of a user with nothing else set. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = tempDir("phantom-home-");
  return { PATH, HOME: home, PHANTOM_HOME: home, PHANTOM_PASSWORD: PASSWORD, ...extra };
}

function expectNoPreload(): void {
  expect(existsSync(marker)).toBe(false);
}

/** How many times `text` occurs in `s`. */
const count = (s: string, text: string) => s.split(text).length - 1;

describe("the client, run from a hostile folder", () => {
  test("--version: the version only; the preload never ran", async () => {
    const r = await phantom(cleanEnv(), ["--version"], { cwd: folder });
    expect(r.stdout).toBe(`phantom ${VERSION}\n`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expectNoPreload();
  });

  test("tor --json: default relay, Tor mode and proxy; no state in the folder's PHANTOM_HOME", async () => {
    const r = await phantom(cleanEnv(), ["tor", "--json"], { cwd: folder });
    expect(r.code).toBe(0);
    expect(r.json()[0]).toMatchObject({
      mode: "auto",
      proxy: "127.0.0.1:9050",
      relay: "http://127.0.0.1:8787",
      route: "direct",
    });
    expect(existsSync(join(folder, "evil-home"))).toBe(false);
    expectNoPreload();
  });

  test("TLS certificates are checked: init against an untrusted certificate fails", async () => {
    const r = await phantom(cleanEnv(), ["init", "--relay", tlsRelay.url], { cwd: folder });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TLS certificate");
    expectNoPreload();
  });

  test("init against a plain local relay goes straight to it: no HTTP proxy, no request logging", async () => {
    const before = proxy.connections;
    const r = await phantom(cleanEnv(), ["init", "--relay", relay.url], { cwd: folder });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("curl ");
    expect(proxy.connections).toBe(before);
    expectNoPreload();
  });
});

describe("the relay, run from a hostile folder", () => {
  test("--version: the version only; the preload never ran", async () => {
    const r = await runProgram([RELAY_BIN, "--version"], { PATH }, { cwd: folder });
    expect(r.stdout).toBe(`phantom-relay ${VERSION}\n`);
    expect(r.stderr).toBe("");
    expectNoPreload();
  });

  test("start: default data folder, log level and auth; the preload never ran", async () => {
    const proc = Bun.spawn([RELAY_BIN, "--host", "127.0.0.1", "--port", "0"], {
      cwd: folder,
      env: { PATH },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const out = lines(proc.stdout);
      const first = await within(
        out.next(),
        15_000,
        () => "the relay wrote no line in 15 s",
        () => proc.kill(),
      );
      const m = /^phantom-relay \S+ listening on (\S+)$/.exec(first.done ? "" : first.value);
      if (!m) throw new Error(`relay did not start: ${first.value} ${await new Response(proc.stderr).text()}`);
      const health = (await (await fetch(`${m[1]}/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: "ok", auth_required: false, auth_pub: null });
      // Log level info (not the folder's "error"): the request is logged.
      const logged = await within(
        out.next(),
        15_000,
        () => "the relay logged nothing in 15 s",
        () => proc.kill(),
      );
      expect(logged.value).toMatch(/^GET \/health 200 /);
      expect(readdirSync(folder)).toContain("phantom-relay-data"); // the default ./phantom-relay-data
      expect(existsSync(join(folder, "evil-data"))).toBe(false);
      expectNoPreload();
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(join(folder, "phantom-relay-data"), { recursive: true, force: true });
    }
  });
});

describe("variables Bun acts on, in the real environment", () => {
  function expectWarnedOnce(r: Run, bin: string, name: string): void {
    expect(count(r.stderr, `${bin}: warning: ${name} `)).toBe(1);
  }

  test("NODE_TLS_REJECT_UNAUTHORIZED=0: the client still checks certificates, and warns once", async () => {
    const r = await phantom(cleanEnv({ NODE_TLS_REJECT_UNAUTHORIZED: "0" }), ["init", "--relay", tlsRelay.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TLS certificate");
    expectWarnedOnce(r, "phantom", "NODE_TLS_REJECT_UNAUTHORIZED is set:");
  });

  test("HTTP(S)_PROXY, ALL_PROXY, BUN_CONFIG_VERBOSE_FETCH: ignored, each warned about once", async () => {
    const p = `http://127.0.0.1:${proxy.port}`;
    const env = cleanEnv({ HTTP_PROXY: p, https_proxy: p, ALL_PROXY: p, BUN_CONFIG_VERBOSE_FETCH: "curl" });
    const before = proxy.connections;
    const r = await phantom(env, ["init", "--relay", relay.url]);
    expect(r.code).toBe(0);
    expect(proxy.connections).toBe(before);
    expect(r.stdout).not.toContain("curl ");
    expectWarnedOnce(r, "phantom", "https_proxy, HTTP_PROXY, ALL_PROXY are set:");
    expectWarnedOnce(r, "phantom", "BUN_CONFIG_VERBOSE_FETCH is set:");
    expect(count(r.stderr, "warning:")).toBe(2);
  });

  test("BUN_OPTIONS --preload runs even in these binaries (Bun cannot be told not to); both warn once", async () => {
    const dir = tempDir("phantom-bun-options-");
    const seen = join(dir, "SEEN");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "p.js"), `require("fs").appendFileSync(${JSON.stringify(seen)}, "x");\n`);
    const env = { ...cleanEnv(), BUN_OPTIONS: `--preload ${join(dir, "p.js")}` };
    const c = await phantom(env, ["--version"]);
    expect(c.stdout).toBe(`phantom ${VERSION}\n`);
    expectWarnedOnce(c, "phantom", "BUN_OPTIONS is set:");
    const r = await runProgram([RELAY_BIN, "--version"], env);
    expectWarnedOnce(r, "phantom-relay", "BUN_OPTIONS is set:");
    // What SECURITY.md says: the preload ran, once per binary. If a Bun release refuses it, update SECURITY.md.
    expect(await Bun.file(seen).text()).toBe("xx");
    rmSync(dir, { recursive: true, force: true });
  });

  test("the relay warns once at start about BUN_INSPECT_CONNECT_TO (Bun does connect) and not about client-only variables", async () => {
    // A "debugger" on a Unix socket that counts connections and says nothing.
    const dir = tempDir("phantom-inspect-");
    const path = join(dir, "debugger.sock");
    let connections = 0;
    const srv = net.createServer(() => void connections++);
    await new Promise<void>((r) => srv.listen(path, r));
    try {
      const r = await startRelay({ env: { BUN_INSPECT_CONNECT_TO: path, NODE_TLS_REJECT_UNAUTHORIZED: "0" } });
      expect((await fetch(`${r.url}/health`)).status).toBe(200);
      expect(await r.stop()).toBe(0);
      r.cleanup();
      const warnings = r.logs.filter((l) => l.includes("warning:"));
      expect(warnings).toEqual([expect.stringMatching(/^phantom-relay: warning: BUN_INSPECT_CONNECT_TO is set: /)]);
      expect(connections).toBeGreaterThan(0); // what SECURITY.md says Bun does
    } finally {
      srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
