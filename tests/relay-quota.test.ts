// Quotas of PROTOCOL §7.10 on the real compiled relay, each with a small limit set by flag or
// environment: at the edge, one past it (429 with Retry-After and the §7 error JSON), and what
// was accepted before still there. Build first: ./build.sh
import { afterAll, describe, expect, test } from "bun:test";
import * as c from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { ErrorBody, FetchResponse, UploadResponse } from "../lib/wire.ts";
import { multipart } from "./helpers/raw-http.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, pair, register, signed, type TestUser } from "./helpers/signer.ts";

const relays: RunningRelay[] = [];
afterAll(async () => {
  for (const r of relays) {
    expect(await r.stop()).toBe(0);
    r.cleanup();
  }
});

async function relayWith(env: Record<string, string>, args: string[] = []): Promise<string> {
  const r = await startRelay({ env, args });
  relays.push(r);
  return r.url;
}

const CT_BYTES = 3000; // decoded; stored as 4,000 base64 characters
const CT_B64 = 4000;
const ct = () => b64encode(c.randomBytes(CT_BYTES));

async function expectRefused(r: Response, status: number, code: string): Promise<number> {
  expect(r.status).toBe(status);
  const body = ErrorBody.parse(await r.json());
  expect(body.error).toBe(code);
  const retry = Number(r.headers.get("retry-after"));
  if (status === 429 || status === 503) expect(retry).toBeGreaterThanOrEqual(1);
  return retry;
}

async function fetchAll(base: string, u: TestUser, roomId: string): Promise<string[]> {
  const r = await signed(base, u, "POST", "/fetch", { room_id: roomId, limit: 200 });
  expect(r.status).toBe(200);
  return FetchResponse.parse(await r.json()).messages.map((m) => m.ciphertext);
}

function upload(base: string, u: TestUser, roomId: string, file: Uint8Array) {
  const { body, contentType } = multipart(roomId, u.uid, file);
  return signed(base, u, "POST", "/file/upload", body, { headers: { "content-type": contentType } });
}

describe("bytes sent per day, per signer", () => {
  test("sends up to the budget pass, one byte more is 429; the other member and earlier rows are untouched", async () => {
    const base = await relayWith({ PHANTOM_RELAY_SENT_BYTES_PER_DAY: String(3 * CT_B64) });
    const { a, b, roomId } = await pair(base);
    const sent = [ct(), ct(), ct()];
    for (const x of sent)
      expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: x })).status).toBe(200);
    const retry = await expectRefused(
      await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: "AAAA" }),
      429,
      "rate_limited",
    );
    expect(retry).toBeLessThanOrEqual(86_400);
    const fromB = ct();
    expect((await signed(base, b, "POST", "/send", { room_id: roomId, ciphertext: fromB })).status).toBe(200);
    expect(await fetchAll(base, b, roomId)).toEqual([...sent, fromB]);
  });

  test("one message larger than the whole budget is 413 (it can never pass), not a 429 to wait out", async () => {
    const base = await relayWith({ PHANTOM_RELAY_SENT_BYTES_PER_DAY: String(CT_B64 - 1) });
    const { a, roomId } = await pair(base);
    const r = await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: ct() });
    await expectRefused(r, 413, "too_large");
    expect(r.headers.get("retry-after")).toBeNull();
    expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: "AAAA" })).status).toBe(200);
  });

  test("uploaded file bytes count too", async () => {
    const base = await relayWith({ PHANTOM_RELAY_SENT_BYTES_PER_DAY: "5000", MAX_FILE_SIZE_BYTES: "5000" });
    const { a, roomId } = await pair(base);
    const r = await upload(base, a, roomId, c.randomBytes(5000));
    expect(r.status).toBe(200);
    const { url } = UploadResponse.parse(await r.json());
    await expectRefused(await upload(base, a, roomId, c.randomBytes(1)), 429, "rate_limited");
    await expectRefused(
      await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: "AAAA" }),
      429,
      "rate_limited",
    );
    expect((await signed(base, a, "GET", url)).status).toBe(200);
  });
});

