// PROTOCOL-v3 §V3 (prekey bundles) and §V11 (relay-bound signatures) against the real compiled
// relay, each rule at its edge and one past it. Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes, sha256 } from "../lib/crypto.ts";
import { b64decode, b64encode, b64udecode, b64uencode, utf8 } from "../lib/encoding.ts";
import { PREKEY_KIND, type PrekeyKind, signPrekey } from "../lib/v3/prekey.ts";
import { H_SIGV, signRequestV3 } from "../lib/v3/request-sig.ts";
import { H_NONCE, H_SIG, H_TS, H_UID } from "../lib/wire.ts";
import { RELAY_BIN, ROOT, startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, register, signed, type TestUser } from "./helpers/signer.ts";

const V = JSON.parse(readFileSync(join(ROOT, "tests/vectors/v3.json"), "utf8"));

let relay: RunningRelay;
let base: string;
let origin: string;

beforeAll(async () => {
  relay = await startRelay();
  base = relay.url;
  origin = `http://127.0.0.1:${relay.port}`;
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

interface V3Options {
  origin?: string;
  nonce?: string;
  sigv?: string;
}

/** A PROTOCOL-v3 §V11 signed request (x-phantom-sigv: 3). */
async function v3(u: TestUser, method: string, path: string, body?: unknown, o: V3Options = {}): Promise<Response> {
  const bytes =
    body === undefined ? new Uint8Array(0) : utf8.encode(typeof body === "string" ? body : JSON.stringify(body));
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? b64uencode(randomBytes(12));
  const sig = signRequestV3(u.signSeed, o.origin ?? origin, method, path, u.uid, ts, nonce, sha256(bytes));
  const headers: Record<string, string> = {
    [H_UID]: u.uid,
    [H_TS]: ts,
    [H_NONCE]: nonce,
    [H_SIG]: b64uencode(sig),
    [H_SIGV]: o.sigv ?? "3",
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  return await fetch(base + path, { method, headers, body: method === "GET" ? undefined : bytes });
}

async function errorOf(r: Response): Promise<{ status: number; error: string }> {
  const body = (await r.json()) as { error: string; message: string };
  expect(Object.keys(body).sort()).toEqual(["error", "message"]);
  return { status: r.status, error: body.error };
}

async function newUser(): Promise<TestUser> {
  const u = makeUser();
  expect((await register(base, u)).status).toBe(200);
  return u;
}

let nextId = 1000;
const freshId = () => nextId++;
const LEN: Record<PrekeyKind, number> = { 1: 32, 2: 1184, 3: 32, 4: 1184 };

/** A prekey object of `kind` signed by `u` (signed as `signKind`, `len` bytes of pub when given). */
function pk(u: TestUser, kind: PrekeyKind, o: { id?: number; len?: number; signKind?: PrekeyKind } = {}) {
  const id = o.id ?? freshId();
  const pub = randomBytes(o.len ?? LEN[kind]);
  return { id, pub: b64encode(pub), sig: b64uencode(signPrekey(u.signSeed, o.signKind ?? kind, id, pub)) };
}
const opks = (u: TestUser, n: number) => Array.from({ length: n }, () => pk(u, PREKEY_KIND.OPK));
const opqks = (u: TestUser, n: number) => Array.from({ length: n }, () => pk(u, PREKEY_KIND.OPQK));

async function status(u: TestUser) {
  const r = await v3(u, "GET", "/v3/prekeys");
  expect(r.status).toBe(200);
  return await r.json();
}

const publish = (u: TestUser, body: unknown) => v3(u, "POST", "/v3/prekeys", body);
const bundle = (u: TestUser, uid: string) => v3(u, "POST", "/v3/bundle", { uid });

describe("§V11 health and request signatures", () => {
  test("/health lists protocols 2 and 3 and the implied loopback origins", async () => {
    const h = (await (await fetch(`${base}/health`)).json()) as { protocols: number[]; origins: string[] };
    expect(h.protocols).toEqual([2, 3]);
    expect(h.origins).toEqual([origin, `http://localhost:${relay.port}`]);
  });

  test("a v3 signature verifies under each origin, not under another; a v2 one without the header", async () => {
    const u = await newUser();
    expect((await v3(u, "GET", "/v3/prekeys")).status).toBe(200);
    expect((await v3(u, "GET", "/v3/prekeys", undefined, { origin: `http://localhost:${relay.port}` })).status).toBe(
      200,
    );
    for (const other of [
      `http://127.0.0.1:${relay.port + 1}`,
      `https://127.0.0.1:${relay.port}`,
      "https://relay.example",
    ]) {
      expect(await errorOf(await v3(u, "GET", "/v3/prekeys", undefined, { origin: other }))).toEqual({
        status: 401,
        error: "unauthorized",
      });
    }
    expect((await signed(base, u, "GET", "/v3/prekeys")).status).toBe(200); // PROTOCOL §6 still works
  });

  test("x-phantom-sigv other than 3 is 401; a v2 signature sent as v3 is 401", async () => {
    const u = await newUser();
    for (const sigv of ["2", "4", "", "03", "3,3"]) {
      expect((await v3(u, "GET", "/v3/prekeys", undefined, { sigv })).status).toBe(401);
    }
    const r = await signed(base, u, "GET", "/v3/prekeys", undefined, { headers: { [H_SIGV]: "3" } });
    expect(r.status).toBe(401);
  });

  test("the replay cache covers v3 signatures, and one nonce across both versions", async () => {
    const u = await newUser();
    const nonce = b64uencode(randomBytes(12));
    expect((await v3(u, "GET", "/v3/prekeys", undefined, { nonce })).status).toBe(200);
    expect((await v3(u, "GET", "/v3/prekeys", undefined, { nonce })).status).toBe(401);
    expect((await signed(base, u, "GET", "/v3/prekeys", undefined, { nonce })).status).toBe(401);
    const n2 = b64uencode(randomBytes(12));
    expect((await signed(base, u, "GET", "/v3/prekeys", undefined, { nonce: n2 })).status).toBe(200);
    expect((await v3(u, "GET", "/v3/prekeys", undefined, { nonce: n2 })).status).toBe(401);
  });

  test("v3 signatures on v2 endpoints too (/ke/pop)", async () => {
    const u = await newUser();
    expect((await v3(u, "GET", `/ke/pop/${u.uid}`)).status).toBe(200);
  });
});

describe("§V3 with the vector file's bodies", () => {
  const bob = V.users.bob;
  const alice = V.users.alice;
  const asUser = (x: typeof bob): TestUser =>
    ({
      uid: x.uid,
      pubB64: x.enc_pub_b64,
      signPubB64u: x.sign_pub_b64u,
      signSeed: b64udecode(x.sign_seed_b64u),
      encPub: b64decode(x.enc_pub_b64),
      signPub: b64udecode(x.sign_pub_b64u),
    }) as unknown as TestUser;

  test("publish answers and stores as the vectors say; the bundle is the vectors' answer, once", async () => {
    const b = asUser(bob);
    const a = asUser(alice);
    expect((await register(base, b)).status).toBe(200);
    expect((await register(base, a)).status).toBe(200);
    const pub = V.prekeys.publish;
    const r = await publish(b, pub.request.body);
    expect(r.status).toBe(200);
    // The vectors hold the answers as compact JSON text: compared byte for byte.
    expect(await r.text()).toBe(pub.response);
    const st = () => v3(b, "GET", "/v3/prekeys").then((x) => x.text());
    expect(await st()).toBe(pub.status_after);
    const w = V.bundles.with_one_time_keys;
    const got = await v3(a, "POST", "/v3/bundle", w.request.body);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe(w.answer_body);
    expect(await st()).toBe(w.status_after);
    const wo = V.bundles.without_one_time_keys;
    const again = await v3(a, "POST", "/v3/bundle", wo.request.body);
    expect(await again.text()).toBe(wo.answer_body);
  });
});

describe("§V3.1 publish", () => {
  test("lengths per kind: at the size 200, one byte short or long 400, and nothing stored", async () => {
    const u = await newUser();
    const bad = [
      { spk: pk(u, PREKEY_KIND.SPK, { len: 31 }) },
      { spk: pk(u, PREKEY_KIND.SPK, { len: 33 }) },
      { pqspk: pk(u, PREKEY_KIND.PQSPK, { len: 1183 }) },
      { pqspk: pk(u, PREKEY_KIND.PQSPK, { len: 1185 }) },
      { opks: [pk(u, PREKEY_KIND.OPK, { len: 1184 })] },
      { opqks: [pk(u, PREKEY_KIND.OPQK, { len: 32 })] },
      { spk: pk(u, PREKEY_KIND.SPK), opks: [pk(u, PREKEY_KIND.OPK), pk(u, PREKEY_KIND.OPK, { len: 31 })] },
    ];
    for (const body of bad)
      expect(await errorOf(await publish(u, body))).toEqual({ status: 400, error: "bad_request" });
    expect(await status(u)).toEqual({ spk_id: null, pqspk_id: null, opks: 0, opqks: 0 });
    const spk = pk(u, PREKEY_KIND.SPK);
    const pqspk = pk(u, PREKEY_KIND.PQSPK);
    const r = await publish(u, { spk, pqspk, opks: opks(u, 1), opqks: opqks(u, 1) });
    expect(await r.json()).toEqual({ opks: 1, opqks: 1 });
    expect(await status(u)).toEqual({ spk_id: spk.id, pqspk_id: pqspk.id, opks: 1, opqks: 1 });
  });

  test("each signature is checked with its field's kind byte and the signer's key", async () => {
    const u = await newUser();
    const other = makeUser();
    const bad = [
      { spk: pk(u, PREKEY_KIND.SPK, { signKind: PREKEY_KIND.OPK }) },
      { pqspk: pk(u, PREKEY_KIND.PQSPK, { signKind: PREKEY_KIND.OPQK }) },
      { opks: [pk(u, PREKEY_KIND.OPK, { signKind: PREKEY_KIND.SPK })] },
      { opqks: [pk(u, PREKEY_KIND.OPQK, { signKind: PREKEY_KIND.PQSPK })] },
      { opks: [...opks(u, 3), pk(other, PREKEY_KIND.OPK)] },
      { spk: { ...pk(u, PREKEY_KIND.SPK), sig: b64uencode(randomBytes(63)) } },
      { spk: { ...pk(u, PREKEY_KIND.SPK), pub: "not base64!" } },
      { spk: { ...pk(u, PREKEY_KIND.SPK), extra: 1 } },
      { clear: true, spk: pk(u, PREKEY_KIND.SPK) },
      { clear: false },
    ];
    for (const body of bad) expect((await publish(u, body)).status).toBe(400);
    // A signature over another id is refused too.
    const k = pk(u, PREKEY_KIND.SPK);
    expect((await publish(u, { spk: { ...k, id: k.id + 1 } })).status).toBe(400);
    expect(await status(u)).toEqual({ spk_id: null, pqspk_id: null, opks: 0, opqks: 0 });
  });

  test("100 OPKs and 10 OPQKs at most: at the limit 200, one past it 413 and nothing stored", async () => {
    const u = await newUser();
    expect(await errorOf(await publish(u, { opks: opks(u, 101) }))).toEqual({ status: 413, error: "too_large" });
    expect(await errorOf(await publish(u, { opqks: opqks(u, 11) }))).toEqual({ status: 413, error: "too_large" });
    expect(await (await publish(u, { opks: opks(u, 99), opqks: opqks(u, 9) })).json()).toEqual({ opks: 99, opqks: 9 });
    const spk = pk(u, PREKEY_KIND.SPK);
    expect((await publish(u, { spk, opks: opks(u, 2) })).status).toBe(413); // 101 would be stored
    expect((await publish(u, { opqks: opqks(u, 2) })).status).toBe(413);
    expect(await status(u)).toEqual({ spk_id: null, pqspk_id: null, opks: 99, opqks: 9 });
    expect(await (await publish(u, { opks: opks(u, 1), opqks: opqks(u, 1) })).json()).toEqual({ opks: 100, opqks: 10 });
    expect((await publish(u, { opks: opks(u, 1) })).status).toBe(413);
    expect((await publish(u, { opqks: opqks(u, 1) })).status).toBe(413);
  });

  test("ids: 0xFFFFFFFE is fine, 0xFFFFFFFF and negatives are 400; an id ever published, in any kind, is 400", async () => {
    const u = await newUser();
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK, { id: 0xffffffff }) })).status).toBe(400);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK, { id: -1 }) })).status).toBe(400);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK, { id: 1.5 }) })).status).toBe(400);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK, { id: 0xfffffffe }) })).status).toBe(200);
    expect((await publish(u, { opks: [pk(u, PREKEY_KIND.OPK, { id: 0 })] })).status).toBe(200);
    // The same id again, as another kind, or after a replacement or a clear: 400, nothing stored.
    for (const [kind, id] of [
      [PREKEY_KIND.SPK, 0xfffffffe],
      [PREKEY_KIND.PQSPK, 0xfffffffe],
      [PREKEY_KIND.OPQK, 0],
    ] as const) {
      const field = { 1: "spk", 2: "pqspk", 3: "opks", 4: "opqks" }[kind];
      const key = pk(u, kind, { id });
      expect((await publish(u, { [field]: kind >= 3 ? [key] : key })).status).toBe(400);
    }
    const dup = pk(u, PREKEY_KIND.OPK);
    expect((await publish(u, { opks: [dup, { ...pk(u, PREKEY_KIND.OPK, { id: dup.id }) }] })).status).toBe(400);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK, { id: dup.id }), opks: [dup] })).status).toBe(400);
    expect(await status(u)).toEqual({ spk_id: 0xfffffffe, pqspk_id: null, opks: 1, opqks: 0 });
    expect((await publish(u, { clear: true })).status).toBe(200);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK, { id: 0xfffffffe }) })).status).toBe(400);
    // Another UID may use the same ids.
    const w = await newUser();
    expect((await publish(w, { spk: pk(w, PREKEY_KIND.SPK, { id: 0xfffffffe }) })).status).toBe(200);
  });

  test("spk and pqspk are replaced, one-time keys added", async () => {
    const u = await newUser();
    const s1 = pk(u, PREKEY_KIND.SPK);
    const s2 = pk(u, PREKEY_KIND.SPK);
    const q1 = pk(u, PREKEY_KIND.PQSPK);
    expect((await publish(u, { spk: s1, pqspk: q1, opks: opks(u, 2) })).status).toBe(200);
    expect(await (await publish(u, { spk: s2, opks: opks(u, 3) })).json()).toEqual({ opks: 5, opqks: 0 });
    expect(await status(u)).toEqual({ spk_id: s2.id, pqspk_id: q1.id, opks: 5, opqks: 0 });
    const a = await newUser();
    expect(((await (await bundle(a, u.uid)).json()) as { spk: { id: number } }).spk).toEqual(s2);
  });
});

