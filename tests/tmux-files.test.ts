// The chat screen's /file in a real terminal (tmux), through a reverse proxy that serves the
// relay under a path prefix and holds uploads until the test lets them through: Ctrl-C during
// the upload cancels it (the chat says so and stays open), and the peer never gets the file.
// Build first: ./build.sh
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { phantom, terminalEnv, userEnv } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { startPrefixProxy, type PrefixProxy } from "./helpers/prefix-proxy.ts";
import { CLIENT_BIN } from "./helpers/relay.ts";
import { choose, enterPassword, selectOptions, TmuxSuite } from "./helpers/tmux.ts";

const suite = new TmuxSuite("files");
const { tmux } = suite;
const proxies: PrefixProxy[] = [];

afterAll(async () => {
  for (const p of proxies) p.stop();
  await suite.stop();
});

test("Ctrl-C during /file cancels the upload; the peer never gets the file", async () => {
  const relay = await suite.relay();
  const proxy = startPrefixProxy(relay.url, { prefix: "/phantom", holdUploads: true });
  proxies.push(proxy);
  const home = (name: string) => join(suite.root, name);
  const run = (name: string, args: string[]) => phantom(userEnv(home(name), proxy.url), args);
  const alice = await demoUser("alice", home("alice"), relay.url);
  const bob = await demoUser("bob", home("bob"), relay.url);
  expect((await run("alice", ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
  expect((await run("bob", ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
  const src = join(suite.root, "plans.pdf");
  writeFileSync(src, new Uint8Array(256 * 1024).fill(3));

  const pane = tmux.start("alice", [CLIENT_BIN], {
    env: terminalEnv(home("alice"), proxy.url),
    cols: 90,
    rows: 30,
    cwd: suite.root,
  });
  await enterPassword(pane);
  await pane.waitFor((s) => selectOptions(s).some((o) => o.text.includes("Panic wipe")));
  await choose(pane, "Message a contact");
  await pane.waitFor((s) => selectOptions(s).some((o) => o.text.startsWith("bob")));
  await choose(pane, "bob");
  await pane.waitFor("/help for commands, Esc to leave");
  await pane.waitFor((s) => /^›$/m.test(s));

  pane.type(`/file ${src}`);
  pane.keys("Enter");
  await within(proxy.uploadsReached(1), 20_000, () => `the upload never reached the proxy:\n${pane.screen()}`);
  pane.keys("C-c");
  await pane.waitFor("upload cancelled: plans.pdf was not sent");
  // The held upload is let through now: only a client that gave up sends nothing more.
  proxy.release();
  // Still in the chat: a message typed now is sent.
  pane.type("no file after all");
  pane.keys("Enter");
  const read = async () => (await run("bob", ["read", alice.uid])).stdout;
  let got = "";
  await within(
    (async () => {
      while (!(got = await read()).includes("no file after all")) await Bun.sleep(100);
    })(),
    20_000,
    () => `bob's read never showed the message:\n${got}`,
  );
  expect(got).not.toContain("plans.pdf");
  expect(proxy.forwarded).toBe(0);
  expect(pane.screen()).not.toContain("Left the chat");
});