describe("uploads per hour, per signer", () => {
  test("the 2nd upload of 2 passes, the 3rd is 429; both files stay downloadable", async () => {
    const base = await relayWith({ MAX_FILE_SIZE_BYTES: "4096" }, ["--uploads-per-hour", "2"]);
    const { a, b, roomId } = await pair(base);
    const files = [c.randomBytes(100), c.randomBytes(4096)];
    const urls: string[] = [];
    for (const f of files) {
      const r = await upload(base, a, roomId, f);
      expect(r.status).toBe(200);
      urls.push(UploadResponse.parse(await r.json()).url);
    }
    const retry = await expectRefused(await upload(base, a, roomId, c.randomBytes(10)), 429, "rate_limited");
    expect(retry).toBeLessThanOrEqual(3600);
    expect((await upload(base, b, roomId, c.randomBytes(10))).status).toBe(200); // b's own count
    for (let i = 0; i < files.length; i++) {
      const d = await signed(base, b, "GET", urls[i]!);
      expect(Buffer.from(await d.arrayBuffer()).equals(Buffer.from(files[i]!))).toBe(true);
    }
  });
});

describe("rooms created per hour, per signer", () => {
  async function push(base: string, from: TestUser, to: TestUser) {
    const roomId = c.pairKeys(from, to.encPub).roomId;
    const r = await signed(base, from, "POST", "/ke/push", {
      from_uid: from.uid,
      to_uid: to.uid,
      pub_key: from.pubB64,
      room_id: roomId,
    });
    return { r, roomId };
  }

  test("2 new rooms pass, a 3rd is 429; pushes into existing rooms and their messages go on", async () => {
    const base = await relayWith({ PHANTOM_RELAY_ROOMS_PER_HOUR: "2" });
    const [a, b, d, e] = [makeUser(), makeUser(), makeUser(), makeUser()];
    for (const u of [a, b, d, e]) expect((await register(base, u)).status).toBe(200);
    const ab = await push(base, a, b);
    const ad = await push(base, a, d);
    expect([ab.r.status, ad.r.status]).toEqual([200, 200]);
    const ae = await push(base, a, e);
    const retry = await expectRefused(ae.r, 429, "rate_limited");
    expect(retry).toBeLessThanOrEqual(3600);
    expect((await push(base, a, b)).r.status).toBe(200); // the room exists: no new room
    expect((await push(base, b, a)).r.status).toBe(200);
    expect((await push(base, e, a)).r.status).toBe(200); // e creates it with its own count
    const x = ct();
    expect((await signed(base, a, "POST", "/send", { room_id: ab.roomId, ciphertext: x })).status).toBe(200);
    expect(await fetchAll(base, b, ab.roomId)).toEqual([x]);
  });
});

describe("stored bytes per room", () => {
  test("a room fills to its quota exactly, then sends and uploads are 429 until a burn frees it", async () => {
    const base = await relayWith({ PHANTOM_RELAY_ROOM_BYTES: String(2 * CT_B64 + 10), MAX_FILE_SIZE_BYTES: "4096" });
    const { a, b, roomId } = await pair(base);
    const kept = [ct(), ct()];
    for (const x of kept)
      expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: x })).status).toBe(200);
    const up = await upload(base, b, roomId, c.randomBytes(10)); // exactly to the edge
    expect(up.status).toBe(200);
    const { url } = UploadResponse.parse(await up.json());
    await expectRefused(
      await signed(base, b, "POST", "/send", { room_id: roomId, ciphertext: "AAAA" }),
      429,
      "rate_limited",
    );
    await expectRefused(await upload(base, a, roomId, c.randomBytes(1)), 429, "rate_limited");
    expect(await fetchAll(base, b, roomId)).toEqual(kept);
    expect((await signed(base, a, "GET", url)).status).toBe(200);
    // Another room of the same members is not affected.
    const other = await pair(base);
    expect((await signed(base, other.a, "POST", "/send", { room_id: other.roomId, ciphertext: ct() })).status).toBe(
      200,
    );
    expect((await signed(base, a, "POST", "/burn", { room_id: roomId })).status).toBe(200);
    expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: kept[0] })).status).toBe(200);
  });
});

