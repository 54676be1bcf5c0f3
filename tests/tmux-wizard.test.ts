// The interactive client's first run and unlock, driven in a real terminal (tmux)
// against the compiled binaries: wizard, offline first run, wrong password, NO_COLOR.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PASSWORD, phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { CLIENT_BIN, type RunningRelay } from "./helpers/relay.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { enterPassword, TmuxSuite, type Pane } from "./helpers/tmux.ts";

const suite = new TmuxSuite("wizard");
const { tmux, root } = suite;
let relay: RunningRelay;

beforeAll(async () => {
  relay = await suite.start();
}, 60_000);

afterAll(() => suite.stop(), 60_000);

async function registered(uid: string): Promise<boolean> {
  return (await fetch(`${relay.url}/pubkey/${uid}`)).status === 200;
}

/** Answer the wizard's two password prompts; returns the screen that follows (with the scrollback). */
async function choosePassword(pane: Pane): Promise<string> {
  await pane.waitFor("New password");
  pane.type(PASSWORD);
  pane.keys("Enter");
  await pane.waitFor("Repeat the password");
  pane.type(PASSWORD);
  pane.keys("Enter");
  return await pane.waitFor("Open the menu now?", { history: true });
}

const aliceHome = join(root, "alice");

test("first run: welcome, relay check, Tor, password twice, identity, UID with QR, then the menu", async () => {
  const pane = tmux.start("first", [CLIENT_BIN], { env: terminalEnv(aliceHome, relay.url) });
  let s = await pane.waitFor("New password");
  expect(s).toContain("Welcome to Phantom");
  expect(s).toContain("What Phantom protects");
  expect(s).toContain("your IP address, unless you use Tor");
  expect(s).toContain("proxy: 127.0.0.1:9050");
  expect(s).toContain(`Relay ${relay.url} is up`);

  pane.type("short");
  pane.keys("Enter");
  await pane.waitFor("At least 8 characters");
  pane.keys(...Array(5).fill("BSpace"));
  pane.type("first password");
  pane.keys("Enter");
  await pane.waitFor("Repeat the password");
  pane.type("other password");
  pane.keys("Enter");
  await pane.waitFor("The passwords differ");
  await pane.waitFor((x) => x.split("New password").length === 3); // asked again
  pane.type(PASSWORD);
  pane.keys("Enter");
  await pane.waitFor((x) => x.split("Repeat the password").length === 3);
  pane.type(PASSWORD);
  pane.keys("Enter");

  s = await pane.waitFor("Open the menu now?", { history: true });
  expect(s).toContain("Identity created and registered with the relay.");
  const uid = /copy: ([A-Za-z0-9_-]{28})/.exec(s)?.[1];
  expect(uid).toBeDefined();
  expect(s).toContain(uid!.slice(0, 4).split("").join(" ")); // the large, letter-spaced UID
  expect(s).toMatch(/[▀▄█]{7}/); // the QR code
  expect(s).toContain("Next steps");
  expect(s).toContain("or: phantom add <uid>");
  expect(s).toContain("or: phantom chat <uid>");
  expect(s).toContain(`Your identity lives in ${join(aliceHome, "identity.json")}`);
  expect(s).toContain("Back it up");
  // The UID on screen is the identity on disk, and the relay knows it.
  const who = await phantom(userEnv(aliceHome, relay.url), ["whoami", "--json"]);
  expect(who.json()[0]!.uid).toBe(uid!);
  expect(await registered(uid!)).toBe(true);

  pane.keys("Enter");
  s = await pane.waitFor("Panic wipe");
  expect(s).toContain(`phantom · ${uid} · direct`);
  expect(s).toContain("Message a contact");
  pane.keys("Escape");
  expect(await pane.exitCode()).toBe(0);
}, 60_000);

test("wrong password: told on screen, three tries, then one error line and exit 1", async () => {
  // An identity of its own (the first-run test above makes one the same way, through the wizard).
  const aliceHome = join(root, "wrong");
  await demoUser("alice", aliceHome, relay.url);
  const pane = tmux.start("wrong", [CLIENT_BIN], { env: terminalEnv(aliceHome, relay.url) });
  for (let i = 1; i <= 3; i++) {
    await pane.waitFor((x) => x.split("Password").length === i + 1);
    pane.type(`not the password ${i}`);
    pane.keys("Enter");
    await pane.waitFor((x) => x.split("Wrong password").length === i + 1);
  }
  expect(await pane.exitCode()).toBe(1);
  const s = pane.screen();
  expect(s).toContain("phantom: error: wrong password");
  expect(s).not.toMatch(/\n\s+at /); // no stack trace
}, 60_000);

