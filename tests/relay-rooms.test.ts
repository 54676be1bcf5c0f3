// PROTOCOL §7.4–§7.7 and §7.9 against the real compiled relay: room membership,
// the key-exchange inbox, send/fetch, burn and live sockets. Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import * as c from "../lib/crypto.ts";
import { b64encode, b64uencode } from "../lib/encoding.ts";
import { FETCH_LIMIT_MAX, H_BURN_SIG, MAX_CIPHERTEXT_BYTES } from "../lib/wire.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, pair, register, signed, signHeaders, type TestUser } from "./helpers/signer.ts";

let relay: RunningRelay;
let base: string;

beforeAll(async () => {
  relay = await startRelay();
  base = relay.url;
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

async function user(): Promise<TestUser> {
  const u = makeUser();
  expect((await register(base, u)).status).toBe(200);
  return u;
}

const ct = (n = 40) => b64encode(c.randomBytes(n));
type Msgs = { messages: { ts: number; ciphertext: string; seq: number }[] };

async function fetchAll(u: TestUser, roomId: string, extra: object = {}): Promise<Msgs["messages"]> {
  const r = await signed(base, u, "POST", "/fetch", { room_id: roomId, ...extra });
  expect(r.status).toBe(200);
  return ((await r.json()) as Msgs).messages;
}

async function pop(u: TestUser) {
  const r = await signed(base, u, "GET", `/ke/pop/${u.uid}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { entries: { from_uid: string; pub_key: string; room_id: string; ts: number }[] })
    .entries;
}

const push = (from: TestUser, to: string, roomId: string, pubKey = from.pubB64) =>
  signed(base, from, "POST", "/ke/push", { from_uid: from.uid, to_uid: to, pub_key: pubKey, room_id: roomId });

describe("§7.4 ke/push and §7.5 ke/pop", () => {
  test("push creates the room and an inbox entry; pop returns it once and empties the inbox", async () => {
    const [a, b] = [await user(), await user()];
    const { roomId } = c.pairKeys(a, b.encPub);
    expect((await push(a, b.uid, roomId)).status).toBe(200);
    const entries = await pop(b);
    expect(entries).toEqual([{ from_uid: a.uid, pub_key: a.pubB64, room_id: roomId, ts: expect.any(Number) }]);
    expect(await pop(b)).toEqual([]);
    // The other member answers in the same room.
    expect((await push(b, a.uid, roomId)).status).toBe(200);
    expect((await pop(a)).map((e) => e.from_uid)).toEqual([b.uid]);
  });

  test("a second push from the same sender replaces the first", async () => {
    const [a, b] = [await user(), await user()];
    const { roomId } = c.pairKeys(a, b.encPub);
    expect((await push(a, b.uid, roomId)).status).toBe(200);
    expect((await push(a, b.uid, roomId)).status).toBe(200);
    expect((await pop(b)).length).toBe(1);
  });

  test("only the owner pops an inbox (403), and a refused pop leaves it full", async () => {
    const [a, b] = [await user(), await user()];
    expect((await push(a, b.uid, c.pairKeys(a, b.encPub).roomId)).status).toBe(200);
    expect((await signed(base, a, "GET", `/ke/pop/${b.uid}`)).status).toBe(403);
    expect((await pop(b)).length).toBe(1);
  });

  test("from_uid must be the signer (403), pub_key the signer's key (400), to_uid registered (404)", async () => {
    const [a, b, m] = [await user(), await user(), await user()];
    const roomId = b64uencode(c.randomBytes(16));
    const body = { from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId };
    expect((await signed(base, m, "POST", "/ke/push", body)).status).toBe(403);
    expect((await push(a, b.uid, roomId, m.pubB64)).status).toBe(400);
    expect((await push(a, makeUser().uid, roomId)).status).toBe(404);
    expect((await push(a, a.uid, roomId)).status).toBe(400);
    expect(await pop(b)).toEqual([]);
    // None of those created the room: a fresh pair may still claim it.
    expect((await push(m, b.uid, roomId)).status).toBe(200);
  });

  test("a third party can never join a room (§7.4: never more than two members)", async () => {
    const { a, b, roomId } = await pair(base);
    const m = await user();
    expect((await push(m, a.uid, roomId)).status).toBe(403);
    expect((await push(m, b.uid, roomId)).status).toBe(403);
    // A member cannot invite a third party either.
    expect((await push(a, m.uid, roomId)).status).toBe(403);
    expect(await pop(m)).toEqual([]);
    expect((await signed(base, m, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(403);
  });
});

describe("§7.6 send and fetch", () => {
  test("send answers ts; fetch returns {ts, ciphertext, seq} oldest first, stable within a second", async () => {
    const { a, b, roomId } = await pair(base);
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const x = ct();
      sent.push(x);
      const r = await signed(base, i % 2 ? b : a, "POST", "/send", { room_id: roomId, ciphertext: x, sender_id: null });
      expect(r.status).toBe(200);
      expect(Object.keys((await r.json()) as object)).toEqual(["ts"]);
    }
    const msgs = await fetchAll(b, roomId);
    expect(msgs.map((m) => m.ciphertext)).toEqual(sent);
    // v2 rows plus §7.6.1 seq; `more` only answers after_seq.
    expect(Object.keys(msgs[0]!).sort()).toEqual(["ciphertext", "seq", "ts"]);
    const r = await signed(base, b, "POST", "/fetch", { room_id: roomId });
    expect(Object.keys((await r.json()) as object)).toEqual(["messages"]);
    for (let i = 1; i < msgs.length; i++) {
      expect(msgs[i]!.ts).toBeGreaterThanOrEqual(msgs[i - 1]!.ts);
      expect(msgs[i]!.seq).toBeGreaterThan(msgs[i - 1]!.seq);
    }
  });

  test("limit returns the newest rows; 1 and 200 pass, 0 and 201 are 400", async () => {
    const { a, roomId } = await pair(base);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(ct());
      expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: sent[i] })).status).toBe(200);
    }
    expect((await fetchAll(a, roomId, { limit: 2 })).map((m) => m.ciphertext)).toEqual(sent.slice(3));
    expect((await fetchAll(a, roomId, { limit: 1 })).map((m) => m.ciphertext)).toEqual(sent.slice(4));
    expect((await fetchAll(a, roomId, { limit: FETCH_LIMIT_MAX })).length).toBe(5);
    for (const limit of [0, FETCH_LIMIT_MAX + 1, 1.5, "3"]) {
      expect((await signed(base, a, "POST", "/fetch", { room_id: roomId, limit })).status).toBe(400);
    }
  });

  test("since_ts keeps rows with ts ≥ since_ts", async () => {
    const { a, roomId } = await pair(base);
    expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(200);
    const all = await fetchAll(a, roomId);
    const ts = all[0]!.ts;
    expect((await fetchAll(a, roomId, { since_ts: ts })).length).toBe(1);
    expect((await fetchAll(a, roomId, { since_ts: ts + 1 })).length).toBe(0);
    expect((await fetchAll(a, roomId, { since_ts: 0 })).length).toBe(1);
  });

  test("ciphertext of exactly 65,536 decoded bytes is stored; one more byte is 413", async () => {
    const { a, roomId } = await pair(base);
    const at = ct(MAX_CIPHERTEXT_BYTES);
    expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: at })).status).toBe(200);
    const over = await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: ct(MAX_CIPHERTEXT_BYTES + 1) });
    expect(over.status).toBe(413);
    expect((await fetchAll(a, roomId)).map((m) => m.ciphertext)).toEqual([at]);
  });

  test("not base64, and sender_id of someone else, are refused and store nothing", async () => {
    const { a, b, roomId } = await pair(base);
    expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: "not base64!" })).status).toBe(400);
    const r = await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: ct(), sender_id: b.uid });
    expect(r.status).toBe(403);
    expect(await fetchAll(a, roomId)).toEqual([]);
  });

  test("non-members cannot send, fetch or burn (403), nor in a room that does not exist", async () => {
    const { roomId } = await pair(base);
    const m = await user();
    for (const room of [roomId, b64uencode(c.randomBytes(16))]) {
      expect((await signed(base, m, "POST", "/send", { room_id: room, ciphertext: ct() })).status).toBe(403);
      expect((await signed(base, m, "POST", "/fetch", { room_id: room })).status).toBe(403);
      expect((await signed(base, m, "POST", "/burn", { room_id: room })).status).toBe(403);
    }
  });
});

describe("§7.7 burn", () => {
  test("burn deletes every message; 10 burns pass, the 11th is 429 with Retry-After", async () => {
    const { a, b, roomId } = await pair(base);
    for (let i = 0; i < 3; i++) {
      expect((await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: ct() })).status).toBe(200);
    }
    const first = await signed(base, b, "POST", "/burn", { room_id: roomId, sender_id: b.uid });
    expect(await first.json()).toEqual({ ok: true, deleted: 3 });
    expect(await fetchAll(a, roomId)).toEqual([]);
    for (let i = 2; i <= 10; i++)
      expect((await signed(base, b, "POST", "/burn", { room_id: roomId })).status).toBe(200);
    const r = await signed(base, b, "POST", "/burn", { room_id: roomId });
    expect(r.status).toBe(429);
    const retry = Number(r.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(600);
    // The limit is per UID: the other member may still burn.
    expect((await signed(base, a, "POST", "/burn", { room_id: roomId })).status).toBe(200);
  });
});

describe("§7.7 burn with a relay auth key", () => {
  const authKey = c.generateIdentity();
  let authed: RunningRelay;
  beforeAll(async () => {
    authed = await startRelay({ env: { PHANTOM_AUTH_PRIV_B64: b64encode(authKey.encPriv) } });
  });
  afterAll(async () => {
    await authed.stop();
    authed.cleanup();
  });

  test("health shows auth_required and auth_pub; burn needs the HMAC over the request's ts and nonce", async () => {
    const h = (await (await fetch(`${authed.url}/health`)).json()) as { auth_required: boolean; auth_pub: string };
    expect(h).toMatchObject({ auth_required: true, auth_pub: b64encode(authKey.encPub) });
    const { a, roomId } = await pair(authed.url);
    const body = new TextEncoder().encode(JSON.stringify({ room_id: roomId }));
    const k = c.burnAuthKey(a.encPriv, authKey.encPub, a.uid); // the client's side of §7.7
    const burnWith = async (mac: (ts: string, nonce: string) => string | null) => {
      const headers: Record<string, string> = signHeaders(a, "POST", "/burn", body);
      const m = mac(headers["x-phantom-ts"]!, headers["x-phantom-nonce"]!);
      if (m !== null) headers[H_BURN_SIG] = m;
      return (await fetch(`${authed.url}/burn`, { method: "POST", headers, body })).status;
    };
    expect(await burnWith(() => null)).toBe(401);
    expect(await burnWith((ts, n) => c.burnSignature(k, a.uid, roomId, String(Number(ts) - 1), n))).toBe(401);
    expect(await burnWith((ts) => c.burnSignature(k, a.uid, roomId, ts, b64uencode(c.randomBytes(12))))).toBe(401);
    expect(await burnWith((ts, n) => c.burnSignature(k, a.uid, roomId, ts, n).toUpperCase())).toBe(401);
    expect(await burnWith((ts, n) => c.burnSignature(k, a.uid, roomId, ts, n))).toBe(200);
  });
});

describe("§7.9 live sockets", () => {
  function open(u: TestUser, roomId: string, o: { ts?: number } = {}): WebSocket {
    const path = `/ws/${roomId}`;
    return new WebSocket(`${base.replace("http", "ws")}${path}`, {
      headers: signHeaders(u, "GET", path, new Uint8Array(0), o),
    } as unknown as string[]);
  }

  function opened(ws: WebSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("websocket refused"));
    });
  }

  function nextFrame(ws: WebSocket): Promise<unknown> {
    return new Promise((resolve) => (ws.onmessage = (e) => resolve(JSON.parse(String(e.data)))));
  }

  test("a member receives sends as {ts, ciphertext, seq} and {event: burned} after a burn", async () => {
    const { a, b, roomId } = await pair(base);
    const ws = open(b, roomId);
    await opened(ws);
    const x = ct();
    const frame = nextFrame(ws);
    const r = await signed(base, a, "POST", "/send", { room_id: roomId, ciphertext: x });
    const { ts } = (await r.json()) as { ts: number };
    const [row] = await fetchAll(b, roomId);
    expect(await frame).toEqual({ ts, ciphertext: x, seq: row!.seq }); // §7.6.1: the row's seq
    const burned = nextFrame(ws);
    expect((await signed(base, a, "POST", "/burn", { room_id: roomId })).status).toBe(200);
    expect(await burned).toEqual({ event: "burned" });
    ws.close();
  });

  test("pings are answered with a pong carrying the same data", async () => {
    const { a, roomId } = await pair(base);
    const path = `/ws/${roomId}`;
    const port = Number(new URL(base).port);
    const sock = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let wake = () => {};
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      wake();
    });
    const until = async (ok: () => boolean) => {
      while (!ok()) await new Promise<void>((r) => (wake = r));
    };
    const headers = {
      host: `127.0.0.1:${port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": b64encode(c.randomBytes(16)),
      "sec-websocket-version": "13",
      ...signHeaders(a, "GET", path, new Uint8Array(0)),
    };
    sock.write(
      `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")}\r\n`,
    );
    await until(() => buf.includes("\r\n\r\n"));
    expect(buf.toString("latin1").split("\r\n")[0]).toContain(" 101 ");
    buf = buf.subarray(buf.indexOf("\r\n\r\n") + 4);
    // A masked client ping frame (RFC 6455 §5.5.2) with payload "hi".
    const mask = c.randomBytes(4);
    const payload = Buffer.from("hi").map((x, i) => x ^ mask[i % 4]!);
    sock.write(Buffer.concat([Buffer.from([0x89, 0x80 | 2]), mask, payload]));
    await until(() => buf.length >= 4);
    expect([...buf.subarray(0, 4)]).toEqual([0x8a, 2, 0x68, 0x69]); // pong "hi"
    sock.destroy();
  });

  test("non-members and bad signatures are refused before the upgrade (403/401)", async () => {
    const { roomId } = await pair(base);
    const m = await user();
    const path = `/ws/${roomId}`;
    const upgrade = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13" };
    const key = { "sec-websocket-key": b64encode(c.randomBytes(16)) };
    const asM = await fetch(`${base}${path}`, {
      headers: { ...upgrade, ...key, ...signHeaders(m, "GET", path, new Uint8Array(0)) },
    });
    expect(asM.status).toBe(403);
    const stale = signHeaders(m, "GET", path, new Uint8Array(0), { ts: Math.floor(Date.now() / 1000) - 301 });
    expect((await fetch(`${base}${path}`, { headers: { ...upgrade, ...key, ...stale } })).status).toBe(401);
    expect((await fetch(`${base}${path}`, { headers: { ...upgrade, ...key } })).status).toBe(401);
    await expect(opened(open(m, roomId))).rejects.toThrow();
  });
});
