// RelayClient against the relay (started in this process): every method, §6 signing,
// §7.7 burn HMAC, one-line errors, bounded retries, progress. Live delivery is in live.test.ts;
// the timeout against a relay that stops answering (SIGSTOP) is in tests/relay-client-timeout.test.ts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as c from "../../lib/crypto.ts";
import { b64encode } from "../../lib/encoding.ts";
import { PhantomError, WireError } from "../../lib/errors.ts";
import { startRelay, type RunningRelay } from "../../tests/helpers/inproc-relay.ts";
import { client, fails, pairUp } from "../../tests/helpers/clients.ts";
import { makeUser, signed } from "../../tests/helpers/signer.ts";
import { RelayError } from "./relay-client.ts";

setDefaultTimeout(30_000); // bunfig's [test] timeout is not applied by this Bun

const authPriv = c.randomBytes(32);
const MAX_FILE = 300_000;
let relay: RunningRelay;
let authRelay: RunningRelay;

beforeAll(async () => {
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
    expect(e.message).toMatch(/^relay refused: .+ \(introducing you to the contact\)$/);
  });

  test("send and fetch with limit and since, and fetchAfter (§7.6.1)", async () => {
    const { ca, cb, roomId, sessionKey } = await pairUp(relay.url);
    const sent: { ts: number; ciphertext: string; seq: number }[] = [];
    for (const text of ["one", "two", "three"]) {
      const ciphertext = c.encryptMessage(sessionKey, text);
      sent.push({ ts: await ca.send(roomId, ciphertext), ciphertext, seq: expect.any(Number) as number });
    }
    const rows = await cb.fetch(roomId);
    expect(rows).toEqual(sent);
    expect(await cb.fetch(roomId, { limit: 2 })).toEqual(sent.slice(1));
    expect(await cb.fetch(roomId, { sinceTs: sent[2]!.ts + 1 })).toEqual([]);
    expect(await cb.fetchAfter(roomId, 0, { limit: 2 })).toEqual({ messages: rows.slice(0, 2), more: true });
    expect(await cb.fetchAfter(roomId, rows[1]!.seq!)).toEqual({ messages: rows.slice(2), more: false });
    const tooLong = b64encode(new Uint8Array(65_537));
    await expect(ca.send(roomId, tooLong)).rejects.toMatchObject({ code: "too-large" });
  });

  test("signing: the relay checks who signed", async () => {
    const { roomId, sessionKey } = await pairUp(relay.url);
    const outsider = makeUser();
    await client(relay.url).register(outsider.uid, outsider.pubB64, outsider.signPubB64u);
    const e = await fails(client(relay.url, outsider).send(roomId, c.encryptMessage(sessionKey, "x")));
    expect(e).toMatchObject({ status: 403, relayCode: "forbidden" });
    expect(e.message).toMatch(/^relay refused: .+ \(sending the message\)$/);
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
    expect(limited!.message).toMatch(/^relay refused: .+; try again in \d+ s \(deleting the conversation\)$/);
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
    expect(far.message).toMatch(/^relay refused: .+ \(uploading the file\)$/);
  });
});

describe("failures", () => {
  let doomed: RunningRelay;
  beforeAll(async () => {
    doomed = await startRelay();
  });
  afterAll(async () => {
    await doomed.stop(); // once stopped, stopping again does nothing
    doomed.cleanup();
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
