// RelayClient against the real compiled relay (dist/phantom-relay): every method,
// §6 signing, §7.7 burn HMAC, one-line errors, bounded retries, timeouts, progress,
// and live delivery over WebSocket and by polling.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64encode } from "../lib/encoding.ts";
import { PhantomError, WireError } from "../lib/errors.ts";
import { Transport } from "../lib/transport.ts";
import type { WsFrame } from "../lib/wire.ts";
import { RELAY_BIN, ROOT, startRelay, type RunningRelay } from "../tests/helpers/relay.ts";
import { makeUser, signed, type TestUser } from "../tests/helpers/signer.ts";
import { RelayClient, RelayError, type LiveOptions } from "./relay-client.ts";

setDefaultTimeout(30_000); // bunfig's [test] timeout is not applied by this Bun

const direct = new Transport({ via: "direct" });
const authPriv = c.randomBytes(32);
const MAX_FILE = 300_000;
let relay: RunningRelay;
let authRelay: RunningRelay;

beforeAll(async () => {
  if (!existsSync(RELAY_BIN)) throw new Error("dist/phantom-relay is missing: run ./build.sh first");
  [relay, authRelay] = await Promise.all([
    startRelay(),
    startRelay({ env: { PHANTOM_AUTH_PRIV_B64: b64encode(authPriv), MAX_FILE_SIZE_BYTES: String(MAX_FILE) } }),
  ]);
});

afterAll(async () => {
  await Promise.all([relay?.stop(), authRelay?.stop()]);
  relay?.cleanup();
  authRelay?.cleanup();
});

function client(base: string, u?: TestUser, o: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) {
  const signer = u && { uid: u.uid, signSeed: u.signSeed, encPriv: u.encPriv };
  return new RelayClient({ baseUrl: base, transport: direct, signer, retryDelayMs: 10, ...o });
}

async function fails(p: Promise<unknown>): Promise<RelayError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RelayError);
  const r = e as RelayError;
  expect(r.message).not.toContain("\n");
  return r;
}

/** Two registered users in one room, each with a client. */
async function pairUp(base: string) {
  const a = makeUser();
  const b = makeUser();
  const ca = client(base, a);
  const cb = client(base, b);
  expect(await ca.register(a.uid, a.pubB64, a.signPubB64u)).toBe("created");
  expect(await cb.register(b.uid, b.pubB64, b.signPubB64u)).toBe("created");
  const { roomId, sessionKey } = c.pairKeys(a, b.encPub);
  await ca.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });
  return { a, b, ca, cb, roomId, sessionKey };
}

