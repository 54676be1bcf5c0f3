// PROTOCOL-v3 known-answer vectors (tests/vectors/v3.json, or PHANTOM_V3_VECTORS): every value,
// positive and negative, reproduced with lib/v3 driven by the generator's det() draws. The last
// test fails if any leaf of the file went unread.
import { describe, expect, test } from "bun:test";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64decode, b64encode, b64udecode, b64uencode, hexdecode, hexencode, utf8 } from "../lib/encoding.ts";
import { canonicalRequest } from "../lib/wire.ts";
import { checkBundle } from "../lib/v3/bundle.ts";
import { dhPair } from "../lib/v3/dh.ts";
import { V3_REASONS, V3Error } from "../lib/v3/errors.ts";
import { decryptFileStream, encryptFileStream, fileBlobLength, fileNonce } from "../lib/v3/file.ts";
import { type PrekeyStore, initiatorHandshake } from "../lib/v3/handshake.ts";
import * as k from "../lib/v3/kdf.ts";
import { checkEk, kemKeygen } from "../lib/v3/mlkem.ts";
import { BUCKETS, MAX_INNER, pad, unpad } from "../lib/v3/padding.ts";
import { NO_OPK_ID, PREKEY_KIND, PREKEY_LABEL, prekeySignedBytes, signPrekey } from "../lib/v3/prekey.ts";
import { MAX_SKIP_PER_CHAIN, MAX_SKIP_PER_SESSION, initInitiator } from "../lib/v3/ratchet.ts";
import { safetyCode, safetyInput, LABEL_SAFETY } from "../lib/v3/safety.ts";
import { type Session, decrypt, encrypt } from "../lib/v3/session.ts";
import { serializeSession } from "../lib/v3/serialize.ts";
import { LABEL_FILE } from "../lib/v3/file.ts";
import * as wire from "../lib/v3/wire.ts";
import { RAW, ROOT, SEEN, V, det, leafPaths, queuedDraw, sha, stateView, vecState } from "./helpers/v3vec.ts";

const SEED: string = V.seed;
const hx = hexencode;
const unhex = (s: string) => hexdecode(s);
const list = (a: any): any[] => Array.from({ length: a.length }, (_, i) => a[i]);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof V3Error) return e.reason;
    throw e;
  }
  return "accepted";
}
function refusalDetail(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof V3Error) return e.message;
    throw e;
  }
  return "accepted";
}
async function refusalAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof V3Error) return e.message;
    throw e;
  }
  return "accepted";
}

// ---- identities ---------------------------------------------------------------------------
const users: Record<string, { ik: ReturnType<typeof dhPair>; signSeed: Uint8Array; signPub: Uint8Array; uid: string }> =
  {};
for (const name of ["alice", "bob"]) {
  const u = V.users[name];
  const priv = b64decode(u.enc_priv_b64);
  users[name] = {
    ik: dhPair(priv),
    signSeed: b64udecode(u.sign_seed_b64u),
    signPub: b64udecode(u.sign_pub_b64u),
    uid: u.uid,
  };
}

describe("v3 vectors: constants, users, det draws, safety code", () => {
  test("constants match lib/v3", () => {
    const C = V.constants;
    expect(C.labels.uid).toBe(c.UID_LABEL);
    expect(C.labels.prekey).toBe(PREKEY_LABEL);
    expect(C.labels.pqxdh).toBe(k.LABEL_PQXDH);
    expect(C.labels.sid).toBe(k.LABEL_SID);
    expect(C.labels.ad).toBe(k.LABEL_AD);
    expect(C.labels.rk).toBe(k.LABEL_RK);
    expect(C.labels.mk).toBe(k.LABEL_MK);
    expect(C.labels.file).toBe(LABEL_FILE);
    expect({ ...C.prekey_kinds }).toEqual({ ...PREKEY_KIND });
    expect(list(C.buckets)).toEqual([...BUCKETS]);
    expect(C.max_inner).toBe(MAX_INNER);
    expect(C.chunk).toBe(65536);
    expect(C.no_opk_id).toBe(NO_OPK_ID);
    expect(C.sizes.x25519).toBe(32);
    expect(C.sizes.mlkem768_ek).toBe(1184);
    expect(C.sizes.mlkem768_dk).toBe(2400);
    expect(C.sizes.mlkem768_ct).toBe(1088);
    expect(C.sizes.mlkem768_ss).toBe(32);
    expect(C.sizes.prekey_field).toBe(wire.PREKEY_FIELD_LEN);
    expect(C.sizes.header_without_ct).toBe(wire.HEADER_LEN_NO_CT);
    expect(C.sizes.header_with_ct).toBe(wire.HEADER_LEN_CT);
    expect(C.sizes.AD).toBe(k.sessionAd(users.alice!.ik.pub, users.bob!.ik.pub).length);
    expect(C.skip_limits.per_chain).toBe(MAX_SKIP_PER_CHAIN);
    expect(C.skip_limits.per_session).toBe(MAX_SKIP_PER_SESSION);
    // Every reason named by the file is a §V12 code of lib/v3, with a description.
    for (const r of Object.keys(V.reasons)) {
      expect(V3_REASONS as readonly string[]).toContain(r);
      expect(typeof V.reasons[r]).toBe("string");
    }
    // The descriptive leaves: present and non-empty.
    for (const s of [V.description, V.det_definition, V.safety_code.rule, V.prekeys.signed_message_layout])
      expect(s.length).toBeGreaterThan(10);
    for (const g of list(V.generator_choices)) expect(g.length).toBeGreaterThan(10);
  });

  test("every det_draws entry is det(label, n)", () => {
    for (const d of list(V.det_draws)) {
      const got = det(SEED, d.label, d.n);
      if (d.hex === undefined) {
        expect(sha(got)).toBe(d.sha256_hex);
        expect(d.note.length).toBeGreaterThan(0);
      } else expect(hx(got) === d.hex).toBe(true);
    }
  });

  test("users: keys, UID, fingerprint from their det draws", () => {
    for (const name of ["alice", "bob"]) {
      const u = V.users[name];
      expect(u.name).toBe(name);
      const [xl, el] = list(u.det_labels);
      expect(b64encode(det(SEED, xl, 32))).toBe(u.enc_priv_b64);
      expect(b64uencode(det(SEED, el, 32))).toBe(u.sign_seed_b64u);
      expect(b64encode(users[name]!.ik.pub)).toBe(u.enc_pub_b64);
      expect(b64uencode(c.ed25519Public(users[name]!.signSeed))).toBe(u.sign_pub_b64u);
      expect(c.uidOf(users[name]!.ik.pub)).toBe(u.uid);
      expect(c.fingerprintOf(users[name]!.ik.pub)).toBe(u.fingerprint);
    }
  });

  test("§V2.1 safety code", () => {
    const S = V.safety_code;
    const a = { uid: users.alice!.uid, ik: users.alice!.ik.pub, signPub: users.alice!.signPub };
    const b = { uid: users.bob!.uid, ik: users.bob!.ik.pub, signPub: users.bob!.signPub };
    expect(V.users[S.lo].uid < V.users[S.lo === "bob" ? "alice" : "bob"].uid).toBe(true);
    expect(hx(safetyInput(a, b))).toBe(S.input_hex);
    expect(hx(safetyInput(b, a))).toBe(S.input_hex);
    expect(sha(safetyInput(a, b))).toBe(S.sha256_hex);
    expect(safetyCode(a, b)).toBe(S.code);
    expect(safetyCode(b, a)).toBe(S.code);
    expect(LABEL_SAFETY).toBe("phantom-v3-safety");
  });
});

