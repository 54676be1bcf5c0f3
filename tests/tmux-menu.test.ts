// Unlock and every menu entry of the interactive client, in a real terminal (tmux),
// against the compiled relay. Alice uses the menu; Bob is a script (the CLI).
// Its capture of the menu is the README's picture (docs/screens/menu.txt): compared here,
// written by `./build.sh screens`.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN } from "./helpers/relay.ts";
import { checkScreen } from "./helpers/readme-screens.ts";
import { choose, enterPassword, selectOptions, TmuxSuite, type Pane } from "./helpers/tmux.ts";

const suite = new TmuxSuite("menu");
const { tmux } = suite;

afterAll(() => suite.stop());

let worlds = 0;

/**
 * Each test's own relay and users. Alice has a fixed message of the day (so that the
 * screenshot is the same on every run) and already knows Bob (added with the CLI); Bob has
 * written once. `unlock()` starts the interactive client as alice (tmux session `<tag>-<name>`).
 */
async function world() {
  const tag = `w${++worlds}`;
  const root = join(suite.root, tag);
  const aliceHome = join(root, "alice");
  const bobHome = join(root, "bob");
  const relay = await suite.relay();
  const alice = await demoUser("alice", aliceHome, relay.url);
  const bob = await demoUser("bob", bobHome, relay.url);
  const carol = await demoUser("carol", join(root, "carol"), relay.url);
  const aliceRun = (args: string[]) => phantom(userEnv(aliceHome, relay.url), args);
  const bobRun = (args: string[]) => phantom(userEnv(bobHome, relay.url), args);
  expect((await aliceRun(["settings", "motd", "custom"])).code).toBe(0);
  expect((await aliceRun(["settings", "motd-add", "Keep calm and compare fingerprints."])).code).toBe(0);
  expect((await aliceRun(["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await bobRun(["accept", alice.uid])).code).toBe(0); // accept step: someone who adds you is a contact request
  expect((await bobRun(["contacts"])).stdout).toContain(alice.uid);
  expect((await bobRun(["send", alice.uid, "hello alice"])).code).toBe(0);
  const unlock = async (name: string): Promise<Pane> => {
    const env = terminalEnv(aliceHome, relay.url);
    const pane = tmux.start(`${tag}-${name}`, [CLIENT_BIN], { env, cols: 100, rows: 40 });
    await enterPassword(pane);
    await pane.waitFor(atMenu);
    return pane;
  };
  return { relay, aliceHome, bobHome, alice, bob, carol, bobRun, aliceRun, unlock };
}

/** The main menu is the prompt at the bottom of the screen. */
const atMenu = (s: string) => selectOptions(s).some((o) => o.text.includes("Panic wipe"));
const active = (s: string) => selectOptions(s).find((o) => o.active)?.text ?? "";

/** Pick the contact whose line contains `label` in the contact list that opens. */
async function pickContact(pane: Pane, label: string): Promise<void> {
  await pane.waitFor((s) => !atMenu(s) && selectOptions(s).some((o) => o.text.includes(label)));
  await choose(pane, label);
}

/** Answer the yes/no question at the bottom (clack confirm). */
async function answer(pane: Pane, question: string, yes: boolean): Promise<void> {
  await pane.waitFor((s) => s.includes(question) && /[●○] Yes \/ [●○] No\s*$/m.test(s));
  const yesActive = /● Yes/.test(pane.screen().split(question).pop()!);
  if (yes !== yesActive) pane.keys(yes ? "Left" : "Right");
  await pane.waitFor((s) => (yes ? /● Yes/ : /● No/).test(s.split(question).pop()!));
  pane.keys("Enter");
}

function writeScreenshot(screen: string): void {
  const lines = screen.split("\n");
  const start = lines.findIndex((l) => l.startsWith("┌  phantom"));
  const end = lines.findLastIndex((l) => l.includes("↑/↓ choose"));
  checkScreen("menu", lines.slice(start, end + 1).join("\n"));
}

test("unlock, then every menu entry", async () => {
  const { aliceHome, alice, bob, carol, bobRun, aliceRun, unlock } = await world();
  const pane = await unlock("alice");
  let s = pane.screen();
  expect(s).toContain("Keep calm and compare fingerprints.");
  expect(s).toContain(`phantom · ${alice.uid} · direct`);
  expect(s).toContain("[1 unread]");
  expect(s).toContain("|/\\/\\ /\\/\\|"); // the default mascot (ghost) beside the menu
  expect(active(s)).toContain("Message a contact");

  // Bob writes again: the badge updates by itself (background refresh) and the
  // highlighted entry does not move.
  pane.keys("Down", "Down");
  await pane.waitFor((x) => active(x).includes("Contacts"));
  pane.keys("Up", "Up");
  await pane.waitFor((x) => active(x).includes("Message a contact"));
  expect((await bobRun(["send", alice.uid, "are you there?"])).code).toBe(0);
  s = await pane.waitFor("[2 unread]", { timeoutMs: 20_000 });
  expect(active(s)).toContain("Message a contact");
  expect(active(s)).toContain("2 unread");
  writeScreenshot(s);

  // Add a contact: a bad UID is refused in place, then Carol's is accepted.
  await choose(pane, "Add a contact");
  await pane.waitFor("Their UID");
  pane.type("not-a-uid");
  pane.keys("Enter");
  await pane.waitFor("A UID has 28 characters");
  pane.keys(...Array<string>(9).fill("BSpace"));
  pane.type(carol.uid);
  pane.keys("Enter");
  await pane.waitFor("Nickname (optional)");
  pane.type("carol");
  pane.keys("Enter");
  s = await pane.waitFor("Verify them now");
  expect(s).toContain("Added carol.");
  expect(s).toContain("carol (their key)");
  expect(s).toContain(carol.fingerprint.split(" ").slice(0, 5).join(" ")); // their fingerprint
  expect(s).toContain(alice.fingerprint.split(" ").slice(0, 5).join(" ")); // ours, beside it
  await answer(pane, "Verify them now", false);
  await pane.waitFor(atMenu);

  // Contacts.
  await choose(pane, "Contacts");
  s = await pane.waitFor("Contacts (2)");
  expect(s).toMatch(new RegExp(`bob\\s+${bob.uid}\\s+not verified\\s+2 unread`));
  expect(s).toMatch(new RegExp(`carol\\s+${carol.uid}\\s+not verified`));
  await pane.waitFor(atMenu);

  // My UID, with the QR code.
  await choose(pane, "My UID");
  s = await pane.waitFor(`copy: ${alice.uid}`);
  expect(s).toMatch(/[▀▄█]{7}/);
  await pane.waitFor(atMenu);

  // Verify: bob wrote in v3, so the safety code both see (PROTOCOL-v3 §V2.1; alice learns bob's signing
  // key from his bundle, having only answered him), then trust.
  await choose(pane, "Verify a contact");
  await pickContact(pane, "bob");
  s = await pane.waitFor("Compare the safety code with bob");
  expect(s).toMatch(/(?:[A-Z2-7]{5} ){7}[A-Z2-7]{5}/);
  await answer(pane, "Does the safety code match", true);
  await pane.waitFor("bob is now verified.");
  await pane.waitFor(atMenu);

  // Set nickname.
  await choose(pane, "Set nickname");
  await pickContact(pane, "bob");
  // The current name is a placeholder: typing replaces it (no backspacing).
  await pane.waitFor("Nickname (Enter keeps the current one)");
  pane.type("Bobby");
  pane.keys("Enter");
  await pane.waitFor("is now Bobby.");
  await pane.waitFor(atMenu);

  // Tor status.
  await choose(pane, "Tor status");
  s = await pane.waitFor("proxy: 127.0.0.1:9050");
  expect(s).toContain("not answering");
  expect(s).toContain("hint:");
  await pane.waitFor(atMenu);

  // Settings: theme, mascot, message of the day, no-Tor warning; saved to settings.json.
  await choose(pane, "Settings");
  await choose(pane, "Theme");
  await choose(pane, "amber");
  await pane.waitFor("Theme amber");
  await choose(pane, "Mascot");
  await choose(pane, "cat");
  await pane.waitFor("(__)-||-(__)");
  await choose(pane, "Message of the day");
  await choose(pane, "hacker");
  await pane.waitFor("Message of the day: hacker");
  await choose(pane, "No-Tor warning");
  await answer(pane, "Warn before connecting", false);
  await pane.waitFor("No-Tor warning off.");
  await choose(pane, "Back");
  s = await pane.waitFor(atMenu);
  expect(s).toContain("(__)-||-(__)"); // the cat now sits beside the menu
  expect(JSON.parse(readFileSync(join(aliceHome, "settings.json"), "utf8"))).toMatchObject({
    theme: "amber",
    mascot: "cat",
    motd: "hacker",
    torWarning: false,
  });

  // Message a contact: the unread count per contact, the chat, back to the menu.
  await choose(pane, "Message a contact");
  await pickContact(pane, "Bobby");
  expect(pane.screen()).toContain("(2 new)");
  await pane.waitFor("Bobby  are you there?");
  expect(pane.screen()).toContain("Bobby  hello alice");
  pane.type("hi bob");
  pane.keys("Enter");
  await pane.waitFor("you    hi bob");
  pane.keys("Escape");
  await pane.waitFor("Left the chat with Bobby.");
  s = await pane.waitFor(atMenu);
  expect(s.split("Left the chat").pop()).not.toContain("unread");

  // Delete messages: No, then a wrong confirmation word, then really.
  await choose(pane, "Delete messages");
  await pickContact(pane, "Bobby");
  await answer(pane, "Delete every message and file with Bobby", false);
  await pane.waitFor("Nothing deleted.");
  await pane.waitFor(atMenu);
  await choose(pane, "Delete messages");
  await pickContact(pane, "Bobby");
  await answer(pane, "Delete every message and file with Bobby", true);
  await pane.waitFor("Type burn to confirm");
  pane.type("nope");
  pane.keys("Enter");
  await pane.waitFor((x) => x.split("Nothing deleted.").length === 3);
  await pane.waitFor(atMenu);
  await choose(pane, "Delete messages");
  await pickContact(pane, "Bobby");
  await answer(pane, "Delete every message and file with Bobby", true);
  await pane.waitFor((x) => x.split("Type burn to confirm").length === 3);
  pane.type("burn");
  pane.keys("Enter");
  await pane.waitFor("Burned: 3 stored items deleted from the relay.");
  await pane.waitFor(atMenu);
  // The relay's rows and alice's local history of the conversation are gone (bob keeps his own).
  expect((await aliceRun(["read", bob.uid, "--json"])).stdout).toBe("");

  // Remove contact, then Contacts is empty.
  await choose(pane, "Remove contact");
  await pickContact(pane, "Bobby");
  await answer(pane, "Remove Bobby?", true);
  await pane.waitFor("Removed Bobby.");
  await pane.waitFor(atMenu);
  await choose(pane, "Contacts");
  s = await pane.waitFor("Contacts (1)");
  expect(s.split("Contacts (1)").pop()).not.toContain("Bobby");
  await pane.waitFor(atMenu);

  // Quit: it asks first.
  await choose(pane, "Quit");
  await answer(pane, "Quit Phantom?", true);
  expect(await pane.exitCode()).toBe(0);
}, 120_000);

test("panic wipe: red, asks twice, then burns and deletes the identity", async () => {
  const { aliceHome, unlock } = await world();
  const pane = await unlock("panic");
  await choose(pane, "Panic wipe");
  await answer(pane, "Wipe everything?", false);
  await pane.waitFor("Nothing wiped.");
  const raw = pane.screen({ escapes: true });
  expect(raw).toMatch(/\x1b\[31m[^\n]*PANIC WIPE/); // red
  await pane.waitFor(atMenu);
  await choose(pane, "Panic wipe");
  await answer(pane, "Wipe everything?", true);
  await pane.waitFor("Type WIPE to confirm");
  pane.type("WIPE");
  pane.keys("Enter");
  await pane.waitFor("identity deleted");
  expect(await pane.exitCode()).toBe(0);
  expect(existsSync(join(aliceHome, "identity.json"))).toBe(false);
}, 60_000);
