// What happens elsewhere shows in an open interactive client (tmux): a history that failed
// to load while the relay was down loads when the relay returns; the menu's warning about
// the relay goes once it answers again; a nickname set by another process shows in the menu.
// Build first: ./build.sh
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { LISTEN_POLL_MS } from "../client/core/receive.ts";
import { restartOnSamePort } from "./helpers/clients.ts";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN, type RunningRelay } from "./helpers/relay.ts";
import { choose, enterPassword, selectOptions, TmuxSuite, type Pane } from "./helpers/tmux.ts";

const suite = new TmuxSuite("outage");
const { tmux } = suite;
const restarted: RunningRelay[] = [];

afterAll(async () => {
  for (const r of restarted) {
    await r.stop();
    r.cleanup();
  }
  await suite.stop();
});

let worlds = 0;

/** A relay, alice and bob as contacts of each other, and alice's menu unlocked in a terminal. */
async function world() {
  const tag = `w${++worlds}`;
  const relay = await suite.relay();
  const home = (name: string) => join(suite.root, tag, name);
  const run = (name: string, args: string[]) => phantom(userEnv(home(name), relay.url), args);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const bob = await demoUser("bob", home("bob"), relay.url);
  expect((await run("alice", ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await run("bob", ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  const pane = tmux.start(`${tag}-alice`, [CLIENT_BIN], {
    env: terminalEnv(home("alice"), relay.url),
    cols: 90,
    rows: 30,
    cwd: suite.root,
  });
  await enterPassword(pane);
  await menu(pane);
  /** Stop the relay, then start it again on its port and data. */
  const outage = async (): Promise<() => Promise<void>> => {
    expect(await relay.stop()).toBe(0);
    return async () => void restarted.push(await restartOnSamePort(relay));
  };
  return { relay, run, alice, bob, pane, outage };
}

async function menu(pane: Pane): Promise<string> {
  return await pane.waitFor((s) => selectOptions(s).some((o) => o.text.includes("Panic wipe")));
}

test("a history that failed during an outage loads when the relay returns", async () => {
  const w = await world();
  expect((await w.run("bob", ["send", w.alice.uid, "written before the outage"])).code).toBe(0);
  const back = await w.outage();
  await choose(w.pane, "Message a contact");
  await w.pane.waitFor((s) => selectOptions(s).some((o) => o.text.startsWith("bob")));
  await choose(w.pane, "bob");
  await w.pane.waitFor("could not load the history");
  expect(w.pane.screen()).not.toContain("written before the outage");
  await back();
  await w.pane.waitFor("written before the outage", { timeoutMs: 60_000 });
});

test("the menu's warning that the relay could not be reached goes once it answers again", async () => {
  const w = await world();
  await choose(w.pane, "Message a contact");
  await w.pane.waitFor((s) => selectOptions(s).some((o) => o.text.startsWith("bob")));
  await choose(w.pane, "bob");
  await w.pane.waitFor((s) => /^›$/m.test(s));
  const back = await w.outage();
  // The open chat reads the key-exchange inbox once per poll interval: one read fails meanwhile.
  await Bun.sleep(LISTEN_POLL_MS + 5000);
  w.pane.keys("Escape");
  await w.pane.waitFor("offline:", { timeoutMs: 30_000 });
  await back();
  const s = await w.pane.waitFor(
    (s) => !s.includes("offline:") && selectOptions(s).some((o) => o.text.includes("Panic")),
    { timeoutMs: 30_000 },
  );
  expect(s).not.toContain("could not read the key-exchange inbox");
});

test("a nickname set by another process shows in the open menu", async () => {
  const w = await world();
  expect((await w.run("alice", ["nick", w.bob.uid, "robert"])).code).toBe(0);
  await choose(w.pane, "Message a contact");
  const s = await w.pane.waitFor((s) => selectOptions(s).some((o) => /^(bob|robert)/.test(o.text)));
  expect(selectOptions(s).map((o) => o.text.split(" ")[0])).toContain("robert");
});