// ---- prekeys ------------------------------------------------------------------------------
const PK = V.prekeys;
const bobKeys = {
  spk: { id: PK.spk.id as number, priv: unhex(PK.spk.priv_hex) },
  opk: { id: PK.opk.id as number, priv: unhex(PK.opk.priv_hex) },
  pqspk: { id: PK.pqspk.id as number, seed: unhex(PK.pqspk.seed_d_z_hex) },
  opqk: { id: PK.opqk.id as number, seed: unhex(PK.opqk.seed_d_z_hex) },
};

describe("v3 vectors: §V2 prekeys and §V3.1 publish", () => {
  test("each prekey: id, key pair from its det seed, signed bytes, signature, prekey object", () => {
    expect(PK.owner).toBe("bob");
    for (const name of ["spk", "pqspk", "opk", "opqk"]) {
      const p = PK[name];
      expect(p.kind).toBe((PREKEY_KIND as any)[p.kind_name]);
      expect(p.kind_name.toLowerCase()).toBe(name);
      expect(p.id_hex).toBe(p.id.toString(16).padStart(8, "0"));
      expect(hx(det(SEED, `bob-${name}-id`, 4))).toBe(p.id_hex);
      let pub: Uint8Array;
      if (p.kind === 1 || p.kind === 3) {
        expect(hx(det(SEED, p.det_label, 32))).toBe(p.priv_hex);
        pub = dhPair(unhex(p.priv_hex)).pub;
        expect(hx(pub)).toBe(p.pub_hex);
        expect(b64encode(pub)).toBe(p.pub_b64);
      } else {
        expect(hx(det(SEED, p.det_label, 64))).toBe(p.seed_d_z_hex);
        const kp = kemKeygen(unhex(p.seed_d_z_hex));
        pub = kp.ek;
        expect(b64encode(kp.ek)).toBe(p.ek_b64);
        expect(sha(kp.ek)).toBe(p.ek_sha256_hex);
        expect(b64encode(kp.dk)).toBe(p.dk_b64);
        expect(kp.dk.length).toBe(p.dk_len);
        expect(checkEk(kp.ek)).toBe(true);
      }
      const msg = prekeySignedBytes(p.kind, p.id, pub);
      expect(hx(msg)).toBe(p.signed_message_hex);
      expect(msg.length).toBe(p.signed_message_len);
      expect(b64uencode(signPrekey(users.bob!.signSeed, p.kind, p.id, pub))).toBe(p.sig_b64u);
      expect(p.prekey_object.id).toBe(p.id);
      expect(p.prekey_object.pub).toBe(b64encode(pub));
      expect(p.prekey_object.sig).toBe(p.sig_b64u);
    }
  });

  test("the FIPS 203 ek check refuses a coefficient ≥ q and a wrong length", () => {
    const ek = b64decode(PK.pqspk.ek_b64);
    const bad = Uint8Array.from(ek);
    bad[0] = 0xff;
    bad[1] = 0x0f; // first coefficient 4095 ≥ 3329
    expect(checkEk(bad)).toBe(false);
    expect(checkEk(ek.subarray(0, 1183))).toBe(false);
  });

  /** A signed request of the vectors: v2 canonical (and the §V11 v3 form), signature by `who`. */
  function checkRequest(r: any, who: "alice" | "bob", origin?: string) {
    const body = r.body as string;
    const h = r.headers;
    let canon = canonicalRequest(
      r.method,
      r.path,
      h["x-phantom-uid"],
      h["x-phantom-ts"],
      h["x-phantom-nonce"],
      c.sha256(body),
    );
    if (origin !== undefined) {
      expect(h["x-phantom-sigv"]).toBe("3");
      canon = `phantom-sig-v3\n${origin}\n${canon}`;
    }
    expect(canon).toBe(r.canonical);
    expect(h["x-phantom-uid"]).toBe(users[who]!.uid);
    expect(b64uencode(c.sign(users[who]!.signSeed, canon))).toBe(h["x-phantom-sig"]);
  }

  test("publish request (v2 and §V11 signatures), body of the four prekey objects, answers", () => {
    const P = PK.publish;
    checkRequest(P.request, "bob");
    checkRequest(P.request_sigv3, "bob", P.request_sigv3.origin);
    expect(hx(det(SEED, "bob/publish-nonce", 12))).toBe(hx(b64udecode(P.request.headers["x-phantom-nonce"])));
    expect(hx(det(SEED, "bob/publish-nonce-v3", 12))).toBe(hx(b64udecode(P.request_sigv3.headers["x-phantom-nonce"])));
    const obj = (n: string) => ({
      id: PK[n].prekey_object.id,
      pub: PK[n].prekey_object.pub,
      sig: PK[n].prekey_object.sig,
    });
    const body = JSON.stringify({ spk: obj("spk"), pqspk: obj("pqspk"), opks: [obj("opk")], opqks: [obj("opqk")] });
    expect(P.request.body).toBe(body);
    for (const f of ["method", "path", "body"]) expect(P.request_sigv3[f]).toBe(P.request[f]);
    expect(P.response).toBe(JSON.stringify({ opks: 1, opqks: 1 }));
    expect(P.status_after).toBe(JSON.stringify({ spk_id: PK.spk.id, pqspk_id: PK.pqspk.id, opks: 1, opqks: 1 }));
  });

  test("§V3.3 bundles pass the client checks; the second is checked against the pinned sign_pub", () => {
    const B = V.bundles;
    checkRequest(B.with_one_time_keys.request, "alice");
    checkRequest(B.without_one_time_keys.request, "alice");
    expect(hx(det(SEED, "alice/bundle-nonce-1", 12))).toBe(
      hx(b64udecode(B.with_one_time_keys.request.headers["x-phantom-nonce"])),
    );
    expect(hx(det(SEED, "alice/bundle-nonce-2", 12))).toBe(
      hx(b64udecode(B.without_one_time_keys.request.headers["x-phantom-nonce"])),
    );
    for (const b of [B.with_one_time_keys, B.without_one_time_keys])
      expect(b.request.body).toBe(JSON.stringify({ uid: users.bob!.uid }));
    const b1 = checkBundle(JSON.parse(B.with_one_time_keys.answer_body), {
      uid: users.bob!.uid,
      ik: users.bob!.ik.pub,
    });
    expect(B.with_one_time_keys.client_check).toBe("passes");
    expect(b1.opk?.id).toBe(PK.opk.id);
    expect(b1.opqk?.id).toBe(PK.opqk.id);
    const obj = (n: string) => ({ id: PK[n].id, pub: PK[n].prekey_object.pub, sig: PK[n].sig_b64u });
    const answer = (opk: unknown, opqk: unknown) =>
      JSON.stringify({
        uid: users.bob!.uid,
        pub_key: V.users.bob.enc_pub_b64,
        sign_pub: V.users.bob.sign_pub_b64u,
        spk: obj("spk"),
        pqspk: obj("pqspk"),
        opk,
        opqk,
      });
    expect(B.with_one_time_keys.answer_body).toBe(answer(obj("opk"), obj("opqk")));
    expect(B.without_one_time_keys.answer_body).toBe(answer(null, null));
    expect(B.with_one_time_keys.status_after).toBe(
      JSON.stringify({ spk_id: PK.spk.id, pqspk_id: PK.pqspk.id, opks: 0, opqks: 0 }),
    );
    const b2 = checkBundle(JSON.parse(B.without_one_time_keys.answer_body), {
      uid: users.bob!.uid,
      pinnedSignPub: b1.signPub,
    });
    expect(B.without_one_time_keys.client_check).toStartWith("passes");
    expect(b2.opk).toBeNull();
    // A different pinned key is bundle-pin.
    expect(
      refusal(() =>
        checkBundle(JSON.parse(B.without_one_time_keys.answer_body), {
          uid: users.bob!.uid,
          pinnedSignPub: users.alice!.signPub,
        }),
      ),
    ).toBe("bundle-pin");
    expect(refusal(() => checkBundle(JSON.parse(B.without_one_time_keys.answer_body), { uid: users.alice!.uid }))).toBe(
      "bundle-uid",
    );
  });
});