describe("§V3.3 bundles", () => {
  test("404 for an unknown UID and an incomplete bundle; clear makes it incomplete", async () => {
    const a = await newUser();
    const u = await newUser();
    expect(await errorOf(await bundle(a, makeUser().uid))).toEqual({ status: 404, error: "not_found" });
    expect((await bundle(a, u.uid)).status).toBe(404);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK), opks: opks(u, 1) })).status).toBe(200);
    expect((await bundle(a, u.uid)).status).toBe(404); // no PQSPK
    expect((await publish(u, { pqspk: pk(u, PREKEY_KIND.PQSPK) })).status).toBe(200);
    expect((await bundle(a, u.uid)).status).toBe(200);
    expect(await (await publish(u, { clear: true })).json()).toEqual({ opks: 0, opqks: 0 });
    expect(await status(u)).toEqual({ spk_id: null, pqspk_id: null, opks: 0, opqks: 0 });
    expect((await bundle(a, u.uid)).status).toBe(404);
    expect((await bundle(a, "short")).status).toBe(400);
    expect((await v3(a, "POST", "/v3/bundle", { uid: u.uid, more: 1 })).status).toBe(400);
  });

  test("one-time keys are handed out once, oldest first, one of each per signer and target", async () => {
    const u = await newUser();
    const ks = opks(u, 3);
    const qs = opqks(u, 2);
    const body = { spk: pk(u, PREKEY_KIND.SPK), pqspk: pk(u, PREKEY_KIND.PQSPK), opks: ks, opqks: qs };
    expect((await publish(u, body)).status).toBe(200);
    const a = await newUser();
    const first = (await (await bundle(a, u.uid)).json()) as Record<string, unknown>;
    expect(first).toEqual({
      uid: u.uid,
      pub_key: u.pubB64,
      sign_pub: u.signPubB64u,
      spk: body.spk,
      pqspk: body.pqspk,
      opk: ks[0],
      opqk: qs[0],
    });
    expect(await status(u)).toMatchObject({ opks: 2, opqks: 1 });
    // The same signer within 24 h: null, and nothing is taken.
    const second = (await (await bundle(a, u.uid)).json()) as Record<string, unknown>;
    expect(second.opk).toBeNull();
    expect(second.opqk).toBeNull();
    expect(second.spk).toEqual(body.spk);
    expect(await status(u)).toMatchObject({ opks: 2, opqks: 1 });
    // Another signer gets the next ones; then the OPQKs are gone and only the OPK is handed out.
    const c = await newUser();
    expect(await (await bundle(c, u.uid)).json()).toMatchObject({ opk: ks[1], opqk: qs[1] });
    const d = await newUser();
    expect(await (await bundle(d, u.uid)).json()).toMatchObject({ opk: ks[2], opqk: null });
    const e = await newUser();
    expect(await (await bundle(e, u.uid)).json()).toMatchObject({ opk: null, opqk: null });
    expect(await status(u)).toMatchObject({ opks: 0, opqks: 0 });
    // A signer whose earlier request found no OPQK gets one later (no grant was recorded for it).
    expect((await publish(u, { opqks: opqks(u, 1) })).status).toBe(200);
    expect(((await (await bundle(e, u.uid)).json()) as { opqk: unknown }).opqk).not.toBeNull();
  });

  test("at once: each one-time key goes to one caller; two uploads cannot pass the limit together", async () => {
    const u = await newUser();
    const ks = opks(u, 5);
    expect((await publish(u, { spk: pk(u, PREKEY_KIND.SPK), pqspk: pk(u, PREKEY_KIND.PQSPK), opks: ks })).status).toBe(
      200,
    );
    const callers = await Promise.all(Array.from({ length: 20 }, () => newUser()));
    const got = (
      await Promise.all(callers.map(async (c) => (await (await bundle(c, u.uid)).json()) as { opk: unknown }))
    )
      .map((b) => b.opk)
      .filter((k) => k !== null);
    expect(got.length).toBe(5);
    expect(new Set(got.map((k) => JSON.stringify(k))).size).toBe(5);
    const w = await newUser();
    const both = await Promise.all([publish(w, { opks: opks(w, 60) }), publish(w, { opks: opks(w, 60) })]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 413]);
    expect(await status(w)).toMatchObject({ opks: 60 });
  });

  test("60 bundle requests per signer per hour; the 61st is 429 with Retry-After", async () => {
    const a = await newUser();
    const u = await newUser();
    const unknown = makeUser().uid;
    for (let i = 0; i < 60; i++) expect((await bundle(a, i % 2 ? u.uid : unknown)).status).toBe(404);
    const r = await bundle(a, u.uid);
    expect(await errorOf(r)).toEqual({ status: 429, error: "rate_limited" });
    const after = Number(r.headers.get("retry-after"));
    expect(after).toBeGreaterThan(3500);
    expect(after).toBeLessThanOrEqual(3600);
    expect((await bundle(await newUser(), u.uid)).status).toBe(404); // per signer
  });

  test("the prekey routes are signed and method-checked", async () => {
    expect((await fetch(`${base}/v3/prekeys`)).status).toBe(401);
    expect((await fetch(`${base}/v3/bundle`, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await fetch(`${base}/v3/bundle`)).status).toBe(405);
  });
});

