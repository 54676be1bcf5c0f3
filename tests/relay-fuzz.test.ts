// Property tests (fast-check) against the real compiled relay:
// random and mutated bodies, headers, paths and methods at every endpoint of
// PROTOCOL §7. Properties: never a 5xx; every 4xx is the §7 error JSON with no
// stack trace, SQL or path; a request that breaks a rule of §6/§7 is refused
// (4xx); the relay stays up; and rejected requests change nothing (messages,
// inboxes, keys, rooms, files, live sockets are compared around each batch).
// Reproduce a failure with PHANTOM_FUZZ_SEED=<seed printed by fast-check>;
// PHANTOM_FUZZ_SCALE multiplies the number of runs.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import * as c from "../lib/crypto.ts";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import * as w from "../lib/wire.ts";
import { PREKEY_KIND, type PrekeyKind, signPrekey } from "../lib/v3/prekey.ts";
import { H_SIGV, signRequestV3 } from "../lib/v3/request-sig.ts";
import { PrekeyObject } from "../lib/v3/prekey-wire.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, pair, signHeaders, type TestUser } from "./helpers/signer.ts";

setDefaultTimeout(60_000); // bunfig's [test] timeout is not read by bun 1.4: the default would be 5 s
const SEED = process.env.PHANTOM_FUZZ_SEED ? Number(process.env.PHANTOM_FUZZ_SEED) : undefined;
const SCALE = Number(process.env.PHANTOM_FUZZ_SCALE ?? "1");
const runs = (n: number): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(n * SCALE)), seed: SEED });
const MAX_FILE = 4096; // MAX_FILE_SIZE_BYTES for this relay, so oversized uploads stay cheap
const AUTH = c.generateIdentity(); // the relay's §7.7 auth key: burns need the HMAC header

let relay: RunningRelay;
let a: TestUser, b: TestUser, cc: TestUser, d: TestUser; // rooms: ab = {a,b}, cd = {cc,d}
const e = makeUser(); // never registered
let ab: string, cd: string, fileUrl: string;
const fileBytes = c.randomBytes(100);
let replay: Req; // an accepted /send, replayed inside batches (PROTOCOL §6: 401)

interface Req {
  method: string;
  path: string;
  headers: [string, string][];
  body?: Uint8Array;
}
interface Res {
  status: number;
  text: string;
}
type Schema = { safeParse(v: unknown): { success: boolean } };
const enc = (s: string) => new TextEncoder().encode(s);
const now = () => Math.floor(Date.now() / 1000);
const users = () => [a, b, cc, d];

async function send(r: Req): Promise<Res> {
  const headers = new Headers();
  for (const [k, v] of r.headers) headers.append(k, v);
  const res = await fetch(relay.url + r.path, { method: r.method, headers, body: r.body, redirect: "manual" });
  return { status: res.status, text: await res.text() };
}

/** PROTOCOL §7: never a 5xx; a 4xx is {"error","message"} and leaks no internals. */
function wellFormed(r: Req, res: Res, allowed?: number[]): void {
  const where = `${r.method} ${r.path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 200)}`;
  expect(res.status, where).toBeLessThan(500);
  expect(relay.proc.exitCode, "relay exited").toBeNull();
  if (allowed) expect(allowed, where).toContain(res.status);
  if (res.status < 400 || r.method === "HEAD") return;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new Error(`error answer is not JSON: ${where}`);
  }
  expect(w.ErrorBody.safeParse(body).success, where).toBe(true);
  expect(res.text, where).not.toMatch(/\bat \S+:\d+|SQLITE|sqlite|node_modules|\$bunfs|\/tmp\/|phantom-relay-/);
}

interface SignOpts {
  ts?: string;
  nonce?: string;
  uid?: string;
  /** What goes into the canonical string instead of the real method, path or body (tamper cases). */
  signed?: { method?: string; path?: string; body?: Uint8Array; ts?: string };
}

/** The §6 headers, with any part overridable (SignOpts) so that mutations stay correctly signed. */
function sigHeaders(u: TestUser, method: string, path: string, body: Uint8Array, o: SignOpts = {}): [string, string][] {
  const ts = o.ts ?? String(now());
  const nonce = o.nonce ?? b64uencode(c.randomBytes(12));
  const uid = o.uid ?? u.uid;
  const s = o.signed ?? {};
  const canon = w.canonicalRequest(
    s.method ?? method,
    s.path ?? path,
    uid,
    s.ts ?? ts,
    nonce,
    c.sha256(s.body ?? body),
  );
  return [
    [w.H_UID, uid],
    [w.H_TS, ts],
    [w.H_NONCE, nonce],
    [w.H_SIG, b64uencode(c.sign(u.signSeed, canon))],
  ];
}

function signedReq(
  u: TestUser,
  method: string,
  path: string,
  body?: Uint8Array,
  ct?: string | null,
  o?: SignOpts,
): Req {
  const pathOnly = new URL("http://x" + path).pathname;
  const headers = sigHeaders(u, method, pathOnly, body ?? new Uint8Array(0), o);
  if (body && ct !== null) headers.push(["content-type", ct ?? "application/json"]);
  if (method === "POST" && pathOnly === "/burn") headers.push(burnHmac(u, headers, body));
  return { method, path, headers, body };
}