// ---- handshakes and the s1 conversation ------------------------------------------------------
const bobStore = (held: { spk: number[]; pqspk: number[]; opk: number[]; opqk: number[] }): PrekeyStore => ({
  spk: (id) => (held.spk.includes(id) && id === bobKeys.spk.id ? bobKeys.spk.priv : null),
  opk: (id) => (held.opk.includes(id) && id === bobKeys.opk.id ? bobKeys.opk.priv : null),
  pqspk: (id) => (held.pqspk.includes(id) && id === bobKeys.pqspk.id ? bobKeys.pqspk.seed : null),
  opqk: (id) => (held.opqk.includes(id) && id === bobKeys.opqk.id ? bobKeys.opqk.seed : null),
  dropped: () => false,
});

interface Party {
  sessions: Session[];
  held: { spk: number[]; pqspk: number[]; opk: number[]; opqk: number[] };
}
type Snapshot = { sessions: Session[]; held: Party["held"] };
const snapshots = new Map<string, Snapshot>();
const snap = (p: Party): Snapshot => ({ sessions: p.sessions.slice(), held: JSON.parse(JSON.stringify(p.held)) });

const bundle1 = checkBundle(JSON.parse(V.bundles.with_one_time_keys.answer_body as string), {
  uid: users.bob!.uid,
});
const bundle2 = checkBundle(JSON.parse(V.bundles.without_one_time_keys.answer_body as string), { uid: users.bob!.uid });