test("relay down: continue offline, then the identity registers at the next unlock", async () => {
  const home = join(root, "offline");
  const down = "http://127.0.0.1:9"; // discard port: nothing listens
  const pane = tmux.start("offline", [CLIENT_BIN], { env: terminalEnv(home, down) });
  await pane.waitFor("What now?");
  expect(pane.screen()).toContain(`Relay ${down}:`);
  pane.keys("Down", "Down", "Enter"); // Continue offline
  const s = await choosePassword(pane);
  expect(s).toContain("Identity created offline");
  const uid = /copy: ([A-Za-z0-9_-]{28})/.exec(s)![1]!;
  expect(await registered(uid)).toBe(false);
  pane.keys("Right", "Enter"); // Quit
  expect(await pane.exitCode()).toBe(0);
  expect(existsSync(join(home, "identity.json"))).toBe(true);

  const again = tmux.start("online", [CLIENT_BIN], { env: terminalEnv(home, relay.url) });
  await enterPassword(again);
  const menu = await again.waitFor("Panic wipe");
  expect(menu).toContain("now registered with the relay");
  expect(await registered(uid)).toBe(true);
  again.keys("Escape");
  expect(await again.exitCode()).toBe(0);
}, 60_000);

test("relay down: another address typed in the wizard is the one later runs use", async () => {
  const home = join(root, "other-relay");
  const down = "http://127.0.0.1:9";
  const pane = tmux.start("other", [CLIENT_BIN], { env: terminalEnv(home, down) });
  await pane.waitFor("What now?");
  pane.keys("Down", "Enter"); // Use another relay address
  await pane.waitFor("Relay address");
  pane.keys(...Array(down.length).fill("BSpace"));
  pane.type(relay.url);
  pane.keys("Enter");
  await pane.waitFor(`Relay ${relay.url} is up`);
  const s = await choosePassword(pane);
  const uid = /copy: ([A-Za-z0-9_-]{28})/.exec(s)![1]!;
  expect(await registered(uid)).toBe(true);
  pane.keys("Right", "Enter"); // Quit
  expect(await pane.exitCode()).toBe(0);
  // A later run without PHANTOM_RELAY talks to the relay the identity was registered with.
  const { PHANTOM_RELAY: _unset, ...env } = userEnv(home, relay.url);
  expect((await phantom(env, ["whoami", "--json"])).json()[0]!.relay).toBe(relay.url);
}, 60_000);

test("relay check: a hostile relay's version text is shown, never acted on", async () => {
  // Not our relay: a server that answers /health with terminal escapes in the version field
  // (at most 64 characters, as lib/wire allows), as anyone running a relay could.
  const hostile = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      Response.json({
        status: "ok",
        version: "9.9\u001b[2J\u001b]0;pwned\u0007wiped",
        auth_required: false,
        auth_pub: null,
      }),
  });
  try {
    const pane = tmux.start("hostile", [CLIENT_BIN], { env: terminalEnv(join(root, "hostile"), hostile.url.origin) });
    const s = await pane.waitFor("New password");
    expect(s).toContain("Welcome to Phantom"); // not cleared by the relay's \e[2J
    expect(s).toContain(`Relay ${hostile.url.origin} is up (phantom-relay 9.9?[2J?]0;pwned?wiped).`);
    pane.keys("Escape");
    expect(await pane.exitCode()).toBe(0);
  } finally {
    hostile.stop(true);
  }
}, 60_000);

test("NO_COLOR: the wizard writes no colour escape codes", async () => {
  const home = join(root, "nocolor");
  const pane = tmux.start("nocolor", [CLIENT_BIN], { env: terminalEnv(home, relay.url, { NO_COLOR: "1" }) });
  await pane.waitFor("New password");
  const raw = pane.screen({ escapes: true });
  expect(raw).toContain("Welcome to Phantom");
  expect(raw).not.toMatch(/\x1b\[[0-9;]*m/);
  pane.keys("Escape");
  expect(await pane.exitCode()).toBe(0);
}, 60_000);

test("without a terminal, `phantom` alone says so in one line and exits 1", async () => {
  const r = await phantom(userEnv(join(root, "pipe"), relay.url), []);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    "phantom: error: the interactive client needs a terminal; for scripts use the commands (phantom --help)\n",
  );
  expect(existsSync(join(root, "pipe"))).toBe(false); // nothing written
});
