// PROTOCOL-v3 §V2 prekey signatures against the v3 vectors' prekeys (bob's SPK: signed bytes and sig).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { b64udecode, b64decode, hexencode } from "../encoding.ts";
import { PREKEY_KIND, prekeyPubLength, prekeySignedBytes, verifyPrekey } from "./prekey.ts";

const V = JSON.parse(
  readFileSync(process.env.PHANTOM_V3_VECTORS ?? join(import.meta.dir, "../../tests/vectors/v3.json"), "utf8"),
);

test("the signed bytes and signature of a vector prekey", () => {
  const spk = V.prekeys.spk;
  const pub = b64decode(spk.pub_b64);
  expect(hexencode(prekeySignedBytes(PREKEY_KIND.SPK, spk.id, pub))).toBe(spk.signed_message_hex);
  expect(prekeyPubLength(PREKEY_KIND.SPK)).toBe(pub.length);
  const signPub = b64udecode(V.users.bob.sign_pub_b64u);
  expect(verifyPrekey(signPub, PREKEY_KIND.SPK, spk.id, pub, b64udecode(spk.sig_b64u))).toBe(true);
  expect(verifyPrekey(signPub, PREKEY_KIND.OPK, spk.id, pub, b64udecode(spk.sig_b64u))).toBe(false); // kind bound
});