function checkHandshake(H: any, bundle: typeof bundle1) {
  const labels = [H.det_labels.ek, H.det_labels.pq_m];
  const hs = initiatorHandshake(bundle, users.alice!.ik, queuedDraw(SEED, labels));
  expect(H.initiator).toBe("alice");
  expect(H.responder).toBe("bob");
  expect(H.inputs.IK_A_hex).toBe(hx(users.alice!.ik.pub));
  expect(H.inputs.IK_B_hex).toBe(hx(bundle.ik));
  expect(H.inputs.SPK_B.id).toBe(bundle.spk.id);
  expect(H.inputs.SPK_B.pub_hex).toBe(hx(bundle.spk.pub));
  if (bundle.opk) {
    expect(H.inputs.OPK_B.id).toBe(bundle.opk.id);
    expect(H.inputs.OPK_B.pub_hex).toBe(hx(bundle.opk.pub));
  } else expect(H.inputs.OPK_B).toBeNull();
  const pq = bundle.opqk ?? bundle.pqspk;
  expect(H.inputs.PQK.kind).toBe(hs.prekey.pqKind);
  expect(H.inputs.PQK.kind_name).toBe(hs.prekey.pqKind === 4 ? "OPQK" : "PQSPK");
  expect(H.inputs.PQK.id).toBe(pq.id);
  expect(H.inputs.PQK.ek_sha256_hex).toBe(sha(pq.pub));
  expect(H.EK_priv_hex).toBe(hx(hs.ek.priv));
  expect(H.EK_pub_hex).toBe(hx(hs.ek.pub));
  expect(H.DH1_hex).toBe(hx(hs.dhs[0]!));
  expect(H.DH2_hex).toBe(hx(hs.dhs[1]!));
  expect(H.DH3_hex).toBe(hx(hs.dhs[2]!));
  expect(H.DH4_hex).toBe(hs.dhs[3] ? hx(hs.dhs[3]) : null);
  expect(H.pq_encaps_m_hex).toBe(hx(det(SEED, H.det_labels.pq_m, 32)));
  expect(H.pq_ct_b64).toBe(b64encode(hs.prekey.pqCt));
  expect(H.pq_ct_sha256_hex).toBe(sha(hs.prekey.pqCt));
  expect(H.SS_hex).toBe(hx(hs.ss));
  const ikm = k.pqxdhIkm(hs.dhs, hs.ss);
  expect(H.hkdf_ikm_hex).toBe(hx(ikm));
  expect(H.hkdf_ikm_len).toBe(ikm.length);
  expect(H.hkdf_salt_hex).toBe(hx(new Uint8Array(32)));
  expect(H.hkdf_info).toBe(k.LABEL_PQXDH);
  expect(H.SK_hex).toBe(hx(hs.sk));
  expect(H.SID_hex).toBe(hx(hs.sid));
  expect(H.AD_hex).toBe(hx(hs.sad));
  expect(H.AD_len).toBe(hs.sad.length);
  const field = wire.serializePrekey(hs.prekey);
  expect(H.prekey_field_hex).toBe(hx(field));
  expect(H.prekey_field_len).toBe(field.length);
  const F = H.prekey_fields;
  expect([F.EK_hex, F.spk_id, F.opk_id, F.pq_kind, F.pq_id, F.pq_ct_sha256_hex]).toEqual([
    hx(hs.prekey.ek),
    hs.prekey.spkId,
    hs.prekey.opkId,
    hs.prekey.pqKind,
    hs.prekey.pqId,
    sha(hs.prekey.pqCt),
  ]);
  const R = H.alice_ratchet_init;
  const st = initInitiator(hs.sk, bundle.spk.pub, queuedDraw(SEED, list(R.det_labels)));
  expect(R.dhs_priv_hex).toBe(hx(st.dhs.priv));
  expect(R.dhs_pub_hex).toBe(hx(st.dhs.pub));
  expect(R.kems_seed_hex).toBe(hx(st.kems!.seed));
  const kp = kemKeygen(st.kems!.seed);
  expect(R.kems_ek_b64).toBe(b64encode(kp.ek));
  expect(R.kems_dk_b64).toBe(b64encode(kp.dk));
  expect(R.dh_out_hex).toBe(
    hx(
      dhPair(st.dhs.priv).pub.length
        ? (require("../lib/v3/dh.ts").dh(st.dhs.priv, bundle.spk.pub) as Uint8Array)
        : new Uint8Array(),
    ),
  );
  expect(R.kem_ss).toBe("(empty)");
  expect(R.RK_hex).toBe(hx(st.rk));
  expect(R.CKs_hex).toBe(hx(st.cks!));
  expect(stateView(st)).toEqual(vecState(R.state));
  return { hs, labels: [...labels, ...list(R.det_labels)] };
}

describe("v3 vectors: §V4 handshakes", () => {
  test("s1 (OPK and OPQK) and s2 (no OPK, PQSPK)", () => {
    expect(V.handshakes.s1_with_opk_and_opqk.session).toBe("s1");
    expect(V.handshakes.s2_without_opk.session).toBe("s2");
    checkHandshake(V.handshakes.s1_with_opk_and_opqk, bundle1);
    checkHandshake(V.handshakes.s2_without_opk, bundle2);
  });
});

function checkSent(M: any, before: Session, after: Session, w: Uint8Array) {
  const s = before.ratchet;
  expect(stateView(s)).toEqual(vecState(M.sender_state_before));
  expect(stateView(after.ratchet)).toEqual(vecState(M.sender_state_after));
  const [ck2, mk] = k.kdfCk(s.cks!);
  expect(M.CKs_before_hex).toBe(hx(s.cks!));
  expect(M.mk_hex).toBe(hx(mk));
  expect(M.CKs_after_hex).toBe(hx(ck2));
  const { key, nonce } = k.messageKeys(mk);
  expect(M.key_hex).toBe(hx(key));
  expect(M.nonce_hex).toBe(hx(nonce));
  const inner = utf8.encode(M.inner_json);
  expect(M.inner_len).toBe(inner.length);
  const padded = pad(inner);
  expect(M.padded_len).toBe(padded.length);
  expect(M.padded_hex).toBe(hx(padded));
  const p = wire.parseWire(w);
  expect(M.type).toBe(p.type);
  if ("type_name" in M) expect(M.type_name.length).toBeGreaterThan(0);
  expect(M.prekey_hex).toBe(p.prekey ? hx(wire.serializePrekey(p.prekey)) : null);
  const header = wire.serializeHeader(p.header);
  expect(M.header_hex).toBe(hx(header));
  expect(M.header_len).toBe(header.length);
  const F = M.header_fields;
  expect(F.SID_hex).toBe(hx(p.header.sid));
  expect(F.DHs_pub_hex).toBe(hx(p.header.dh));
  expect(F.KEMs_ek_b64).toBe(b64encode(p.header.ek));
  expect(F.KEMs_ek_sha256_hex).toBe(sha(p.header.ek));
  expect(F.ct_len).toBe(p.header.ct ? p.header.ct.length : 0);
  expect(F.sendCt_b64).toBe(p.header.ct ? b64encode(p.header.ct) : null);
  expect(F.PN).toBe(p.header.pn);
  expect(F.N).toBe(p.header.n);
  const aad = new Uint8Array([...before.sad, ...p.prefix]);
  expect(M.aead_aad_hex).toBe(hx(aad));
  expect(M.aead_aad_len).toBe(aad.length);
  if ("aead_output_len" in M) expect(M.aead_output_len).toBe(p.aead.length);
  expect(hx(chacha20poly1305(key, nonce, aad).decrypt(p.aead))).toBe(M.padded_hex);
  const O = M.offsets ?? {
    type_byte: 1,
    prekey: [2, 2 + wire.PREKEY_FIELD_LEN],
    header: [2 + wire.PREKEY_FIELD_LEN, p.prefix.length],
    aead: [p.prefix.length, w.length],
  };
  expect(O.type_byte).toBe(1);
  const pre = p.prekey ? 2 + wire.PREKEY_FIELD_LEN : 2;
  if (p.prekey) expect(list(O.prekey)).toEqual([2, pre]);
  else expect(O.prekey).toBeNull();
  expect(list(O.header)).toEqual([pre, p.prefix.length]);
  expect(list(O.aead)).toEqual([p.prefix.length, w.length]);
  expect(M.wire_len).toBe(w.length);
  expect(M.wire_sha256_hex).toBe(sha(w));
  expect(M.wire_b64).toBe(b64encode(w));
}