describe("§V11 relays with --public-url, and without origins", () => {
  test("--public-url (repeatable) and PHANTOM_RELAY_PUBLIC_URL; not loopback: no implied origins", async () => {
    const r = await startRelay({
      args: ["--host", "0.0.0.0", "--public-url", "https://Relay.Example/phantom/", "--public-url", "http://x.onion"],
    });
    try {
      const h = (await (await fetch(`${r.url}/health`)).json()) as { protocols: number[]; origins: string[] };
      expect(h).toMatchObject({ protocols: [2, 3], origins: ["https://relay.example", "http://x.onion"] });
      const u = makeUser();
      expect((await register(r.url, u)).status).toBe(200);
      const saved = base;
      base = r.url;
      try {
        expect((await v3(u, "GET", "/v3/prekeys", undefined, { origin: "http://x.onion" })).status).toBe(200);
        expect((await v3(u, "GET", "/v3/prekeys", undefined, { origin: `http://127.0.0.1:${r.port}` })).status).toBe(
          401,
        );
      } finally {
        base = saved;
      }
    } finally {
      expect(await r.stop()).toBe(0);
      r.cleanup();
    }
  });

  test("without origins: protocols [2], v3 signatures 401, and the start log says why", async () => {
    const r = await startRelay({ args: ["--host", "0.0.0.0"] });
    try {
      const h = (await (await fetch(`${r.url}/health`)).json()) as Record<string, unknown>;
      expect(h.protocols).toEqual([2]);
      expect(h.origins).toBeUndefined();
      const u = makeUser();
      expect((await register(r.url, u)).status).toBe(200);
      const saved = base;
      base = r.url;
      try {
        expect((await v3(u, "GET", "/v3/prekeys", undefined, { origin: `http://127.0.0.1:${r.port}` })).status).toBe(
          401,
        );
        expect((await signed(r.url, u, "GET", "/v3/prekeys")).status).toBe(200);
      } finally {
        base = saved;
      }
      expect(r.logs.some((l) => l.includes("protocol v3 is off"))).toBe(true);
    } finally {
      expect(await r.stop()).toBe(0);
      r.cleanup();
    }
  });

  test("an environment list, and a bad URL is a one-line error", async () => {
    const r = await startRelay({ env: { PHANTOM_RELAY_PUBLIC_URL: "https://a.example, https://b.example:8443/p" } });
    try {
      const h = (await (await fetch(`${r.url}/health`)).json()) as { origins: string[] };
      expect(h.origins).toEqual([
        "https://a.example",
        "https://b.example:8443",
        `http://127.0.0.1:${r.port}`,
        `http://localhost:${r.port}`,
      ]);
    } finally {
      expect(await r.stop()).toBe(0);
      r.cleanup();
    }
    for (const args of [
      ["--public-url", "ftp://relay.example"],
      ["--public-url", "relay.example"],
    ]) {
      const p = Bun.spawnSync([RELAY_BIN, ...args, "--data", "/nonexistent/never-created"]);
      expect(p.exitCode).toBe(2);
      expect(p.stderr.toString()).toMatch(
        /^phantom-relay: error: --public-url: '[^']+' is not an http or https URL\n$/,
      );
    }
  });
});
