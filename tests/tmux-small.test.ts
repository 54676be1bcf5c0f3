// Small things a person notices, in a real terminal (tmux) against the compiled relay: a paste
// keeps its line breaks and is sent as one message, Ctrl-J and Alt-Enter insert a newline, the
// menu does not wrap from its top entry to Quit and asks before quitting, and the nickname prompt
// is not pre-filled with text that typing would append to.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN, type RunningRelay } from "./helpers/relay.ts";
import { choose, enterPassword, selectOptions, TmuxSuite, type Pane } from "./helpers/tmux.ts";

const suite = new TmuxSuite("small");
const { tmux } = suite;

afterAll(() => suite.stop());

let worlds = 0;

/** A fresh relay with alice and bob, who know each other; alice unlocked at the menu (after `before`). */
async function world(
  before?: (w: {
    relay: RunningRelay;
    run: (name: string, args: string[]) => ReturnType<typeof phantom>;
    alice: { uid: string };
    bob: { uid: string };
  }) => Promise<void>,
) {
  const tag = `w${++worlds}`;
  const root = join(suite.root, tag);
  const relay = await suite.relay();
  const home = (name: string) => join(root, name);
  const run = (name: string, args: string[]) => phantom(userEnv(home(name), relay.url), args);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const bob = await demoUser("bob", home("bob"), relay.url);
  expect((await run("alice", ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await run("bob", ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  if (before) await before({ relay, run, alice, bob });
  const pane = tmux.start(`${tag}-alice`, [CLIENT_BIN], {
    env: terminalEnv(home("alice"), relay.url, { TZ: "UTC" }),
    cols: 90,
    rows: 30,
  });
  await enterPassword(pane);
  await pane.waitFor(atMenu);
  return { run, alice, bob, pane, home, relay, relayUrl: relay.url, tag };
}

/** The day as the chat's divider names it: "Tuesday, 1 December 2026" (the panes run with TZ=UTC). */
function dayOf(ts: number): string {
  const d = new Date(ts * 1000);
  const weekday = d.toLocaleDateString("en-GB", { weekday: "long", timeZone: "UTC" });
  const month = d.toLocaleDateString("en-GB", { month: "long", timeZone: "UTC" });
  return `${weekday}, ${d.getUTCDate()} ${month} ${d.getUTCFullYear()}`;
}

const atMenu = (s: string) => selectOptions(s).some((o) => o.text.includes("Panic wipe"));
const active = (s: string) => selectOptions(s).find((o) => o.active)?.text ?? "";

async function openChat(pane: Pane, peer: string): Promise<void> {
  await choose(pane, "Message a contact");
  await pane.waitFor((s) => !atMenu(s) && selectOptions(s).some((o) => o.text.startsWith(peer)));
  await choose(pane, peer);
  await pane.waitFor("/help for commands, Esc to leave");
  await pane.waitFor((s) => /^›/m.test(s));
}

test("chat: a paste keeps its newlines and is ONE message; Ctrl-J and Alt-Enter insert a newline", async () => {
  const { run, alice, pane } = await world();
  await openChat(pane, "bob");
  // tmux pastes with the bracketed-paste markers only when the program asked for them.
  tmux.exec("set-buffer", "-b", "small", "first pasted line\nsecond pasted line\nthird");
  tmux.exec("paste-buffer", "-p", "-b", "small", "-t", pane.name);
  await pane.waitFor("› first pasted line↵second pasted line↵third");
  pane.keys("Enter");
  await pane.waitFor(/you\s+first pasted line\n\s+second pasted line\n\s+third/);
  pane.type("typed");
  pane.keys("C-j");
  pane.type("on two");
  pane.keys("Escape", "Enter"); // Alt-Enter
  pane.type("or three lines");
  await pane.waitFor("› typed↵on two↵or three lines");
  pane.keys("Enter");
  await pane.waitFor(/you\s+typed\n\s+on two\n\s+or three lines/);
  const bodies = (await run("bob", ["read", alice.uid, "--json"])).json().map((m) => m.body);
  expect(bodies).toEqual(["first pasted line\nsecond pasted line\nthird", "typed\non two\nor three lines"]);
  pane.keys("Escape");
  await pane.waitFor("Left the chat with bob.");
}, 90_000);

test("menu: up from the top entry stays there; Quit asks first, and No goes back", async () => {
  const { pane } = await world();
  expect(active(pane.screen())).toContain("Message a contact");
  pane.keys("Up");
  pane.keys("Down");
  // Had Up wrapped to Quit, Down would have wrapped on to the first entry; it moved to the second.
  await pane.waitFor((s) => active(s).includes("Add a contact"));
  pane.keys("Up", "Up", "Up");
  await pane.waitFor((s) => active(s).includes("Message a contact"));
  await choose(pane, "Quit");
  await pane.waitFor((s) => s.includes("Quit Phantom?") && /● Yes/.test(s.split("Quit Phantom?").pop()!));
  pane.keys("Right");
  await pane.waitFor((s) => /● No/.test(s.split("Quit Phantom?").pop()!));
  pane.keys("Enter");
  await pane.waitFor((s) => atMenu(s.split("Quit Phantom?").pop()!));
  await choose(pane, "Quit");
  await pane.waitFor((s) => /● Yes/.test(s.split("Quit Phantom?").pop() ?? ""));
  pane.keys("Enter");
  expect(await pane.exitCode()).toBe(0);
  expect(pane.screen()).toContain("Bye.");
}, 90_000);

test("menu: the nickname prompt shows the current name as a placeholder; typing replaces it", async () => {
  const { run, bob, pane } = await world();
  await choose(pane, "Set nickname");
  await pane.waitFor((s) => !atMenu(s) && selectOptions(s).some((o) => o.text.startsWith("bob")));
  await choose(pane, "bob");
  // Not just "Nickname": "Nickname for whom?" above matches it before the text prompt is up.
  await pane.waitFor("Nickname (Enter keeps the current one)");
  pane.type("Bobby");
  pane.keys("Enter");
  await pane.waitFor("is now Bobby.");
  const contacts = (await run("alice", ["contacts", "--json"])).json();
  expect(contacts.find((c) => c.uid === bob.uid)?.nickname).toBe("Bobby");
}, 90_000);

test("CLI verify on a terminal shows both fingerprints and asks; No leaves the contact unverified", async () => {
  const { run, alice, bob, pane, home, relayUrl, tag } = await world();
  pane.keys("Escape");
  expect(await pane.exitCode()).toBe(0);
  const verified = async () =>
    (await run("alice", ["contacts", "--json"])).json().find((c) => c.uid === bob.uid)?.verified;
  const ask = "Does their fingerprint match what they read to you from their screen? [y/N]";
  const env = userEnv(home("alice"), relayUrl);

  const no = tmux.start(`${tag}-verify-no`, [CLIENT_BIN, "verify", "bob"], { env, cols: 120, rows: 30 });
  let s = await no.waitFor(ask);
  expect(s).toContain(bob.fingerprint);
  expect(s).toContain(alice.fingerprint);
  no.type("n");
  no.keys("Enter");
  expect(await no.exitCode()).toBe(1);
  expect(no.screen()).toContain("phantom: error: not verified");
  expect(await verified()).toBe(false);

  const yes = tmux.start(`${tag}-verify-yes`, [CLIENT_BIN, "verify", "bob"], { env, cols: 120, rows: 30 });
  await yes.waitFor(ask);
  yes.type("y");
  yes.keys("Enter");
  expect(await yes.exitCode()).toBe(0);
  s = yes.screen();
  expect(s).toContain(`verified bob (${bob.uid})`);
  expect(await verified()).toBe(true);
}, 90_000);

test("chat: a divider names the day where it changes between messages", async () => {
  const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
  const { pane } = await world(async ({ relay, run, alice }) => {
    expect((await run("bob", ["send", alice.uid, "an old message"])).code).toBe(0);
    // The relay's clock is not ours to set: its stored row is moved two days back.
    const file = readdirSync(relay.dataDir).find((f) => f.endsWith(".db"));
    const db = new Database(join(relay.dataDir, file!));
    db.run("UPDATE messages SET ts = ? WHERE seq = (SELECT MIN(seq) FROM messages)", [twoDaysAgo]);
    db.close();
    expect((await run("bob", ["send", alice.uid, "a new message"])).code).toBe(0);
  });
  await openChat(pane, "bob");
  const today = dayOf(Math.floor(Date.now() / 1000));
  const s = await pane.waitFor("a new message");
  const lines = s.split("\n");
  const at = (text: string) => lines.findIndex((l) => l.includes(text));
  expect(at(`──── ${dayOf(twoDaysAgo)} ────`)).toBeGreaterThan(-1);
  expect(at(`──── ${dayOf(twoDaysAgo)} ────`)).toBeLessThan(at("an old message"));
  expect(at(`──── ${today} ────`)).toBeGreaterThan(at("an old message"));
  expect(at(`──── ${today} ────`)).toBeLessThan(at("a new message"));
  // Live, on the same day: no divider.
  pane.type("and one more today");
  pane.keys("Enter");
  const after = await pane.waitFor(/you\s+and one more today/);
  expect(after.split(`──── ${today} ────`).length).toBe(2);
}, 90_000);
