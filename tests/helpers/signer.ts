// Test helper: users with real keys, and signed requests (PROTOCOL §6) built
// directly with lib/crypto, so relay tests do not depend on the client code.
import * as c from "../../lib/crypto.ts";
import { b64encode, b64uencode } from "../../lib/encoding.ts";
import { canonicalRequest, H_NONCE, H_SIG, H_TS, H_UID } from "../../lib/wire.ts";

export interface TestUser extends c.Identity {
  uid: string;
  pubB64: string;
  signPubB64u: string;
}

export function makeUser(): TestUser {
  const id = c.generateIdentity();
  return { ...id, uid: c.uidOf(id.encPub), pubB64: b64encode(id.encPub), signPubB64u: b64uencode(id.signPub) };
}

export async function register(base: string, u: TestUser): Promise<Response> {
  return await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uid: u.uid, pub_key: u.pubB64, sign_pub: u.signPubB64u }),
  });
}

export interface SignOptions {
  ts?: number;
  nonce?: string;
  /** Override what is signed (tamper tests): the body hashed into the canonical string. */
  signedBody?: Uint8Array;
  headers?: Record<string, string>;
}

/** The four §6 headers for a request. */
export function signHeaders(u: TestUser, method: string, path: string, body: Uint8Array, o: SignOptions = {}) {
  const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? b64uencode(c.randomBytes(12));
  const canonical = canonicalRequest(method, path, u.uid, ts, nonce, c.sha256(o.signedBody ?? body));
  return { [H_UID]: u.uid, [H_TS]: ts, [H_NONCE]: nonce, [H_SIG]: b64uencode(c.sign(u.signSeed, canonical)) };
}

/** A signed request; `body` may be an object (JSON-encoded), a string or bytes. */
export async function signed(
  base: string,
  u: TestUser,
  method: string,
  path: string,
  body?: unknown,
  o: SignOptions = {},
): Promise<Response> {
  const bytes =
    body === undefined
      ? new Uint8Array(0)
      : body instanceof Uint8Array
        ? body
        : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  const headers: Record<string, string> = { ...signHeaders(u, method, path.split("?")[0]!, bytes, o), ...o.headers };
  if (body !== undefined && !(body instanceof Uint8Array)) headers["content-type"] ??= "application/json";
  return await fetch(base + path, { method, headers, body: method === "GET" ? undefined : bytes });
}

/** Register two users and join them in their pair room via /ke/push (PROTOCOL §7.4). */
export async function pair(base: string): Promise<{ a: TestUser; b: TestUser; roomId: string; key: Uint8Array }> {
  const a = makeUser();
  const b = makeUser();
  for (const u of [a, b]) if ((await register(base, u)).status !== 200) throw new Error("register failed");
  const { roomId, sessionKey } = c.pairKeys(a, b.encPub);
  const r = await signed(base, a, "POST", "/ke/push", {
    from_uid: a.uid,
    to_uid: b.uid,
    pub_key: a.pubB64,
    room_id: roomId,
  });
  if (r.status !== 200) throw new Error(`ke/push failed: ${r.status} ${await r.text()}`);
  return { a, b, roomId, key: sessionKey };
}
