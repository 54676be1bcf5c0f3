// Many phantom processes of one identity at once, on the compiled client and a real relay:
// every read-modify-write of $PHANTOM_HOME is one transaction of state.db (client/state/state-db.ts)
// or done under the home's lock (client/state/lock.ts, settings.json),
// so concurrent changes all survive. Without the lock, 20 concurrent `add`s lose contacts
// while each reports success.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadContacts } from "../client/state/contacts.ts";
import { PASSWORD, phantom, userEnv } from "./helpers/cli.ts";
import { startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, register } from "./helpers/signer.ts";
import { withHomeState } from "./helpers/state.ts";

setDefaultTimeout(120_000);

const PROCESSES = 20;
let relay: RunningRelay;
const dirs: string[] = [];

beforeAll(async () => {
  relay = await startRelay();
});

afterAll(async () => {
  await relay.stop();
  relay.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The contact book as state.db holds it (opened here with the password). */
async function bookOf(h: string): Promise<Record<string, { nickname?: string | null }>> {
  return await withHomeState(h, PASSWORD, () => ({ ...loadContacts(h) }));
}

function home(): string {
  const d = tempDir("phantom-lock-");
  dirs.push(d);
  return join(d, "home");
}

test(`${PROCESSES} concurrent phantom add: every contact is kept`, async () => {
  const h = home();
  const env = userEnv(h, relay.url);
  expect((await phantom(env, ["init"])).code).toBe(0);
  const peers = Array.from({ length: PROCESSES }, () => makeUser());
  for (const p of peers) expect((await register(relay.url, p)).status).toBe(200);

  const runs = await Promise.all(peers.map((p, i) => phantom(env, ["add", p.uid, "--nick", `peer${i}`])));
  for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });

  const book = await bookOf(h);
  expect(Object.keys(book).sort()).toEqual(peers.map((p) => p.uid).sort());
  // state.db is 0600, and so are its -wal and -shm while they exist (the last to close removes them).
  for (const f of readdirSync(h).filter((n) => n.startsWith("state.db"))) {
    expect(statSync(join(h, f)).mode & 0o777).toBe(0o600);
  }
  const listed = await phantom(env, ["contacts", "--json"]);
  expect(listed.json()).toHaveLength(PROCESSES);
});

test(`${PROCESSES} concurrent settings changes and nicknames: none is lost`, async () => {
  const h = home();
  const env = userEnv(h, relay.url);
  expect((await phantom(env, ["init"])).code).toBe(0);
  const peers = Array.from({ length: PROCESSES }, () => makeUser());
  for (const p of peers) expect((await register(relay.url, p)).status).toBe(200);
  for (const p of peers) expect((await phantom(env, ["add", p.uid])).code).toBe(0);

  const runs = await Promise.all([
    ...peers.map((p, i) => phantom(env, ["nick", p.uid, `n${i}`])),
    ...peers.map((_, i) => phantom(env, ["settings", "motd-add", `line ${i}`])),
  ]);
  for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });

  const book = await bookOf(h);
  expect(peers.map((p) => book[p.uid]?.nickname)).toEqual(peers.map((_, i) => `n${i}`));
  const settings = JSON.parse(readFileSync(join(h, "settings.json"), "utf8")) as { motdCustom: string[] };
  expect([...settings.motdCustom].sort()).toEqual(peers.map((_, i) => `line ${i}`).sort());
});
