// Small things a person notices, with the compiled client against a real relay: whoami when
// Tor is required and not running, whitespace-only messages, the length error in characters,
// read --since with dates and durations, motd-add, errors in words, and --json errors as JSON.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { expectOneLineError, PASSWORD, phantom, type Run, userEnv } from "./helpers/cli.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(60_000);

const root = tempDir("phantom-small-cli-");
let relay: RunningRelay;
let aliceEnv: Record<string, string>;
let bobUid = "";
let aliceUid = "";

async function ok(env: Record<string, string>, args: string[], stdin?: string): Promise<Run> {
  const r = await phantom(env, args, { stdin });
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

beforeAll(async () => {
  relay = await startRelay();
  const home = (name: string) => {
    const h = join(root, name);
    mkdirSync(h, { mode: 0o700, recursive: true });
    return h;
  };
  aliceEnv = userEnv(home("alice"), relay.url);
  const bobEnv = userEnv(home("bob"), relay.url);
  aliceUid = (await ok(aliceEnv, ["init", "--json"])).json()[0]!.uid as string;
  bobUid = (await ok(bobEnv, ["init", "--json"])).json()[0]!.uid as string;
  await ok(aliceEnv, ["add", bobUid, "--nick", "bob"]);
  await ok(bobEnv, ["add", aliceUid, "--nick", "alice"]);
  await ok(bobEnv, ["send", "alice", "hello from bob"]);
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe("small things", () => {
  test("whoami: Tor required but not running is said so, not '(through Tor)'", async () => {
    // Another Tor setting than a running daemon's: never served by it, so this command unlocks itself.
    const tor = { PHANTOM_TOR: "always", PHANTOM_TOR_PROXY: `127.0.0.1:${await closedPort()}` };
    const env = { ...aliceEnv, ...tor, PHANTOM_PASSWORD: PASSWORD };
    const r = await ok(env, ["whoami"]);
    expect(r.stdout).toContain(`relay:       ${relay.url} (Tor required but not running)`);
    expect(r.stdout).not.toContain("through Tor");
    expect((await ok(env, ["whoami", "--json"])).json()[0]).toMatchObject({ tor: true, tor_missing: true });
  });

  test("a whitespace-only message is refused like an empty one, from arguments or stdin", async () => {
    expect(expectOneLineError(await phantom(aliceEnv, ["send", "bob", "   "]))).toBe(
      "nothing to send: the message is empty",
    );
    expect(expectOneLineError(await phantom(aliceEnv, ["send", "bob"], { stdin: " \n\t \n" }))).toBe(
      "nothing to send: the message is empty",
    );
  });

  test("the length error states this message's length and the limit in characters", async () => {
    const e = expectOneLineError(await phantom(aliceEnv, ["send", "bob"], { stdin: "x".repeat(70_000) }));
    expect(e).toMatch(/^message too long: this message is 70,000 characters; the limit is 6\d,\d{3}$/);
    // What the error says fits, fits.
    const limit = Number(/the limit is ([\d,]+)/.exec(e)![1]!.replace(/,/g, ""));
    await ok(aliceEnv, ["send", "bob"], "y".repeat(limit));
  });

  test("read --since takes a date (local midnight) and a duration", async () => {
    const bodies = async (since: string) =>
      (await ok(aliceEnv, ["read", "bob", "--json", "--since", since])).json().map((m) => m.body);
    expect(await bodies("2h")).toContain("hello from bob");
    expect(await bodies("3d")).toContain("hello from bob");
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    expect(await bodies(today)).toContain("hello from bob");
    expect(await bodies("2999-01-01")).toEqual([]);
    expect(expectOneLineError(await phantom(aliceEnv, ["read", "bob", "--since", "yesterday"]))).toContain(
      "--since must be a date (2026-12-01), a time ago (30m, 2h, 3d)",
    );
  });

  test("settings motd-add switches the message of the day to the custom list", async () => {
    await ok(aliceEnv, ["settings", "motd", "hacker"]);
    await ok(aliceEnv, ["settings", "motd-add", "my own line"]);
    expect((await ok(aliceEnv, ["settings", "--json"])).json()[0]).toMatchObject({
      motd: "custom",
      motdCustom: ["my own line"],
    });
  });

  test("errors name the problem in words: a missing file is not ENOENT", async () => {
    const e = expectOneLineError(await phantom(aliceEnv, ["send", "bob", "--file", join(root, "no-such-file")]));
    expect(e).toBe(`cannot read ${join(root, "no-such-file")}: no such file or folder`);
  });

  test("with --json, errors are one JSON line on stderr", async () => {
    for (const [args, code] of [
      [["read", "nobody", "--json"], "unknown-contact"],
      [["send", "bob", "--json", "  "], "empty-message"],
      [["--json", "no-such-command"], "bad-arguments"],
    ] as const) {
      const r = await phantom(aliceEnv, [...args]);
      expect(r.code).toBe(1);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines.length).toBe(1);
      const j = JSON.parse(lines[0]!);
      expect(j.error).toBe(code);
      expect(typeof j.message).toBe("string");
      expect(j.message).not.toContain("phantom: error:");
    }
    // Without --json: the one line of words, as before.
    expect(expectOneLineError(await phantom(aliceEnv, ["read", "nobody"]))).toContain("nobody");
  });
});
