// The chat screen in a real terminal (tmux): two interactive clients talk while one
// of them is halfway through typing a line, exchange a file with progress, get a
// notice from a third contact, verify and burn. Its capture of the chat is the README's
// picture (docs/screens/chat.txt): compared here, written by `./build.sh screens`.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprintOf } from "../lib/crypto.ts";
import { updateContacts } from "../client/state/contacts.ts";
import { PASSWORD, phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN, type RunningRelay } from "./helpers/relay.ts";
import { checkScreen } from "./helpers/readme-screens.ts";
import { makeUser } from "./helpers/signer.ts";
import { withHomeState } from "./helpers/state.ts";
import { choose, count, enterPassword, selectOptions, TmuxSuite, type Pane } from "./helpers/tmux.ts";

const suite = new TmuxSuite("chat");
const { tmux } = suite;

afterAll(() => suite.stop());

/** Each test's own relay, users and panes: what it needs is set up by the test itself. */
interface World {
  relay: RunningRelay;
  /** The test's folder; the homes are inside. */
  root: string;
  home(name: string): string;
  run(name: string, args: string[]): ReturnType<typeof phantom>;
  alice: { uid: string };
  bob: { uid: string };
  carol: { uid: string; fingerprint: string };
  /** Unlock `name` in a terminal and open the chat with `peer` (tmux session `<tag>-<session>`). */
  openChat(name: string, peer: string, session?: string): Promise<Pane>;
}

let worlds = 0;

/**
 * A fresh relay with alice, bob and carol: alice and bob know each other, carol knows alice
 * (alice learned her from the key-exchange inbox and named her), and bob has written once.
 */
