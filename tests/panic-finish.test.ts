// Panic finishes what it starts: with more contacts than the relay's burn limit (PROTOCOL §7.7),
// the first panic burns what the relay allows, deletes everything else and keeps a sealed burn
// list (0600, no key in the clear); every start says what is left; `phantom panic --finish`
// burns the rest once the window has passed, and the list is gone. The relay has an auth key,
// so the burns left to --finish use the stored §7.7 burn key.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64decode, b64encode, b64uencode, hexencode } from "../lib/encoding.ts";
import { client } from "./helpers/clients.ts";
import { expectOneLineError, phantom, PASSWORD, userEnv } from "./helpers/cli.ts";
import { demoIdentity, demoUser } from "./helpers/demo-users.ts";
import { type RunningRelay, startRelay, tempDir } from "./helpers/relay.ts";
import { makeUser, register } from "./helpers/signer.ts";

/** The relay's window, short for the test: long enough that ten burns in a row fall in one window. */
const WINDOW_S = 8;
const LIMIT = 10;
const PEERS = 12;
const AUTH_PRIV = Buffer.alloc(32, 9);

let relay: RunningRelay;
const root = tempDir("phantom-panic-finish-");

beforeAll(async () => {
  relay = await startRelay({
    args: ["--burn-limit", String(LIMIT), "--burn-window", String(WINDOW_S)],
    env: { PHANTOM_AUTH_PRIV_B64: AUTH_PRIV.toString("base64") },
  });
});

afterAll(async () => {
  await relay.stop();
  relay.cleanup();
});

/** All the ways a key could be written in the clear. */
function spellings(key: Uint8Array): string[] {
  return [b64encode(key), b64uencode(key), hexencode(key), b64encode(key).replace(/=+$/, "")];
}

test(`more contacts than the burn limit: panic burns ${LIMIT}, keeps a sealed list, --finish burns the rest`, async () => {
  const home = join(root, "alice");
  const env = userEnv(home, relay.url);
  const alice = await demoUser("alice", home, relay.url);
  const aliceId = demoIdentity("alice");
  const peers = Array.from({ length: PEERS }, () => makeUser());
  const rooms: string[] = [];
  for (const p of peers) {
    expect((await register(relay.url, p)).status).toBe(200);
    expect((await phantom(env, ["add", p.uid])).code).toBe(0);
    const { roomId, sessionKey } = c.pairKeys(p, aliceId.encPub);
    await client(relay.url, p).send(roomId, c.encryptMessage(sessionKey, "hello"));
    rooms.push(roomId);
  }
  const stored = async () =>
    (await Promise.all(peers.map((p, i) => client(relay.url, p).fetch(rooms[i]!)))).map((m) => m.length);
  expect(await stored()).toEqual(peers.map(() => 1));

  // The first panic: the relay allows LIMIT burns; the rest stays in the sealed burn list.
  const first = await phantom(env, ["panic", "--yes"]);
  expect(expectOneLineError(first)).toBe(
    `${PEERS - LIMIT} of ${PEERS} conversations still on the relay: run phantom panic --finish`,
  );
  expect(first.stdout).toContain(`burned ${LIMIT} of ${PEERS} conversations; deleted ${home} except the sealed burn list`);
  expect((await stored()).filter((n) => n === 0).length).toBe(LIMIT);
  expect(readdirSync(home)).toEqual(["burn-list.json"]);
  const listPath = join(home, "burn-list.json");
  expect(statSync(listPath).mode & 0o777).toBe(0o600);
  expect(statSync(home).mode & 0o777).toBe(0o700);
  const text = readFileSync(listPath, "utf8");
  const authPub = c.x25519Public(new Uint8Array(AUTH_PRIV));
  const burnKey = c.burnAuthKey(aliceId.encPriv, authPub, alice.uid);
  for (const key of [aliceId.signSeed, aliceId.encPriv, burnKey]) {
    for (const s of spellings(key)) expect(text).not.toContain(s);
  }
  for (const room of rooms) expect(text).not.toContain(room);
  expect(text).not.toContain(alice.uid);
  expect(text).not.toContain(relay.url);
  expect(JSON.parse(text).left).toBe(PEERS - LIMIT);

  // Any start says what is left and how to finish.
  const whoami = await phantom(env, ["whoami"]);
  expect(whoami.stderr).toContain(
    `phantom: warning: a panic left ${PEERS - LIMIT} conversations on the relay: run phantom panic --finish`,
  );

  // A wrong password opens nothing and changes nothing.
  const wrong = await phantom({ ...env, PHANTOM_PASSWORD: "not the password" }, ["panic", "--finish"]);
  expect(expectOneLineError(wrong)).toBe("wrong password");
  expect(readFileSync(listPath, "utf8")).toBe(text);

  // --finish until the relay's window has passed: a run refused with 429 keeps the list.
  const deadline = Date.now() + (WINDOW_S + 30) * 1000;
  let done = null;
  const seen: string[] = [];
  while (done === null) {
    const r = await phantom(env, ["panic", "--finish"]);
    seen.push(`${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`);
    if (r.code === 0) done = r;
    else {
      expect(expectOneLineError(r)).toBe(
        `${PEERS - LIMIT} of ${PEERS - LIMIT} conversations still on the relay: run phantom panic --finish`,
      );
      expect(existsSync(listPath)).toBe(true);
      if (Date.now() > deadline) throw new Error(`panic --finish never finished:\n${seen.join("\n")}`);
      await Bun.sleep(1000);
    }
  }
  expect(done.stdout).toContain(`burned ${PEERS - LIMIT} conversations; the burn list is deleted`);
  expect(existsSync(home)).toBe(false);
  expect(await stored()).toEqual(peers.map(() => 0));

  // Nothing left: no notice, and --finish says there is nothing to do.
  const after = await phantom(env, ["panic", "--finish"]);
  expect(after.code).toBe(0);
  expect(after.stdout).toContain("nothing to finish");
  expect(after.stderr).toBe("");
}, 120_000);

test("the burn list opens only with the password and is not an identity vault", async () => {
  const key = await c.vaultKey(PASSWORD, new Uint8Array(32));
  const nonce = new Uint8Array(12);
  const sealed = c.sealBurnList(key, nonce, new TextEncoder().encode("{}"));
  expect(() => c.openWithVaultKey(key, nonce, sealed)).toThrow("wrong password");
  expect(new TextDecoder().decode(c.openBurnList(key, nonce, sealed))).toBe("{}");
  expect(b64decode(b64encode(sealed))).toEqual(sealed);
});
