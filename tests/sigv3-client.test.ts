// PROTOCOL-v3 §V11 from the client's side, compiled client against the real relay: a relay that
// lists protocol 3 and our origin gets relay-bound signatures and is pinned (a meta row of state.db);
// the same relay restarted without v3 gets no signed request from a script, only a one-line error.
import { Database } from "bun:sqlite";
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expectOneLineError, phantom, userEnv, type Run } from "./helpers/cli.ts";
import { restartOnSamePort } from "./helpers/clients.ts";
import { startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";

setDefaultTimeout(60_000);
const root = tempDir("phantom-sigv3-");
const relays: RunningRelay[] = [];
afterAll(async () => {
  for (const r of relays) await r.stop();
  rmSync(root, { recursive: true, force: true });
});

async function ok(env: Record<string, string>, args: string[]): Promise<Run> {
  const r = await phantom(env, args);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

function pins(home: string): string[] {
  const db = new Database(join(home, "state.db"), { readonly: true });
  try {
    return db
      .query<{ k: string }, []>("SELECT k FROM meta WHERE k LIKE 'sigv3:%' ORDER BY k")
      .all()
      .map((r) => r.k);
  } finally {
    db.close();
  }
}

test("v3 signatures to a relay that offers them, pinned; refused when it stops offering them", async () => {
  const relay = await startRelay();
  relays.push(relay);
  const health = (await (await fetch(`${relay.url}/health`)).json()) as { protocols: number[]; origins: string[] };
  expect(health.protocols).toEqual([2, 3]);
  expect(health.origins).toContain(relay.url);

  const home = (n: string) => (mkdirSync(join(root, n), { mode: 0o700 }), join(root, n));
  const alice = userEnv(home("alice"), relay.url);
  const bob = userEnv(home("bob"), relay.url);
  const bobUid = (await ok(bob, ["init", "--json"])).json()[0]!.uid as string;
  await ok(alice, ["init"]);
  await ok(alice, ["add", bobUid, "--nick", "bob"]);
  await ok(alice, ["send", "bob", "signed for this relay only"]);
  expect(pins(alice.PHANTOM_HOME!)).toEqual([`sigv3:${relay.url}`]);

  // The same address, now a relay without origins (listening on every address, no --public-url): v2 only.
  await relay.stop();
  relays.pop();
  const v2only = await restartOnSamePort(relay, ["--host", "0.0.0.0"]);
  relays.push(v2only);
  const h2 = (await (await fetch(`${relay.url}/health`)).json()) as { protocols: number[] };
  expect(h2.protocols).toEqual([2]);
  const before = v2only.logs.length;
  const r = await phantom(alice, ["send", "bob", "not to a relay that changed"]);
  expect(expectOneLineError(r)).toBe(
    `the relay ${relay.url} offered relay-bound signatures (protocol v3) before and does not now: not sending it signed requests (confirm the change on a terminal if the relay was really downgraded)`,
  );
  // Nothing signed reached it: the only request was the unsigned /health.
  expect(v2only.logs.slice(before).filter((l) => /POST|\/send|\/ke\//.test(l))).toEqual([]);
  // A new user of the v2-only relay signs as v2 and pins nothing.
  const carol = userEnv(home("carol"), relay.url);
  await ok(carol, ["init"]);
  expect(pins(carol.PHANTOM_HOME!)).toEqual([]);
});
