// The burn list of an unfinished panic: sealed under the password, the count in the clear,
// each update re-read from disk and re-sealed, the file gone once no room is left.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import * as c from "../../lib/crypto.ts";
import { b64encode, b64uencode, hexencode } from "../../lib/encoding.ts";
import { tempDir } from "../../tests/helpers/relay.ts";
import { rejectionOf } from "../../tests/helpers/errors.ts";
import {
  type BurnList,
  burnListLeft,
  burnListPath,
  createBurnList,
  openBurnListFile,
  updateBurnList,
} from "./burn-list.ts";

const root = tempDir("phantom-burn-list-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PASSWORD = "correct horse battery";
const room = (i: number) => b64uencode(c.sha256(`room ${i}`).slice(0, 16));

function list(): BurnList {
  return {
    uid: c.uidOf(c.generateIdentity().encPub),
    signSeed: c.randomBytes(32),
    relays: [{ url: "http://127.0.0.1:8787", authPub: null, burnKey: c.randomBytes(32), rooms: [room(1), room(2)] }],
  };
}

test("sealed under the password (0600), no key or room in the clear, the count readable without it", async () => {
  const home = join(root, "sealed");
  const l = list();
  const seed = Uint8Array.from(l.signSeed);
  const key = Uint8Array.from(l.relays[0]!.burnKey!);
  await createBurnList(home, l, PASSWORD);
  const text = readFileSync(burnListPath(home), "utf8");
  expect(statSync(burnListPath(home)).mode & 0o777).toBe(0o600);
  for (const k of [seed, key])
    for (const s of [b64encode(k), b64uencode(k), hexencode(k)]) expect(text).not.toContain(s);
  expect(text).not.toContain(room(1));
  expect(burnListLeft(home)).toBe(2);
  expect((await rejectionOf(openBurnListFile(home, "wrong password!"))).message).toBe("wrong password");
  const opened = (await openBurnListFile(home, PASSWORD))!;
  expect(opened.list.signSeed).toEqual(seed);
  expect(opened.list.relays[0]!.rooms).toEqual([room(1), room(2)]);
});

test("an update re-reads the file, re-seals it, and deletes it once empty", async () => {
  const home = join(root, "update");
  const opened = await createBurnList(home, list(), PASSWORD);
  const drop = (r: string) => (l: BurnList) => {
    for (const x of l.relays) x.rooms = x.rooms.filter((y) => y !== r);
  };
  const before = readFileSync(burnListPath(home), "utf8");
  updateBurnList(home, opened, drop(room(1)));
  expect(burnListLeft(home)).toBe(1);
  expect(JSON.parse(readFileSync(burnListPath(home), "utf8")).nonce).not.toBe(JSON.parse(before).nonce);
  expect((await openBurnListFile(home, PASSWORD))!.list.relays[0]!.rooms).toEqual([room(2)]);
  updateBurnList(home, opened, drop(room(2)));
  expect(existsSync(burnListPath(home))).toBe(false);
  expect(burnListLeft(home)).toBeNull();
});

test("the burn list and the identity vault never open as each other", async () => {
  const key = await c.vaultKey(PASSWORD, new Uint8Array(32));
  const nonce = new Uint8Array(12);
  const sealed = c.sealBurnList(key, nonce, new TextEncoder().encode("{}"));
  expect(() => c.openWithVaultKey(key, nonce, sealed)).toThrow("wrong password");
  const vault = c.sealWithVaultKey(key, nonce, new TextEncoder().encode("{}"));
  expect(() => c.openBurnList(key, nonce, vault)).toThrow("wrong password");
  expect(new TextDecoder().decode(c.openBurnList(key, nonce, sealed))).toBe("{}");
});
