// The client's prekey bundle (PROTOCOL-v3 §V1, §V3.1), compiled client against the real relay:
// `init` publishes a complete bundle that passes the §V3.3 checks of lib/v3/bundle.ts, with
// one-time keys; later commands within the hour do not publish again; `panic` clears it (404).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { b64decode } from "../lib/encoding.ts";
import { checkBundle } from "../lib/v3/bundle.ts";
import { phantom, userEnv, type Run } from "./helpers/cli.ts";
import { startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, register, signed } from "./helpers/signer.ts";

setDefaultTimeout(60_000);
const root = tempDir("phantom-prekeys-");
let relay: RunningRelay;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay?.stop();
  relay?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function ok(env: Record<string, string>, args: string[]): Promise<Run> {
  const r = await phantom(env, args);
  if (r.code !== 0) throw new Error(`phantom ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

test("init publishes a checked bundle; panic clears it", async () => {
  mkdirSync(join(root, "alice"), { mode: 0o700 });
  const alice = userEnv(join(root, "alice"), relay.url);
  const init = await ok(alice, ["init", "--json"]);
  expect(init.stderr).toBe("");
  const uid = init.json()[0]!.uid as string;

  const asker = makeUser();
  expect((await register(relay.url, asker)).status).toBe(200);
  const r = await signed(relay.url, asker, "POST", "/v3/bundle", { uid });
  expect(r.status).toBe(200);
  const body = (await r.json()) as { pub_key: string; opk: unknown; opqk: unknown };
  const b = checkBundle(body, { uid, ik: b64decode(body.pub_key) });
  expect(b.opk).not.toBeNull();
  expect(b.opqk).not.toBeNull();

  // Within the hour no command publishes again: the relay still has 99 OPKs and 9 OPQKs.
  await ok(alice, ["whoami"]);
  const logs = relay.logs.length;
  await ok(alice, ["contacts"]);
  await ok(alice, ["whoami"]);
  expect(relay.logs.slice(logs).filter((l) => l.includes("/v3/prekeys"))).toEqual([]);

  expect((await ok(alice, ["panic", "--yes"])).code).toBe(0);
  const after = await signed(relay.url, asker, "POST", "/v3/bundle", { uid });
  expect(after.status).toBe(404);
});
