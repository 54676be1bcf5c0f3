// PROTOCOL §6 request signing and §7.1–§7.3 against the real compiled relay:
// one test at and one past each edge. Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import { generateIdentity, randomBytes, uidOf } from "../lib/crypto.ts";
import { H_NONCE, H_SIG, H_TS, H_UID, MAX_JSON_BODY_BYTES } from "../lib/wire.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, pair, register, signed, signHeaders, type TestUser } from "./helpers/signer.ts";

let relay: RunningRelay;
let base: string;
let a: TestUser, b: TestUser, roomId: string;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  relay = await startRelay();
  base = relay.url;
  ({ a, b, roomId } = await pair(base));
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

async function errorOf(r: Response): Promise<{ status: number; error: string; message: string }> {
  const body = (await r.json()) as { error: string; message: string };
  expect(Object.keys(body).sort()).toEqual(["error", "message"]);
  return { status: r.status, ...body };
}

const fetchBody = () => ({ room_id: roomId });

describe("§7.1 health", () => {
  test("GET /health", async () => {
    const r = await fetch(`${base}/health`);
    expect(r.status).toBe(200);
    // PROTOCOL §7.10 adds max_file_size, retention and limits (tests/relay-quota.test.ts).
    expect(await r.json()).toMatchObject({
      status: "ok",
      version: expect.any(String),
      auth_required: false,
      auth_pub: null,
    });
  });
});

describe("requests without a Host header (HTTP/1.0)", () => {
  test("are routed by their path like any other", async () => {
    const port = Number(new URL(base).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, "127.0.0.1", () => sock.write("GET /health HTTP/1.0\r\n\r\n"));
      let text = "";
      sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
      sock.on("end", () => resolve(text));
      sock.on("error", reject);
    });
    expect(answer.split("\r\n")[0]).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(answer).toContain('"status":"ok"');
  });
});

describe("§7.2 register, §7.3 pubkey", () => {
  test("register then look up; the same UID again is 409, create-only", async () => {
    const u = makeUser();
    expect((await register(base, u)).status).toBe(200);
    const again = await register(base, u);
    expect((await errorOf(again)).status).toBe(409);
    const r = await fetch(`${base}/pubkey/${u.uid}`);
    expect(await r.json()).toEqual({ uid: u.uid, pub_key: u.pubB64 });
  });

  test("a UID that does not match pub_key is 400 and registers nothing", async () => {
    const u = makeUser();
    const other = generateIdentity();
    const r = await fetch(`${base}/register`, {
      method: "POST",
      body: JSON.stringify({ uid: u.uid, pub_key: b64encode(other.encPub), sign_pub: u.signPubB64u }),
    });
    expect((await errorOf(r)).status).toBe(400);
    expect((await fetch(`${base}/pubkey/${u.uid}`)).status).toBe(404);
    expect((await fetch(`${base}/pubkey/${uidOf(other.encPub)}`)).status).toBe(404);
  });

  test.each([
    ["short pub_key", (u: TestUser) => ({ uid: u.uid, pub_key: b64encode(randomBytes(31)), sign_pub: u.signPubB64u })],
    ["b64u sign_pub with padding", (u: TestUser) => ({ uid: u.uid, pub_key: u.pubB64, sign_pub: u.signPubB64u + "=" })],
    ["an extra field", (u: TestUser) => ({ uid: u.uid, pub_key: u.pubB64, sign_pub: u.signPubB64u, x: 1 })],
    ["a missing field", (u: TestUser) => ({ uid: u.uid, pub_key: u.pubB64 })],
  ])("%s is 400", async (_name, body) => {
    const u = makeUser();
    const r = await fetch(`${base}/register`, { method: "POST", body: JSON.stringify(body(u)) });
    expect((await errorOf(r)).status).toBe(400);
    expect((await fetch(`${base}/pubkey/${u.uid}`)).status).toBe(404);
  });

  test.each([
    ["all-zero (low order)", "00".repeat(32)],
    ["p − 1 (low order)", "ec" + "ff".repeat(30) + "7f"],
    ["p + 2 (non-canonical)", "ef" + "ff".repeat(30) + "7f"],
    ["top bit set", "09" + "00".repeat(30) + "80"],
  ])("an unusable X25519 key, %s, is 400 and registers nothing", async (_name, hex) => {
    const pub = Uint8Array.from(Buffer.from(hex, "hex"));
    const u = makeUser();
    const uid = uidOf(pub);
    const r = await fetch(`${base}/register`, {
      method: "POST",
      body: JSON.stringify({ uid, pub_key: b64encode(pub), sign_pub: u.signPubB64u }),
    });
    expect((await errorOf(r)).status).toBe(400);
    expect((await fetch(`${base}/pubkey/${uid}`)).status).toBe(404);
  });

  test("unknown pubkey is 404", async () => {
    expect((await errorOf(await fetch(`${base}/pubkey/${makeUser().uid}`))).status).toBe(404);
  });
});

