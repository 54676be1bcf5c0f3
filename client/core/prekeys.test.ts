// The bundle plan (client/core/prekeys.ts) on a real sealed state.db: a first upload is complete and
// every signature verifies; nothing is planned while the relay holds enough; top-ups, the 7-day SPK
// replacement and the 14 days the replaced private key is kept; ids unique across all four kinds.
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../../lib/crypto.ts";
import { b64decode, b64udecode } from "../../lib/encoding.ts";
import { PREKEY_KIND, prekeyPubLength, verifyPrekey, type PrekeyKind } from "../../lib/v3/prekey.ts";
import { testVaultKey } from "../../tests/helpers/state.ts";
import type { PrekeyObject, PrekeyStatus } from "../net/relay-client.ts";
import { getPrekey, listPrekeys } from "../state/ratchet-store.ts";
import { StateDb } from "../state/state-db.ts";
import { OPK_TARGET, OPQK_TARGET, planUpload, SPK_KEEP_S, SPK_LIFETIME_S, topUpBundle } from "./prekeys.ts";

const open = () => StateDb.open(join(mkdtempSync(join(tmpdir(), "phantom-prekeys-")), "home"), testVaultKey());
const id = generateIdentity();
const T0 = 1_800_000_000;
const none: PrekeyStatus = { spk_id: null, pqspk_id: null, opks: 0, opqks: 0 };

function checkObject(kind: PrekeyKind, p: PrekeyObject, db: StateDb): void {
  const pub = b64decode(p.pub);
  expect(pub.length).toBe(prekeyPubLength(kind));
  expect(verifyPrekey(id.signPub, kind, p.id, pub, b64udecode(p.sig))).toBe(true);
  expect(getPrekey(db, kind, p.id)).not.toBeNull(); // the private half is sealed before any upload
}

test("a first upload is a complete bundle, every key signed with its kind and held privately", () => {
  const db = open();
  const up = planUpload(db, id.signSeed, none, T0)!;
  checkObject(PREKEY_KIND.SPK, up.spk!, db);
  checkObject(PREKEY_KIND.PQSPK, up.pqspk!, db);
  expect(up.opks!.length).toBe(OPK_TARGET);
  expect(up.opqks!.length).toBe(OPQK_TARGET);
  for (const p of up.opks!) checkObject(PREKEY_KIND.OPK, p, db);
  for (const p of up.opqks!) checkObject(PREKEY_KIND.OPQK, p, db);
  const ids = [up.spk!, up.pqspk!, ...up.opks!, ...up.opqks!].map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.every((i) => i >= 0 && i <= 0xfffffffe)).toBe(true);
});

test("nothing while the relay holds enough; top-ups below 20 OPKs and 3 OPQKs; a new SPK after 7 days", () => {
  const db = open();
  const first = planUpload(db, id.signSeed, none, T0)!;
  const full: PrekeyStatus = { spk_id: first.spk!.id, pqspk_id: first.pqspk!.id, opks: 20, opqks: 3 };
  expect(planUpload(db, id.signSeed, full, T0 + 10)).toBeNull();
  const low = planUpload(db, id.signSeed, { ...full, opks: 19, opqks: 2 }, T0 + 20)!;
  expect(low.spk).toBeUndefined();
  expect(low.opks!.length).toBe(OPK_TARGET - 19);
  expect(low.opqks!.length).toBe(OPQK_TARGET - 2);
  // The relay lost the SPK (a cleared bundle, another relay): a new pair at once.
  expect(planUpload(db, id.signSeed, { ...full, spk_id: null }, T0 + 30)!.spk).toBeDefined();

  const db2 = open();
  const a = planUpload(db2, id.signSeed, none, T0)!;
  const held = { spk_id: a.spk!.id, pqspk_id: a.pqspk!.id, opks: 100, opqks: 10 };
  expect(planUpload(db2, id.signSeed, held, T0 + SPK_LIFETIME_S - 1)).toBeNull();
  const b = planUpload(db2, id.signSeed, held, T0 + SPK_LIFETIME_S)!;
  expect(b.spk!.id).not.toBe(a.spk!.id);
  expect(b.pqspk).toBeDefined();
  // The replaced SPK's private key stays 14 more days (late prekey messages), then goes.
  expect(getPrekey(db2, PREKEY_KIND.SPK, a.spk!.id)).not.toBeNull();
  const held2 = { ...held, spk_id: b.spk!.id, pqspk_id: b.pqspk!.id };
  const c = planUpload(db2, id.signSeed, held2, T0 + 2 * SPK_LIFETIME_S + SPK_KEEP_S)!;
  expect(getPrekey(db2, PREKEY_KIND.SPK, a.spk!.id)).toBeNull();
  expect(getPrekey(db2, PREKEY_KIND.PQSPK, a.pqspk!.id)).toBeNull();
  expect(listPrekeys(db2, PREKEY_KIND.SPK).map((p) => p.id)).toContain(c.spk!.id);
});

test("topUpBundle asks the relay at most hourly, unless forced, and uploads what the plan says", async () => {
  const db = open();
  const uploads: unknown[] = [];
  let asked = 0;
  const relay = {
    prekeyStatus: async () => (asked++, none),
    publishPrekeys: async (b: unknown) => (uploads.push(b), { opks: 100, opqks: 10 }),
  };
  expect(await topUpBundle(db, id.signSeed, relay, { now: T0 })).not.toBeNull();
  expect(await topUpBundle(db, id.signSeed, relay, { now: T0 + 3599 })).toBeNull();
  expect(asked).toBe(1);
  await topUpBundle(db, id.signSeed, relay, { now: T0 + 3599, force: true });
  await topUpBundle(db, id.signSeed, relay, { now: T0 + 3600 + 3599 });
  expect(asked).toBe(3);
  expect(uploads.length).toBe(3);
});