function checkDelivered(D: any, before: Session | null, res: ReturnType<typeof decrypt>, w: Uint8Array) {
  const after = res.session.ratchet;
  const p = wire.parseWire(w);
  expect(D.wire_type).toBe(p.type);
  expect(stateView(after)).toEqual(vecState(D.receiver_state_after));
  expect(hx(res.inner)).toBe(hx(utf8.encode(D.inner_json)));
  expect(D.matches_sender).toBe(true);
  const { key, nonce } = k.messageKeys(unhex(D.mk_hex));
  expect(D.key_hex).toBe(hx(key));
  expect(D.nonce_hex).toBe(hx(nonce));
  const padded = chacha20poly1305(key, nonce, new Uint8Array([...res.session.sad, ...p.prefix])).decrypt(p.aead);
  expect(D.padded_len).toBe(padded.length);
  if (D.responder_handshake) {
    const R = D.responder_handshake;
    expect(R.SID_header_hex).toBe(hx(p.header.sid));
    expect(R.SID_derived_hex).toBe(hx(res.session.sid));
    // Recompute the responder's side with the lower-level function.
    const { responderHandshake } = require("../lib/v3/handshake.ts");
    const hs = responderHandshake(
      p.prekey!,
      p.header.sid,
      users.bob!.ik,
      users.alice!.ik.pub,
      bobStore({ spk: [bobKeys.spk.id], pqspk: [bobKeys.pqspk.id], opk: [bobKeys.opk.id], opqk: [bobKeys.opqk.id] }),
    );
    expect([R.DH1_hex, R.DH2_hex, R.DH3_hex, R.DH4_hex]).toEqual([
      hx(hs.dhs[0]),
      hx(hs.dhs[1]),
      hx(hs.dhs[2]),
      hs.dhs[3] ? hx(hs.dhs[3]) : null,
    ]);
    expect(R.SS_hex).toBe(hx(hs.ss));
    expect(R.SK_hex).toBe(hx(hs.sk));
    const { initResponder } = require("../lib/v3/ratchet.ts");
    const init = initResponder(hs.sk, hs.spk);
    expect(stateView(init)).toEqual(vecState(D.responder_init_state));
    expect(stateView(init)).toEqual(vecState(D.receiver_state_before));
    expect(D.prekeys_deleted.opk).toBe(res.deletePrekeys.opk);
    expect(D.prekeys_deleted.opqk).toBe(res.deletePrekeys.opqk);
    expect(res.created).toBe(true);
  } else {
    expect(stateView(before!.ratchet)).toEqual(vecState(D.receiver_state_before));
    expect(res.created).toBe(false);
  }
  if (D.path === "new-chain") {
    const N = D.new_chain;
    const st0 = D.responder_handshake ? vecState(D.responder_init_state) : stateView(before!.ratchet);
    expect(
      list(N.skipped_prev_chain).map((s: any) => ({ dh_pub_hex: s.dh_pub_hex, n: s.n, mk_hex: s.mk_hex })),
    ).toEqual((stateView(after).skipped_keys as any[]).filter((s) => s.dh_pub_hex === st0.DHr_hex));
    const kemIn = p.header.ct
      ? hx(require("../lib/v3/mlkem.ts").kemDecaps(kemKeygen(unhex(st0.KEMs_seed_hex as string)).dk, p.header.ct))
      : "";
    expect(N.kem_in_hex).toBe(kemIn);
    const { dh } = require("../lib/v3/dh.ts");
    const dhRecv = dh(unhex(st0.DHs_priv_hex as string), p.header.dh);
    expect(N.dh_recv_hex).toBe(hx(dhRecv));
    const [rk1, ckr] = k.kdfRk(unhex(st0.RK_hex as string), dhRecv, unhex(kemIn));
    expect(N.RK_after_recv_hex).toBe(hx(rk1));
    expect(N.CKr_hex).toBe(hx(ckr));
    const [l1, l2, l3] = list(N.randomness_det_labels);
    expect(N.new_DHs_priv_hex).toBe(hx(det(SEED, l1, 32)));
    expect(N.new_DHs_pub_hex).toBe(hx(after.dhs.pub));
    expect(N.new_KEMs_seed_hex).toBe(hx(det(SEED, l2, 64)));
    const kp = kemKeygen(det(SEED, l2, 64));
    expect(N.new_KEMs_ek_b64).toBe(b64encode(kp.ek));
    expect(N.new_KEMs_dk_b64).toBe(b64encode(kp.dk));
    expect(N.encaps_m_hex).toBe(hx(det(SEED, l3, 32)));
    expect(N.sendCt_b64).toBe(b64encode(after.sendCt!));
    const { kemEncaps } = require("../lib/v3/mlkem.ts");
    const { ss } = kemEncaps(p.header.ek, det(SEED, l3, 32));
    expect(N.kem_out_hex).toBe(hx(ss));
    const dhSend = dh(det(SEED, l1, 32), p.header.dh);
    expect(N.dh_send_hex).toBe(hx(dhSend));
    const [rk2, cks] = k.kdfRk(rk1, dhSend, ss);
    expect(N.RK_after_send_hex).toBe(hx(rk2));
    expect(N.CKs_hex).toBe(hx(cks));
    expect(N.receiver_PN_after).toBe(after.pn);
    expect(
      list(D.skipped_this_chain).map((s: any) => ({ dh_pub_hex: s.dh_pub_hex, n: s.n, mk_hex: s.mk_hex })),
    ).toEqual((stateView(after).skipped_keys as any[]).filter((s) => s.dh_pub_hex === hx(p.header.dh)));
    // CKr before this message's key: the chain key after the skipped ones.
    let ck = ckr;
    for (let i = 0; i < p.header.n; i++) ck = k.kdfCk(ck)[0];
    expect(D.CKr_before_hex).toBe(hx(ck));
    expect(D.mk_hex).toBe(hx(k.kdfCk(ck)[1]));
  } else {
    expect(D.path).toBe("skipped-key");
    const sk = before!.ratchet.skipped.find((s) => s.n === p.header.n && hx(s.dh) === hx(p.header.dh))!;
    expect(D.mk_hex).toBe(hx(sk.mk));
  }
}