/** PROTOCOL §7.7 HMAC header for a burn, from the request's own ts and nonce. */
function burnHmac(u: TestUser, headers: [string, string][], body?: Uint8Array): [string, string] {
  const get = (k: string) => headers.find(([h]) => h === k)?.[1] ?? "";
  let room = "";
  try {
    room = String(JSON.parse(new TextDecoder().decode(body)).room_id);
  } catch {}
  const k = c.burnAuthKey(u.encPriv, AUTH.encPub, u.uid);
  return [w.H_BURN_SIG, c.burnSignature(k, u.uid, room, get(w.H_TS), get(w.H_NONCE))];
}

async function multipart(fields: Record<string, string | Uint8Array>): Promise<{ bytes: Uint8Array; type: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "string") fd.append(k, v);
    else fd.append(k, new Blob([v as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }), "blob.bin");
  }
  const r = new Response(fd);
  const type = r.headers.get("content-type")!; // read before the body: Bun drops it afterwards
  return { bytes: new Uint8Array(await r.arrayBuffer()), type };
}

const ok = async (r: Req) => {
  const res = await send(r);
  if (res.status !== 200) throw new Error(`setup ${r.method} ${r.path}: ${res.status} ${res.text}`);
  return JSON.parse(res.text) as Record<string, unknown>;
};
const sendMsg = (u: TestUser, room: string, ct = b64encode(c.randomBytes(40))) =>
  signedReq(u, "POST", "/send", enc(JSON.stringify({ room_id: room, ciphertext: ct })));

// ---- state around a batch ------------------------------------------------------

interface Snapshot {
  messages: unknown[];
  pubkeys: unknown[];
  file: string;
  foreign: number[];
}

async function snapshot(): Promise<Snapshot> {
  const fetchAs = (u: TestUser, room: string) =>
    send(signedReq(u, "POST", "/fetch", enc(JSON.stringify({ room_id: room, limit: 200 }))));
  const messages = [await ok(signedReq(a, "POST", "/fetch", enc(JSON.stringify({ room_id: ab, limit: 200 }))))];
  messages.push(await ok(signedReq(d, "POST", "/fetch", enc(JSON.stringify({ room_id: cd, limit: 200 })))));
  const pubkeys: unknown[] = await Promise.all(
    [...users(), e].map(async (u) => (await fetch(`${relay.url}/pubkey/${u.uid}`)).json()),
  );
  // Keys are create-only (§7.2): a's identity with e's signing key is still refused.
  pubkeys.push((await send(signedReq({ ...a, signSeed: e.signSeed }, "GET", `/ke/pop/${a.uid}`))).status);
  const f = await fetch(relay.url + fileUrl, { headers: signHeaders(b, "GET", fileUrl, new Uint8Array(0)) });
  const file = `${f.status}:${b64encode(c.sha256(new Uint8Array(await f.arrayBuffer())))}`;
  // Rooms never gain members (§7.4): the other pair stays outside.
  const foreign = [(await fetchAs(cc, ab)).status, (await fetchAs(a, cd)).status];
  return { messages, pubkeys, file, foreign };
}

/** Inboxes are known by construction: one entry for b (from a) and d (from cc). */
async function resetInboxes(): Promise<number> {
  for (const u of users()) await ok(signedReq(u, "GET", `/ke/pop/${u.uid}`));
  const t0 = now();
  for (const [from, to, room] of [
    [a, b, ab],
    [cc, d, cd],
  ] as const) {
    const body = { from_uid: from.uid, to_uid: to.uid, pub_key: from.pubB64, room_id: room };
    await ok(signedReq(from, "POST", "/ke/push", enc(JSON.stringify(body))));
  }
  return t0;
}

async function openWs(u: TestUser, room: string): Promise<{ ws: WebSocket; frames: string[]; opened: boolean }> {
  const path = `/ws/${room}`;
  const ws = new WebSocket(relay.url.replace(/^http/, "ws") + path, {
    headers: signHeaders(u, "GET", path, new Uint8Array(0)),
  });
  const frames: string[] = [];
  ws.onmessage = (e) => frames.push(String(e.data));
  const opened = await new Promise<boolean>((res) => {
    ws.onopen = () => res(true);
    ws.onerror = () => res(false);
    ws.onclose = () => res(false);
  });
  return { ws, frames, opened };
}

/** Run `body` between two snapshots; everything must be as before, and /health must answer. */
async function batch(body: () => Promise<void>): Promise<void> {
  const t0 = await resetInboxes();
  const t1 = now();
  const live = await openWs(b, ab);
  try {
    expect(live.opened).toBe(true);
    const before = await snapshot();
    await body();
    expect(relay.proc.exitCode).toBeNull();
    const health = await fetch(`${relay.url}/health`);
    expect(health.status).toBe(200);
    expect(w.HealthResponse.parse(await health.json()).auth_required).toBe(true);
    expect(await snapshot()).toEqual(before);
    const popped = await Promise.all(users().map((u) => ok(signedReq(u, "GET", `/ke/pop/${u.uid}`))));
    const entries = popped.map((p) => w.KePopResponse.parse(p).entries);
    expect(entries.map((l) => l.map(({ ts: _ts, ...rest }) => rest))).toEqual([
      [],
      [{ from_uid: a.uid, pub_key: a.pubB64, room_id: ab }],
      [],
      [{ from_uid: cc.uid, pub_key: cc.pubB64, room_id: cd }],
    ]);
    for (const x of entries.flat()) expect(x.ts >= t0 && x.ts <= t1).toBe(true);
    // The first frame after the batch is the sentinel: no rejected request reached the room's sockets (§7.9).
    const sentinel = b64encode(c.randomBytes(24));
    const got = new Promise<void>((res) => (live.ws.onmessage = (m) => (live.frames.push(String(m.data)), res())));
    await ok(sendMsg(a, ab, sentinel));
    await got;
    expect(live.frames.map((f) => (JSON.parse(f) as { ciphertext?: string }).ciphertext)).toEqual([sentinel]);
  } finally {
    live.ws.close();
  }
}

