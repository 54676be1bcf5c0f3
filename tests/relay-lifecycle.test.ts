// phantom-relay as a process: the command line,
// the data folder's permissions, retention (PROTOCOL §8), restarts, kill -9
// after acknowledged sends, and what the log may contain. Build first: ./build.sh
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import { RELAY_BIN, startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { pair, signed, signHeaders, type TestUser } from "./helpers/signer.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const ct = () => b64encode(c.randomBytes(48));

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

async function uploadFile(base: string, u: TestUser, roomId: string, file: Uint8Array): Promise<string> {
  const boundary = "bnd" + b64uencode(c.randomBytes(9));
  const body = Buffer.concat([
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n${roomId}\r\n`),
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="sender_id"\r\n\r\n${u.uid}\r\n`),
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n`),
    enc("Content-Type: application/octet-stream\r\n\r\n"),
    file,
    enc(`\r\n--${boundary}--\r\n`),
  ]);
  const r = await signed(base, u, "POST", "/file/upload", new Uint8Array(body), {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { url: string }).url;
}

async function messages(base: string, u: TestUser, roomId: string): Promise<string[]> {
  const r = await signed(base, u, "POST", "/fetch", { room_id: roomId, limit: 200 });
  expect(r.status).toBe(200);
  return ((await r.json()) as { messages: { ciphertext: string }[] }).messages.map((m) => m.ciphertext);
}

function run(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync([RELAY_BIN, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("command line", () => {
  test("--version and --help", () => {
    const v = run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^phantom-relay \S+\n$/);
    const h = run(["--help"]);
    expect(h.code).toBe(0);
    for (const flag of ["--host", "--port", "--data", "--tls-cert", "--tls-key", "--log-level", "--purge-interval"]) {
      expect(h.out).toContain(flag);
    }
  });

  test.each([
    [["--bogus"], {}],
    [["--port", "70000"], {}],
    [["--tls-cert", "x.pem"], {}],
    [[], { PHANTOM_RELAY_LOG_LEVEL: "chatty" }],
    [[], { PHANTOM_AUTH_PRIV_B64: "short" }],
    [[], { MAX_FILE_SIZE_BYTES: "-1" }],
  ])("%p %p: one error line, exit 2, no stack trace", (args, env) => {
    const r = run(args, env);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^phantom-relay: error: [^\n]+\n$/);
  });

  test("a port in use: one error line, exit 1", async () => {
    const relay = await startRelay();
    try {
      const r = run(["--port", String(relay.port), "--data", join(tempDir(), "d")]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^phantom-relay: error: [^\n]+\n$/);
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  });
});

describe("data folder", () => {
  test("folders are 0700 and every file 0600, the file-id key included", async () => {
    const relay = await startRelay();
    const { a, roomId } = await pair(relay.url);
    await uploadFile(relay.url, a, roomId, c.randomBytes(100));
    expect(await relay.stop()).toBe(0);
    const walk = (dir: string) => {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else expect([name, statSync(p).mode & 0o777]).toEqual([name, 0o600]);
      }
    };
    walk(relay.dataDir);
    expect(readdirSync(relay.dataDir)).toContain("file-id.key");
    relay.cleanup();
  });
});

describe("restarts", () => {
  test("a restart keeps users, rooms, messages, file ids and the replay cache", async () => {
    let relay = await startRelay();
    const { a, b, roomId } = await pair(relay.url);
    const sent = [ct(), ct(), ct()];
    for (const x of sent)
      expect((await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext: x })).status).toBe(200);
    const file = c.randomBytes(500);
    const url = await uploadFile(relay.url, a, roomId, file);
    // A request captured before the restart must not be accepted after it.
    const body = enc(JSON.stringify({ room_id: roomId, ciphertext: ct() }));
    const captured = signHeaders(a, "POST", "/send", body);
    expect((await fetch(`${relay.url}/send`, { method: "POST", headers: captured, body })).status).toBe(200);
    expect(await relay.stop()).toBe(0);

    relay = await startRelay({ dataDir: relay.dataDir });
    try {
      expect((await messages(relay.url, b, roomId)).slice(0, 3)).toEqual(sent);
      const d = await signed(relay.url, b, "GET", url);
      expect(d.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await d.arrayBuffer()), file)).toBe(0);
      expect((await fetch(`${relay.url}/send`, { method: "POST", headers: captured, body })).status).toBe(401);
    } finally {
      expect(await relay.stop()).toBe(0);
      relay.cleanup();
    }
  });

  test("kill -9 right after acknowledged sends loses none of them", async () => {
    let relay: RunningRelay = await startRelay();
    const { a, b, roomId } = await pair(relay.url);
    const sent = Array.from({ length: 60 }, ct);
    const statuses = await Promise.all(
      sent.map((x, i) => signed(relay.url, i % 2 ? a : b, "POST", "/send", { room_id: roomId, ciphertext: x })),
    );
    expect(statuses.map((r) => r.status)).toEqual(sent.map(() => 200));
    await relay.kill9();

    relay = await startRelay({ dataDir: relay.dataDir });
    try {
      expect((await messages(relay.url, a, roomId)).sort()).toEqual([...sent].sort());
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  });
});

describe("shutdown", () => {
  test("SIGTERM closes live sockets (1001) and exits 0; the data is kept", async () => {
    let relay = await startRelay();
    const { a, roomId } = await pair(relay.url);
    expect((await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(200);
    const path = `/ws/${roomId}`;
    const ws = new WebSocket(relay.url.replace("http", "ws") + path, {
      headers: signHeaders(a, "GET", path, new Uint8Array(0)),
    } as unknown as string[]);
    await new Promise((r) => (ws.onopen = r));
    const closed = new Promise<number>((r) => (ws.onclose = (e) => r(e.code)));
    expect(await relay.stop()).toBe(0);
    expect(await closed).toBe(1001);
    relay = await startRelay({ dataDir: relay.dataDir });
    try {
      expect((await messages(relay.url, a, roomId)).length).toBe(1);
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  });
});

describe("retention (PROTOCOL §8)", () => {
  test("messages, key-exchange entries and files are purged after their limits, never before", async () => {
    const L = 2; // seconds, for all three limits
    const relay = await startRelay({
      env: {
        MESSAGE_RETENTION_DAYS: String(L / 86400),
        KE_RETENTION_HOURS: String(L / 3600),
        FILE_RETENTION_HOURS: String(L / 3600),
      },
      args: ["--purge-interval", "0.2"],
    });
    try {
      const { a, b, roomId } = await pair(relay.url); // leaves an inbox entry for b
      const t0 = Date.now();
      expect((await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(200);
      const url = await uploadFile(relay.url, a, roomId, c.randomBytes(64));
      const blobs = join(relay.dataDir, "blobs");
      expect(readdirSync(blobs).length).toBe(1);
      await waitFor("the message purge", async () => (await messages(relay.url, a, roomId)).length === 0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(L * 1000);
      await waitFor("the blob purge", () => readdirSync(blobs).length === 0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(L * 1000);
      expect((await signed(relay.url, b, "GET", url)).status).toBe(404);
      const pop = await signed(relay.url, b, "GET", `/ke/pop/${b.uid}`);
      expect(await pop.json()).toEqual({ entries: [] });
      // Rooms and users stay: the pair can go on talking.
      expect((await signed(relay.url, b, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(200);
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  });
});

describe("log privacy", () => {
  test("one line per request with method, route template, status and duration; no uid, room id, file id or IP", async () => {
    const relay = await startRelay();
    const { a, b, roomId } = await pair(relay.url);
    expect((await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(200);
    const url = await uploadFile(relay.url, a, roomId, c.randomBytes(10));
    expect((await signed(relay.url, b, "GET", url)).status).toBe(200);
    expect((await signed(relay.url, b, "GET", `/ke/pop/${b.uid}`)).status).toBe(200);
    expect((await fetch(`${relay.url}/pubkey/${a.uid}`)).status).toBe(200);
    expect((await fetch(`${relay.url}/no/such/${a.uid}`)).status).toBe(404);
    expect((await signed(relay.url, a, "POST", "/fetch", "{bad json")).status).toBe(400);
    expect(await relay.stop()).toBe(0);
    const lines = relay.logs.filter((l) => l.trim() !== "");
    const requests = lines.filter((l) => /^[A-Z]+ /.test(l));
    for (const l of requests) expect(l).toMatch(/^(GET|POST|OTHER) (\/[a-z/:_]*|\(unmatched\)) \d{3} \d+\.\dms$/);
    // 2 × register, ke/push, send, upload, download, pop, pubkey, the 404 and the 400.
    expect(requests.length).toBe(10);
    expect(requests.some((l) => l.startsWith("GET /file/:id 200"))).toBe(true);
    expect(requests.some((l) => l.startsWith("GET /ke/pop/:uid 200"))).toBe(true);
    const text = lines.join("\n");
    const fileId = url.slice("/file/".length);
    for (const secret of [a.uid, b.uid, roomId, fileId, "127.0.0.1", a.pubB64]) expect(text).not.toContain(secret);
  });
});

describe("TLS (--tls-cert, --tls-key)", () => {
  const openssl = Bun.which("openssl");
  test.skipIf(!openssl)(
    "serves HTTPS with the given certificate; an unreadable file is one error line, exit 1",
    async () => {
      const dir = tempDir();
      const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
      const gen = Bun.spawnSync(
        [openssl!, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"].concat([
          "-nodes",
          "-keyout",
          key,
          "-out",
          cert,
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
        ]),
      );
      expect(gen.exitCode).toBe(0);
      const relay = await startRelay({ args: ["--tls-cert", cert, "--tls-key", key] });
      try {
        expect(relay.url).toStartWith("https://");
        const r = await fetch(`${relay.url}/health`, { tls: { rejectUnauthorized: false } } as RequestInit);
        expect(r.status).toBe(200);
      } finally {
        await relay.stop();
        relay.cleanup();
      }
      const bad = run([
        "--port",
        "0",
        "--data",
        join(dir, "d"),
        "--tls-cert",
        join(dir, "missing.pem"),
        "--tls-key",
        key,
      ]);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/^phantom-relay: error: [^\n]+\n$/);
    },
  );
});