describe("endpoints", () => {
  test("health", async () => {
    expect(await client(relay.url).health()).toMatchObject({ status: "ok", auth_required: false, auth_pub: null });
    const h = await client(authRelay.url).health();
    expect(h.auth_required).toBe(true);
    expect(h.auth_pub).toBe(b64encode(c.x25519Public(authPriv)));
  });

  test("register is create-only; pubkey returns the key or null", async () => {
    const a = makeUser();
    const ca = client(relay.url);
    expect(await ca.register(a.uid, a.pubB64, a.signPubB64u)).toBe("created");
    expect(await ca.register(a.uid, a.pubB64, a.signPubB64u)).toBe("exists");
    expect(await ca.pubkey(a.uid)).toEqual(a.encPub);
    expect(await ca.pubkey(makeUser().uid)).toBeNull();
  });

  test("a malformed body is refused before anything is sent", async () => {
    const ca = client("http://127.0.0.1:1"); // nothing listens: reaching the network would be a different error
    await expect(ca.register("short", makeUser().pubB64, makeUser().signPubB64u)).rejects.toBeInstanceOf(WireError);
    const u = makeUser();
    await expect(client("http://127.0.0.1:1", u).send("not-a-room", "AAAA")).rejects.toBeInstanceOf(WireError);
  });

  test("ke/push and ke/pop", async () => {
    const { a, b, cb } = await pairUp(relay.url);
    const entries = await cb.kePop(b.uid);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ from_uid: a.uid, pub_key: a.pubB64 });
    expect(await cb.kePop(b.uid)).toEqual([]);
    const stranger = makeUser();
    const e = await fails(
      cb.kePush({ from_uid: b.uid, to_uid: stranger.uid, pub_key: b.pubB64, room_id: "A".repeat(22) }),
    );
    expect(e).toMatchObject({ code: "relay-refused", status: 404 });
    expect(e.message).toMatch(/^relay refused: .+ \(404, POST \/ke\/push\)$/);
  });

  test("send and fetch with limit and since", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    const sent: { ts: number; ciphertext: string }[] = [];
    for (const text of ["one", "two", "three"]) {
      const ciphertext = c.encryptMessage(sessionKey, text);
      sent.push({ ts: await ca.send(roomId, ciphertext), ciphertext });
    }
    expect(await cb.fetch(roomId)).toEqual(sent);
    expect(await cb.fetch(roomId, { limit: 2 })).toEqual(sent.slice(1));
    expect(await cb.fetch(roomId, { sinceTs: sent[2]!.ts + 1 })).toEqual([]);
    const tooLong = b64encode(new Uint8Array(65_537));
    await expect(ca.send(roomId, tooLong)).rejects.toMatchObject({ code: "too-large" });
  });

  test("signing: the relay checks who signed", async () => {
    const { roomId, sessionKey } = await pairUp(relay.url);
    const outsider = makeUser();
    await client(relay.url).register(outsider.uid, outsider.pubB64, outsider.signPubB64u);
    const e = await fails(client(relay.url, outsider).send(roomId, c.encryptMessage(sessionKey, "x")));
    expect(e).toMatchObject({ status: 403, relayCode: "forbidden" });
    expect(e.message).toMatch(/^relay refused: .+ \(403, POST \/send\)$/);
    // A signature made with someone else's key is a 401.
    const impostor = { ...outsider, signSeed: makeUser().signSeed };
    const bad = await fails(client(relay.url, impostor).kePop(outsider.uid));
    expect(bad).toMatchObject({ status: 401, relayCode: "unauthorized" });
    // Unsigned clients cannot make signed calls at all.
    await expect(client(relay.url).kePop(outsider.uid)).rejects.toMatchObject({ code: "no-identity" });
  });

  test("burn without a relay auth key, and its rate limit", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    await ca.send(roomId, c.encryptMessage(sessionKey, "gone soon"));
    expect(await cb.burn(roomId)).toBe(1);
    expect(await cb.fetch(roomId)).toEqual([]);
    let limited: RelayError | null = null;
    for (let i = 0; i < 12 && !limited; i++)
      limited = await cb.burn(roomId).then(
        () => null,
        (e: RelayError) => e,
      );
    expect(limited).toBeInstanceOf(RelayError);
    expect(limited!.status).toBe(429);
    expect(limited!.retryAfter).toBeGreaterThan(0);
    expect(limited!.message).toMatch(/^relay refused: .+; try again in \d+ s \(429, POST \/burn\)$/);
  });

  test("burn on a relay with an auth key carries the §7.7 HMAC", async () => {
    const { a, ca, roomId, sessionKey } = await pairUp(authRelay.url);
    await ca.send(roomId, c.encryptMessage(sessionKey, "x"));
    // Without the HMAC the relay refuses: so the client's success below is the HMAC's doing.
    const plain = await signed(authRelay.url, a, "POST", "/burn", { room_id: roomId });
    expect(plain.status).toBe(401);
    expect(await ca.burn(roomId)).toBe(1);
  });

  test("upload and download with progress", async () => {
    const { ca, cb, roomId } = await pairUp(relay.url);
    const blob = c.randomBytes(1_000_000);
    const up: [number, number][] = [];
    const res = await ca.upload(roomId, blob, (sent, total) => up.push([sent, total]));
    expect(res.size).toBe(blob.length);
    expect(up.length).toBeGreaterThan(1);
    expect(up.every(([, total]) => total === blob.length)).toBe(true);
    expect(up.map(([s]) => s)).toEqual(up.map(([s]) => s).sort((x, y) => x - y));
    expect(up.at(-1)).toEqual([blob.length, blob.length]);
    const down: [number, number][] = [];
    expect(await cb.download(res.url, (got, total) => down.push([got, total]))).toEqual(blob);
    expect(down.at(-1)).toEqual([blob.length, blob.length]);
    // Only relay file paths, never another host (PROTOCOL §5.3).
    for (const bad of ["https://evil.example/file/abc", "/file/../x", "/health"]) {
      await expect(cb.download(bad)).rejects.toMatchObject({ code: "bad-file-path" });
    }
    const missing = await fails(cb.download("/file/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    expect(missing.status).toBe(404);
  });

  test("a file over the relay's limit is a one-line 413", async () => {
    const { ca, roomId } = await pairUp(authRelay.url);
    const e = await fails(ca.upload(roomId, c.randomBytes(MAX_FILE + 1)));
    expect(e).toMatchObject({ code: "relay-refused", status: 413 });
    // Far over the limit (the relay answers before reading the body), with progress streaming on.
    const far = await fails(ca.upload(roomId, c.randomBytes(MAX_FILE * 10), () => {}));
    expect(far).toMatchObject({ code: "relay-refused", status: 413 });
    expect(far.message).toMatch(/^relay refused: .+ \(413, POST \/file\/upload\)$/);
  });
});