// ---- arbitraries ---------------------------------------------------------------

const garbageString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "====", "A".repeat(21), "A".repeat(23), "A".repeat(10_000), "\u0000", "é".repeat(22)),
  fc.constantFrom("AAAAAAAAAAAAAAAAAAAA+/", "AAAAAAAAAAAAAAAAAAAAA=", "../../etc/passwd", "' OR 1=1 --", "%00"),
);
const garbageValue: fc.Arbitrary<unknown> = fc.oneof(
  garbageString,
  fc.constantFrom(null, true, false, 0, -1, 0.5, 1e308, -1e308, 2 ** 53, 2 ** 64, 201, 1.5),
  fc.integer(),
  fc.double(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
/** A value that the field's own §7 schema refuses once it went through JSON (NaN becomes null). */
const invalidFor = (schema: Schema) =>
  garbageValue.filter((v) => !schema.safeParse(JSON.parse(JSON.stringify(v) ?? "null")).success);
const contentType = fc.constantFrom<string | null>(
  "application/json",
  null,
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "application/octet-stream",
);
const randomUid = fc.uint8Array({ minLength: 21, maxLength: 21 }).map(b64uencode);
const randomRoom = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(b64uencode);
const randomBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }).map(enc),
  fc.string({ unit: "grapheme", maxLength: 100 }).map(enc),
  fc
    .constantFrom("[".repeat(60_000), "[".repeat(30_000) + "]".repeat(30_000), '{"a":1e99999}', "1".repeat(5000))
    .map(enc),
  fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "null", '"\\ud800"').map(enc),
);

// ---- tests -----------------------------------------------------------------------

beforeAll(async () => {
  relay = await startRelay({
    env: { MAX_FILE_SIZE_BYTES: String(MAX_FILE), PHANTOM_AUTH_PRIV_B64: b64encode(AUTH.encPriv) },
    args: ["--log-level", "info"], // one line per request, checked for leaks at the end
  });
  ({ a, b, roomId: ab } = await pair(relay.url));
  ({ a: cc, b: d, roomId: cd } = await pair(relay.url));
  for (let i = 0; i < 3; i++) await ok(sendMsg(a, ab));
  await ok(sendMsg(d, cd));
  const form = await multipart({ room_id: ab, sender_id: a.uid, file: fileBytes });
  fileUrl = String((await ok(signedReq(a, "POST", "/file/upload", form.bytes, form.type))).url);
  replay = sendMsg(a, ab);
  await ok(replay);
}, 30_000);

afterAll(async () => {
  if (!relay) return;
  await relay.stop();
  relay.cleanup();
}, 15_000);

// ---- mutated signed requests -------------------------------------------------------

interface Case {
  u: TestUser | null; // null: unsigned (POST /register)
  method: string;
  path: string;
  body?: Uint8Array;
  ct?: string | null;
  /** Exact statuses the spec gives for this rule; otherwise any 4xx. */
  allowed?: number[];
}
const J = (o: unknown) => enc(JSON.stringify(o));
function post(u: TestUser | null, path: string, body: Uint8Array, allowed?: number[]): Case {
  return { u, method: "POST", path, body, allowed };
}

/** One field removed, retyped or invalid, or the JSON text itself broken. */
function mutatedJson(valid: Record<string, unknown>, fields: Record<string, Schema>, required: string[]) {
  const text = JSON.stringify(valid);
  const without = (k: string) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== k));
  return fc.oneof(
    fc.constantFrom(...required).map((k) => J(without(k))),
    fc.constantFrom(...Object.keys(fields)).chain((k) => invalidFor(fields[k]!).map((v) => J({ ...valid, [k]: v }))),
    fc.constantFrom(...required).map((k) => enc(`{"__proto__":${JSON.stringify({ [k]: valid[k] })},${text.slice(1)}`)),
    fc.nat({ max: text.length - 1 }).map((n) => enc(text.slice(0, n))),
    fc.nat({ max: text.length - 1 }).map((n) => enc(text).map((x, i) => (i === n ? 0xff : x))),
    fc.constantFrom(`[${text}]`, `${text}x`, `${text}}`, JSON.stringify(text), text.replaceAll('"', "'")).map(enc),
  );
}