describe("v3 vectors: §V5 the s1 conversation", () => {
  test("every message sent and delivered as the schedule says, bit for bit", () => {
    const C = V.conversation;
    expect(C.session).toBe("s1");
    expect(C.note.length).toBeGreaterThan(0);
    const H = V.handshakes.s1_with_opk_and_opqk;
    const alice: Party = { sessions: [], held: { spk: [], pqspk: [], opk: [], opqk: [] } };
    const bob: Party = {
      sessions: [],
      held: { spk: [bobKeys.spk.id], pqspk: [bobKeys.pqspk.id], opk: [bobKeys.opk.id], opqk: [bobKeys.opqk.id] },
    };
    snapshots.set("bob@start", snap(bob));
    snapshots.set("alice@start", snap(alice));
    const { initiate } = require("../lib/v3/session.ts");
    alice.sessions.push(
      initiate(
        bundle1,
        users.alice!.ik,
        queuedDraw(SEED, [H.det_labels.ek, H.det_labels.pq_m, ...list(H.alice_ratchet_init.det_labels)]),
      ),
    );
    expect(C.SID_hex).toBe(hx(alice.sessions[0]!.sid));
    expect(C.AD_hex).toBe(hx(alice.sessions[0]!.sad));
    const msgs = new Map<number, any>(list(C.messages).map((m: any) => [m.msg, m]));
    const dels = new Map<number, any>(list(C.deliveries).map((d: any) => [d.msg, d]));
    const wires = new Map<number, Uint8Array>();
    const party = (n: string) => (n === "alice" ? alice : bob);
    for (const op of list(C.schedule)) {
      if (op.op === "send") {
        const M = msgs.get(op.msg)!;
        expect(M.from).toBe(op.by);
        expect(M.to).toBe(op.by === "alice" ? "bob" : "alice");
        expect(M.session).toBe("s1");
        expect(M.msg).toBe(op.msg);
        const me = party(op.by);
        const before = me.sessions[0]!;
        const id = JSON.parse(M.inner_json).id;
        expect(id).toBe(b64uencode(det(SEED, `s1/msg-${op.msg}/id`, 12)));
        const { session, wire: w } = encrypt(before, utf8.encode(M.inner_json));
        checkSent(M, before, session, w);
        me.sessions[0] = session;
        wires.set(op.msg, w);
      } else {
        const D = dels.get(op.msg)!;
        expect(D.receiver).toBe(op.to);
        expect(D.msg).toBe(op.msg);
        const me = party(op.to);
        snapshots.set(`${op.to}@before-deliver-${op.msg}`, snap(me));
        const before = me.sessions[0] ?? null;
        const labels = D.path === "new-chain" ? list(D.new_chain.randomness_det_labels) : [];
        const draw = queuedDraw(SEED, labels);
        const res = decrypt(
          {
            sessions: me.sessions,
            ourIk: users[op.to]!.ik,
            peerIk: users[op.to === "alice" ? "bob" : "alice"]!.ik.pub,
            prekeys: bobStore(me.held),
          },
          wires.get(op.msg)!,
          draw,
        );
        expect(draw.left()).toBe(0);
        checkDelivered(D, before, res, wires.get(op.msg)!);
        me.sessions[0] = res.session;
        if (res.deletePrekeys.opk !== null) me.held.opk = me.held.opk.filter((x) => x !== res.deletePrekeys.opk);
        if (res.deletePrekeys.opqk !== null) me.held.opqk = me.held.opqk.filter((x) => x !== res.deletePrekeys.opqk);
        snapshots.set(`${op.to}@after-deliver-${op.msg}`, snap(me));
      }
    }
    // The final states of the schedule (conversation.final_states), as the vectors list them.
    for (const who of ["alice", "bob"] as const) {
      const FS = C.final_states[who];
      const me = party(who);
      expect(FS.party).toBe(who);
      expect(FS.sessions.length).toBe(me.sessions.length);
      for (let i = 0; i < FS.sessions.length; i++) {
        expect(FS.sessions[i].SID_hex).toBe(hx(me.sessions[i]!.sid));
        expect(FS.sessions[i].role).toBe(me.sessions[i]!.role);
        expect(stateView(me.sessions[i]!.ratchet)).toEqual(vecState(FS.sessions[i].state));
      }
      for (const kind of ["spk", "pqspk", "opk", "opqk"] as const)
        expect(list(FS.prekeys_held[kind])).toEqual(me.held[kind]);
    }
    snapshots.set("alice@end", snap(alice));
    snapshots.set("bob@end", snap(bob));
    snapshots.set("bob@no-session", { sessions: [], held: snap(bob).held });
    snapshots.set("wires", { sessions: [], held: wires as any });
  });

  test("s2: alice's first message on a second session, received by bob@end", () => {
    const S = V.session2_first_message;
    const H = V.handshakes.s2_without_opk;
    expect([S.msg, S.session, S.from, S.to, S.type]).toEqual([7, "s2", "alice", "bob", 2]);
    const { initiate } = require("../lib/v3/session.ts");
    const s2 = initiate(
      bundle2,
      users.alice!.ik,
      queuedDraw(SEED, [H.det_labels.ek, H.det_labels.pq_m, ...list(H.alice_ratchet_init.det_labels)]),
    );
    expect(JSON.parse(S.inner_json).id).toBe(b64uencode(det(SEED, "s2/msg-7/id", 12)));
    const { session, wire: w } = encrypt(s2, utf8.encode(S.inner_json));
    checkSent(S, s2, session, w);
    const R = S.receiver;
    expect(R.receiver_party_before).toBe("bob@end");
    const bobEnd = snapshots.get("bob@end")!;
    const draw = queuedDraw(SEED, list(R.new_chain.randomness_det_labels));
    const res = decrypt(
      { sessions: bobEnd.sessions, ourIk: users.bob!.ik, peerIk: users.alice!.ik.pub, prekeys: bobStore(bobEnd.held) },
      w,
      draw,
    );
    expect(R.path).toBe("new-chain");
    // checkDelivered's handshake recomputation assumes s1's store; s2 uses no one-time keys.
    expect(R.responder_handshake.SID_header_hex).toBe(H.SID_hex);
    expect(R.responder_handshake.SID_derived_hex).toBe(hx(res.session.sid));
    expect([
      R.responder_handshake.DH1_hex,
      R.responder_handshake.DH2_hex,
      R.responder_handshake.DH3_hex,
      R.responder_handshake.DH4_hex,
    ]).toEqual([H.DH1_hex, H.DH2_hex, H.DH3_hex, null]);
    expect(R.responder_handshake.SS_hex).toBe(H.SS_hex);
    expect(R.responder_handshake.SK_hex).toBe(H.SK_hex);
    expect(R.prekeys_deleted.opk).toBe(res.deletePrekeys.opk);
    expect(R.prekeys_deleted.opqk).toBe(res.deletePrekeys.opqk);
    const D = { ...R, responder_handshake: undefined, prekeys_deleted: undefined };
    // The rest as any delivery (state before = the responder's init state).
    const { initResponder } = require("../lib/v3/ratchet.ts");
    const init = initResponder(unhex(H.SK_hex), dhPair(bobKeys.spk.priv));
    expect(stateView(init)).toEqual(vecState(R.responder_init_state));
    expect(stateView(init)).toEqual(vecState(R.receiver_state_before));
    checkDelivered(
      { ...D, receiver_state_before: R.receiver_state_before, responder_handshake: null },
      { ...res.session, ratchet: init },
      { ...res, created: false },
      w,
    );
  });
});

