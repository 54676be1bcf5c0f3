// Contact requests in the menu, in a real terminal (tmux) against the compiled relay: someone who
// adds Alice is a request (a notice and an entry with a count), shown with its fingerprint and how
// long its messages wait on the relay; accepted, its held message becomes unread; blocked, it is gone.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN } from "./helpers/relay.ts";
import { choose, enterPassword, selectOptions } from "./helpers/tmux.ts";
import { TmuxSuite } from "./helpers/tmux.ts";

const suite = new TmuxSuite("requests");
const { tmux } = suite;

afterAll(() => suite.stop());

const atMenu = (s: string) => selectOptions(s).some((o) => o.text.includes("Panic wipe"));

test("the menu shows a request with its fingerprint; accept makes its held message unread; block drops one", async () => {
  const root = join(suite.root, "w1");
  const relay = await suite.relay();
  const home = (n: string) => join(root, n);
  const run = (n: string, args: string[]) => phantom(userEnv(home(n), relay.url), args);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const carol = await demoUser("carol", home("carol"), relay.url);
  const dave = await demoUser("dave", home("dave"), relay.url);
  expect((await run("carol", ["add", alice.uid])).code).toBe(0);
  expect((await run("carol", ["send", alice.uid, "hi alice, carol here"])).code).toBe(0);

  // `chat` with a request (a terminal program): it says to accept first, in one line.
  const chat = tmux.start("requests-chat", [CLIENT_BIN, "chat", carol.uid], {
    env: terminalEnv(home("alice"), relay.url),
    cols: 100,
    rows: 40,
  });
  await enterPassword(chat);
  expect(await chat.exitCode()).toBe(1);
  expect(chat.screen().replace(/\n/g, "")).toContain(`accept first: phantom accept ${carol.uid}`);

  const pane = tmux.start("requests-alice", [CLIENT_BIN], {
    env: terminalEnv(home("alice"), relay.url),
    cols: 100,
    rows: 40,
  });
  await enterPassword(pane);
  let s = await pane.waitFor((x) => atMenu(x) && x.includes("1 contact request(s): see Contact requests"));
  expect(s).toContain("Contact requests  1 waiting");
  expect(s).not.toContain("unread"); // carol's message is held

  await choose(pane, "Contact requests");
  s = await pane.waitFor((x) => selectOptions(x).some((o) => o.text.includes(carol.uid)));
  expect(s).toContain("Their messages wait on the relay for 7 days, unread, until you accept.");
  await choose(pane, carol.uid);
  s = await pane.waitFor((x) => selectOptions(x).some((o) => o.text.includes("Accept")));
  for (const row of carol.fingerprint.split(" ").reduce<string[][]>((rows, g, i) => {
    if (i % 5 === 0) rows.push([]);
    rows.at(-1)!.push(g);
    return rows;
  }, [])) {
    expect(s).toContain(row.join(" "));
  }
  await choose(pane, "Accept");
  await pane.waitFor("Accepted");
  s = await pane.waitFor((x) => atMenu(x) && x.includes("[1 unread]"), { timeoutMs: 20_000 });
  expect((await run("alice", ["contacts", "--json"])).json().map((c) => c.uid)).toEqual([carol.uid]);

  // Dave adds alice too: a request again, which alice blocks from the menu.
  expect((await run("dave", ["add", alice.uid])).code).toBe(0);
  await pane.waitFor((x) => atMenu(x) && x.includes("Contact requests  1 waiting"), { timeoutMs: 20_000 });
  await choose(pane, "Contact requests");
  await choose(pane, dave.uid);
  await choose(pane, "Block");
  await pane.waitFor("Blocked");
  await pane.waitFor(atMenu);
  const blocked = (await run("alice", ["contacts", "--blocked", "--json"])).json();
  expect(blocked.map((b) => b.uid)).toEqual([dave.uid]);
  expect((await run("alice", ["contacts", "--requests", "--json"])).json()).toEqual([]);
  pane.keys("Escape");
});