function bodyCases(uploads: Case[]): fc.Arbitrary<Case> {
  const ct = b64encode(c.randomBytes(32));
  const send = { room_id: ab, ciphertext: ct, sender_id: a.uid };
  const fetchB = { room_id: ab, limit: 10, since_ts: 0 };
  const push = { from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: ab };
  const reg = { uid: e.uid, pub_key: e.pubB64, sign_pub: e.signPubB64u };
  const S = w.SendBody.shape,
    F = w.FetchBody.shape,
    K = w.KePushBody.shape,
    R = w.RegisterBody.shape;
  const json = (u: TestUser | null, path: string, valid: Record<string, unknown>, f: Record<string, Schema>) =>
    fc
      .tuple(
        mutatedJson(
          valid,
          f,
          Object.keys(valid).filter((k) => !["sender_id", "limit", "since_ts"].includes(k)),
        ),
        contentType,
      )
      .map(([body, type]): Case => ({ ...post(u, path, body), ct: type }));
  const semantic: Case[] = [
    post(cc, "/send", J({ room_id: ab, ciphertext: ct }), [403]), // §7.6 member only
    post(a, "/send", J({ room_id: cd, ciphertext: ct }), [403]),
    post(a, "/send", J({ room_id: ab, ciphertext: ct, sender_id: b.uid }), [403]), // sender_id ≠ signer
    post(a, "/send", J({ room_id: ab, ciphertext: b64encode(new Uint8Array(w.MAX_CIPHERTEXT_BYTES + 1)) }), [413]),
    post(a, "/send", enc(JSON.stringify(send) + " ".repeat(w.MAX_JSON_BODY_BYTES)), [413]),
    post(cc, "/fetch", J({ room_id: ab }), [403]),
    post(cc, "/burn", J({ room_id: ab }), [403, 429]), // §7.7 member only
    post(a, "/ke/push", J({ ...push, from_uid: b.uid }), [400, 403]), // §7.4 from_uid = signer
    post(a, "/ke/push", J({ ...push, pub_key: b.pubB64 }), [400, 403]), // pub_key = signer's key
    post(a, "/ke/push", J({ ...push, to_uid: e.uid }), [400, 403, 404]), // to_uid registered
    post(a, "/ke/push", J({ ...push, to_uid: cc.uid }), [403]), // to_uid must be the other member
    post(a, "/ke/push", J({ ...push, room_id: cd }), [403]),
    post(cc, "/ke/push", J({ from_uid: cc.uid, to_uid: a.uid, pub_key: cc.pubB64, room_id: ab }), [403]), // no third member
    post(cc, "/ke/push", J({ from_uid: cc.uid, to_uid: b.uid, pub_key: cc.pubB64, room_id: ab }), [403]),
    { u: a, method: "GET", path: `/ke/pop/${b.uid}`, allowed: [403] }, // §7.5 owner only
    { u: a, method: "GET", path: `/ke/pop/${e.uid}`, allowed: [403] },
    post(null, "/register", J({ uid: a.uid, pub_key: a.pubB64, sign_pub: a.signPubB64u }), [409]), // §7.2 create-only
    post(null, "/register", J({ uid: a.uid, pub_key: a.pubB64, sign_pub: e.signPubB64u }), [409]),
    post(null, "/register", J({ ...reg, pub_key: a.pubB64 }), [400]), // uid ≠ UID(pub_key)
    ...uploads,
  ];
  return fc.oneof(
    fc.constantFrom(...semantic),
    json(a, "/send", send, { room_id: S.room_id, ciphertext: S.ciphertext, sender_id: S.sender_id }),
    json(a, "/fetch", fetchB, { room_id: F.room_id, limit: F.limit, since_ts: F.since_ts }),
    json(a, "/burn", { room_id: ab }, { room_id: w.BurnBody.shape.room_id }),
    json(a, "/ke/push", push, K),
    json(null, "/register", reg, R),
    fc
      .tuple(fc.constantFrom(a, cc), randomRoom, fc.constantFrom("/send", "/fetch", "/burn"))
      .map(([u, room, path]) =>
        path === "/send"
          ? post(u, path, J({ room_id: room, ciphertext: ct }), [403, 404])
          : post(u, path, J({ room_id: room }), path === "/burn" ? [403, 404, 429] : [403, 404]),
      ),
    fc.tuple(fc.constantFrom(...users()), randomBody).map(([u, body]) => post(u, "/file/upload", body)),
  );
}

async function uploadCases(): Promise<Case[]> {
  const up = async (u: TestUser, fields: Record<string, string | Uint8Array>, allowed?: number[], type?: string) => {
    const form = await multipart(fields);
    return { ...post(u, "/file/upload", form.bytes, allowed), ct: type ?? form.type };
  };
  const file = c.randomBytes(64);
  return [
    await up(cc, { room_id: ab, sender_id: cc.uid, file }, [403]), // §7.8 member only
    await up(a, { room_id: cd, sender_id: a.uid, file }, [403]),
    await up(a, { room_id: ab, sender_id: a.uid, file: c.randomBytes(2 * MAX_FILE) }, [413]),
    await up(a, { sender_id: a.uid, file }),
    await up(a, { room_id: ab, sender_id: a.uid }),
    await up(a, { room_id: "x", sender_id: a.uid, file }),
    await up(a, { room_id: ab, sender_id: a.uid, file }, undefined, "application/json"),
    await up(a, { room_id: ab, sender_id: a.uid, file }, undefined, "multipart/form-data; boundary=zz"),
  ];
}

