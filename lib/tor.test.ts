// Route planning, proxy configuration and the SOCKS5 probe (lib/tor.ts).
import { afterAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import {
  chooseRoute,
  isLoopbackHost,
  isOnionHost,
  parseProxyAddress,
  planRoute,
  probeProxy,
  torConfigFromEnv,
  torStatus,
  TorError,
  type TorConfig,
  type TorMode,
} from "./tor.ts";

const cfg = (mode: TorMode, proxyPort = 9050): TorConfig => ({ mode, proxyHost: "127.0.0.1", proxyPort });
const host = (url: string) => new URL(url).hostname;

function thrown(f: () => unknown): TorError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TorError);
    return e as TorError;
  }
  throw new Error("expected a TorError");
}

describe("torConfigFromEnv", () => {
  test("defaults: auto through 127.0.0.1:9050", () => {
    expect(torConfigFromEnv({})).toEqual({ mode: "auto", proxyHost: "127.0.0.1", proxyPort: 9050 });
    expect(torConfigFromEnv({ PHANTOM_TOR: "", PHANTOM_TOR_PROXY: " " })).toEqual(cfg("auto"));
  });

  test("each mode, any case", () => {
    expect(torConfigFromEnv({ PHANTOM_TOR: "always" }).mode).toBe("always");
    expect(torConfigFromEnv({ PHANTOM_TOR: "Never" }).mode).toBe("never");
    expect(torConfigFromEnv({ PHANTOM_TOR: " AUTO " }).mode).toBe("auto");
  });

  test("a bad mode is a clear one-line error", () => {
    const e = thrown(() => torConfigFromEnv({ PHANTOM_TOR: "yes" }));
    expect(e.code).toBe("bad-config");
    expect(e.message).toBe("PHANTOM_TOR: expected auto, always or never, got 'yes'");
  });

  test("PHANTOM_TOR_PROXY forms", () => {
    const p = (s: string) => torConfigFromEnv({ PHANTOM_TOR_PROXY: s });
    expect(p("127.0.0.1:9150")).toMatchObject({ proxyHost: "127.0.0.1", proxyPort: 9150 });
    expect(p("socks5h://127.0.0.1:9050")).toMatchObject({ proxyHost: "127.0.0.1", proxyPort: 9050 });
    expect(p("SOCKS5://tor.lan:1")).toMatchObject({ proxyHost: "tor.lan", proxyPort: 1 });
    expect(p("[::1]:9050")).toMatchObject({ proxyHost: "::1", proxyPort: 9050 });
    expect(p("localhost:65535")).toMatchObject({ proxyHost: "localhost", proxyPort: 65535 });
  });

  test.each([
    "127.0.0.1",
    ":9050",
    "127.0.0.1:",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:90x",
    "::1:9050",
    "[zz]:9050",
    "a b:9050",
    "http://127.0.0.1:9050",
    "127.0.0.1:9050/x",
    ".tor:9050",
  ])("bad PHANTOM_TOR_PROXY %p", (bad) => {
    const e = thrown(() => torConfigFromEnv({ PHANTOM_TOR_PROXY: bad }));
    expect(e.code).toBe("bad-config");
    expect(e.message).toBe(`PHANTOM_TOR_PROXY: expected host:port like 127.0.0.1:9050, got '${bad}'`);
  });

  test("credentials are refused without being echoed", () => {
    const e = thrown(() => parseProxyAddress("socks5h://me:hunter2@127.0.0.1:9050"));
    expect(e.message).toBe("PHANTOM_TOR_PROXY: user names and passwords are not supported");
    expect(e.message).not.toContain("hunter2");
  });

  test("control characters in bad input are not echoed raw", () => {
    const e = thrown(() => torConfigFromEnv({ PHANTOM_TOR: "a\nb\u001b[31m" }));
    expect(e.message).not.toMatch(/[\n\u001b]/);
  });
});

describe("loopback and onion hosts", () => {
  test.each([
    "http://127.0.0.1:8787",
    "http://127.45.6.7/",
    "http://[::1]:8787",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost:8787",
    "http://LOCALHOST/",
    "http://relay.localhost/",
    "http://127.1/",
  ])("%p is loopback", (url) => expect(isLoopbackHost(host(url))).toBe(true));

  test.each([
    "http://128.0.0.1/",
    "http://10.0.0.1/",
    "http://0.0.0.0/",
    "http://[::2]/",
    "http://[::ffff:8.8.8.8]/",
    "http://example.com/",
    "http://localhost.example.com/",
    "http://127.0.0.1.nip.io/",
    "http://abcdefghijklmnop.onion/",
  ])("%p is not loopback", (url) => expect(isLoopbackHost(host(url))).toBe(false));

  test("onion", () => {
    expect(isOnionHost(host("http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstu.onion/"))).toBe(true);
    expect(isOnionHost(host("https://x.ONION:443/"))).toBe(true);
    expect(isOnionHost(host("http://onion.example.com/"))).toBe(false);
    expect(isOnionHost(host("http://example.onion.com/"))).toBe(false);
  });
});

