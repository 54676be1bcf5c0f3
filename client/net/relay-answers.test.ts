// Unit tests of RelayClient's handling of answers a real relay does not give:
// invalid bodies, odd error bodies, and which failures are retried and how often.
// A canned transport stands in for the network here; everything that a real
// relay can produce is tested against one in relay-client.test.ts.
import { describe, expect, test } from "bun:test";
import * as c from "../../lib/crypto.ts";
import { b64encode, b64uencode, utf8 } from "../../lib/encoding.ts";
import { Transport, TransportError, type TransportResponse } from "../../lib/transport.ts";
import { RelayClient, RelayError } from "./relay-client.ts";

type Answer = TransportResponse | TransportError;

class CannedTransport extends Transport {
  calls: string[] = [];
  bodies: string[] = [];
  constructor(private readonly answer: (n: number, path: string) => Answer) {
    super({ via: "direct" });
  }
  override async request(
    method: string,
    url: string | URL,
    headers: Record<string, string>,
    body?: Uint8Array,
  ): Promise<TransportResponse> {
    this.bodies.push(body ? new TextDecoder().decode(body) : "");
    this.calls.push(`${method} ${new URL(url).pathname} ${headers["x-phantom-nonce"] ?? ""}`);
    const a = this.answer(this.calls.length, new URL(url).pathname);
    if (a instanceof TransportError) throw a;
    return a;
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): TransportResponse => ({
  status,
  headers: new Headers(headers),
  body: utf8.encode(typeof body === "string" ? body : JSON.stringify(body)),
});

const id = c.generateIdentity();
const signer = { uid: c.uidOf(id.encPub), signSeed: id.signSeed, encPriv: id.encPriv };
const ROOM = "A".repeat(22);

function setup(answer: (n: number, path: string) => Answer) {
  const transport = new CannedTransport(answer);
  return { transport, client: new RelayClient({ baseUrl: "http://relay.test", transport, signer, retryDelayMs: 1 }) };
}

async function error(p: Promise<unknown>): Promise<RelayError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RelayError);
  expect((e as RelayError).message).not.toContain("\n");
  return e as RelayError;
}

describe("invalid answers are one-line RelayErrors", () => {
  test("a body that fails its schema", async () => {
    const { client } = setup(() => json(200, { status: "ok", auth_required: false, auth_pub: null }));
    const e = await error(client.health());
    expect(e.code).toBe("bad-response");
    expect(e.message).toMatch(/^relay sent an invalid answer: version: .+ \(checking the relay\)$/);
  });

  test("non-JSON", async () => {
    const html = await error(setup(() => json(200, "<html>")).client.fetch(ROOM));
    expect(html.message).toBe("relay sent an invalid answer: not valid JSON (fetching messages)");
  });

  test("a public key that does not belong to the UID asked for", async () => {
    const other = c.generateIdentity();
    const { client } = setup(() => json(200, { uid: signer.uid, pub_key: b64encode(other.encPub) }));
    const e = await error(client.pubkey(signer.uid));
    expect(e.message).toBe(`relay sent a key that does not belong to ${signer.uid}`);
  });

  test("an error message with line breaks and escapes is flattened", async () => {
    const { client } = setup(() => json(403, { error: "forbidden", message: "no\nway\u001b[31m in" }));
    const e = await error(client.send(ROOM, "AAAA"));
    expect(e.message).toBe("relay refused: no way [31m in (sending the message)");
    expect(e.relayCode).toBe("forbidden");
  });

  // The bidi fix of issue 9: this path's character class had no bidi controls, so a relay's
  // U+202E reached RelayError.message (and every screen that shows it) unchanged.
  test("an error message with bidi overrides, isolates and marks is flattened", async () => {
    const { client } = setup(() => json(403, { error: "forbidden", message: "not\u202eyours\u2066 \u061cnow\u200f" }));
    const e = await error(client.send(ROOM, "AAAA"));
    expect(e.message).toBe("relay refused: not yours now (sending the message)");
  });

  test("an error page that is not a §7 error body reports the status", async () => {
    const { client } = setup(() => json(404, "<h1>nginx</h1>"));
    const e = await error(client.kePop(signer.uid));
    expect(e.message).toBe("relay refused: not found (checking for new contacts)");
    expect(e.relayCode).toBeNull();
  });
});

