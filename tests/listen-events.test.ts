// phantom listen notices new contacts whichever phantom process read the key-exchange inbox
// first (the contact book changing on disk is reason enough to look again), and says so with
// an {"event":"contact"} line; a burn of a conversation (PROTOCOL §7.9) is an {"event":"burned"} line.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startListen } from "./helpers/cli.ts";
import { cliUser, nextJson, ok, peerOf, restOf } from "./helpers/listen-world.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(120_000);

let relay: RunningRelay;
let root: string;

beforeAll(async () => {
  relay = await startRelay();
  root = tempDir("phantom-listen-events-");
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

test("a contact another process took from the inbox reaches listen within one poll, with its messages", async () => {
  const bob = await cliUser(join(root, "bob1"), relay.url);
  const l = await startListen(bob.env);
  try {
    const carol = await peerOf(relay.url, bob);
    // `contacts` reads (and so empties, §7.5) the inbox: listen's own inbox read finds nothing.
    const listed = (await ok(bob, ["contacts", "--json"])).json();
    expect(listed.map((c) => c.uid)).toEqual([carol.user.uid]);
    const sent = await carol.send("hello from carol");
    // One poll is 5 s (LISTEN_POLL_MS); the deadline only bounds the wait.
    expect(await nextJson(l.out, "the contact event", 30_000)).toEqual({
      event: "contact",
      uid: carol.user.uid,
      nick: null,
    });
    expect(await nextJson(l.out, "carol's message", 30_000)).toEqual({
      ts: sent.ts,
      from: carol.user.uid,
      body: "hello from carol",
      nick: null,
      id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  } finally {
    l.proc.kill("SIGINT");
  }
  expect((await restOf(l.proc, l.out)).code).toBe(0);
});

test("a burn of the conversation by the peer is an event line", async () => {
  const bob = await cliUser(join(root, "bob2"), relay.url);
  const dave = await peerOf(relay.url, bob);
  await ok(bob, ["contacts"]);
  await ok(bob, ["nick", dave.user.uid, "dave"]);
  await dave.send("before the burn");
  const l = await startListen(bob.env);
  try {
    expect(await nextJson(l.out, "the backlog")).toMatchObject({ body: "before the burn", nick: "dave" });
    await dave.relay.burn(dave.roomId);
    expect(await nextJson(l.out, "the burn event")).toEqual({ event: "burned", uid: dave.user.uid, nick: "dave" });
  } finally {
    l.proc.kill("SIGINT");
  }
  expect(await restOf(l.proc, l.out)).toEqual({ code: 0, rest: [] });
});