describe("registrations per client address", () => {
  test("with no trusted proxy, the 2nd registration of 2 passes and the 3rd is 429", async () => {
    const base = await relayWith({ PHANTOM_RELAY_REGISTRATIONS_PER_HOUR: "2" }, ["--trusted-proxy", "none"]);
    const users = [makeUser(), makeUser(), makeUser()];
    expect((await register(base, users[0]!)).status).toBe(200);
    expect((await register(base, users[1]!)).status).toBe(200);
    const retry = await expectRefused(await register(base, users[2]!), 429, "rate_limited");
    expect(retry).toBeLessThanOrEqual(3600);
    for (const u of users.slice(0, 2)) expect((await fetch(`${base}/pubkey/${u.uid}`)).status).toBe(200);
    expect((await fetch(`${base}/pubkey/${users[2]!.uid}`)).status).toBe(404);
  });

  test("loopback is a proxy by default: Tor (no X-Forwarded-For) is never limited, X-Forwarded-For is counted", async () => {
    const base = await relayWith({ PHANTOM_RELAY_REGISTRATIONS_PER_HOUR: "2" });
    for (let i = 0; i < 5; i++) expect((await register(base, makeUser())).status).toBe(200);
    const viaProxy = (u: TestUser, client: string) =>
      fetch(`${base}/register`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `198.51.100.77, ${client}` },
        body: JSON.stringify({ uid: u.uid, pub_key: u.pubB64, sign_pub: u.signPubB64u }),
      });
    expect((await viaProxy(makeUser(), "203.0.113.5")).status).toBe(200);
    expect((await viaProxy(makeUser(), "203.0.113.5")).status).toBe(200);
    await expectRefused(await viaProxy(makeUser(), "203.0.113.5"), 429, "rate_limited");
    expect((await viaProxy(makeUser(), "203.0.113.6")).status).toBe(200);
    expect((await register(base, makeUser())).status).toBe(200); // still no limit without the header
  });

  test("X-Forwarded-For from a peer that is not a trusted proxy is ignored", async () => {
    const base = await relayWith({ PHANTOM_RELAY_REGISTRATIONS_PER_HOUR: "1" }, ["--trusted-proxy", "192.0.2.1"]);
    const reg = (u: TestUser, xff: string) =>
      fetch(`${base}/register`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": xff },
        body: JSON.stringify({ uid: u.uid, pub_key: u.pubB64, sign_pub: u.signPubB64u }),
      });
    expect((await reg(makeUser(), "203.0.113.1")).status).toBe(200);
    await expectRefused(await reg(makeUser(), "203.0.113.2"), 429, "rate_limited"); // counted as 127.0.0.1
  });
});

describe("/health (PROTOCOL §7.10)", () => {
  test("adds max_file_size, retention and the named limits", async () => {
    const base = await relayWith({ MAX_FILE_SIZE_BYTES: "4096", PHANTOM_RELAY_UPLOADS_PER_HOUR: "7" }, [
      "--room-bytes",
      "0",
    ]);
    const h = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    expect(h.status).toBe("ok");
    expect(h.max_file_size).toBe(4096);
    expect(h.retention).toEqual({ messages_days: 7, ke_hours: 24, files_hours: 24 });
    expect(h.limits).toMatchObject({
      sent_bytes_per_day: 1024 ** 3,
      uploads_per_hour: 7,
      rooms_per_hour: 60,
      room_bytes: 0,
      burns_per_10_minutes: 10,
    });
  });
});
