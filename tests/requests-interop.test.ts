// The 2.2.x Python client (tests/py/phantom_v2.py) adds us and writes at once: that still works,
// its first messages wait as a contact request until we accept, then read shows them and we reply.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { expectOneLineError, ok, PASSWORD, phantom, type User, userEnv } from "./helpers/cli.ts";
import { py as pyJson } from "./helpers/python.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(60_000);

/** Run the Python client; its JSON answer. */
const py = (home: string, args: string[]) => pyJson(home, relay.url, args, PASSWORD);

let relay: RunningRelay;
const root = tempDir("phantom-requests-interop-");

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

test("a 2.2.x user adds us and writes at once: a request, its messages held, shown after accept", async () => {
  const us = { home: join(root, "us"), env: userEnv(join(root, "us"), relay.url) } as User;
  us.uid = (await ok(us, ["init", "--json"])).json()[0]!.uid as string;
  const vic = join(root, "vic");
  const v = (await py(vic, ["init"])) as { uid: string; fingerprint: string };
  await py(vic, ["register"]);
  await py(vic, ["add", us.uid]);
  await py(vic, ["send", us.uid, "hi, it is vic on the old client"]);

  expect((await ok(us, ["contacts", "--json"])).json()).toEqual([]);
  expect((await ok(us, ["contacts", "--requests", "--json"])).json()).toEqual([
    { uid: v.uid, fingerprint: v.fingerprint, first_seen: expect.any(Number), room_id: expect.any(String) },
  ]);
  expect(expectOneLineError(await phantom(us.env, ["read", v.uid]))).toContain("accept first");

  await ok(us, ["accept", v.uid]);
  const held = (await ok(us, ["read", v.uid, "--json"])).json();
  expect(held.map((m) => [m.from, m.body])).toEqual([[v.uid, "hi, it is vic on the old client"]]);
  await ok(us, ["send", v.uid, "hello vic"]);
  const theirs = (await py(vic, ["read", us.uid])).messages as { from: string; body: string }[];
  expect(theirs.map((m) => [m.from, m.body])).toEqual([
    [v.uid, "hi, it is vic on the old client"],
    [us.uid, "hello vic"],
  ]);
});
