// A Phantom 2.x home (plaintext contacts.json, read-state.json, requests.json, cursors.json,
// seen.json, files.json beside identity.json) opened by this client: the first unlock imports
// everything into the sealed state.db in one transaction and removes the files (PROTOCOL-v3 §V8).
// Then a stolen device without the password no longer tells who you talk to: no file of
// PHANTOM_HOME holds a contact's UID or nickname. identity.json stays as 2.x wrote it.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprintOf, pairKeys } from "../lib/crypto.ts";
import { writeIdentity } from "../client/state/vault.ts";
import { loadCursors } from "../client/state/cursors.ts";
import { loadFileNumbers } from "../client/state/file-numbers.ts";
import { loadReadState } from "../client/state/read-state.ts";
import { loadShown } from "../client/state/shown.ts";
import { STATE_FORMAT } from "../client/state/state-db.ts";
import { expectOneLineError, ok, PASSWORD, phantom, userEnv } from "./helpers/cli.ts";
import { startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, register } from "./helpers/signer.ts";
import { withHomeState } from "./helpers/state.ts";

setDefaultTimeout(120_000);
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

const NICK = "zelda-nightingale";

/** Every file of the home, raw bytes, checked for `needle`. */
function filesHolding(home: string, needle: string): string[] {
  return readdirSync(home).filter((f) => readFileSync(join(home, f)).includes(needle));
}

async function legacyHome() {
  const dir = tempDir("phantom-migrate-");
  dirs.push(dir);
  const home = join(dir, "home");
  const me = makeUser();
  const [friend, asker] = [makeUser(), makeUser()];
  for (const u of [me, friend, asker]) expect((await register(relay.url, u)).status).toBe(200);
  await writeIdentity(home, me, PASSWORD);
  const identity = readFileSync(join(home, "identity.json"), "utf8");
  const fp = fingerprintOf(friend.encPub);
  const msgId = "m".repeat(43);
  const files: Record<string, any> = {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    "contacts.json": { [friend.uid]: { pub_key: friend.pubB64, nickname: NICK, verified_fp: fp, last_seen_fp: fp } },
    "read-state.json": { [friend.uid]: 1_700_000_000 },
    "requests.json": {
      requests: {
        [asker.uid]: { pub_key: asker.pubB64, room_id: pairKeys(me, asker.encPub).roomId, first_seen: 1_700_000_001 },
      },
      blocked: {},
    },
    "cursors.json": { [friend.uid]: { seq: 4, ts: 1_700_000_002, ids: ["x"] } },
    "seen.json": { [friend.uid]: { [msgId]: 4_000_000_000 } },
    "files.json": { [friend.uid]: [msgId] },
  };
  for (const [name, value] of Object.entries(files)) {
    writeFileSync(join(home, name), JSON.stringify(value), { mode: 0o600 });
  }
  return { home, env: userEnv(home, relay.url), me, friend, asker, identity, msgId, files };
}

test("the first unlock imports every 2.x file into state.db and removes it; no file names a contact", async () => {
  const h = await legacyHome();
  expect(filesHolding(h.home, h.friend.uid).sort()).toEqual(
    ["contacts.json", "cursors.json", "files.json", "read-state.json", "seen.json"].sort(),
  );

  const listed = (await ok(h, ["contacts", "--json"])).json();
  expect(listed).toEqual([expect.objectContaining({ uid: h.friend.uid, nickname: NICK, verified: true })]);
  const requests = (await ok(h, ["contacts", "--requests", "--json"])).json();
  expect(requests.map((r) => r.uid)).toEqual([h.asker.uid]);

  const names = readdirSync(h.home).sort();
  for (const legacy of Object.keys(h.files)) expect(names).not.toContain(legacy);
  expect(names).toContain("state.db");
  for (const needle of [h.friend.uid, NICK, h.asker.uid, h.friend.pubB64, h.asker.pubB64]) {
    expect({ needle, files: filesHolding(h.home, needle) }).toEqual({ needle, files: [] });
  }
  // identity.json is untouched: a 2.2.x client still opens it.
  expect(readFileSync(join(h.home, "identity.json"), "utf8")).toBe(h.identity);

  // Everything else came across too, read back with the password.
  const got = await withHomeState(h.home, PASSWORD, () => ({
    read: { ...loadReadState(h.home) },
    cursors: { ...loadCursors(h.home) },
    seen: { ...loadShown(h.home) },
    files: { ...loadFileNumbers(h.home) },
  }));
  expect(got).toEqual({
    read: h.files["read-state.json"],
    cursors: h.files["cursors.json"],
    seen: h.files["seen.json"],
    files: h.files["files.json"],
  });

  // A contacts.json planted later (or written by an older binary) is not imported: only the
  // password changes what state.db holds.
  const stranger = makeUser();
  writeFileSync(join(h.home, "contacts.json"), JSON.stringify({ [stranger.uid]: { pub_key: stranger.pubB64 } }));
  const after = (await ok(h, ["contacts", "--json"])).json();
  expect(after.map((c) => c.uid)).toEqual([h.friend.uid]);
});

test("a state.db of a newer format is refused in one line: update phantom", async () => {
  const h = await legacyHome();
  await ok(h, ["contacts"]);
  const db = new Database(join(h.home, "state.db"));
  db.run(`UPDATE meta SET v = ${STATE_FORMAT + 1} WHERE k = 'format_version'`);
  db.close();
  expect(expectOneLineError(await phantom(h.env, ["contacts"]))).toBe(
    `state.db is format ${STATE_FORMAT + 1}, this phantom understands up to ${STATE_FORMAT}: update phantom`,
  );
});

test("a corrupt 2.x file stops the unlock, named, and nothing is imported or removed", async () => {
  const h = await legacyHome();
  writeFileSync(join(h.home, "cursors.json"), "{broken");
  const msg = expectOneLineError(await phantom(h.env, ["contacts"]));
  expect(msg).toContain(join(h.home, "cursors.json"));
  expect(readdirSync(h.home)).toContain("contacts.json");
  expect(readFileSync(join(h.home, "cursors.json"), "utf8")).toBe("{broken");
});
