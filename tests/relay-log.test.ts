// The log must not kill the relay: with stdout a pipe the reader closed
// (EPIPE, SIGPIPE) or a full disk (/dev/full: ENOSPC), the real compiled relay keeps serving,
// starts again, loses nothing it accepted, and says at shutdown how many lines it dropped.
// Build first: ./build.sh
import { afterEach, expect, test } from "bun:test";
import { closeSync, openSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import * as c from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { within } from "./helpers/deadline.ts";
import { RELAY_BIN, tempDir } from "./helpers/relay.ts";
import { pair, signed } from "./helpers/signer.ts";

const dirs: string[] = [];
const procs: Subprocess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(dirname(d), { recursive: true, force: true });
});

const ct = () => b64encode(c.randomBytes(40));

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function healthy(url: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return true;
    } catch {
      // not up yet
    }
    await Bun.sleep(100);
  }
  return false;
}

/** Send `n` messages; every one must be acknowledged. */
async function sendAll(url: string, p: Awaited<ReturnType<typeof pair>>, n: number): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = ct();
    const r = await signed(url, p.a, "POST", "/send", { room_id: p.roomId, ciphertext: text });
    expect(r.status).toBe(200);
    sent.push(text);
  }
  return sent;
}

async function fetched(url: string, p: Awaited<ReturnType<typeof pair>>): Promise<string[]> {
  const r = await signed(url, p.b, "POST", "/fetch", { room_id: p.roomId });
  expect(r.status).toBe(200);
  return ((await r.json()) as { messages: { ciphertext: string }[] }).messages.map((m) => m.ciphertext);
}

test("stdout a pipe the reader closed: the relay keeps serving, loses nothing, and reports the dropped lines at shutdown", async () => {
  const dataDir = join(tempDir("phantom-relay-log-"), "data");
  dirs.push(dataDir);
  const proc = Bun.spawn([RELAY_BIN, "--host", "127.0.0.1", "--port", "0", "--data", dataDir], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(proc);
  const reader = proc.stdout.getReader();
  let first = "";
  const listening = async () => {
    while (!first.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`relay exited before listening: ${first}`);
      first += new TextDecoder().decode(value);
    }
  };
  await within(
    listening(),
    15_000,
    () => `relay not listening after 15 s; stdout: ${first}`,
    () => proc.kill(),
  );
  const url = / listening on (\S+)/.exec(first)![1]!;
  await reader.cancel(); // the read end is closed: every later log write is EPIPE (SIGPIPE)

  const p = await pair(url);
  const sent = await sendAll(url, p, 30);
  await Bun.sleep(300);
  expect(proc.exitCode).toBeNull();
  expect((await fetch(`${url}/health`)).status).toBe(200);
  expect(await fetched(url, p)).toEqual(sent);

  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stderr).text()).toMatch(/^phantom-relay: \d+ log lines were dropped/m);
}, 30_000);

test("stdout on a full disk (/dev/full): the relay starts, serves, restarts, and loses nothing", async () => {
  const dataDir = join(tempDir("phantom-relay-log-"), "data");
  dirs.push(dataDir);
  const full = openSync("/dev/full", "w");
  const start = () => {
    const port = freePort();
    const proc = Bun.spawn([RELAY_BIN, "--host", "127.0.0.1", "--port", String(port), "--data", dataDir], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdin: "ignore",
      stdout: full,
      stderr: "pipe",
    });
    procs.push(proc);
    return { proc, url: `http://127.0.0.1:${port}` };
  };
  try {
    const one = start();
    expect(await healthy(one.url)).toBe(true);
    const p = await pair(one.url);
    const sent = await sendAll(one.url, p, 10);
    expect(one.proc.exitCode).toBeNull();
    one.proc.kill("SIGTERM");
    expect(await one.proc.exited).toBe(0);
    expect(await new Response(one.proc.stderr).text()).toMatch(/\d+ log lines were dropped/);

    const two = start(); // the disk is still full
    expect(await healthy(two.url)).toBe(true);
    const more = await sendAll(two.url, p, 5);
    expect(await fetched(two.url, p)).toEqual([...sent, ...more]);
    two.proc.kill("SIGTERM");
    expect(await two.proc.exited).toBe(0);
  } finally {
    closeSync(full);
  }
}, 40_000);