function run(k: Case): Promise<Res> {
  const r: Req = k.u
    ? signedReq(k.u, k.method, k.path, k.body, k.ct)
    : {
        method: k.method,
        path: k.path,
        headers: k.ct === null ? [] : [["content-type", k.ct ?? "application/json"]],
        body: k.body,
      };
  return send(r).then((res) => (wellFormed(r, res, k.allowed ?? range4xx), res));
}
const range4xx = Array.from({ length: 100 }, (_, i) => 400 + i);

// ---- mutated signature headers ----------------------------------------------------------

interface Tpl {
  u: TestUser;
  method: string;
  path: string;
  body?: Uint8Array;
  ct?: string;
}
type Mut = (t: Tpl) => Req;
const HEADERS = [w.H_UID, w.H_TS, w.H_NONCE, w.H_SIG];
const build = (t: Tpl, o?: SignOpts) => signedReq(t.u, t.method, t.path, t.body, t.ct, o);
const edit = (t: Tpl, f: (h: [string, string][]) => [string, string][]): Req => {
  const r = build(t);
  return { ...r, headers: f(r.headers) };
};
const headerValue = fc.string({ unit: "grapheme-ascii", maxLength: 100 });
const flip = (s: string, i: number) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return s.slice(0, i) + alphabet[(alphabet.indexOf(s[i]!) + 1) % 64] + s.slice(i + 1);
};

/** Replace one header's value; null drops it. */
function setHeader(h: string, f: (v: string, t: Tpl, hs: [string, string][]) => string | null): Mut {
  return (t) =>
    edit(t, (hs) =>
      hs
        .flatMap(([k, v]): [string, string][] => (k !== h ? [[k, v]] : [[k, f(v, t, hs)!]]))
        .filter(([, v]) => v !== null),
    );
}
const resign =
  (o: (t: Tpl) => SignOpts): Mut =>
  (t) =>
    build(t, o(t));
const duplicate =
  (h: string, fresh: boolean): Mut =>
  (t) =>
    edit(t, (hs) => [...hs, [h, (fresh ? build(t).headers : hs).find(([k]) => k === h)![1]]]);
const badTs = fc.oneof(
  fc.integer({ min: w.SIGNATURE_WINDOW_S + 1, max: 1e9 }).map((k) => () => String(now() - k)),
  fc.integer({ min: w.SIGNATURE_WINDOW_S + 5, max: 1e9 }).map((k) => () => String(now() + k)),
  fc.constantFrom(".0", "e0", "000000000", "abc").map((suffix) => () => `${now()}${suffix}`),
  fc.constantFrom(
    () => `0x${now().toString(16)}`,
    () => `-${now()}`,
    () => "NaN",
    () => "",
  ),
);
const badNonce = fc.oneof(
  fc
    .uint8Array({ maxLength: 32 })
    .filter((n) => n.length !== 12)
    .map(b64uencode),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((n) => b64encode(n) + "="),
  headerValue.filter((v) => /[^A-Za-z0-9_-]/.test(v.trim())),
);

/** Every way of getting §6 wrong, each of which must be refused (401, or 400 for unparsable headers). */
const headerMutation: fc.Arbitrary<Mut> = fc.oneof(
  fc.constantFrom(...HEADERS).map((h) => setHeader(h, () => null)),
  fc.tuple(fc.constantFrom(...HEADERS), headerValue).map(([h, x]) => setHeader(h, () => x)),
  fc.tuple(fc.constantFrom(...HEADERS), fc.boolean()).map(([h, fresh]) => duplicate(h, fresh)),
  badTs.map((ts) => resign(() => ({ ts: ts() }))),
  badNonce.map((nonce) => resign(() => ({ nonce }))),
  fc.constantFrom(
    resign((t) => ({ uid: (t.u === a ? b : a).uid })), // another member's UID, my signature
    resign(() => ({ uid: e.uid })), // unknown UID
    resign(() => ({ signed: { body: enc("tampered") } })),
    resign((t) => ({ signed: { method: t.method === "GET" ? "POST" : "GET" } })),
    resign((t) => ({ signed: { path: t.path === "/send" ? "/fetch" : "/send" } })),
    resign(() => ({ signed: { ts: String(now() - 1) } })),
    (t: Tpl) =>
      t.body
        ? { ...build(t), body: enc(new TextDecoder().decode(t.body) + " ") }
        : build(t, { signed: { body: enc(" ") } }),
    setHeader(w.H_SIG, () => b64uencode(c.randomBytes(64))),
    setHeader(w.H_SIG, (v) => v.slice(0, 85)),
  ),
  fc.nat({ max: 84 }).map((i) => setHeader(w.H_SIG, (v) => flip(v, i))),
);

/** PROTOCOL §7.7: a burn on a relay with an auth key needs the right HMAC. */
const burnMutation: fc.Arbitrary<Mut> = fc.oneof(
  fc.constantFrom(
    setHeader(w.H_BURN_SIG, () => null),
    setHeader(w.H_BURN_SIG, () => ""),
    setHeader(w.H_BURN_SIG, (_, t, hs) => burnHmac(b, hs, t.body)[1]), // someone else's key
    setHeader(w.H_BURN_SIG, (_, t, hs) => burnHmac(t.u, hs, J({ room_id: cd }))[1]), // another room
  ),
  fc
    .nat({ max: 63 })
    .map((i) => setHeader(w.H_BURN_SIG, (v) => v.slice(0, i) + (v[i] === "0" ? "1" : "0") + v.slice(i + 1))),
);

