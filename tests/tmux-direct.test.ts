// The interactive client's direct-connection consent, in a real terminal (tmux), against
// the compiled relay listening on an address of this machine that is not loopback: the
// client sees a remote relay, and with PHANTOM_TOR=never the route is direct and needs
// the user's consent. `phantom --direct` and PHANTOM_DIRECT=1 are that consent: the
// question is not asked and the relay is used. Without them the question is asked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN, startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { enterPassword, selectOptions, Tmux, type Pane } from "./helpers/tmux.ts";

/** An IPv4 address of this machine that is not loopback, or null when there is none. */
function outsideAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

const QUESTION = "No Tor: connect directly";
const address = outsideAddress();
const tmux = new Tmux("direct");
const root = tempDir("phantom-tmux-direct-");
let relay: RunningRelay;

beforeAll(async () => {
  if (address === null) return;
  relay = await startRelay({ args: ["--host", address] });
});

afterAll(async () => {
  tmux.kill();
  if (relay) {
    await relay.stop();
    relay.cleanup();
  }
  rmSync(root, { recursive: true, force: true });
});

const atMenu = (s: string) => selectOptions(s).some((o) => o.text.includes("Panic wipe"));

/**
 * A user `name` whom Bob (a script, with PHANTOM_DIRECT=1) has added and written to once;
 * returns the user's home. Each test has its own user, so that each runs alone.
 */
async function userWithMessage(name: string): Promise<string> {
  const home = join(root, name);
  const bobHome = join(root, `bob-of-${name}`);
  const { uid } = await demoUser(name, home, relay.url);
  const bobUid = (await demoUser(`bob-of-${name}`, bobHome, relay.url)).uid;
  const bob = (args: string[]) =>
    phantom(userEnv(bobHome, relay.url, { PHANTOM_TOR: "never", PHANTOM_DIRECT: "1" }), args);
  expect((await bob(["add", uid])).code).toBe(0);
  expect((await bob(["send", uid, "hello over a direct line"])).code).toBe(0);
  const user = (args: string[]) =>
    phantom(userEnv(home, relay.url, { PHANTOM_TOR: "never", PHANTOM_DIRECT: "1" }), args);
  expect((await user(["accept", bobUid])).code).toBe(0); // accept step: someone who adds you is a contact request
  return home;
}

function start(name: string, home: string, argv: string[], extra: Record<string, string> = {}): Pane {
  const env = terminalEnv(home, relay.url, { PHANTOM_TOR: "never", ...extra });
  return tmux.start(name, [CLIENT_BIN, ...argv], { env, cols: 100, rows: 40 });
}

/** Unlocked, the relay answered: Bob's key-exchange notice made him a contact, his message is unread. */
async function expectRelayUsed(pane: Pane): Promise<string> {
  const s = await pane.waitFor((x) => atMenu(x) && x.includes("[1 unread]"));
  expect(s).toContain("added you");
  return s;
}

describe.skipIf(address === null)("direct-connection consent in the interactive client", () => {
  test("the relay address is not loopback: the client needs consent for it", () => {
    expect(relay.url).toStartWith(`http://${address}:`);
  });

  test("phantom --direct: no question, the relay is used", async () => {
    const pane = start("flag", await userWithMessage("dora"), ["--direct"]);
    await enterPassword(pane);
    const s = await expectRelayUsed(pane);
    expect(pane.screen({ history: true })).not.toContain(QUESTION);
    expect(s).not.toContain("not connecting");
    pane.keys("C-c");
  });

  test("PHANTOM_DIRECT=1: no question, the relay is used", async () => {
    const pane = start("env", await userWithMessage("erin"), [], { PHANTOM_DIRECT: "1" });
    await enterPassword(pane);
    await expectRelayUsed(pane);
    expect(pane.screen({ history: true })).not.toContain(QUESTION);
    pane.keys("C-c");
  });

  test("without either, the question is asked; yes uses the relay", async () => {
    const pane = start("ask", await userWithMessage("fred"), []);
    await enterPassword(pane);
    await pane.waitFor((s) => s.includes(QUESTION) && /[●○] Yes \/ [●○] No\s*$/m.test(s));
    pane.keys("Left"); // to Yes (No is the default)
    await pane.waitFor((s) => /● Yes/.test(s.split(QUESTION).pop()!));
    pane.keys("Enter");
    await expectRelayUsed(pane);
    pane.keys("C-c");
  });
});
