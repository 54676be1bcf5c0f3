// The chat screen in a real terminal (tmux): when the peer burns the conversation (PROTOCOL
// §7.9 sends {"event":"burned"} to the room's sockets), the open chat says so.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { CLIENT_BIN } from "./helpers/relay.ts";
import { choose, enterPassword, selectOptions, TmuxSuite } from "./helpers/tmux.ts";

const suite = new TmuxSuite("burn-notice");
const { tmux } = suite;

afterAll(() => suite.stop());

test("a burn by the peer shows '<nick> deleted this conversation on the relay' in the open chat", async () => {
  const root = join(suite.root, "w1");
  const relay = await suite.relay();
  const home = (name: string) => join(root, name);
  const run = (name: string, args: string[]) => phantom(userEnv(home(name), relay.url), args);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const bob = await demoUser("bob", home("bob"), relay.url);
  expect((await run("alice", ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await run("bob", ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  expect((await run("bob", ["send", alice.uid, "this one will be burned"])).code).toBe(0);

  const pane = tmux.start("w1-alice", [CLIENT_BIN], { env: terminalEnv(home("alice"), relay.url), cols: 90, rows: 30 });
  await enterPassword(pane);
  await pane.waitFor((s) => selectOptions(s).some((o) => o.text.includes("Panic wipe")));
  await choose(pane, "Message a contact");
  await pane.waitFor((s) => selectOptions(s).some((o) => o.text.startsWith("bob")));
  await choose(pane, "bob");
  await pane.waitFor("this one will be burned");
  await pane.waitFor((s) => /^›$/m.test(s));

  expect((await run("bob", ["burn", alice.uid, "--yes"])).code).toBe(0);
  const screen = await pane.waitFor("bob deleted this conversation on the relay");
  expect(screen).not.toContain("you deleted this conversation");
});
