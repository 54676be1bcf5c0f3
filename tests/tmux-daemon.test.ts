// Desktop notifications of `phantom daemon` against the real chat screen in a terminal (tmux):
// while Bob's chat with Alice is open, her messages raise none; once he left it, they do.
// notify-send is a script on PATH that writes down its arguments (the desktop's stands there).
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ok, terminalEnv, userEnv } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { startDaemon } from "./helpers/daemon.ts";
import { CLIENT_BIN } from "./helpers/relay.ts";
import { enterPassword, TmuxSuite } from "./helpers/tmux.ts";

setDefaultTimeout(120_000);

const suite = new TmuxSuite("daemon");
afterAll(() => suite.stop());

test("no notification for a contact whose chat is open; one once the chat is left", async () => {
  const relay = await suite.relay();
  const home = (n: string) => join(suite.root, n);
  const bin = join(suite.root, "bin");
  mkdirSync(bin, { recursive: true });
  const calls = join(bin, "calls");
  writeFileSync(join(bin, "notify-send"), `#!/bin/sh\nprintf '%s|' "$@" >> '${calls}'\necho >> '${calls}'\n`, {
    mode: 0o755,
  });
  const alice = { env: userEnv(home("alice"), relay.url) };
  const bobEnv = { ...userEnv(home("bob"), relay.url), PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  const bob = { env: bobEnv };
  const aliceUid = (await ok(alice, ["init", "--json"])).json()[0]!.uid as string;
  const bobUid = (await ok(bob, ["init", "--json"])).json()[0]!.uid as string;
  await ok(alice, ["add", bobUid, "--nick", "bob"]);
  await ok(bob, ["accept", aliceUid]);
  await ok(bob, ["nick", aliceUid, "alice"]);
  await ok(bob, ["settings", "notify", "on"]);
  const d = await startDaemon(bobEnv);
  const notes = () =>
    existsSync(calls)
      ? readFileSync(calls, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];
  try {
    const { PATH: _p, ...termEnv } = terminalEnv(home("bob"), relay.url);
    const pane = suite.tmux.start("bob-chat", [CLIENT_BIN, "chat", "alice"], {
      env: { ...termEnv, PATH: bobEnv.PATH },
      cols: 90,
      rows: 30,
    });
    await enterPassword(pane);
    await pane.waitFor("/help for commands, Esc to leave");
    await ok(alice, ["send", "bob", "seen in the chat"]);
    await pane.waitFor("seen in the chat");
    await Bun.sleep(800); // the daemon got it too (its own live socket): a notification would be written by now
    expect(notes()).toEqual([]);
    pane.keys("Escape");
    await pane.waitFor("Left the chat with alice.");
    await ok(alice, ["send", "bob", "after the chat"]);
    await within(
      (async () => {
        while (notes().length === 0) await Bun.sleep(50);
      })(),
      30_000,
      () => "no notification after the chat was left",
    );
    expect(notes()).toEqual(["--app-name=Phantom|--|Phantom: alice|new message|"]);
  } finally {
    await d.stop();
  }
});
