// `phantom startup` and `phantom usb` with the compiled client: the login entry points at the
// binary that made it; a bundle made without a release holds this binary, launchers and a copy
// of the encrypted state, and the bundle alone (other HOME, no PHANTOM_HOME) is the same person:
// same UID, same contacts, sends to them through the real relay. (The bundle with the release's
// other platforms is in update.test.ts, which has a signed release to serve.)
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { expectOneLineError, phantom, runProgram, userEnv, type Run } from "./helpers/cli.ts";
import { CLIENT_BIN, startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";

setDefaultTimeout(60_000);
const HOST = `${process.platform}-${process.arch}`;

const root = tempDir("phantom-usb-");
let relay: RunningRelay;
let aliceEnv: Record<string, string>;
let bobEnv: Record<string, string>;
let aliceUid = "";

async function ok(env: Record<string, string>, args: string[]): Promise<Run> {
  const r = await phantom(env, args);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

beforeAll(async () => {
  relay = await startRelay();
  const home = (name: string) => {
    const h = join(root, name);
    fs.mkdirSync(h, { mode: 0o700 });
    return h;
  };
  aliceEnv = userEnv(home("alice"), relay.url);
  bobEnv = userEnv(home("bob"), relay.url);
  aliceUid = (await ok(aliceEnv, ["init", "--json"])).json()[0]!.uid as string;
  const bobUid = (await ok(bobEnv, ["init", "--json"])).json()[0]!.uid as string;
  await ok(aliceEnv, ["add", bobUid, "--nick", "bob"]);
  await ok(bobEnv, ["add", aliceUid, "--nick", "alice"]);
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("phantom startup", () => {
  test("enable writes an XDG autostart entry that starts this binary; status; disable removes it", async () => {
    const env = { ...aliceEnv, XDG_CONFIG_HOME: join(root, "xdg") };
    const file = join(root, "xdg/autostart/phantom.desktop");
    expect((await ok(env, ["startup", "status", "--json"])).json()[0]).toEqual({ startup: "disabled", file });
    expect((await ok(env, ["startup", "enable"])).stdout).toBe(
      `startup: enabled (${file} starts ${CLIENT_BIN} at login)\n`,
    );
    const entry = fs.readFileSync(file, "utf8");
    expect(entry).toContain(`\nExec=env "PHANTOM_HOME=${aliceEnv.PHANTOM_HOME}" ${CLIENT_BIN}\n`);
    expect(entry).toContain("\nTerminal=true\n");
    expect((await ok(env, ["startup", "status", "--json"])).json()[0]).toEqual({ startup: "enabled", file });
    expect((await ok(env, ["startup", "disable"])).stdout).toBe(`startup: disabled (removed ${file})\n`);
    expect(fs.existsSync(file)).toBe(false);
  });

  test("an unknown action is one line", async () => {
    expect(expectOneLineError(await phantom(aliceEnv, ["startup", "sometimes"]))).toMatch(/sometimes/);
  });
});

describe("phantom usb", () => {
  test("without an update URL: this binary, launchers, the state; the bundle alone is the same person", async () => {
    const folder = join(root, "stick");
    fs.mkdirSync(folder);
    fs.writeFileSync(join(folder, "holiday.jpg"), "other files on the stick stay");
    const r = await ok(aliceEnv, ["usb", folder, "--json"]);
    expect(r.json()[0]).toEqual({ usb: folder, version: expect.any(String), release: null, platforms: [HOST] });
    expect(r.stderr).toContain("phantom: warning: ");
    expect(r.stderr).toContain("holds your identity and contacts, encrypted with your password");

    expect(fs.readdirSync(folder).sort()).toEqual(
      ["README.txt", "bin", "holiday.jpg", "home", "run-linux.sh", "run-macos.sh", "run-windows.bat"].sort(),
    );
    const bin = join(folder, `bin/phantom-${HOST}`);
    expect(fs.readFileSync(bin).equals(fs.readFileSync(CLIENT_BIN))).toBe(true);
    expect(fs.statSync(join(folder, "home")).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(join(folder, "home"))) {
      expect(fs.statSync(join(folder, "home", f)).mode & 0o777).toBe(0o600);
      if (f === "state.db") continue; // a snapshot (VACUUM INTO), not a byte copy: the same rows, still sealed
      expect(fs.readFileSync(join(folder, "home", f)).equals(fs.readFileSync(join(aliceEnv.PHANTOM_HOME!, f)))).toBe(
        true,
      );
    }
    expect(fs.existsSync(join(folder, "home/state.db"))).toBe(true);
    expect(fs.existsSync(join(folder, "home/state.db-wal"))).toBe(false);
    expect(fs.existsSync(join(folder, "home/identity.json"))).toBe(true);
    expect(fs.existsSync(join(folder, "home/state.lock"))).toBe(false);
    expect(fs.readFileSync(join(folder, "run-windows.bat"), "utf8")).toContain(
      'set "PHANTOM_HOME=%~dp0home"\r\n"%~dp0bin\\phantom-windows-x64.exe" %*\r\n',
    );
    expect(fs.readFileSync(join(folder, "README.txt"), "utf8")).toContain("WARNING: home/ holds your identity");

    // The bundle alone: another HOME, no PHANTOM_HOME; started with sh as a FAT stick needs.
    const { PHANTOM_HOME: _h, ...rest } = aliceEnv;
    const away = { ...rest, HOME: join(root, "elsewhere") };
    const who = await runProgram(["sh", join(folder, "run-linux.sh"), "whoami", "--json"], away);
    expect(who.code).toBe(0);
    expect(who.json()[0]!.uid).toBe(aliceUid);
    const sent = await runProgram(["sh", join(folder, "run-linux.sh"), "send", "bob", "from the stick"], away);
    expect(sent.code).toBe(0);
    const read = await ok(bobEnv, ["read", "alice", "--json"]);
    expect(read.json().map((m) => m.body)).toContain("from the stick");
    expect(fs.existsSync(join(root, "elsewhere/.phantom"))).toBe(false);
  });

  test("a binary without execute permission (a FAT stick) runs from a private copy", async () => {
    const folder = join(root, "fat");
    await ok(aliceEnv, ["usb", folder]);
    fs.chmodSync(join(folder, `bin/phantom-${HOST}`), 0o644);
    const { PHANTOM_HOME: _h, ...rest } = aliceEnv;
    const who = await runProgram(["sh", join(folder, "run-linux.sh"), "whoami", "--json"], {
      ...rest,
      TMPDIR: join(root),
    });
    expect(who.code).toBe(0);
    expect(who.json()[0]!.uid).toBe(aliceUid);
    expect(fs.readdirSync(root).filter((n) => n.startsWith("phantom-usb."))).toEqual([]); // copy removed
  });

  test("a folder that already has a bundle is refused and left as it was", async () => {
    const folder = join(root, "twice");
    await ok(aliceEnv, ["usb", folder]);
    const before = fs.readFileSync(join(folder, "run-linux.sh"));
    expect(expectOneLineError(await phantom(aliceEnv, ["usb", folder]))).toBe(
      `${folder} already has bin, home, run-linux.sh, run-macos.sh, run-windows.bat, README.txt: choose an empty folder (nothing was changed)`,
    );
    expect(fs.readFileSync(join(folder, "run-linux.sh")).equals(before)).toBe(true);
  });

  test("no identity, or a file in the way, is one line and writes nothing", async () => {
    const empty = join(root, "nobody");
    fs.mkdirSync(empty, { mode: 0o700 });
    const folder = join(root, "nobody-stick");
    expect(expectOneLineError(await phantom({ ...aliceEnv, PHANTOM_HOME: empty }, ["usb", folder]))).toBe(
      `no identity in ${empty}: run 'phantom init' first`,
    );
    expect(fs.existsSync(folder)).toBe(false);
    const file = join(root, "a-file");
    fs.writeFileSync(file, "x");
    expect(expectOneLineError(await phantom(aliceEnv, ["usb", file]))).toBe(`${file} exists and is not a folder`);
  });
});
