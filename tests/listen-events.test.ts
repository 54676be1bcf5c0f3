// phantom listen notices new contacts whichever phantom process read the key-exchange inbox
// first (the contact book changing on disk is reason enough to look again), and says so with
// an {"event":"contact"} line; a burn of a conversation (PROTOCOL §7.9) is an {"event":"burned"} line.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { nextJson, ok, startListen } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { cliUser, peerOf, restOf } from "./helpers/listen-world.ts";
import { CLIENT_BIN, lines, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

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
    await ok(bob, ["accept", carol.user.uid]); // a request until accepted
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
      protocol: 2,
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
  await ok(bob, ["accept", dave.user.uid]);
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

test("without --json the events are short lines too", async () => {
  const bob = await cliUser(join(root, "bob3"), relay.url);
  const proc = Bun.spawn([CLIENT_BIN, "listen"], { env: bob.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = lines(proc.stdout);
  const next = async (what: string) => {
    const r = await within(out.next(), 30_000, () => `listen printed no line within 30 s (waiting for ${what})`);
    if (r.done) throw new Error(`listen's stdout ended (waiting for ${what})`);
    return r.value;
  };
  const stderr: string[] = [];
  const errs = lines(proc.stderr);
  /** Until listen says it is listening to `n` conversations (again after a new contact). */
  const listeningTo = async (n: number) => {
    const want = `phantom: listening to ${n} conversation(s)`;
    const wait = async () => {
      for (;;) {
        const e = await errs.next();
        if (e.done) throw new Error(`listen ended; stderr:\n${stderr.join("\n")}`);
        stderr.push(e.value);
        if (e.value.startsWith(want)) return;
      }
    };
    await within(wait(), 30_000, () => `no "${want}"; stderr:\n${stderr.join("\n")}`);
  };
  try {
    await listeningTo(0);
    const erin = await peerOf(relay.url, bob);
    await ok(bob, ["contacts"]); // another process reads the inbox
    await ok(bob, ["accept", erin.user.uid]);
    expect(await next("the contact line")).toBe(`new contact: ${erin.user.uid}`);
    await listeningTo(1);
    await erin.send("hi bob");
    expect(await next("the message")).toMatch(
      new RegExp(`^\\[[-\\d ]+:\\d\\d\\] ${erin.user.uid.slice(0, 8)}: hi bob$`),
    );
    await erin.relay.burn(erin.roomId);
    expect(await next("the burn line")).toBe(`the conversation with ${erin.user.uid} was deleted on the relay`);
  } finally {
    proc.kill("SIGINT");
  }
  const code = await within(proc.exited, 20_000, () => "listen did not exit");
  for await (const e of errs) stderr.push(e);
  expect({ code, stderr: stderr.filter((l) => !l.startsWith("phantom: listening")) }).toEqual({ code: 0, stderr: [] });
});
