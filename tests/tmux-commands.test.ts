// Commands that need a terminal, driven in tmux against the compiled binaries:
// `phantom chat <uid>` opens the chat screen straight away; send --file and get show a
// progress bar on a terminal; `phantom panic` asks, then
// burns with the password, or with Enter alone deletes the home without burning.
import { afterAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PASSWORD, phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN } from "./helpers/relay.ts";
import { relayRowCount } from "./helpers/relay-rows.ts";
import { enterPassword, TmuxSuite, type PaneOptions } from "./helpers/tmux.ts";

const suite = new TmuxSuite("commands");
const { tmux } = suite;

afterAll(() => suite.stop(), 60_000);

let worlds = 0;

/**
 * Each test's own relay and users: alice knows bob (added with the CLI), bob learned alice
 * from his key-exchange inbox and wrote "are you there?". Tmux sessions are named `<tag>-<name>`.
 */
async function world() {
  const tag = `w${++worlds}`;
  const root = join(suite.root, tag);
  const relay = await suite.relay();
  const home = (name: string) => join(root, name);
  const run = (name: string, args: string[]) => phantom(userEnv(home(name), relay.url), args);
  /** A terminal user's environment: no password variable. */
  const termEnv = (name: string) => terminalEnv(home(name), relay.url);
  const start = (name: string, argv: string[], o: PaneOptions = {}) => tmux.start(`${tag}-${name}`, argv, o);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const bob = await demoUser("bob", home("bob"), relay.url);
  expect((await run("alice", ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await run("bob", ["accept", alice.uid])).code).toBe(0); // accept step: someone who adds you is a contact request
  expect((await run("bob", ["contacts"])).stdout).toContain(alice.uid); // from bob's key-exchange inbox
  expect((await run("bob", ["send", alice.uid, "are you there?"])).code).toBe(0);
  mkdirSync(root, { recursive: true });
  return { relay, root, home, run, termEnv, start, alice, bob };
}

test("phantom chat <nickname>: unlock, the conversation, send, Esc ends the program", async () => {
  const { alice, run, start, termEnv } = await world();
  const pane = start("chat", [CLIENT_BIN, "chat", "bob"], { env: termEnv("alice"), cols: 90, rows: 30 });
  await enterPassword(pane);
  await pane.waitFor("/help for commands, Esc to leave");
  await pane.waitFor((s) => s.includes("are you there?") && /^›$/m.test(s));
  pane.type("yes, here");
  pane.keys("Enter");
  await pane.waitFor(/you\s+yes, here/);
  pane.keys("Escape");
  expect(await pane.exitCode()).toBe(0);
  const read = (await run("bob", ["read", alice.uid, "--json"])).json();
  expect(read.map((m) => m.body)).toEqual(["are you there?", "yes, here"]);
}, 60_000);

test("send --file and get on a terminal: a progress bar that ends at 100 % with the speed", async () => {
  const { alice, home, relay, root, start } = await world();
  const data = new Uint8Array(300_000).map((_, i) => i % 251);
  writeFileSync(join(root, "big.bin"), data);
  const env = userEnv(home("alice"), relay.url); // the password from the environment: no prompt
  const up = start("upload", [CLIENT_BIN, "send", "bob", "--file", join(root, "big.bin")], { env, cwd: root });
  expect(await up.exitCode()).toBe(0);
  const s = up.screen({ history: true });
  expect(s).toMatch(/uploading \[█+\] 100% {2}293 KB\/293 KB {2}\S+ \S*B\/s {2}done/);
  expect(s).toContain("sent file 1: big.bin (293 KB)");
  const dl = join(root, "dl.bin");
  const down = start("download", [CLIENT_BIN, "get", alice.uid, "1", dl], {
    env: userEnv(home("bob"), relay.url),
  });
  expect(await down.exitCode()).toBe(0);
  expect(down.screen({ history: true })).toMatch(/downloading \[█+\] 100% {2}293 KB\/293 KB .*done/);
  expect(Buffer.from(readFileSync(dl)).equals(data)).toBe(true);
}, 60_000);

test("phantom panic on a terminal: Enter alone at the password deletes without burning; the password burns", async () => {
  // What the two tests above left on the relay: alice's answer and her file.
  const { alice, home, relay, root, run, start, termEnv } = await world();
  expect((await run("alice", ["send", "bob", "yes, here"])).code).toBe(0);
  writeFileSync(
    join(root, "big.bin"),
    new Uint8Array(300_000).map((_, i) => i % 251),
  );
  expect((await run("alice", ["send", "bob", "--file", join(root, "big.bin")])).code).toBe(0);
  cpSync(home("alice"), home("alice-copy"), { recursive: true });
  // What the relay holds of the conversation (bob's `read` shows his local v3 history too).
  const stored = () => relayRowCount(home("bob"), relay.url, alice.uid);

  const skip = start("panic-skip", [CLIENT_BIN, "panic"], { env: termEnv("alice"), cols: 150, rows: 30 });
  await skip.waitFor(`Burn every conversation and delete ${home("alice")}`);
  skip.type("y");
  skip.keys("Enter");
  await skip.waitFor("Password (Enter alone: delete without burning the relay's copies):");
  skip.keys("Enter");
  expect(await skip.exitCode()).toBe(1);
  const s = skip.screen({ history: true }).replace(/\n/g, " ");
  expect(s).toContain("no password given: the conversations cannot be burned on the relay");
  expect(s).toContain(`deleted ${home("alice")}; nothing was burned on the relay`);
  // Without the password the sealed contact list cannot be read: how many stay is not known.
  expect(s).toContain("phantom: error: the conversations stay on the relay until they expire");
  expect(existsSync(home("alice"))).toBe(false);
  expect(await stored()).toBe(3); // "are you there?", "yes, here", big.bin

  const burn = start("panic-burn", [CLIENT_BIN, "panic"], { env: termEnv("alice-copy"), cols: 150, rows: 30 });
  await burn.waitFor("Burn every conversation");
  burn.type("y");
  burn.keys("Enter");
  await burn.waitFor("Password (Enter alone");
  burn.type(PASSWORD);
  burn.keys("Enter");
  expect(await burn.exitCode()).toBe(0);
  expect(burn.screen({ history: true })).toContain(`burned 1 conversation; deleted ${home("alice-copy")}`);
  expect(existsSync(home("alice-copy"))).toBe(false);
  expect(await stored()).toBe(0);
  // Bob's own local history is his and stays: what he sent (he never fetched alice's answers).
  const kept = (await run("bob", ["read", alice.uid, "--json"])).json().map((m) => m.body);
  expect(kept).toEqual(["are you there?"]);
}, 60_000);