/** Start a stopped relay again on its port and data; the port may linger in use for a moment after a stop. */
async function restartOnSamePort(old: RunningRelay): Promise<RunningRelay> {
  for (let i = 0; ; i++) {
    try {
      return await startRelay({ dataDir: old.dataDir, args: ["--port", String(old.port)] });
    } catch (e) {
      if (i >= 50) throw e;
      await Bun.sleep(100);
    }
  }
}

describe("live", () => {
  async function listen(cl: RelayClient, roomId: string, o: Partial<LiveOptions> = {}) {
    const stop = new AbortController();
    const frames: WsFrame[] = [];
    const waiters: { n: number; resolve: () => void }[] = [];
    let connected!: (via: string) => void;
    let connects = 0;
    let retries = 0;
    const ready = new Promise<string>((r) => (connected = r));
    const done = cl.live(
      [roomId],
      (room, f) => {
        expect(room).toBe(roomId);
        frames.push(f);
        for (const w of waiters) if (frames.length >= w.n) w.resolve();
      },
      {
        signal: stop.signal,
        pollMs: 100,
        ...o,
        onStatus: (s) => (s.state === "connected" ? (connects++, connected(s.via)) : retries++),
      },
    );
    const count = (n: number) =>
      new Promise<void>((resolve) => (frames.length >= n ? resolve() : waiters.push({ n, resolve })));
    return {
      frames,
      ready,
      count,
      stats: () => ({ connects, retries }),
      stop: async () => (stop.abort(), await done),
    };
  }

  test("WebSocket receives a frame sent by the other user, and the burn event", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    const l = await listen(cb, roomId);
    expect(await l.ready).toBe("websocket");
    const ciphertext = c.encryptMessage(sessionKey, "live!");
    const ts = await ca.send(roomId, ciphertext);
    await l.count(1);
    await ca.burn(roomId);
    await l.count(2);
    await l.stop();
    expect(l.frames).toEqual([{ ts, ciphertext }, { event: "burned" }]);
  });

  test("polling receives it too, once, and sinceTs replays stored messages first", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    const first = c.encryptMessage(sessionKey, "stored before");
    const ts1 = await ca.send(roomId, first);
    const l = await listen(cb, roomId, { mode: "poll", sinceTs: ts1 });
    expect(await l.ready).toBe("poll");
    const second = c.encryptMessage(sessionKey, "while polling");
    const ts2 = await ca.send(roomId, second);
    await l.count(2);
    await l.stop();
    expect(l.frames).toEqual([
      { ts: ts1, ciphertext: first },
      { ts: ts2, ciphertext: second },
    ]);
  });

  test("after a relay restart the WebSocket reconnects and nothing is lost or doubled", async () => {
    const first = await startRelay();
    const { ca, cb, roomId, sessionKey } = await pairUp(first.url);
    const l = await listen(cb, roomId, { backoffMs: { min: 50, max: 200 } });
    expect(await l.ready).toBe("websocket");
    const m1 = c.encryptMessage(sessionKey, "before");
    const ts1 = await ca.send(roomId, m1);
    await l.count(1);
    await first.stop();
    const again = await restartOnSamePort(first);
    try {
      // Sent as soon as the relay is back: delivered by the catch-up /fetch or by the new socket, once.
      const m2 = c.encryptMessage(sessionKey, "after restart");
      const ts2 = await ca.send(roomId, m2);
      await l.count(2);
      const m3 = c.encryptMessage(sessionKey, "live again");
      const ts3 = await ca.send(roomId, m3);
      await l.count(3);
      await l.stop();
      expect(l.frames).toEqual([
        { ts: ts1, ciphertext: m1 },
        { ts: ts2, ciphertext: m2 },
        { ts: ts3, ciphertext: m3 },
      ]);
      expect(l.stats().connects).toBeGreaterThanOrEqual(2);
      expect(l.stats().retries).toBeGreaterThan(0);
    } finally {
      await again.stop();
      again.cleanup();
    }
  });

  test("a room we are not in is an error, not an endless retry", async () => {
    const { roomId } = await pairUp(relay.url);
    const outsider = makeUser();
    await client(relay.url).register(outsider.uid, outsider.pubB64, outsider.signPubB64u);
    for (const mode of ["websocket", "poll"] as const) {
      const e = await fails(
        client(relay.url, outsider).live([roomId], () => {}, { signal: new AbortController().signal, mode }),
      );
      expect(e.status).toBe(403);
    }
  });

  test("with no rooms it waits for the signal", async () => {
    const stop = new AbortController();
    let done = false;
    const p = client(relay.url, makeUser())
      .live([], () => {}, { signal: stop.signal })
      .then(() => (done = true));
    await Bun.sleep(50);
    expect(done).toBe(false);
    stop.abort();
    await p;
    expect(done).toBe(true);
  });

  test("never a WebSocket through Tor", async () => {
    const tor = new Transport({ via: "tor", proxyHost: "127.0.0.1", proxyPort: 1 });
    const cl = new RelayClient({
      baseUrl: relay.url,
      transport: tor,
      signer: { uid: "x".repeat(28), signSeed: c.randomBytes(32), encPriv: c.randomBytes(32) },
    });
    const e = await fails(
      cl.live(["A".repeat(22)], () => {}, { signal: new AbortController().signal, mode: "websocket" }),
    );
    expect(e.code).toBe("tor-websocket");
  });
});

