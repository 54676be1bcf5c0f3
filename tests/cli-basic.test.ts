// The compiled client without a relay: help and version, argument errors, password
// and identity-file errors, the Python-made vector identity, Tor and direct-route refusals.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import vectors from "./vectors/v2.json" with { type: "json" };
import { expectOneLineError, phantom, userEnv } from "./helpers/cli.ts";
import { tempDir } from "./helpers/relay.ts";

setDefaultTimeout(60_000); // bunfig's [test] timeout is not applied by this Bun; scrypt is ~0.5 s per command

const root = tempDir("phantom-cli-basic-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function freshHome(): string {
  const home = join(root, `home${++n}`);
  mkdirSync(home, { mode: 0o700 });
  return home;
}

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const COMMANDS = [
  "init",
  "whoami",
  "add",
  "contacts",
  "accept",
  "block",
  "unblock",
  "verify",
  "nick",
  "remove",
  "send",
  "read",
  "search",
  "get",
  "listen",
  "chat",
  "burn",
  "history",
  "panic",
  "tor",
];

describe("help and version", () => {
  const env = userEnv("/nonexistent-phantom-home", "http://127.0.0.1:9");

  test("--version and --help", async () => {
    const v = await phantom(env, ["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^phantom \d+\.\d+\.\d+\n$/);
    const h = await phantom(env, ["--help"]);
    expect(h.code).toBe(0);
    for (const c of COMMANDS) expect(h.stdout).toContain(`  ${c}`);
    expect(h.stderr).toBe("");
  });

  test("every command has --help", async () => {
    for (const c of COMMANDS) {
      const r = await phantom(env, [c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(`Usage: phantom ${c}`);
      expect(r.stdout).toContain("--json");
    }
  });

  test("usage errors are one line, exit 1", async () => {
    expect(expectOneLineError(await phantom(env, ["frobnicate"]))).toContain("unknown command 'frobnicate'");
    expect(expectOneLineError(await phantom(env, ["read"]))).toContain("missing required argument 'uid'");
    expect(expectOneLineError(await phantom(env, ["whoami", "--bogus"]))).toContain("unknown option '--bogus'");
    expect(expectOneLineError(await phantom(env, ["nick", "a", "b", "c"]))).toContain("too many arguments");
  });
});

describe("identity files and passwords", () => {
  test("no identity yet: says to run init", async () => {
    const msg = expectOneLineError(await phantom(userEnv(freshHome(), "http://127.0.0.1:9"), ["whoami"]));
    expect(msg).toContain("phantom init");
  });

  test("no terminal and no PHANTOM_PASSWORD: a clear refusal", async () => {
    const home = freshHome();
    writeFileSync(join(home, "identity.json"), JSON.stringify(vectors.identity_vault.identity_json));
    const env = userEnv(home, "http://127.0.0.1:9");
    delete (env as Record<string, string | undefined>).PHANTOM_PASSWORD;
    expect(expectOneLineError(await phantom(env, ["whoami"]))).toContain("PHANTOM_PASSWORD");
  });

  test("chat needs a terminal: one line, before anything is unlocked", async () => {
    const home = freshHome();
    writeFileSync(join(home, "identity.json"), JSON.stringify(vectors.identity_vault.identity_json));
    const msg = expectOneLineError(await phantom(userEnv(home, "http://127.0.0.1:9"), ["chat", "alice"]));
    expect(msg).toBe("the interactive client needs a terminal; for scripts use the commands (phantom --help)");
  });

  test("panic never deletes a folder without Phantom's files (a mistyped PHANTOM_HOME)", async () => {
    const home = freshHome();
    writeFileSync(join(home, "notes.txt"), "mine");
    const msg = expectOneLineError(await phantom(userEnv(home, "http://127.0.0.1:9"), ["panic", "--yes"]));
    expect(msg).toBe(`${home} holds no Phantom files (identity.json, state.db, settings.json): not deleted`);
    expect(existsSync(join(home, "notes.txt"))).toBe(true);
  });

  test("panic in a folder that also holds other files: Phantom's files go, the others stay and are named", async () => {
    const home = freshHome();
    writeFileSync(join(home, "settings.json"), "{}");
    writeFileSync(join(home, "notes.txt"), "mine");
    const r = await phantom(userEnv(home, "http://127.0.0.1:9"), ["panic", "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`deleted Phantom's files in ${home} (there were no conversations to burn)\n`);
    expect(r.stderr).toBe(
      `phantom: warning: Phantom's files are deleted, but ${home} also holds 1 other entry, kept: "notes.txt"\n`,
    );
    expect(readdirSync(home)).toEqual(["notes.txt"]);
  });

  test("a corrupt identity.json is named, not replaced", async () => {
    const home = freshHome();
    writeFileSync(join(home, "identity.json"), '{"salt": 1}');
    const msg = expectOneLineError(await phantom(userEnv(home, "http://127.0.0.1:9"), ["whoami"]));
    expect(msg).toContain(join(home, "identity.json"));
    expect(expectOneLineError(await phantom(userEnv(home, "http://127.0.0.1:9"), ["init"]))).toContain(
      "already exists",
    );
  });

  test("the identity written by the Python client (vectors) opens; a wrong password is 'wrong password'", async () => {
    const home = freshHome();
    const v = vectors.identity_vault;
    writeFileSync(join(home, "identity.json"), JSON.stringify(v.identity_json), { mode: 0o600 });
    const env = { ...userEnv(home, "http://127.0.0.1:9"), PHANTOM_PASSWORD: v.password };
    const r = await phantom(env, ["whoami", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()[0]).toMatchObject({ uid: vectors.users[0]!.uid, fingerprint: vectors.users[0]!.fingerprint });
    const bad = await phantom({ ...env, PHANTOM_PASSWORD: "not the password" }, ["whoami"]);
    expect(expectOneLineError(bad)).toBe("wrong password");
    expect(bad.stdout).toBe("");
  });
});

describe("routes", () => {
  test("PHANTOM_TOR=always with no proxy: one-line error, nothing sent", async () => {
    const port = await closedPort();
    const env = userEnv(freshHome(), "http://127.0.0.1:9", {
      PHANTOM_TOR: "always",
      PHANTOM_TOR_PROXY: `127.0.0.1:${port}`,
    });
    const msg = expectOneLineError(await phantom(env, ["init"]));
    expect(msg).toContain("PHANTOM_TOR=always");
    expect(msg).toContain(`127.0.0.1:${port}`);
  });

  test("tor --json: status without a terminal", async () => {
    const port = await closedPort();
    const env = userEnv(freshHome(), "http://127.0.0.1:9", { PHANTOM_TOR_PROXY: `127.0.0.1:${port}` });
    const r = await phantom(env, ["tor", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      mode: "auto",
      proxy: `127.0.0.1:${port}`,
      proxy_up: false,
      relay: "http://127.0.0.1:9",
      route: "direct",
    });
    const human = await phantom(env, ["tor"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("not answering");
  });

  test("a remote relay without Tor, no terminal and no --direct: refused before connecting", async () => {
    const port = await closedPort();
    // 192.0.2.1 (TEST-NET-1) is never reached: the refusal comes first.
    const env = userEnv(freshHome(), "http://192.0.2.1:8787", { PHANTOM_TOR_PROXY: `127.0.0.1:${port}` });
    const msg = expectOneLineError(await phantom(env, ["init"]));
    expect(msg).toContain("--direct");
    expect(msg).toContain("PHANTOM_DIRECT=1");
  });
});
