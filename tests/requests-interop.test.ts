// The 2.2.x Python client (tests/py/phantom_v2.py) adds us and writes at once: that still works,
// its first messages wait as a contact request until we accept, then read shows them and we reply.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { expectOneLineError, phantom, runProgram, type User, userEnv } from "./helpers/cli.ts";
import { ROOT, type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";

setDefaultTimeout(60_000);

const SCRIPT = join(ROOT, "tests/py/phantom_v2.py");
const PW = "correct horse battery";

/** The first python3 that imports cryptography and requests; null if none (as tests/interop.test.ts). */
function findPython(): string | null {
  for (const cand of [process.env.PHANTOM_PYTHON, "python3", "/usr/bin/python3", "/usr/local/bin/python3"]) {
    if (!cand) continue;
    try {
      const r = Bun.spawnSync([cand, "-c", "import sys, cryptography, requests; print(sys.executable)"], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" },
      });
      if (r.exitCode === 0) return r.stdout.toString().trim();
    } catch {
      // not this one
    }
  }
  return null;
}
const PYTHON = findPython();

/** Run the Python client; its JSON answer. Flags first, then "--", then the positional arguments. */
async function py(home: string, args: string[]): Promise<Record<string, unknown>> {
  if (PYTHON === null) throw new Error("no python3 that imports cryptography and requests: run ./build.sh tools");
  const [sub, ...rest] = args;
  const argv = [PYTHON, SCRIPT, "--home", home, "--relay", relay.url, sub!, ...(rest.length ? ["--", ...rest] : [])];
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, PHANTOM_PASSWORD: PW, PYTHONUTF8: "1" };
  const r = await runProgram(argv, env);
  if (r.code !== 0) throw new Error(`phantom_v2.py ${sub} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

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

async function ok(u: User, args: string[]) {
  const r = await phantom(u.env, args);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

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