describe("planRoute", () => {
  const loop = new URL("http://127.0.0.1:8787");
  const loop6 = new URL("http://[::1]:8787");
  const named = new URL("http://localhost:8787");
  const onion = new URL("http://abcdefghijklmnop.onion");
  const other = new URL("https://relay.example.com");

  test("auto: loopback goes direct without asking, whether or not the proxy is up", () => {
    for (const u of [loop, loop6, named]) {
      for (const up of [true, false])
        expect(planRoute(u, cfg("auto"), up)).toMatchObject({ via: "direct", needsConsent: false });
    }
  });

  test("auto: .onion goes through Tor, and is an error when the proxy is down", () => {
    expect(planRoute(onion, cfg("auto"), true)).toMatchObject({ via: "tor", needsConsent: false });
    const e = thrown(() => planRoute(onion, cfg("auto"), false));
    expect(e.code).toBe("tor-unavailable");
    expect(e.message).toContain("127.0.0.1:9050 is not answering");
  });

  test("auto: another host goes through Tor when the proxy answers, else direct with consent", () => {
    expect(planRoute(other, cfg("auto"), true)).toMatchObject({ via: "tor", needsConsent: false });
    const p = planRoute(other, cfg("auto"), false);
    expect(p).toMatchObject({ via: "direct", needsConsent: true });
    expect(p.reason).toContain("IP address");
  });

  test("always: Tor for every host, including loopback; never direct when the proxy is down", () => {
    for (const u of [loop, loop6, named, onion, other]) {
      expect(planRoute(u, cfg("always"), true)).toMatchObject({ via: "tor", needsConsent: false });
      const e = thrown(() => planRoute(u, cfg("always"), false));
      expect(e.code).toBe("tor-unavailable");
      expect(e.message).toStartWith("PHANTOM_TOR=always, but the Tor proxy at 127.0.0.1:9050 is not answering");
    }
  });

  test("never: direct; consent for non-loopback; .onion impossible", () => {
    for (const up of [true, false]) {
      expect(planRoute(loop, cfg("never"), up)).toMatchObject({ via: "direct", needsConsent: false });
      expect(planRoute(other, cfg("never"), up)).toMatchObject({ via: "direct", needsConsent: true });
      expect(thrown(() => planRoute(onion, cfg("never"), up)).code).toBe("tor-unavailable");
    }
  });

  test("only http and https relays", () => {
    expect(thrown(() => planRoute(new URL("ftp://relay.example.com"), cfg("auto"), true)).code).toBe("bad-relay-url");
  });
});

// A few tiny TCP listeners standing in for proxies (this tests the probe, not a relay).
const servers: net.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function listener(onConn: (s: net.Socket) => void): Promise<{ port: number; conns: () => number }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.on("error", () => {});
    onConn(s);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { port: (srv.address() as net.AddressInfo).port, conns: () => n };
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("probeProxy", () => {
  test("true when a SOCKS5 server accepts no-auth", async () => {
    const { port } = await listener((s) => s.once("data", (d) => d[0] === 5 && s.write(Uint8Array.of(5, 0))));
    expect(await probeProxy(cfg("auto", port), 2000)).toBe(true);
  });

  test("false when nothing listens", async () => {
    expect(await probeProxy(cfg("auto", await closedPort()), 2000)).toBe(false);
  });

  test("false for a server that wants authentication or speaks something else", async () => {
    const auth = await listener((s) => s.once("data", () => s.write(Uint8Array.of(5, 0xff))));
    expect(await probeProxy(cfg("auto", auth.port), 2000)).toBe(false);
    const http = await listener((s) => s.once("data", () => s.end("HTTP/1.1 400 Bad Request\r\n\r\n")));
    expect(await probeProxy(cfg("auto", http.port), 2000)).toBe(false);
  });

  test("false for a server that never answers", async () => {
    const { port } = await listener(() => {});
    expect(await probeProxy(cfg("auto", port), 200)).toBe(false);
  });
});

describe("chooseRoute and torStatus", () => {
  test("a loopback relay in auto mode does not touch the proxy", async () => {
    const proxy = await listener((s) => s.destroy());
    const plan = await chooseRoute(new URL("http://127.0.0.1:8787"), cfg("auto", proxy.port));
    expect(plan.via).toBe("direct");
    expect(proxy.conns()).toBe(0);
  });

  test("always with the proxy down refuses", async () => {
    const port = await closedPort();
    const err = await chooseRoute(new URL("http://127.0.0.1:8787"), cfg("always", port)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorError);
  });

  test("status with the proxy down gives the route and a setup hint", async () => {
    const port = await closedPort();
    const lines = await torStatus(cfg("auto", port), { relayUrl: "https://relay.example.com", platform: "linux" });
    expect(lines[0]).toBe("mode: auto (PHANTOM_TOR=auto|always|never)");
    expect(lines[1]).toBe(`proxy: 127.0.0.1:${port} — not answering`);
    expect(lines[2]).toContain("direct");
    expect(lines.join("\n")).toContain("apt install tor");
    expect(lines.join("\n")).toContain("PHANTOM_TOR_PROXY=127.0.0.1:9150");
    const mac = await torStatus(cfg("always", port), { relayUrl: "http://127.0.0.1:1", platform: "darwin" });
    expect(mac[2]).toContain("unreachable: PHANTOM_TOR=always");
    expect(mac.join("\n")).toContain("brew install tor");
  });

  test("status with the proxy up has no hint", async () => {
    const { port } = await listener((s) => s.once("data", () => s.write(Uint8Array.of(5, 0))));
    const lines = await torStatus(cfg("auto", port), { relayUrl: "https://relay.example.com" });
    expect(lines[1]).toBe(`proxy: 127.0.0.1:${port} — answering`);
    expect(lines[2]).toContain("through Tor");
    expect(lines.some((l) => l.startsWith("hint:"))).toBe(false);
  });
});
