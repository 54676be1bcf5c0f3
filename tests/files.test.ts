// Files with the compiled client against a real relay: a relay served under a path prefix
// by a reverse proxy (downloads work), a file over the relay's limit (refused before any
// upload, in words), and SIGINT during `send --file` (cancelled: exit 130, the peer gets nothing).
// Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { phantom, userEnv } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { demoIdentity, demoUser } from "./helpers/demo-users.ts";
import { encodeEnvelope } from "../lib/wire.ts";
import { encryptMessage, pairKeys } from "../lib/crypto.ts";
import { signed } from "./helpers/signer.ts";
import { startPrefixProxy, type PrefixProxy } from "./helpers/prefix-proxy.ts";
import { CLIENT_BIN, startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";

const MAX_FILE = 1024 * 1024; // the relay's MAX_FILE_SIZE_BYTES in these tests
let relay: RunningRelay;
const root = tempDir("phantom-files-");
const proxies: PrefixProxy[] = [];
let worlds = 0;

beforeAll(async () => {
  relay = await startRelay({ args: ["--log-level", "warn"], env: { MAX_FILE_SIZE_BYTES: String(MAX_FILE) } });
});

afterAll(async () => {
  for (const p of proxies) p.stop();
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** alice and bob, contacts of each other, whose relay URL is `relayUrl`. */
async function pairOver(relayUrl: string) {
  const dir = join(root, `w${++worlds}`);
  const home = (name: string) => join(dir, name);
  const env = (name: string) => userEnv(home(name), relayUrl);
  const alice = await demoUser(`alice ${worlds}`, home("alice"), relay.url);
  const bob = await demoUser(`bob ${worlds}`, home("bob"), relay.url);
  expect((await phantom(env("alice"), ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await phantom(env("bob"), ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  expect((await phantom(env("alice"), ["contacts"])).code).toBe(0);
  return { dir, env, alice, bob };
}

describe("a relay under a path prefix (https://host/phantom)", () => {
  test("a file sent through it is downloaded through it", async () => {
    const proxy = startPrefixProxy(relay.url, { prefix: "/phantom" });
    proxies.push(proxy);
    const { dir, env, alice } = await pairOver(proxy.url);
    const src = join(dir, "notes.txt");
    writeFileSync(src, "meet at the bridge at noon\n");
    const sent = await phantom(env("alice"), ["send", "bob", "--file", src]);
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    const read = await phantom(env("bob"), ["read", alice.uid]);
    expect(read.stdout).toContain("notes.txt");
    const dest = join(dir, "got.txt");
    const got = await phantom(env("bob"), ["get", "alice", "1", dest]);
    expect(got.stderr).toBe("");
    expect(got.code).toBe(0);
    expect(readFileSync(dest, "utf8")).toBe("meet at the bridge at noon\n");
  });
});

describe("a file over the relay's limit", () => {
  test("is refused before uploading, with both sizes in words", async () => {
    const proxy = startPrefixProxy(relay.url, { prefix: "/phantom" });
    proxies.push(proxy);
    const { dir, env, alice } = await pairOver(proxy.url);
    const big = join(dir, "big.bin");
    writeFileSync(big, new Uint8Array(2 * MAX_FILE));
    const r = await phantom(env("alice"), ["send", "bob", "--file", big]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("phantom: error: the relay accepts files up to 1 MiB; this one is 2 MiB\n");
    expect(proxy.uploads).toBe(0);
    expect((await phantom(env("bob"), ["read", alice.uid])).stdout).not.toContain("big.bin");
  });

  test("on a relay that does not say its limit, its 413 is said in words", async () => {
    const proxy = startPrefixProxy(relay.url, { prefix: "/phantom", hideMaxFileSize: true });
    proxies.push(proxy);
    const { dir, env, alice } = await pairOver(proxy.url);
    const big = join(dir, "big.bin");
    writeFileSync(big, new Uint8Array(2 * MAX_FILE));
    const r = await phantom(env("alice"), ["send", "bob", "--file", big]);
    expect(r.stderr).toBe("phantom: error: the relay does not accept a file this large; this one is 2 MiB\n");
    expect(r.code).toBe(1);
    expect(proxy.uploads).toBe(1);
    expect((await phantom(env("bob"), ["read", alice.uid])).stdout).not.toContain("big.bin");
  });
});

describe("SIGINT during send --file", () => {
  test("cancels the upload: exit 130, and the peer never gets the file", async () => {
    const proxy = startPrefixProxy(relay.url, { prefix: "/phantom", holdUploads: true });
    proxies.push(proxy);
    const { dir, env, alice } = await pairOver(proxy.url);
    const src = join(dir, "photo.jpg");
    writeFileSync(src, new Uint8Array(MAX_FILE / 2).fill(7));
    const proc = Bun.spawn([CLIENT_BIN, "send", "bob", "--file", src], {
      env: env("alice"),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    await within(
      proxy.uploadsReached(1),
      20_000,
      () => "the upload never reached the proxy",
      () => proc.kill(9),
    );
    proc.kill("SIGINT");
    const code = await within(
      proc.exited,
      20_000,
      () => "send --file still running after SIGINT",
      () => proc.kill(9),
    );
    // The held upload is let through now: only a client that gave up sends nothing more.
    proxy.release();
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toBe("phantom: error: interrupted: upload cancelled, the file was not sent\n");
    expect(code).toBe(130);
    expect((await phantom(env("alice"), ["send", "bob", "after the cancelled file"])).code).toBe(0);
    const read = await phantom(env("bob"), ["read", alice.uid]);
    expect(read.stdout).toContain("after the cancelled file");
    expect(read.stdout).not.toContain("photo.jpg");
    expect(proxy.forwarded).toBe(0);
  });
});

describe("file numbers in a conversation of more than 200 rows", () => {
  test("never shift: every row is read (after_seq paging), numbers are kept in files.json", async () => {
    const { dir, env, alice, bob } = await pairOver(relay.url);
    const a = demoIdentity(`alice ${worlds}`);
    const { roomId, sessionKey } = pairKeys(a, demoIdentity(`bob ${worlds}`).encPub);
    const texts = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        const ciphertext = encryptMessage(sessionKey, encodeEnvelope(alice.uid, `${tag} ${i}`));
        const r = await signed(relay.url, a, "POST", "/send", { room_id: roomId, ciphertext });
        expect(r.status).toBe(200);
      }
    };
    const sendFile = async (name: string) => {
      writeFileSync(join(dir, name), `the contents of ${name}\n`);
      expect((await phantom(env("alice"), ["send", bob.uid, "--file", join(dir, name)])).code).toBe(0);
    };
    await sendFile("first.txt");
    await texts(150, "filler");
    await sendFile("second.txt");
    const before = (await phantom(env("bob"), ["read", alice.uid, "--json"])).json();
    const numberOf = (list: Record<string, unknown>[], name: string) =>
      (list.find((m) => (m.file as { name?: string } | undefined)?.name === name)?.file as { n: number } | undefined)
        ?.n;
    expect(numberOf(before, "first.txt")).toBe(1);
    expect(numberOf(before, "second.txt")).toBe(2);
    await texts(100, "more");
    const after = await phantom(env("bob"), ["read", alice.uid, "--json"]);
    expect(numberOf(after.json(), "second.txt")).toBe(2);
    expect(numberOf(after.json(), "first.txt")).toBe(1);
    const dest = join(dir, "got-second.txt");
    expect((await phantom(env("bob"), ["get", "alice", "2", dest])).code).toBe(0);
    expect(readFileSync(dest, "utf8")).toBe("the contents of second.txt\n");
  });
});
