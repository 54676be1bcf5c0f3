// End to end through a REAL SOCKS5 proxy (microsocks) to the real compiled relay,
// with PHANTOM_TOR=always: every request must show up in the proxy's log under the
// host NAME we asked for (the proxy resolved it: socks5h), and a stopped proxy
// must give a clean RelayError while the relay is still reachable directly
// (so nothing fell back to a direct connection).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RelayClient, RelayError } from "../client/net/relay-client.ts";
import * as c from "../lib/crypto.ts";
import { chooseRoute, torConfigFromEnv, TorError, Transport } from "../lib/tor.ts";
import { listenLive } from "./helpers/clients.ts";
import { RELAY_BIN, startRelay, startTlsRelay, TLS_DIR, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, type TestUser } from "./helpers/signer.ts";
import { requireMicrosocks, startProxy, type RunningProxy } from "./helpers/socks.ts";

// bunfig's [test] timeout is not applied by this Bun; relays and proxies need more than 5 s on a busy machine.
setDefaultTimeout(30_000);

let relay: RunningRelay;
let tlsRelay: RunningRelay;
let proxy: RunningProxy;

beforeAll(async () => {
  requireMicrosocks();
  if (!existsSync(RELAY_BIN)) throw new Error("dist/phantom-relay is missing: run ./build.sh first");
  [relay, tlsRelay, proxy] = await Promise.all([startRelay(), startTlsRelay(), startProxy()]);
});

afterAll(async () => {
  await Promise.all([relay?.stop(), tlsRelay?.stop(), proxy?.stop()]);
  relay?.cleanup();
  tlsRelay?.cleanup();
});

/** The relay listens on 127.0.0.1 only; we address it as "localhost" so the proxy log shows the name. */
const viaName = (r: RunningRelay) => r.url.replace("127.0.0.1", "localhost");

async function torClient(baseUrl: string, u: TestUser | null, p: RunningProxy, tls?: { ca: string }) {
  const cfg = torConfigFromEnv({ PHANTOM_TOR: "always", PHANTOM_TOR_PROXY: `${p.host}:${p.port}` });
  const plan = await chooseRoute(new URL(baseUrl), cfg);
  expect(plan).toMatchObject({ via: "tor", needsConsent: false });
  const transport = new Transport({ via: "tor", proxyHost: cfg.proxyHost, proxyPort: cfg.proxyPort }, { tls });
  const signer = u ? { uid: u.uid, signSeed: u.signSeed, encPriv: u.encPriv } : undefined;
  return new RelayClient({ baseUrl, transport, signer, retryDelayMs: 10 });
}

describe("through microsocks with PHANTOM_TOR=always", () => {
  test("each request is one proxy connection to the host name, resolved by the proxy", async () => {
    const dest = `localhost:${relay.port}`;
    const before = proxy.connects.filter((d) => d === dest).length;
    const a = makeUser();
    const client = await torClient(viaName(relay), a, proxy);
    expect((await client.health()).status).toBe("ok");
    expect(await client.register(a.uid, a.pubB64, a.signPubB64u)).toBe("created");
    expect(await client.pubkey(a.uid)).toEqual(a.encPub);
    expect(await client.kePop(a.uid)).toEqual([]);
    expect(await proxy.waitForConnects(dest, before + 4)).toBe(before + 4);
    // The proxy was handed the name, never an address we resolved ourselves.
    expect(proxy.connects).not.toContain(`127.0.0.1:${relay.port}`);
  });

  test("two users chat, poll live, and move a file through the proxy", async () => {
    const a = makeUser();
    const b = makeUser();
    const ca = await torClient(viaName(relay), a, proxy);
    const cb = await torClient(viaName(relay), b, proxy);
    await ca.register(a.uid, a.pubB64, a.signPubB64u);
    await cb.register(b.uid, b.pubB64, b.signPubB64u);
    const { roomId, sessionKey } = c.pairKeys(a, b.encPub);
    await ca.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });
    expect((await cb.kePop(b.uid)).map((e) => e.from_uid)).toEqual([a.uid]);

    // Through Tor, live() polls /fetch (never a WebSocket).
    const l = await listenLive(cb, roomId);
    // live() delivers what arrives after it started listening: wait until it has.
    expect(await l.ready).toBe("poll");
    const ciphertext = c.encryptMessage(sessionKey, "hello over tor");
    const ts = await ca.send(roomId, ciphertext);
    await l.count(1);
    await l.stop();
    expect(l.frames).toEqual([{ ts, ciphertext, seq: expect.any(Number) }]); // §7.6.1 seq

    const blob = c.randomBytes(200_000);
    const up: number[] = [];
    const uploaded = await ca.upload(roomId, blob, (sent, total) => (expect(total).toBe(blob.length), up.push(sent)));
    expect(up.at(-1)).toBe(blob.length);
    const down: number[] = [];
    const bytes = await cb.download(uploaded.url, (gotBytes) => down.push(gotBytes));
    expect(bytes).toEqual(blob);
    expect(down.at(-1)).toBe(blob.length);
  });

  test("https relay: TLS runs inside the SOCKS5 connection, checked against the host name", async () => {
    const ca = readFileSync(join(TLS_DIR, "localhost-test-cert.pem"), "utf8");
    const dest = `localhost:${tlsRelay.port}`;
    const before = proxy.connects.filter((d) => d === dest).length;
    const client = await torClient(viaName(tlsRelay), null, proxy, { ca });
    expect(client.baseUrl).toStartWith("https://localhost:");
    expect((await client.health()).status).toBe("ok");
    expect(await proxy.waitForConnects(dest, before + 1)).toBe(before + 1);

    // Without trusting the test CA the certificate is refused: one line, no retry storm, no fallback.
    const untrusting = await torClient(viaName(tlsRelay), null, proxy);
    const err = await untrusting.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).message).toMatch(/^relay unreachable: TLS with localhost failed: .+/);
    expect((err as RelayError).message).not.toContain("\n");
  });

  test("a destination the proxy cannot reach is reported as such", async () => {
    const client = await torClient("http://localhost:1", null, proxy);
    const err = (await client.health().catch((e: unknown) => e)) as RelayError;
    expect(err).toBeInstanceOf(RelayError);
    expect(err.code).toBe("relay-unreachable");
    expect(err.message).toMatch(
      /^relay unreachable: the Tor proxy at 127\.0\.0\.1:\d+ could not reach localhost:1 \(.+\)/,
    );
  });
});