// PROTOCOL §7.10: every client ignores keys it does not know in every answer, so a relay
// can add fields (to /health, to rows…) without breaking this client.
describe("answers with fields this client does not know are accepted", () => {
  const other = c.generateIdentity();
  const otherUid = c.uidOf(other.encPub);
  const otherPub = b64encode(other.encPub);
  const extra = { added_later: { nested: [1, 2] }, note: "x" };
  const row = { ts: 5, ciphertext: "AAAA", seq: 7, ...extra };
  const answers: Record<string, unknown> = {
    "/health": {
      status: "ok",
      version: "9.9.9",
      auth_required: false,
      auth_pub: null,
      // §7.10's optional fields, and one nobody has defined yet
      max_file_size: 52_428_800,
      retention: { messages_days: 7, ke_hours: 24, files_hours: 24 },
      limits: { send_bytes_per_day: 1 << 30 },
      protocols: ["v2"],
      origins: [],
      ...extra,
    },
    "/register": { ok: true, ...extra },
    [`/pubkey/${otherUid}`]: { uid: otherUid, pub_key: otherPub, ...extra },
    "/ke/push": { ok: true, ...extra },
    [`/ke/pop/${signer.uid}`]: {
      entries: [{ from_uid: otherUid, pub_key: otherPub, room_id: ROOM, ts: 3, ...extra }],
      ...extra,
    },
    "/send": { ts: 9, ...extra },
    "/fetch": { messages: [row], more: false, ...extra },
    "/burn": { ok: true, deleted: 2, ...extra },
    "/file/upload": { url: "/file/abc", size: 3, expires_at: 11, ...extra },
  };
  const { client } = setup((_n, path) => json(200, answers[path] ?? { error: "not_found", message: path }));

  test("health, register, pubkey, ke/push, ke/pop", async () => {
    // max_file_size and retention are known (§7.10), protocols and origins (PROTOCOL-v3 §V1, §V11:
    // a malformed list reads as none); the rest is not.
    expect(await client.health()).toEqual({
      status: "ok",
      version: "9.9.9",
      auth_required: false,
      auth_pub: null,
      max_file_size: 52428800,
      retention: { messages_days: 7 },
      protocols: undefined,
      origins: [],
    });
    expect(await client.register(otherUid, otherPub, b64uencode(other.signPub))).toBe("created");
    expect(await client.pubkey(otherUid)).toEqual(other.encPub);
    await client.kePush({ from_uid: signer.uid, to_uid: otherUid, pub_key: otherPub, room_id: ROOM });
    expect(await client.kePop(signer.uid)).toEqual([{ from_uid: otherUid, pub_key: otherPub, room_id: ROOM, ts: 3 }]);
  });

  test("send, fetch (rows too), burn, upload", async () => {
    expect(await client.send(ROOM, "AAAA")).toBe(9);
    expect(await client.fetch(ROOM)).toEqual([{ ts: 5, ciphertext: "AAAA", seq: 7 }]);
    expect(await client.burn(ROOM)).toBe(2);
    expect(await client.upload(ROOM, new Uint8Array(3))).toEqual({ url: "/file/abc", size: 3, expires_at: 11 });
  });

  test("a missing or mistyped known field is still refused", async () => {
    const bad = setup(() => json(200, { ts: "9", extra: true }));
    expect((await error(bad.client.send(ROOM, "AAAA"))).code).toBe("bad-response");
  });
});

