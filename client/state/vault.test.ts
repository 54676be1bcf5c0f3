// identity.json (PROTOCOL §3): the Python-made vector opens; ours round-trips; errors name the file.
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, uidOf, vaultKey } from "../../lib/crypto.ts";
import { b64encode } from "../../lib/encoding.ts";
import { rejectionOf } from "../../tests/helpers/errors.ts";
import vectors from "../../tests/vectors/v2.json" with { type: "json" };
import { identityPath, openIdentity, openIdentityKeyed, writeIdentity, writeIdentityKeyed } from "./vault.ts";

const home = () => join(mkdtempSync(join(tmpdir(), "phantom-vault-")), "home");

test("the vector identity (written by the Python client) opens", async () => {
  const h = home();
  const v = vectors.identity_vault;
  mkdirSync(h, { mode: 0o700 });
  writeFileSync(identityPath(h), JSON.stringify(v.identity_json));
  const id = await openIdentity(h, v.password);
  const alice = vectors.users[0]!;
  expect(b64encode(id.encPub)).toBe(alice.enc_pub_b64);
  expect(uidOf(id.encPub)).toBe(alice.uid);
  expect((await rejectionOf(openIdentity(h, `${v.password}x`))).message).toBe("wrong password");
});

test("ours: 0600 in a 0700 folder, opens again, never replaced", async () => {
  const h = home();
  const id = generateIdentity();
  await writeIdentity(h, id, "correct horse");
  expect(statSync(h).mode & 0o777).toBe(0o700);
  expect(statSync(identityPath(h)).mode & 0o777).toBe(0o600);
  expect(Object.keys(JSON.parse(readFileSync(identityPath(h), "utf8"))).sort()).toEqual(["ct", "nonce", "salt"]);
  expect((await openIdentity(h, "correct horse")).encPub).toEqual(id.encPub);
  const before = readFileSync(identityPath(h), "utf8");
  expect((await rejectionOf(writeIdentity(h, generateIdentity(), "another one"))).code).toBe("identity-exists");
  expect(readFileSync(identityPath(h), "utf8")).toBe(before);
});

test("missing and corrupt files: clear errors naming the file", async () => {
  const h = home();
  expect((await rejectionOf(openIdentity(h, "whatever1"))).code).toBe("no-identity");
  await writeIdentity(h, generateIdentity(), "correct horse");
  for (const bad of ["{", '{"salt":"AA==","nonce":"AA==","ct":"AA=="}', "{}"]) {
    writeFileSync(identityPath(h), bad);
    const e = await rejectionOf(openIdentity(h, "correct horse"));
    expect(e.code).toBe("corrupt-file");
    expect(e.message).toContain(identityPath(h));
  }
});

test("an identity restored with loose modes (a copy made with cp) is tightened to 0600 in 0700 when opened", async () => {
  const h = home();
  const v = vectors.identity_vault;
  mkdirSync(h);
  writeFileSync(identityPath(h), JSON.stringify(v.identity_json));
  chmodSync(h, 0o755);
  chmodSync(identityPath(h), 0o644);
  await openIdentity(h, v.password);
  expect(statSync(identityPath(h)).mode & 0o777).toBe(0o600);
  expect(statSync(h).mode & 0o777).toBe(0o700);
});

test("the vault key (PROTOCOL §3's scrypt output, for state.db) is the same when written and when opened", async () => {
  const h = home();
  const written = await writeIdentityKeyed(h, generateIdentity(), "correct horse");
  const { key } = await openIdentityKeyed(h, "correct horse");
  expect(key).toHaveLength(32);
  expect(key).toEqual(written);
  const salt = Buffer.from(JSON.parse(readFileSync(identityPath(h), "utf8")).salt, "base64");
  expect(key).toEqual(await vaultKey("correct horse", new Uint8Array(salt)));
});