// ---- receiver states and negative cases -------------------------------------------------------
describe("v3 vectors: negative cases (each refusal with its reason, nothing kept)", () => {
  test("negative_receiver_states equal the states the conversation produced", () => {
    const NS = V.negative_receiver_states;
    expect(NS.note.length).toBeGreaterThan(0);
    for (const name of Object.keys(NS.states)) {
      const want = NS.states[name];
      const got = snapshots.get(name)!;
      expect(got).toBeDefined();
      expect(want.party).toBe(name.split("@")[0]);
      expect(want.sessions.length).toBe(got.sessions.length);
      for (let i = 0; i < want.sessions.length; i++) {
        const ws = want.sessions[i];
        expect(ws.SID_hex).toBe(hx(got.sessions[i]!.sid));
        expect(ws.role).toBe(got.sessions[i]!.role);
        expect(stateView(got.sessions[i]!.ratchet)).toEqual(vecState(ws.state));
      }
      for (const kind of ["spk", "pqspk", "opk", "opqk"] as const) {
        expect(list(want.prekeys_held[kind])).toEqual(got.held[kind]);
      }
    }
  });

  test("every negative case is refused with its reason and changes nothing", async () => {
    const wires = snapshots.get("wires")!.held as unknown as Map<number, Uint8Array>;
    for (const N of list(V.negative)) {
      for (const f of ["name", "description", "expected"]) expect(typeof N[f]).toBe("string");
      expect(N.expected).toBe("refused");
      if ("note" in N) expect(N.note.length).toBeGreaterThan(0);
      const reason: string = N.reason;
      expect(V3_REASONS as readonly string[]).toContain(reason);
      if (N.receiver_state !== undefined) {
        // A wire message to a party in a named state.
        const st = snapshots.get(N.receiver_state)!;
        const who: "alice" | "bob" = N.receiver;
        expect(N.sender_peer).toBe(who === "alice" ? "bob" : "alice");
        const w = b64decode(N.wire_b64);
        expect(N.wire_len).toBe(w.length);
        if ("based_on" in N && N.mutation !== "none (exact replay)" && !("sender_state" in N)) {
          const base = wires.get(Number(String(N.based_on).replace("message ", "")))!;
          expect(base.length).toBe(w.length);
          expect(hx(base) === hx(w)).toBe(false); // mutated
        }
        if (N.mutation === "none (exact replay)") {
          expect(hx(wires.get(Number(String(N.based_on).replace("message ", "")))!) === hx(w)).toBe(true);
        }
        if ("sender_state" in N) {
          // Test-only messages: bob's next message from bob@end with a hand-made padded plaintext.
          const bobEnd = snapshots.get(N.sender_state)!.sessions[0]!;
          const [, mk] = k.kdfCk(bobEnd.ratchet.cks!);
          expect(N.mk_hex).toBe(hx(mk));
          const { key, nonce } = k.messageKeys(mk);
          expect(N.key_hex).toBe(hx(key));
          expect(N.nonce_hex).toBe(hx(nonce));
          const header = wire.serializeHeader({
            sid: bobEnd.sid,
            dh: bobEnd.ratchet.dhs.pub,
            ek: bobEnd.ratchet.kems!.ek,
            ct: bobEnd.ratchet.sendCt,
            pn: bobEnd.ratchet.pn,
            n: bobEnd.ratchet.ns,
          });
          expect(N.header_hex).toBe(hx(header));
          const prefix = new Uint8Array([3, 1, ...header]);
          const sealed = chacha20poly1305(key, nonce, new Uint8Array([...bobEnd.sad, ...prefix])).encrypt(
            unhex(N.padded_hex),
          );
          expect(hx(new Uint8Array([...prefix, ...sealed])) === hx(w)).toBe(true);
          const id = JSON.parse(N.inner_json).id;
          expect(id).toBe(
            b64uencode(
              det(SEED, N.name === "nonzero-padding" ? "neg/nonzero-padding/id" : "neg/length-too-large/id", 12),
            ),
          );
          expect(N.padded_hex.slice(8, 8 + 2 * utf8.encode(N.inner_json).length)).toBe(hx(utf8.encode(N.inner_json)));
        }
        const before = st.sessions.map((s) => hx(serializeSession(s)));
        const heldBefore = JSON.stringify(st.held);
        const msg = refusalDetail(() =>
          decrypt(
            {
              sessions: st.sessions,
              ourIk: users[who]!.ik,
              peerIk: users[who === "alice" ? "bob" : "alice"]!.ik.pub,
              prekeys: bobStore(st.held),
            },
            w,
            (n) => new Uint8Array(n).fill(7),
          ),
        );
        expect(`${N.name}: ${msg.split(":")[0]}`).toBe(`${N.name}: ${reason}`);
        expect(N.detail.startsWith(reason)).toBe(true);
        expect(`${N.name}: ${msg}`).toBe(`${N.name}: ${N.detail}`); // the vectors' detail, word for word
        expect(st.sessions.map((s) => hx(serializeSession(s)))).toEqual(before);
        expect(JSON.stringify(st.held)).toBe(heldBefore);
        expect(N.state_after).toStartWith("unchanged");
      } else if (String(N.receiver).startsWith("alice (bundle")) {
        const got = refusal(() => checkBundle(JSON.parse(N.answer_body), { uid: users.bob!.uid }));
        expect(`${N.name}: ${got}`).toBe(`${N.name}: ${reason}`);
      } else {
        expect(N.receiver).toStartWith("file reader");
        const blob = b64decode(N.blob_b64);
        expect(N.blob_len).toBe(blob.length);
        expect(N.blob_sha256_hex).toBe(sha(blob));
        const msg = await refusalAsync(async () => {
          for await (const _ of decryptFileStream(unhex(N.key_hex), [blob]));
        });
        expect(`${N.name}: ${msg}`).toBe(`${N.name}: ${N.detail}`);
      }
    }
  });
});

