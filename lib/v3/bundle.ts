// PROTOCOL-v3 §V3.3: the client's checks of a fetched bundle, in the spec's order, refusing at
// the first failure with bundle-uid / bundle-length / bundle-sig / bundle-pin (§V12).
import { z } from "zod";
import { uidOf } from "../crypto.ts";
import { b64decode, b64udecode } from "../encoding.ts";
import { V3Error } from "./errors.ts";
import type { BundleKeys } from "./handshake.ts";
import { checkEk } from "./mlkem.ts";
import { NO_OPK_ID, PREKEY_KIND, type PrekeyKind, prekeyPubLength, verifyPrekey } from "./prekey.ts";

const Prekey = z.object({ id: z.number().int().min(0).max(0xffffffff), pub: z.string(), sig: z.string() });
const BundleJson = z.object({
  uid: z.string(),
  pub_key: z.string(),
  sign_pub: z.string(),
  spk: Prekey,
  pqspk: Prekey,
  opk: Prekey.nullable(),
  opqk: Prekey.nullable(),
});

export interface Bundle extends BundleKeys {
  uid: string;
  signPub: Uint8Array;
}

export interface BundleExpectations {
  /** The UID the client asked for. */
  uid: string;
  /** The contact's IK when the client already knows it. */
  ik?: Uint8Array | null;
  /** The sign_pub pinned for this contact by an earlier valid bundle (§V3.3), if any. */
  pinnedSignPub?: Uint8Array | null;
}

function fail(reason: "bundle-uid" | "bundle-length" | "bundle-sig" | "bundle-pin", detail: string): never {
  throw new V3Error(reason, detail);
}

function bytes(decode: (s: string) => Uint8Array, text: string, len: number, what: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = decode(text);
  } catch {
    fail("bundle-length", `${what} does not decode`);
  }
  if (out.length !== len) fail("bundle-length", `${what} is ${out.length} bytes, not ${len}`);
  return out;
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Checks the parsed JSON of a 200 answer of POST /v3/bundle; returns the decoded bundle. */
export function checkBundle(body: unknown, expect: BundleExpectations): Bundle {
  const uid = (body as { uid?: unknown } | null)?.uid;
  if (typeof uid === "string" && uid !== expect.uid) fail("bundle-uid", "not the UID asked for");
  const parsed = BundleJson.safeParse(body);
  if (!parsed.success) fail("bundle-length", "a field is missing or has the wrong type");
  const b = parsed.data;
  const ik = bytes(b64decode, b.pub_key, 32, "pub_key");
  if (expect.ik && !eq(ik, expect.ik)) fail("bundle-uid", "pub_key is not the contact's key");
  if (uidOf(ik) !== b.uid) fail("bundle-uid", "UID(pub_key) differs from uid");
  const signPub = bytes(b64udecode, b.sign_pub, 32, "sign_pub");
  const fields: [PrekeyKind, string, z.infer<typeof Prekey> | null][] = [
    [PREKEY_KIND.SPK, "spk", b.spk],
    [PREKEY_KIND.PQSPK, "pqspk", b.pqspk],
    [PREKEY_KIND.OPK, "opk", b.opk],
    [PREKEY_KIND.OPQK, "opqk", b.opqk],
  ];
  const keys = fields.map(([kind, name, p]) => {
    if (!p) return null;
    const pub = bytes(b64decode, p.pub, prekeyPubLength(kind), `${name}.pub`);
    const sig = bytes(b64udecode, p.sig, 64, `${name}.sig`);
    if (prekeyPubLength(kind) !== 32 && !checkEk(pub)) fail("bundle-length", `${name}.pub fails the FIPS 203 check`);
    return { kind, name, id: p.id, pub, sig };
  });
  for (const k of keys) if (k && k.id === NO_OPK_ID) fail("bundle-length", `${k.name}.id is 0xFFFFFFFF`);
  for (const k of keys) {
    let ok = false;
    try {
      ok = !!k && verifyPrekey(signPub, k.kind, k.id, k.pub, k.sig);
    } catch {
      ok = false; // a sign_pub that is not a usable point verifies nothing
    }
    if (k && !ok) fail("bundle-sig", `${k.name} signature does not verify`);
  }
  if (expect.pinnedSignPub && !eq(expect.pinnedSignPub, signPub)) fail("bundle-pin", "sign_pub changed");
  const pk = (i: number) => (keys[i] ? { id: keys[i]!.id, pub: keys[i]!.pub } : null);
  return { uid: b.uid, ik, signPub, spk: pk(0)!, pqspk: pk(1)!, opk: pk(2), opqk: pk(3) };
}