// ---- paths, methods and sockets ---------------------------------------------------------

const ROUTES =
  "GET /health,POST /register,GET /pubkey/UID,POST /ke/push,GET /ke/pop/UID,POST /send,POST /fetch,POST /burn,POST /file/upload,GET /file/ID,GET /ws/ROOM"
    .split(",")
    .map((x) => x.split(" ") as [string, string]);

function pathCases(): fc.Arbitrary<Case> {
  const id = fileUrl.slice("/file/".length);
  const fill = (p: string) => p.replace("UID", a.uid).replace("ID", id).replace("ROOM", ab);
  const b64uText = fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
    minLength: 1,
    maxLength: 200,
  });
  const badId = fc.oneof(
    fc.nat({ max: id.length - 1 }).map((i) => flip(id, i)),
    fc.nat({ max: id.length - 1 }).map((i) => id.slice(0, i)),
    fc.constantFrom(id + "A", id + id, "upload2"),
    b64uText.filter((x) => x !== id && x !== "upload"),
  );
  const wrongMethod = fc.constantFrom(...ROUTES).chain(([m, p]) =>
    fc
      .constantFrom("GET", "POST", "PUT", "DELETE", "PATCH")
      .filter((x) => x !== m && !(p === "/file/upload" && x === "GET"))
      .map((x): Case => ({ u: a, method: x, path: fill(p), body: x === "GET" ? undefined : J({}), allowed: [405] })),
  );
  const known = /^\/(health|register|pubkey|ke|send|fetch|burn|file|ws)(\/|$)/;
  return fc.oneof(
    badId.map((x): Case => ({ u: b, method: "GET", path: `/file/${x}`, allowed: [404] })), // §7.8: 404 for every failure
    fc.constant<Case>({ u: cc, method: "GET", path: fileUrl, allowed: [404] }),
    wrongMethod,
    fc
      .tuple(fc.webPath(), fc.constantFrom("GET", "POST"))
      .filter(([p]) => !known.test(new URL("http://x" + p).pathname))
      .map(([path, method]): Case => ({
        u: a,
        method,
        path: path || "/nope",
        body: method === "POST" ? J({}) : undefined,
        allowed: [404],
      })),
    fc
      .tuple(
        fc.constantFrom("/pubkey/", "/ke/pop/", "/file/", "/ws/"),
        fc.oneof(b64uText, garbageString.map(encodeURIComponent)),
        fc.constantFrom("", "/", "/x", "/.."),
      )
      .map(([p, x, tail]): Case => ({ u: cc, method: "GET", path: p + x + tail })),
  );
}

/** A refused upgrade never opens a socket (§7.9: 401/403 before the upgrade). */
async function refusedSocket(u: TestUser, room: string, o: SignOpts): Promise<void> {
  const path = `/ws/${room}`;
  const headers = sigHeaders(u, "GET", path, new Uint8Array(0), o);
  const live = await new Promise<boolean>((res) => {
    const ws = new WebSocket(relay.url.replace(/^http/, "ws") + path, { headers: Object.fromEntries(headers) });
    ws.onopen = () => (res(true), ws.close());
    ws.onerror = () => res(false);
    ws.onclose = () => res(false);
  });
  expect(live, `socket opened: ${room} as ${u.uid} ${JSON.stringify(o)}`).toBe(false);
  const upgrade: [string, string][] = [
    ["connection", "Upgrade"],
    ["upgrade", "websocket"],
    ["sec-websocket-version", "13"],
    ["sec-websocket-key", b64encode(c.randomBytes(16))],
  ];
  const r: Req = { method: "GET", path, headers: [...sigHeaders(u, "GET", path, new Uint8Array(0), o), ...upgrade] };
  wellFormed(r, await send(r), [401, 403, 404]);
}

// ---- PROTOCOL-v3 §V3 prekeys and §V11 signatures ---------------------------------------------

/** A prekey object of `kind` signed by `u`, optionally as another kind or with another length. */
function prekey(u: TestUser, kind: PrekeyKind, id: number, o: { len?: number; as?: PrekeyKind } = {}) {
  const pub = c.randomBytes(o.len ?? (kind === PREKEY_KIND.SPK || kind === PREKEY_KIND.OPK ? 32 : 1184));
  return { id, pub: b64encode(pub), sig: b64uencode(signPrekey(u.signSeed, o.as ?? kind, id, pub)) };
}

/** A §V11 request (x-phantom-sigv), its origin and version overridable. */
function v3Req(
  u: TestUser,
  method: string,
  path: string,
  body?: Uint8Array,
  o: { origin?: string; sigv?: string } = {},
) {
  const bytes = body ?? new Uint8Array(0);
  const ts = String(now());
  const nonce = b64uencode(c.randomBytes(12));
  const origin = o.origin ?? `http://127.0.0.1:${relay.port}`;
  const sig = signRequestV3(u.signSeed, origin, method, path, u.uid, ts, nonce, c.sha256(bytes));
  const headers: [string, string][] = [
    [w.H_UID, u.uid],
    [w.H_TS, ts],
    [w.H_NONCE, nonce],
    [w.H_SIG, b64uencode(sig)],
    [H_SIGV, o.sigv ?? "3"],
  ];
  if (body) headers.push(["content-type", "application/json"]);
  return { method, path, headers, body } satisfies Req;
}