// PROTOCOL §7.6.1 is optional: a 2.2.x relay refuses after_seq (its schema is strict), so the
// live catch-up pages with it only once the relay's rows carry seq.
describe("live catch-up against relays with and without seq", () => {
  async function pollTwice(rows: (n: number) => unknown[]): Promise<string[]> {
    const { client, transport } = setup((n) => json(200, { messages: rows(n), more: false }));
    const stop = new AbortController();
    const done = client.live([ROOM], () => {}, { signal: stop.signal, mode: "poll", pollMs: 1 });
    while (transport.bodies.length < 3) await Bun.sleep(5);
    stop.abort();
    await done;
    return transport.bodies.slice(0, 3);
  }

  test("rows without seq: since_ts only, never after_seq", async () => {
    const bodies = await pollTwice(() => [{ ts: 5, ciphertext: "AAAA" }]);
    expect(bodies.map((b) => JSON.parse(b))).toEqual([
      { room_id: ROOM, limit: 200 },
      { room_id: ROOM, limit: 200, since_ts: 5 },
      { room_id: ROOM, limit: 200, since_ts: 5 },
    ]);
  });

  test("rows with seq: after the first answer, after_seq from the last seq", async () => {
    const bodies = await pollTwice((n) => (n === 1 ? [{ ts: 5, ciphertext: "AAAA", seq: 41 }] : []));
    expect(bodies.map((b) => JSON.parse(b))).toEqual([
      { room_id: ROOM, limit: 200 },
      { room_id: ROOM, after_seq: 41, limit: 200 },
      { room_id: ROOM, after_seq: 41, limit: 200 },
    ]);
  });
});

describe("retries are bounded and only where safe", () => {
  const refused = new TransportError("unreachable", "connection refused (relay.test)", false);
  const broken = new TransportError("broken", "connection to relay.test failed (ECONNRESET)", true);

  test("idempotent reads are retried on 503, then the 503 is reported", async () => {
    const { client, transport } = setup(() => json(503, { error: "unavailable", message: "busy" }));
    const e = await error(client.fetch(ROOM));
    expect(transport.calls).toHaveLength(3);
    expect(e.message).toBe("relay refused: busy (fetching messages)");
  });

  test("a send is not repeated once it may have reached the relay", async () => {
    const s503 = setup(() => json(503, { error: "unavailable", message: "busy" }));
    await error(s503.client.send(ROOM, "AAAA"));
    expect(s503.transport.calls).toHaveLength(1);
    const sBroken = setup(() => broken);
    const e = await error(sBroken.client.send(ROOM, "AAAA"));
    expect(sBroken.transport.calls).toHaveLength(1);
    expect(e.message).toBe("relay unreachable: connection to relay.test failed (ECONNRESET)");
  });

  test("a failure before sending is retried even for a send, each attempt signed afresh", async () => {
    const { client, transport } = setup((n) => (n < 3 ? refused : json(200, { ts: 7 })));
    expect(await client.send(ROOM, "AAAA")).toBe(7);
    expect(transport.calls).toHaveLength(3);
    expect(new Set(transport.calls).size).toBe(3); // a new nonce each time (PROTOCOL §6 replay)
  });

  test("idempotent requests are retried after a broken connection, at most `retries` times", async () => {
    const { client, transport } = setup(() => broken);
    const e = await error(client.fetch(ROOM));
    expect(transport.calls).toHaveLength(3);
    expect(e.message).toEndWith("(3 attempts)");
    const none = setup(() => broken);
    const once = new RelayClient({ baseUrl: "http://relay.test", transport: none.transport, signer, retries: 0 });
    await error(once.fetch(ROOM));
    expect(none.transport.calls).toHaveLength(1);
  });

  test("ke/pop deletes what it returns, so it is never repeated after sending", async () => {
    const { client, transport } = setup(() => broken);
    await error(client.kePop(signer.uid));
    expect(transport.calls).toHaveLength(1);
  });

  test("timeouts and oversized answers are not retried", async () => {
    for (const err of [
      new TransportError("timeout", "no complete answer within 30 s", true),
      new TransportError("too-large", "response larger than 10 bytes", true),
    ]) {
      const { client, transport } = setup(() => err);
      await error(client.health());
      expect(transport.calls).toHaveLength(1);
    }
  });
});