async function world(): Promise<World> {
  const tag = `w${++worlds}`;
  const root = join(suite.root, tag);
  const relay = await suite.relay();
  const home = (name: string) => join(root, name);
  const run = (name: string, args: string[]) => phantom(userEnv(home(name), relay.url), args);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const bob = await demoUser("bob", home("bob"), relay.url);
  const carol = await demoUser("carol", home("carol"), relay.url);
  expect((await run("alice", ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await run("bob", ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  expect((await run("carol", ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  expect((await run("alice", ["accept", carol.uid])).code).toBe(0); // accept step: someone who adds you is a contact request
  expect((await run("alice", ["contacts"])).stdout).toContain(carol.uid); // from alice's key-exchange inbox
  expect((await run("alice", ["nick", carol.uid, "carol"])).code).toBe(0);
  expect((await run("bob", ["send", alice.uid, "hey alice, got a minute?"])).code).toBe(0);
  const openChat = async (name: string, peer: string, session = name): Promise<Pane> => {
    const env = terminalEnv(home(name), relay.url);
    const pane = tmux.start(`${tag}-${session}`, [CLIENT_BIN], { env, cols: 90, rows: 30, cwd: root });
    await enterPassword(pane);
    await pane.waitFor((s) => selectOptions(s).some((o) => o.text.includes("Panic wipe")));
    await choose(pane, "Message a contact");
    await pane.waitFor((s) => selectOptions(s).some((o) => o.text.startsWith(peer)));
    await choose(pane, peer);
    await pane.waitFor("/help for commands, Esc to leave");
    await pane.waitFor((s) => /^›$/m.test(s));
    return pane;
  };
  return { relay, root, home, run, alice, bob, carol, openChat };
}

/** A world where the first test's conversation happened (sent with the CLI), alice and bob in their chats. */
async function afterFirstChat(): Promise<{ w: World; a: Pane; b: Pane }> {
  const w = await world();
  expect((await w.run("alice", ["send", w.bob.uid, "sure, what's up?"])).code).toBe(0);
  expect((await w.run("alice", ["send", w.bob.uid, "brb, making tea"])).code).toBe(0);
  expect((await w.run("bob", ["send", w.alice.uid, "can you send the photos from saturday?"])).code).toBe(0);
  const a = await w.openChat("alice", "bob");
  const b = await w.openChat("bob", "alice");
  return { w, a, b };
}

/** The input line: what the cursor's row shows, and where the cursor is. */
function inputLine(pane: Pane): { line: string; x: number } {
  const c = pane.cursor();
  return { line: c.line, x: c.x };
}

test("two people chat; a message arriving mid-typing leaves the typed line intact", async () => {
  const w = await world();
  const a = await w.openChat("alice", "bob");
  const b = await w.openChat("bob", "alice");
  expect(a.screen()).toContain("not verified (/verify)");
  expect(a.screen()).toContain("direct");
  expect(a.screen()).toMatch(/\[\d\d:\d\d\] bob  hey alice, got a minute\?/); // history

  a.type("sure, what's up?");
  a.keys("Enter");
  await a.waitFor("you  sure, what's up?");
  await b.waitFor("alice  sure, what's up?");

  // Bob is halfway through a line, with the cursor moved back into it.
  const half = "can you send the photos from";
  b.type(half);
  await b.waitFor(`› ${half}`);
  b.keys("Left", "Left", "Left", "Left");
  await b.waitFor(() => inputLine(b).x === 2 + half.length - 4);
  const before = inputLine(b);

  a.type("brb, making tea");
  a.keys("Enter");
  const s = await b.waitFor("alice  brb, making tea");
  const after = inputLine(b);
  expect(after).toEqual(before); // same text, same cursor column
  expect(after.line).toBe(`› ${half}`);
  // The message sits above the input line; nothing is mixed into either.
  const lines = s.split("\n");
  const i = lines.findIndex((l) => l.includes("alice  brb, making tea"));
  expect(lines[i]).toMatch(/^\[\d\d:\d\d\] alice  brb, making tea$/);
  expect(lines[i + 1]).toBe(`› ${half}`);

  // Typing goes on where it was, then the line is sent whole.
  b.keys("End");
  b.type(" saturday?");
  b.keys("Enter");
  await a.waitFor("bob  can you send the photos from saturday?");
  await b.waitFor("you    can you send the photos from saturday?");
  expect(inputLine(b).line).toBe("›");
}, 90_000);

test("/file and /get with progress, asking before overwriting", async () => {
  const { w, a, b } = await afterFirstChat();
  const root = w.root;
  const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) & 0xff);
  const src = join(root, "holiday photo.jpg");
  writeFileSync(src, data);
  a.type(`/file ${src}`);
  a.keys("Enter");
  let s = await a.waitFor("file #1  holiday photo.jpg  (3.0 MB)");
  expect(s).toMatch(/↑ holiday photo\.jpg \[█+\] 100%  3\.0 MB\/3\.0 MB  [\d.]+ [KMG]?B\/s  done/);
  await b.waitFor("alice  file #1  holiday photo.jpg  (3.0 MB)  /get 1");

  b.type("/files");
  b.keys("Enter");
  await b.waitFor(/#1\s+holiday photo\.jpg  3\.0 MB · from alice/);

  const dl = join(root, "downloads");
  mkdirSync(dl);
  b.type(`/get 1 ${dl}`);
  b.keys("Enter");
  s = await b.waitFor(`saved file #1 to ${join(dl, "holiday photo.jpg")}`);
  expect(s).toMatch(/↓ file #1 \[█+\] 100%  3\.0 MB\/3\.0 MB  [\d.]+ [KMG]?B\/s  done/);
  expect(new Uint8Array(readFileSync(join(dl, "holiday photo.jpg")))).toEqual(data);

  // Again: the file exists, so Bob is asked; "n" keeps it.
  writeFileSync(join(dl, "holiday photo.jpg"), "mine");
  b.type(`/get 1 ${dl}`);
  b.keys("Enter");
  await b.waitFor("holiday photo.jpg exists. Overwrite? [y/N]");
  b.type("n");
  b.keys("Enter");
  await b.waitFor("Kept the existing file.");
  expect(readFileSync(join(dl, "holiday photo.jpg"), "utf8")).toBe("mine");
  b.type(`/get 1 ${dl}`);
  b.keys("Enter");
  await b.waitFor((x) => count(x, "exists. Overwrite? [y/N]") === 2);
  b.type("y");
  b.keys("Enter");
  await b.waitFor((x) => count(x, "saved file #1 to") === 2);
  expect(new Uint8Array(readFileSync(join(dl, "holiday photo.jpg")))).toEqual(data);

  writeChatScreenshot(a.screen({ history: true }));
}, 90_000);

test("/help, a notice from another contact, /verify, /burn with two confirmations; Esc leaves", async () => {
  const { w, a, b } = await afterFirstChat();
  const { alice, run } = w;

  a.type("/help");
  a.keys("Enter");
  const help = await a.waitFor("/get <n> [path]");
  for (const cmd of ["/file <path>", "/files", "/burn", "/verify", "/quit"]) expect(help).toContain(cmd);

  // A third contact writes: a notice, not her message.
  expect((await run("carol", ["send", alice.uid, "psst, alice"])).code).toBe(0);
  await a.waitFor("carol wrote (1 new)");
  expect(a.screen()).not.toContain("psst");

  a.type("/verify");
  a.keys("Enter");
  // Bob is pinned to v3 (his first message): the safety code both of them see (PROTOCOL-v3 §V2.1).
  await a.waitFor("Does the safety code match what bob reads to you from their screen? [y/N]");
  expect(a.screen()).toMatch(/(?:[A-Z2-7]{5} ){7}[A-Z2-7]{5}/);
  a.type("y");
  a.keys("Enter");
  await a.waitFor("bob is now verified.");

  a.type("/burn");
  a.keys("Enter");
  await a.waitFor("Delete every message and file with bob from the relay? [y/N]");
  a.keys("Enter"); // default: no
  await a.waitFor("Nothing deleted.");
  a.type("/burn");
  a.keys("Enter");
  await a.waitFor((x) => count(x, "from the relay? [y/N]") === 2);
  a.type("y");
  a.keys("Enter");
  await a.waitFor("This cannot be undone. Type burn to confirm:");
  a.type("burn");
  a.keys("Enter");
  await a.waitFor(/Burned: \d+ stored items deleted from the relay\./);
  // The relay's rows and alice's local history of the conversation are gone (bob keeps his own).
  expect((await run("alice", ["read", "bob", "--json"])).stdout).toBe("");

  a.keys("Escape");
  await a.waitFor("Left the chat with bob.");
  await a.waitFor((s) => selectOptions(s).some((o) => o.text.includes("Panic wipe")));
  await choose(a, "Quit");
  await a.waitFor((x) => x.includes("Quit Phantom?") && /● Yes/.test(x.split("Quit Phantom?").pop()!));
  a.keys("Enter");
  expect(await a.exitCode()).toBe(0);
  b.keys("C-c"); // empty line: Ctrl-C leaves the chat too
  await b.waitFor("Left the chat with alice.");
}, 90_000);

test("a verified contact whose key changed: the chat screen says so and sends nothing, text or file", async () => {
  // As in cli-chat.test.ts: alice's book pins and verifies another key under carol's
  // UID (the only way a pin can differ, a UID committing to its key), then carol announces her
  // real key the normal way. Alice's chat with carol must not encrypt to the new key.
  const { alice, carol, home, root, run, ...w } = await world();
  expect((await run("carol", ["send", alice.uid, "psst, alice"])).code).toBe(0); // carol wrote before
  const other = makeUser();
  const fp = fingerprintOf(other.encPub);
  await withHomeState(home("alice"), PASSWORD, () =>
    updateContacts(home("alice"), (book) => {
      book[carol.uid] = { ...book[carol.uid]!, pub_key: other.pubB64, verified_fp: fp, last_seen_fp: fp };
    }),
  );
  expect((await run("carol", ["add", alice.uid])).code).toBe(0);

  const a = await w.openChat("alice", "carol", "alice-carol");
  let s = await a.waitFor("could not load the history: the key of carol");
  expect(s).toContain("key changed: /verify before you trust it");
  expect(s).toContain(`new fingerprint ${carol.fingerprint.slice(0, 24)}`); // wrapped after that
  a.type("are you really carol?");
  a.keys("Enter");
  await a.waitFor((x) => count(x, "the key of carol (") === 2);
  writeFileSync(join(root, "secret.txt"), "not for a new key");
  a.type(`/file ${join(root, "secret.txt")}`);
  a.keys("Enter");
  s = await a.waitFor((x) => count(x, "the key of carol (") === 3);
  expect(s).not.toContain("you  are you really carol?");
  const carolSees = (await run("carol", ["read", alice.uid, "--json"])).json().map((m) => m.body);
  expect(carolSees).toEqual(["psst, alice"]); // her own message from before, nothing from alice
  a.keys("Escape");
  await a.waitFor("Left the chat with carol.");
  await choose(a, "Quit");
  await a.waitFor((x) => x.includes("Quit Phantom?") && /● Yes/.test(x.split("Quit Phantom?").pop()!));
  a.keys("Enter");
  expect(await a.exitCode()).toBe(0);
}, 90_000);

test("the header says the protocol: v3 once a message went v3, v2 with its reason before", async () => {
  const { alice, ...w } = await world();
  // Bob's first message went v3 by itself (alice's bundle): his chat with alice says so.
  const b = await w.openChat("bob", "alice", "bob-v3");
  const lines = b.screen().split("\n");
  const i = lines.findIndex((l) => l.startsWith(" alice  "));
  expect(lines[i]).toBe(` alice  v3 · forward-secret  ${alice.uid}`);
  expect(lines[i + 1]).toStartWith(" not verified (/verify) · direct");
  // Carol has not written to alice yet: v2 until the first message tries v3.
  const c = await w.openChat("carol", "alice", "carol-v2");
  const theirs = c.screen().split("\n");
  const j = theirs.findIndex((l) => l.startsWith(" alice  "));
  expect(theirs[j]).toBe(` alice  v2 · not forward-secret  ${alice.uid}`);
  expect(theirs[j + 1]).toBe(" v3 is tried at the first message");
  for (const p of [b, c]) {
    p.keys("Escape");
    await p.waitFor("Left the chat with");
  }
}, 90_000);

function writeChatScreenshot(screen: string): void {
  const lines = screen.split("\n");
  const start = lines.findIndex((l) => l.startsWith("─"));
  const text = lines
    .slice(start)
    .join("\n")
    // What changes from run to run: the clock and the measured speed.
    .replace(/\[\d\d:\d\d\]/g, "[09:41]")
    .replace(/  [\d.]+ [KMG]?B\/s  done/g, "  18 MB/s  done");
  checkScreen("chat", text);
}