describe("relay fuzz: PROTOCOL-v3 prekey routes", () => {
  test("broken publications, bundles and signature versions are refused and change no prekey", async () => {
    const p = makeUser();
    const reg = { uid: p.uid, pub_key: p.pubB64, sign_pub: p.signPubB64u };
    await ok({ method: "POST", path: "/register", headers: [["content-type", "application/json"]], body: J(reg) });
    let id = 1;
    const valid = {
      spk: prekey(p, PREKEY_KIND.SPK, id++),
      pqspk: prekey(p, PREKEY_KIND.PQSPK, id++),
      opks: [prekey(p, PREKEY_KIND.OPK, id++), prekey(p, PREKEY_KIND.OPK, id++)],
      opqks: [prekey(p, PREKEY_KIND.OPQK, id++)],
    };
    await ok(v3Req(p, "POST", "/v3/prekeys", J(valid)));
    const status = async () => (await send(v3Req(p, "GET", "/v3/prekeys"))).text;
    const before = await status();
    const fresh = () => id++;
    const semantic: Req[] = [
      v3Req(p, "POST", "/v3/prekeys", J({ spk: prekey(p, PREKEY_KIND.SPK, fresh(), { len: 33 }) })),
      v3Req(p, "POST", "/v3/prekeys", J({ pqspk: prekey(p, PREKEY_KIND.PQSPK, fresh(), { len: 1183 }) })),
      v3Req(p, "POST", "/v3/prekeys", J({ spk: prekey(p, PREKEY_KIND.SPK, fresh(), { as: PREKEY_KIND.OPK }) })),
      v3Req(p, "POST", "/v3/prekeys", J({ opqks: [prekey(p, PREKEY_KIND.OPQK, fresh(), { as: PREKEY_KIND.PQSPK })] })),
      v3Req(p, "POST", "/v3/prekeys", J({ opks: [prekey(a, PREKEY_KIND.OPK, fresh())] })), // another signer's key
      v3Req(
        p,
        "POST",
        "/v3/prekeys",
        J({ opks: Array.from({ length: 99 }, () => prekey(p, PREKEY_KIND.OPK, fresh())) }),
      ),
      v3Req(
        p,
        "POST",
        "/v3/prekeys",
        J({ opqks: Array.from({ length: 10 }, () => prekey(p, PREKEY_KIND.OPQK, fresh())) }),
      ),
      v3Req(p, "POST", "/v3/prekeys", J({ opks: [prekey(p, PREKEY_KIND.OPK, 2)] })), // id published before
      v3Req(p, "POST", "/v3/prekeys", J({ clear: true, opks: [] })),
      v3Req(p, "GET", "/v3/prekeys", undefined, { origin: "https://relay.example" }),
      v3Req(p, "GET", "/v3/prekeys", undefined, { origin: `http://127.0.0.1:${relay.port + 1}` }),
      ...["2", "4", "", "3.0", "v3"].map((sigv) => v3Req(p, "POST", "/v3/prekeys", J({ clear: true }), { sigv })),
      v3Req(a, "POST", "/v3/bundle", J({ uid: e.uid })), // unknown: 404
    ];
    const F = { spk: PrekeyObject, pqspk: PrekeyObject, opks: PrekeyObject.array(), opqks: PrekeyObject.array() };
    const mutated = mutatedJson(valid, F, ["spk", "pqspk", "opks", "opqks"]).map((body) =>
      v3Req(p, "POST", "/v3/prekeys", body),
    );
    const bundles = fc
      .oneof(
        randomUid.map((uid) => J({ uid })),
        randomBody,
        invalidFor(w.Uid).map((uid) => J({ uid })),
      )
      .map((body) => v3Req(cc, "POST", "/v3/bundle", body));
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.constantFrom(...semantic), mutated, bundles), async (r) => {
          wellFormed(r, await send(r), [400, 401, 404, 413, 429]);
        }),
        runs(600),
      );
    });
    expect(await status()).toBe(before);
  });
});

// ---- the properties ------------------------------------------------------------------------