test("a file far over the relay's limit fails as one clear line through the proxy", async () => {
  const small = await startRelay({ env: { MAX_FILE_SIZE_BYTES: "100000" } });
  try {
    const a = makeUser();
    const b = makeUser();
    const ca = await torClient(viaName(small), a, proxy);
    await ca.register(a.uid, a.pubB64, a.signPubB64u);
    await ca.register(b.uid, b.pubB64, b.signPubB64u);
    const { roomId } = c.pairKeys(a, b.encPub);
    await ca.kePush({ from_uid: a.uid, to_uid: b.uid, pub_key: a.pubB64, room_id: roomId });
    const err = (await ca.upload(roomId, c.randomBytes(3_000_000), () => {}).catch((e: unknown) => e)) as RelayError;
    expect(err).toBeInstanceOf(RelayError);
    expect(err.message).not.toContain("\n");
    // The 413 may not survive the relay closing the connection mid-body; then the client says what likely happened.
    expect(err.message).toMatch(
      /^(relay refused: .+ \(uploading the file\)|upload interrupted: .+larger than it accepts .+)$/,
    );
  } finally {
    await small.stop();
    small.cleanup();
  }
});

describe("a stopped proxy", () => {
  test("gives a clean RelayError and never a direct connection", async () => {
    const own = await startProxy();
    const a = makeUser();
    const client = await torClient(viaName(relay), a, own);
    expect((await client.health()).status).toBe("ok");
    await own.stop();

    for (const attempt of [() => client.health(), () => client.register(a.uid, a.pubB64, a.signPubB64u)]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RelayError);
      const e = err as RelayError;
      expect(e.code).toBe("relay-unreachable");
      expect(e.status).toBe(0);
      expect(e.message).toBe(
        `relay unreachable: the Tor proxy at 127.0.0.1:${own.port} is not answering (connection refused); not connecting directly (3 attempts)`,
      );
    }
    // The relay itself is up and reachable directly: had the client fallen back, the calls above would have worked.
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
    // And a new route cannot be planned through a dead proxy in always mode.
    const cfg = torConfigFromEnv({ PHANTOM_TOR: "always", PHANTOM_TOR_PROXY: `127.0.0.1:${own.port}` });
    expect(await chooseRoute(new URL(relay.url), cfg).catch((e: unknown) => e)).toBeInstanceOf(TorError);
  });

  test("the CLI-style printout of that error is one line without a stack", async () => {
    const own = await startProxy();
    const client = await torClient(viaName(relay), null, own);
    await own.stop();
    const err = (await client.health().catch((e: unknown) => e)) as RelayError;
    const printed = `phantom: error: ${err.message}`;
    expect(printed.split("\n")).toHaveLength(1);
    expect(printed).not.toMatch(/\bat .+:\d+:\d+/);
    expect(printed).not.toContain("Error:");
  });
});
