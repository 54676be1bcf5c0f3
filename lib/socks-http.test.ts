// TLS inside a connection we opened ourselves (lib/socks-http.ts startTls): the
// certificate is checked against the relay's host, never against the address the
// socket is connected to (the SOCKS proxy's). Uses the localhost test certificate
// (tests/fixtures/tls: DNS localhost, IP 127.0.0.1 and ::1).
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { startTls, TransportError } from "./socks-http.ts";

const TLS_DIR = join(import.meta.dir, "../tests/fixtures/tls");
const cert = readFileSync(join(TLS_DIR, "localhost-test-cert.pem"), "utf8");
const key = readFileSync(join(TLS_DIR, "localhost-test-key.pem"), "utf8");
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert, key }, fetch: () => new Response("ok") });
afterAll(() => server.stop(true));

/** A plain TCP socket to the TLS server at 127.0.0.1, as a SOCKS connection to `relayHost` would be. */
async function tlsAs(relayHost: string) {
  const sock = net.connect({ host: "127.0.0.1", port: server.port! });
  await new Promise<void>((r, j) => (sock.once("connect", () => r()), sock.once("error", j)));
  try {
    (await startTls(sock, relayHost, { ca: cert })).destroy();
    return "accepted";
  } catch (e) {
    sock.destroy();
    expect(e).toBeInstanceOf(TransportError);
    return "refused";
  }
}

test("the certificate must name the relay's host, whether a name or an IP address", async () => {
  expect(await tlsAs("localhost")).toBe("accepted");
  expect(await tlsAs("127.0.0.1")).toBe("accepted");
  expect(await tlsAs("example.com")).toBe("refused");
  // An IP-literal relay reached through a proxy on 127.0.0.1: a certificate for 127.0.0.1
  // (the proxy's address) is not one for 10.9.9.9.
  expect(await tlsAs("10.9.9.9")).toBe("refused");
  expect(await tlsAs("::2")).toBe("refused");
});

test("certificates are checked whatever NODE_TLS_REJECT_UNAUTHORIZED or the caller's options say", async () => {
  const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  try {
    for (const extra of [{}, { rejectUnauthorized: false }]) {
      const sock = net.connect({ host: "127.0.0.1", port: server.port! });
      await new Promise<void>((r, j) => (sock.once("connect", () => r()), sock.once("error", j)));
      // No ca: the test certificate is trusted by nobody, so the handshake must fail.
      const e = await startTls(sock, "localhost", extra).then(
        (t) => (t.destroy(), null),
        (err: unknown) => err,
      );
      sock.destroy();
      expect(e).toBeInstanceOf(TransportError);
    }
  } finally {
    if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
  }
});