describe("relay fuzz (fast-check against dist/phantom-relay)", () => {
  test("random requests at every endpoint: never a 5xx, every error is the §7 JSON", async () => {
    const endpoints = fc.oneof(
      fc.constantFrom(
        "/health",
        "/register",
        "/send",
        "/fetch",
        "/burn",
        "/ke/push",
        "/file/upload",
        "/",
        "/v3/prekeys", // PROTOCOL-v3 §V3
        "/v3/bundle",
      ),
      fc
        .constantFrom("/pubkey/", "/ke/pop/", "/file/", "/ws/")
        .chain((p) => fc.oneof(randomUid, randomRoom, garbageString.map(encodeURIComponent)).map((x) => p + x)),
      fc.webPath({ size: "small" }),
    );
    const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND");
    const auth = fc.constantFrom("none", "junk", "a", "cc");
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(endpoints, method, randomBody, contentType, auth, async (path, m, raw, ct, by) => {
          const body = m === "GET" || m === "HEAD" ? undefined : raw;
          const r: Req =
            by === "a" || by === "cc"
              ? signedReq(by === "a" ? a : cc, m, path, body, ct)
              : { method: m, path, headers: ct && body ? [["content-type", ct]] : [], body };
          if (by === "junk") for (const h of HEADERS) r.headers.push([h, "x"]);
          wellFormed(r, await send(r));
        }),
        runs(2000),
      );
    });
  });

  test("signed requests that break one rule of §7 are refused and change nothing", async () => {
    const cases = bodyCases(await uploadCases());
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (k) => void (await run(k))),
        runs(3000),
      );
    });
  });

  test("requests with broken §6 signature headers are refused (401) and change nothing", async () => {
    const form = await multipart({ room_id: ab, sender_id: a.uid, file: c.randomBytes(64) });
    const tpls: Tpl[] = [
      { u: a, method: "POST", path: "/send", body: J({ room_id: ab, ciphertext: b64encode(c.randomBytes(32)) }) },
      { u: b, method: "POST", path: "/fetch", body: J({ room_id: ab }) },
      { u: a, method: "POST", path: "/burn", body: J({ room_id: ab }) },
      {
        u: a,
        method: "POST",
        path: "/ke/push",
        body: J({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: ab }),
      },
      { u: b, method: "GET", path: `/ke/pop/${b.uid}` },
      { u: a, method: "POST", path: "/file/upload", body: form.bytes, ct: form.type },
      { u: b, method: "GET", path: fileUrl },
    ];
    const burn = tpls[2]!;
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...tpls), headerMutation, async (t, mut) => {
          const r = mut(t);
          wellFormed(r, await send(r), t.path === fileUrl ? [400, 401, 404] : [400, 401]);
        }),
        runs(2000),
      );
      await fc.assert(
        fc.asyncProperty(burnMutation, async (mut) => {
          const r = mut(burn);
          wellFormed(r, await send(r), [401, 429]);
        }),
        runs(200),
      );
      for (let i = 0; i < 3; i++) wellFormed(replay, await send(replay), [401]); // §6 replayed nonce
    });
  });

  test("paths and methods: unknown route 404, wrong method 405, bad file id 404", async () => {
    const cases = pathCases();
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (k) => void (await run(k))),
        runs(1500),
      );
    });
  });

  test("refused WebSocket upgrades never open a socket", async () => {
    type Attempt = [TestUser, string, SignOpts];
    const attempt = fc.oneof(
      fc.constantFrom<Attempt>(
        [cc, "ab", {}],
        [a, "cd", {}],
        [a, "ab", { uid: e.uid }],
        [a, "ab", { signed: { method: "POST" } }],
      ),
      randomRoom.map((r): Attempt => [a, r, {}]),
      badTs.map((ts): Attempt => [a, "ab", { ts: ts() }]),
    );
    await batch(async () => {
      await fc.assert(
        fc.asyncProperty(attempt, async ([u, room, o]) => {
          await refusedSocket(u, room === "ab" ? ab : room === "cd" ? cd : room, o);
        }),
        runs(300),
      );
    });
  });

  test("frames a member sends on its socket are never relayed and disturb nothing", async () => {
    const frame = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 200 }),
      fc.json({ maxDepth: 2 }),
      fc.constant(JSON.stringify({ ts: 1, ciphertext: "QUFB" })),
      fc.uint8Array({ maxLength: 8192 }),
    );
    await batch(async () => {
      let s = await openWs(a, ab);
      await fc.assert(
        fc.asyncProperty(frame, async (f) => {
          if (s.ws.readyState !== WebSocket.OPEN) s = await openWs(a, ab); // an oversized frame may close it
          expect(s.opened).toBe(true);
          s.ws.send(f);
        }),
        runs(500),
      );
      // The close handshake is answered after every earlier frame was read.
      await new Promise((res) => ((s.ws.onclose = res), s.ws.close()));
    });
  });

  test("the same signed request sent 20 times at once is accepted once (§6 replay)", async () => {
    const form = await multipart({ room_id: cd, sender_id: d.uid, file: c.randomBytes(64) });
    const push = { from_uid: cc.uid, to_uid: d.uid, pub_key: cc.pubB64, room_id: cd };
    for (const r of [
      sendMsg(cc, cd),
      signedReq(cc, "POST", "/ke/push", J(push)),
      signedReq(d, "GET", `/ke/pop/${d.uid}`),
      signedReq(d, "POST", "/file/upload", form.bytes, form.type),
    ]) {
      const statuses = (await Promise.all(Array.from({ length: 20 }, () => send(r)))).map((x) => x.status).sort();
      expect(statuses, r.path).toEqual([200, ...Array<number>(19).fill(401)]);
    }
  });

  // Issue 3 item 6: after thousands of hostile requests, the log names no UID, room id or file id,
  // and no request ended in an internal error.
  test("the relay log stays free of identifiers and internal errors", async () => {
    const healthLines = () => relay.logs.filter((l) => l.startsWith("GET /health ")).length;
    const seen = healthLines();
    await fetch(`${relay.url}/health`);
    while (healthLines() === seen) await Bun.sleep(5); // the relay writes log lines in batches
    expect(relay.logs.length).toBeGreaterThan(1000);
    const ids = [...users(), e].map((u) => u.uid).concat(ab, cd, fileUrl.slice("/file/".length));
    expect(relay.logs.filter((l) => ids.some((id) => l.includes(id)))).toEqual([]);
    expect(relay.logs.filter((l) => /^(error|warn):|\bat \S+:\d+/.test(l))).toEqual([]);
  });
});