describe("§6 signed requests", () => {
  test("a correctly signed request passes", async () => {
    expect((await signed(base, a, "POST", "/fetch", fetchBody())).status).toBe(200);
  });

  test.each([H_UID, H_TS, H_NONCE, H_SIG])("missing %s is 401", async (header) => {
    const body = new TextEncoder().encode(JSON.stringify(fetchBody()));
    const headers: Record<string, string> = signHeaders(a, "POST", "/fetch", body);
    delete headers[header];
    const r = await fetch(`${base}/fetch`, { method: "POST", headers, body });
    expect((await errorOf(r)).status).toBe(401);
  });

  test("a signature by another key is 401", async () => {
    const body = new TextEncoder().encode(JSON.stringify(fetchBody()));
    const headers = { ...signHeaders(b, "POST", "/fetch", body), [H_UID]: a.uid };
    const r = await fetch(`${base}/fetch`, { method: "POST", headers, body });
    expect((await errorOf(r)).status).toBe(401);
  });

  test("a malformed signature is 401", async () => {
    const r = await signed(base, a, "POST", "/fetch", fetchBody(), { headers: { [H_SIG]: "AAAA" } });
    expect((await errorOf(r)).status).toBe(401);
  });

  test("a signature over another path or method is 401", async () => {
    const body = new TextEncoder().encode(JSON.stringify(fetchBody()));
    for (const headers of [signHeaders(a, "POST", "/send", body), signHeaders(a, "PUT", "/fetch", body)]) {
      const r = await fetch(`${base}/fetch`, { method: "POST", headers, body });
      expect((await errorOf(r)).status).toBe(401);
    }
  });

  test("timestamps ±299 s pass, ±301 s are 401", async () => {
    for (const d of [299, -299]) {
      expect((await signed(base, a, "POST", "/fetch", fetchBody(), { ts: now() + d })).status).toBe(200);
    }
    for (const d of [301, -301]) {
      const r = await signed(base, a, "POST", "/fetch", fetchBody(), { ts: now() + d });
      expect((await errorOf(r)).status).toBe(401);
    }
  });

  test("a non-integer timestamp is 401", async () => {
    const r = await signed(base, a, "POST", "/fetch", fetchBody(), { headers: { [H_TS]: `${now()}.5` } });
    expect(r.status).toBe(401);
  });

  test("a replayed nonce is 401; a fresh nonce passes", async () => {
    const nonce = b64uencode(randomBytes(12));
    expect((await signed(base, a, "POST", "/fetch", fetchBody(), { nonce })).status).toBe(200);
    const again = await signed(base, a, "POST", "/fetch", fetchBody(), { nonce });
    expect((await errorOf(again)).status).toBe(401);
    // The same nonce from another user is that user's own nonce.
    expect((await signed(base, b, "POST", "/fetch", fetchBody(), { nonce })).status).toBe(200);
  });

  test("a byte-for-byte replay of a /send is refused and stores nothing", async () => {
    const body = new TextEncoder().encode(JSON.stringify({ room_id: roomId, ciphertext: b64encode(randomBytes(40)) }));
    const headers = signHeaders(a, "POST", "/send", body);
    expect((await fetch(`${base}/send`, { method: "POST", headers, body })).status).toBe(200);
    expect((await fetch(`${base}/send`, { method: "POST", headers, body })).status).toBe(401);
    const r = await signed(base, a, "POST", "/fetch", { room_id: roomId, limit: 200 });
    const msgs = ((await r.json()) as { messages: { ciphertext: string }[] }).messages;
    const ct = JSON.parse(new TextDecoder().decode(body)).ciphertext;
    expect(msgs.filter((m) => m.ciphertext === ct).length).toBe(1);
  });

  test("a tampered body is 401: the signature covers the exact bytes (PROTOCOL §1)", async () => {
    const sent = new TextEncoder().encode(JSON.stringify(fetchBody()));
    const reformatted = new TextEncoder().encode(JSON.stringify(fetchBody(), null, 1));
    const r = await signed(base, a, "POST", "/fetch", reformatted, { signedBody: sent });
    expect((await errorOf(r)).status).toBe(401);
    // The same reformatted bytes, signed as sent, pass: the relay never re-serialises.
    expect((await signed(base, a, "POST", "/fetch", reformatted)).status).toBe(200);
  });

  test("an unknown UID is 401", async () => {
    const r = await signed(base, makeUser(), "POST", "/fetch", fetchBody());
    expect((await errorOf(r)).status).toBe(401);
  });

  test("the query string is not part of the signed path", async () => {
    expect((await signed(base, a, "GET", `/ke/pop/${a.uid}?x=1`)).status).toBe(200);
  });
});

describe("§7 errors", () => {
  test("unknown route 404, wrong method 405, both as error JSON", async () => {
    expect((await errorOf(await fetch(`${base}/nope`))).status).toBe(404);
    expect((await errorOf(await fetch(`${base}/send/`, { method: "POST" }))).status).toBe(404);
    const r = await fetch(`${base}/send`);
    expect((await errorOf(r)).status).toBe(405);
    expect((await errorOf(await fetch(`${base}/health`, { method: "DELETE" }))).status).toBe(405);
  });

  test("a JSON body of exactly 256 KiB is read; one byte more is 413", async () => {
    // Padding with spaces keeps the JSON valid: the at-limit body is accepted.
    const json = JSON.stringify(fetchBody());
    const at = new TextEncoder().encode(json + " ".repeat(MAX_JSON_BODY_BYTES - json.length));
    expect(at.length).toBe(MAX_JSON_BODY_BYTES);
    expect((await signed(base, a, "POST", "/fetch", at)).status).toBe(200);
    const over = new TextEncoder().encode(json + " ".repeat(MAX_JSON_BODY_BYTES + 1 - json.length));
    expect((await errorOf(await signed(base, a, "POST", "/fetch", over))).status).toBe(413);
  });

  test("malformed JSON and wrong types are 400, and the relay keeps serving", async () => {
    for (const body of ["{", "[]", "null", '{"room_id":5}', "\xff"]) {
      const r = await signed(base, a, "POST", "/fetch", body);
      expect((await errorOf(r)).status).toBe(400);
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