// ---- §V6 padding and §V9 files ---------------------------------------------------------------
describe("v3 vectors: §V6 padding and §V9 files", () => {
  test("padding buckets, and too-long", () => {
    for (const P of list(V.padding)) {
      const inner = new Uint8Array(P.inner_len).fill(0x61);
      expect(P.inner).toBe(`${P.inner_len} bytes of 0x61 ('a')`);
      if (P.expected === "refused") {
        expect(refusal(() => pad(inner))).toBe(P.reason);
        expect(P.note.length).toBeGreaterThan(0);
        continue;
      }
      const padded = pad(inner);
      expect(padded.length).toBe(P.padded_len);
      expect(hx(padded.subarray(0, 4))).toBe(P.length_prefix_hex);
      expect(padded.length - 4 - P.inner_len).toBe(P.zero_bytes);
      expect(sha(padded)).toBe(P.padded_sha256_hex);
      if ("padded_hex" in P) expect(hx(padded)).toBe(P.padded_hex);
      expect(hx(unpad(padded)) === hx(inner)).toBe(true);
    }
  });

  async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const p of it) parts.push(p);
    return new Uint8Array(Buffer.concat(parts));
  }

  test("main, empty and exact-one-chunk blobs: encrypt and decrypt as streams", async () => {
    const F = V.file;
    const M = F.main;
    const plain = b64decode(M.plaintext_b64);
    expect(hx(det(SEED, M.det_labels.plaintext, M.plaintext_len)) === hx(plain)).toBe(true);
    expect(sha(plain)).toBe(M.plaintext_sha256_hex);
    expect(M.key_hex).toBe(hx(det(SEED, M.det_labels.key, 32)));
    expect(M.key_b64).toBe(b64encode(unhex(M.key_hex)));
    expect(M.aad).toBe(LABEL_FILE);
    const inner = JSON.parse(M.inner_file_message);
    expect(inner.key).toBe(M.key_b64);
    expect(inner.size).toBe(M.plaintext_len);
    expect(inner.chunk).toBe(65536);
    expect(inner.t).toBe("file");
    const cases = [
      { C: M, plain, key: unhex(M.key_hex) },
      { C: F.empty, plain: new Uint8Array(0), key: unhex(F.empty.key_hex) },
      { C: F.exact_one_chunk, plain: plain.subarray(0, 65536), key: unhex(F.exact_one_chunk.key_hex) },
    ];
    expect(F.empty.key_hex).toBe(hx(det(SEED, F.empty.det_label, 32)));
    expect(F.exact_one_chunk.key_hex).toBe(hx(det(SEED, F.exact_one_chunk.det_label, 32)));
    expect(F.exact_one_chunk.plaintext).toBe("main.plaintext[0:65536]");
    expect(F.exact_one_chunk.note.length).toBeGreaterThan(0);
    for (const { C, plain: pt, key } of cases) {
      expect(C.plaintext_len).toBe(pt.length);
      // Fed in odd-sized pieces, so chunking does not depend on the source's.
      const pieces = Array.from({ length: Math.ceil(pt.length / 10007) }, (_, i) =>
        pt.subarray(i * 10007, (i + 1) * 10007),
      );
      const blob = await collect(encryptFileStream(key, pieces));
      expect(C.blob_len).toBe(blob.length);
      expect(fileBlobLength(pt.length)).toBe(blob.length);
      if ("blob_b64" in C) expect(b64encode(blob) === C.blob_b64).toBe(true);
      if ("blob_hex" in C) expect(hx(blob)).toBe(C.blob_hex);
      if ("blob_sha256_hex" in C) expect(sha(blob)).toBe(C.blob_sha256_hex);
      for (const ch of list(C.chunks)) {
        expect(hx(fileNonce(ch.i, ch.last === 1))).toBe(ch.nonce_hex);
        expect(ch.plaintext_offset).toBe(ch.i * 65536);
        expect(ch.blob_offset).toBe(ch.i * 65552);
        expect(ch.ciphertext_len).toBe(ch.plaintext_len + 16);
        const seg = blob.subarray(ch.blob_offset, ch.blob_offset + ch.ciphertext_len);
        expect(hx(seg.subarray(seg.length - 16))).toBe(ch.tag_hex);
        expect(ch.last).toBe(ch.blob_offset + ch.ciphertext_len === blob.length ? 1 : 0);
      }
      const back = await collect(decryptFileStream(key, [blob.subarray(0, 7), blob.subarray(7)], pt.length));
      expect(hx(back) === hx(pt)).toBe(true);
    }
  });
});

describe("v3 vectors: the file itself", () => {
  const SHARED = resolve(ROOT, "../shared");
  test.skipIf(!existsSync(SHARED))("tests/vectors/v3.json and PROTOCOL-v3.md are byte-identical to ../shared", () => {
    expect(
      readFileSync(resolve(ROOT, "tests/vectors/v3.json")).equals(readFileSync(resolve(SHARED, "vectors/v3.json"))),
    ).toBe(true);
    expect(readFileSync(resolve(ROOT, "PROTOCOL-v3.md")).equals(readFileSync(resolve(SHARED, "PROTOCOL-v3.md")))).toBe(
      true,
    );
  });

  // Must stay the last test: every leaf of the vector file was read by a test above.
  test("every field of the vector file was read", () => {
    const unread = leafPaths(RAW).filter((p) => !SEEN.has(p));
    expect(unread).toEqual([]);
  });
});
