// A fresh bob with a complete §V3.3 bundle (SPK, PQSPK, OPK, OPQK) and a fresh alice, for tests.
import { generateIdentity, randomBytes, uidOf } from "../../lib/crypto.ts";
import { b64encode, b64uencode } from "../../lib/encoding.ts";
import { dhPair } from "../../lib/v3/dh.ts";
import { kemKeygen } from "../../lib/v3/mlkem.ts";
import { PREKEY_KIND, signPrekey } from "../../lib/v3/prekey.ts";

export function makeBundleBody() {
  const alice = generateIdentity();
  const bob = { ...generateIdentity(), uid: "" };
  bob.uid = uidOf(bob.encPub);
  const id = () => Math.floor(Math.random() * 0xfffffffe);
  const spk = { id: id(), priv: randomBytes(32) };
  const opk = { id: id(), priv: randomBytes(32) };
  const pqspk = { id: id(), seed: randomBytes(64) };
  const opqk = { id: id(), seed: randomBytes(64) };
  const obj = (kind: 1 | 2 | 3 | 4, i: number, pub: Uint8Array) => ({
    id: i,
    pub: b64encode(pub),
    sig: b64uencode(signPrekey(bob.signSeed, kind, i, pub)),
  });
  const body = {
    uid: bob.uid,
    pub_key: b64encode(bob.encPub),
    sign_pub: b64uencode(bob.signPub),
    spk: obj(PREKEY_KIND.SPK, spk.id, dhPair(spk.priv).pub),
    pqspk: obj(PREKEY_KIND.PQSPK, pqspk.id, kemKeygen(pqspk.seed).ek),
    opk: obj(PREKEY_KIND.OPK, opk.id, dhPair(opk.priv).pub),
    opqk: obj(PREKEY_KIND.OPQK, opqk.id, kemKeygen(opqk.seed).ek),
  };
  return { alice, bob, spk, opk, pqspk, opqk, body, used: { opk: false, opqk: false } };
}