describe("https relay, direct", () => {
  const TLS = join(ROOT, "tests/fixtures/tls");
  let tlsRelay: RunningRelay;
  beforeAll(async () => {
    const files = [
      "--tls-cert",
      join(TLS, "localhost-test-cert.pem"),
      "--tls-key",
      join(TLS, "localhost-test-key.pem"),
    ];
    tlsRelay = await startRelay({ args: files });
  });
  afterAll(async () => {
    await tlsRelay.stop();
    tlsRelay.cleanup();
  });

  test("requests and the live WebSocket trust the given CA, and only it", async () => {
    expect(tlsRelay.url).toStartWith("https://");
    const ca = readFileSync(join(TLS, "localhost-test-cert.pem"), "utf8");
    const transport = new Transport({ via: "direct" }, { tls: { ca } });
    const a = makeUser();
    const b = makeUser();
    const ca1 = client(tlsRelay.url, a, { transport });
    const cb1 = client(tlsRelay.url, b, { transport });
    await ca1.register(a.uid, a.pubB64, a.signPubB64u);
    await cb1.register(b.uid, b.pubB64, b.signPubB64u);
    const { roomId, sessionKey } = c.pairKeys(a, b.encPub);
    await ca1.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });
    const stop = new AbortController();
    let connected!: (via: string) => void;
    const ready = new Promise<string>((r) => (connected = r));
    let got!: (f: WsFrame) => void;
    const frame = new Promise<WsFrame>((r) => (got = r));
    const live = cb1.live([roomId], (_room, f) => got(f), {
      signal: stop.signal,
      onStatus: (s) => s.state === "connected" && connected(s.via),
    });
    expect(await ready).toBe("websocket");
    const ciphertext = c.encryptMessage(sessionKey, "over wss");
    const ts = await ca1.send(roomId, ciphertext);
    expect(await frame).toEqual({ ts, ciphertext });
    stop.abort();
    await live;

    const e = await fails(client(tlsRelay.url).health());
    expect(e.message).toMatch(/^relay unreachable: TLS certificate .+ \(127\.0\.0\.1:\d+\)$/); // one attempt: no retry for TLS
  });
});

