// Panic finishes what it starts: with more contacts than the relay's burn limit (PROTOCOL §7.7),
// the first panic burns what the relay allows, deletes everything else and keeps a sealed burn
// list (0600, no key in the clear); every start says what is left; `phantom panic --finish`
// burns the rest once the window has passed, and the list is gone. The relay has an auth key,
// so the burns left to --finish use the stored §7.7 burn key. On a terminal (tmux): a mistyped
// password is asked again, panic waits for the relay's window with a countdown, and the menu's
// wipe clears the screen and its scrollback.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64encode, b64uencode, hexencode } from "../lib/encoding.ts";
import { client } from "./helpers/clients.ts";
import { within } from "./helpers/deadline.ts";
import { expectOneLineError, phantom, PASSWORD, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoIdentity, demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { choose, enterPassword, selectOptions, TmuxSuite, type Pane } from "./helpers/tmux.ts";
import { makeUser, register } from "./helpers/signer.ts";

/** The relay's window, short for the test: long enough that ten burns in a row fall in one window. */
const WINDOW_S = 8;
const LIMIT = 10;
const PEERS = 12;
const AUTH_PRIV = Buffer.alloc(32, 9);

let relay: RunningRelay;
const root = tempDir("phantom-panic-finish-");

beforeAll(async () => {
  relay = await startRelay({
    args: ["--burn-limit", String(LIMIT), "--burn-window", String(WINDOW_S)],
    env: { PHANTOM_AUTH_PRIV_B64: AUTH_PRIV.toString("base64") },
  });
});

const suite = new TmuxSuite("panic");
const { tmux } = suite;

afterAll(async () => {
  await relay.stop();
  relay.cleanup();
  await suite.stop();
}, 60_000);

/** All the ways a key could be written in the clear. */
function spellings(key: Uint8Array): string[] {
  return [b64encode(key), b64uencode(key), hexencode(key), b64encode(key).replace(/=+$/, "")];
}

test(`more contacts than the burn limit: panic burns ${LIMIT}, keeps a sealed list, --finish burns the rest`, async () => {
  const home = join(root, "alice");
  const env = userEnv(home, relay.url);
  const alice = await demoUser("alice", home, relay.url);
  const aliceId = demoIdentity("alice");
  const peers = Array.from({ length: PEERS }, () => makeUser());
  const rooms: string[] = [];
  for (const p of peers) {
    expect((await register(relay.url, p)).status).toBe(200);
    expect((await phantom(env, ["add", p.uid])).code).toBe(0);
    const { roomId, sessionKey } = c.pairKeys(p, aliceId.encPub);
    await client(relay.url, p).send(roomId, c.encryptMessage(sessionKey, "hello"));
    rooms.push(roomId);
  }
  const stored = async () =>
    (await Promise.all(peers.map((p, i) => client(relay.url, p).fetch(rooms[i]!)))).map((m) => m.length);
  expect(await stored()).toEqual(peers.map(() => 1));

  // The first panic: the relay allows LIMIT burns; the rest stays in the sealed burn list.
  const first = await phantom(env, ["panic", "--yes"]);
  expect(expectOneLineError(first)).toBe(
    `${PEERS - LIMIT} of ${PEERS} conversations still on the relay: run phantom panic --finish`,
  );
  expect(first.stdout).toContain(
    `burned ${LIMIT} of ${PEERS} conversations; deleted ${home} except the sealed burn list`,
  );
  expect((await stored()).filter((n) => n === 0).length).toBe(LIMIT);
  // The sealed list, and the lock file its updates take (client/state/lock.ts): nothing else.
  expect(readdirSync(home).sort()).toEqual(["burn-list.json", "state.lock"]);
  const listPath = join(home, "burn-list.json");
  expect(statSync(listPath).mode & 0o777).toBe(0o600);
  expect(statSync(home).mode & 0o777).toBe(0o700);
  const text = readFileSync(listPath, "utf8");
  const authPub = c.x25519Public(new Uint8Array(AUTH_PRIV));
  const burnKey = c.burnAuthKey(aliceId.encPriv, authPub, alice.uid);
  for (const key of [aliceId.signSeed, aliceId.encPriv, burnKey]) {
    for (const s of spellings(key)) expect(text).not.toContain(s);
  }
  for (const room of rooms) expect(text).not.toContain(room);
  expect(text).not.toContain(alice.uid);
  expect(text).not.toContain(relay.url);
  expect(JSON.parse(text).left).toBe(PEERS - LIMIT);

  // Any start says what is left and how to finish.
  const whoami = await phantom(env, ["whoami"]);
  expect(whoami.stderr).toContain(
    `phantom: warning: a panic left ${PEERS - LIMIT} conversations on the relay: run phantom panic --finish`,
  );

  // The interactive client says it too, before anything else.
  const menu = tmux.start("notice", [CLIENT_BIN], { env: terminalEnv(home, relay.url), cols: 150, rows: 30 });
  await menu.waitFor(`a panic left ${PEERS - LIMIT} conversations on the relay: run phantom panic --finish`, {
    history: true,
  });
  tmux.exec("kill-session", "-t", "notice"); // the wizard behind it is not what this test is about

  // A second plain panic points to --finish and leaves the list alone.
  const again = await phantom(env, ["panic", "--yes"]);
  expect(expectOneLineError(again)).toBe(
    `an earlier panic left ${PEERS - LIMIT} conversations still on the relay: run phantom panic --finish`,
  );
  expect(readFileSync(listPath, "utf8")).toBe(text);

  // A wrong password opens nothing and changes nothing.
  const wrong = await phantom({ ...env, PHANTOM_PASSWORD: "not the password" }, ["panic", "--finish"]);
  expect(expectOneLineError(wrong)).toBe("wrong password");
  expect(readFileSync(listPath, "utf8")).toBe(text);

  // --finish until the relay's window has passed: a run refused with 429 keeps the list.
  const deadline = Date.now() + (WINDOW_S + 30) * 1000;
  let done = null;
  const seen: string[] = [];
  while (done === null) {
    const r = await phantom(env, ["panic", "--finish"]);
    seen.push(`${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`);
    if (r.code === 0) done = r;
    else {
      expect(expectOneLineError(r)).toBe(
        `${PEERS - LIMIT} of ${PEERS - LIMIT} conversations still on the relay: run phantom panic --finish`,
      );
      expect(existsSync(listPath)).toBe(true);
      if (Date.now() > deadline) throw new Error(`panic --finish never finished:\n${seen.join("\n")}`);
      await Bun.sleep(1000);
    }
  }
  expect(done.stdout).toContain(`burned ${PEERS - LIMIT} conversations; the burn list is deleted`);
  expect(existsSync(home)).toBe(false);
  expect(await stored()).toEqual(peers.map(() => 0));

  // Nothing left: no notice, and --finish says there is nothing to do.
  const after = await phantom(env, ["panic", "--finish"]);
  expect(after.code).toBe(0);
  expect(after.stdout).toContain("nothing to finish");
  expect(after.stderr).toBe("");
}, 120_000);

let worlds = 0;

/** A terminal test's own users on `url`: alice (fixed keys) knows `n` peers, each of whom wrote once. */
async function terminalWorld(url: string, n: number) {
  const tag = `t${++worlds}`;
  const home = join(suite.root, tag, "alice");
  const name = `alice-${tag}`;
  await demoUser(name, home, url);
  const aliceId = demoIdentity(name);
  const peers = Array.from({ length: n }, () => makeUser());
  const rooms: string[] = [];
  for (const p of peers) {
    expect((await register(url, p)).status).toBe(200);
    expect((await phantom(userEnv(home, url), ["add", p.uid])).code).toBe(0);
    const { roomId, sessionKey } = c.pairKeys(p, aliceId.encPub);
    await client(url, p).send(roomId, c.encryptMessage(sessionKey, "hello"));
    rooms.push(roomId);
  }
  const stored = async () =>
    (await Promise.all(peers.map((p, i) => client(url, p).fetch(rooms[i]!)))).map((m) => m.length);
  const start = (name: string, argv: string[]) =>
    tmux.start(`${tag}-${name}`, argv, { env: terminalEnv(home, url), cols: 150, rows: 30 });
  return { home, stored, start, uid: c.uidOf(aliceId.encPub) };
}

test("panic on a terminal: a mistyped password is asked again, then the right one burns", async () => {
  const { home, stored, start } = await terminalWorld(relay.url, 1);
  const pane = start("retry", [CLIENT_BIN, "panic"]);
  await pane.waitFor("Burn every conversation");
  pane.type("y");
  pane.keys("Enter");
  await pane.waitFor("Password (Enter alone");
  pane.type("not the password");
  pane.keys("Enter");
  await pane.waitFor("phantom: warning: wrong password, try again (2 more; Enter alone: delete without burning)");
  expect(existsSync(join(home, "identity.json"))).toBe(true);
  await pane.waitFor((s) => s.split("try again").pop()!.includes("Password (Enter alone"));
  pane.type(PASSWORD);
  pane.keys("Enter");
  expect(await pane.exitCode()).toBe(0);
  expect(pane.screen({ history: true })).toContain(`burned 1 conversation; deleted ${home}`);
  expect(existsSync(home)).toBe(false);
  expect(await stored()).toEqual([0]);
}, 60_000);

test("panic on a terminal waits for the relay's burn window with a countdown, then burns the rest", async () => {
  const slow = await startRelay({ args: ["--burn-limit", "1", "--burn-window", "3"] });
  try {
    const { home, stored, start } = await terminalWorld(slow.url, 2);
    const pane = start("wait", [CLIENT_BIN, "panic", "--yes"]);
    await enterPassword(pane);
    await pane.waitFor(/the relay's burn limit: 1 of 2 burned, 1 left; next try in 0:0\d/);
    const code = await pane.exitCode(30_000);
    expect(pane.screen({ history: true })).toContain(`burned 2 conversations; deleted ${home}`);
    expect(code).toBe(0);
    expect(existsSync(home)).toBe(false);
    expect(await stored()).toEqual([0, 0]);
  } finally {
    await slow.stop();
    slow.cleanup();
  }
}, 90_000);

test("panic --finish on a terminal: a mistyped password is asked again; Ctrl-C while it waits keeps the list", async () => {
  const slow = await startRelay({ args: ["--burn-limit", "1", "--burn-window", "600"] });
  try {
    const { home, stored, start } = await terminalWorld(slow.url, 2);
    const first = await phantom(userEnv(home, slow.url), ["panic", "--yes"]);
    expect(expectOneLineError(first)).toBe("1 of 2 conversations still on the relay: run phantom panic --finish");
    const list = readFileSync(join(home, "burn-list.json"), "utf8");
    const pane = start("finish", [CLIENT_BIN, "panic", "--finish"]);
    await pane.waitFor("Password (to burn the 1 conversation left on the relay):");
    pane.type("not the password");
    pane.keys("Enter");
    await pane.waitFor("phantom: warning: wrong password, try again");
    await pane.waitFor((s) => s.split("try again").pop()!.includes("Password (to burn"));
    pane.type(PASSWORD);
    pane.keys("Enter");
    await pane.waitFor(/the relay's burn limit: 0 of 1 burned, 1 left; next try in (9|10):\d\d/);
    pane.keys("C-c"); // the terminal's SIGINT ends the pane's shell too: the pane closes
    await within(
      (async () => {
        for (;;) {
          try {
            pane.screen();
          } catch {
            return;
          }
          await Bun.sleep(100);
        }
      })(),
      15_000,
      () => `panic --finish still runs after Ctrl-C:\n${pane.screen()}`,
    );
    expect(readFileSync(join(home, "burn-list.json"), "utf8")).toBe(list);
    expect((await stored()).sort()).toEqual([0, 1]);
  } finally {
    await slow.stop();
    slow.cleanup();
  }
}, 90_000);

/** Answer the yes/no question at the bottom (clack confirm). */
async function answerYes(pane: Pane, question: string): Promise<void> {
  await pane.waitFor((s) => s.includes(question) && /[●○] Yes \/ [●○] No\s*$/m.test(s));
  if (!/● Yes/.test(pane.screen().split(question).pop()!)) pane.keys("Left");
  await pane.waitFor((s) => /● Yes/.test(s.split(question).pop()!));
  pane.keys("Enter");
}

test("the menu's panic wipe clears the screen and its scrollback", async () => {
  const { home, start, uid } = await terminalWorld(relay.url, 1);
  const pane = start("menu", [CLIENT_BIN]);
  await enterPassword(pane);
  await pane.waitFor((s) => selectOptions(s).some((o) => o.text.includes("Panic wipe")));
  expect(pane.screen({ history: true })).toContain(uid);
  await choose(pane, "Panic wipe");
  await answerYes(pane, "Wipe everything?");
  await pane.waitFor("Type WIPE to confirm");
  pane.type("WIPE");
  pane.keys("Enter");
  expect(await pane.exitCode()).toBe(0);
  const all = pane.screen({ history: true });
  expect(all).toContain("identity deleted");
  for (const gone of [uid, "PANIC WIPE", "Wipe everything?", "Type WIPE"]) expect(all).not.toContain(gone);
  expect(existsSync(home)).toBe(false);
}, 60_000);