describe("failures", () => {
  let doomed: RunningRelay;
  beforeAll(async () => {
    doomed = await startRelay();
  });
  afterAll(() => doomed.cleanup());

  test("a relay that does not answer times out, without retrying", async () => {
    const u = makeUser();
    await client(doomed.url).register(u.uid, u.pubB64, u.signPubB64u);
    doomed.proc.kill("SIGSTOP");
    try {
      const e = await fails(client(doomed.url, u, { timeoutMs: 300 }).health());
      expect(e.code).toBe("timeout");
      expect(e.message).toBe("timed out: no complete answer within 0.3 s (GET /health)");
      const s = await fails(client(doomed.url, u, { timeoutMs: 300 }).send("A".repeat(22), "AAAA"));
      expect(s.message).toBe("timed out: no complete answer within 0.3 s (POST /send)");
      // A transfer gets a deadline scaled by its size, but fails once nothing moves for the base timeout.
      const up = await fails(
        client(doomed.url, u, { timeoutMs: 300 }).upload("A".repeat(22), c.randomBytes(2_000_000)),
      );
      expect(up.message).toBe("timed out: no data moved for 0.3 s (POST /file/upload)");
    } finally {
      doomed.proc.kill("SIGCONT");
    }
    expect((await client(doomed.url).health()).status).toBe("ok");
  });

  test("a stopped relay: bounded retries, then one line", async () => {
    const u = makeUser();
    await client(doomed.url).register(u.uid, u.pubB64, u.signPubB64u);
    await doomed.stop();
    const where = new URL(doomed.url).host;
    const e = await fails(client(doomed.url).health());
    expect(e).toMatchObject({ code: "relay-unreachable", status: 0 });
    expect(e.message).toBe(`relay unreachable: connection refused (${where}) (3 attempts)`);
    // Nothing was sent, so even a non-idempotent request may be tried again; the bound holds.
    const s = await fails(client(doomed.url, u, { retries: 4 }).send("A".repeat(22), "AAAA"));
    expect(s.message).toBe(`relay unreachable: connection refused (${where}) (5 attempts)`);
    const once = await fails(client(doomed.url, u, { retries: 0 }).kePop(u.uid));
    expect(once.message).toBe(`relay unreachable: connection refused (${where})`);
  });

  test("bad relay URLs", () => {
    expect(() => client("ftp://relay")).toThrow(PhantomError);
    expect(() => client("http://relay/?x=1")).toThrow("must not contain a query");
  });
});
