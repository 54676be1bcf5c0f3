// lib/update units: versions, URLs, the signed manifest, and the pinned GET against a real
// TLS server on 127.0.0.1 (no request byte before the pin is checked).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCert, sign, startFileServer, type FileServer } from "../../tests/helpers/update-server.ts";
import { makeTestKey } from "../../tests/helpers/release.ts";
import { compareVersions, platformKey, verifyManifest } from "./manifest.ts";
import { checkUpdateUrl, PinMismatch, PinNeeded, pinnedGet, spkiPin } from "./pinned-get.ts";
import { manifestUrlOf } from "./updater.ts";

const root = fs.mkdtempSync(join(tmpdir(), "phantom-update-unit-"));
let srv: FileServer;
let cert: ReturnType<typeof makeCert>;
let key: ReturnType<typeof makeTestKey>;

beforeAll(async () => {
  cert = makeCert(root);
  key = makeTestKey((fs.mkdirSync(join(root, "key")), join(root, "key")));
  fs.writeFileSync(join(root, "hello.txt"), "hello");
  srv = await startFileServer(root, cert);
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test("compareVersions is numeric per part", () => {
  expect(compareVersions("0.10.0", "0.9.9")).toBe(1);
  expect(compareVersions("1.2.3", "1.2.3")).toBe(0);
  expect(compareVersions("1.2.3", "1.3.0")).toBe(-1);
});

test("platformKey maps Node's names to the release names", () => {
  expect(platformKey("win32", "x64")).toBe("windows-x64");
  expect(platformKey("darwin", "arm64")).toBe("darwin-arm64");
  expect(() => platformKey("freebsd", "x64")).toThrow("no releases are made for freebsd");
});

test("manifestUrlOf: a .json URL as it is, a folder gets latest.json", () => {
  expect(manifestUrlOf("https://x.example/rel/latest.json").href).toBe("https://x.example/rel/latest.json");
  expect(manifestUrlOf("https://x.example/rel/").href).toBe("https://x.example/rel/latest.json");
  expect(manifestUrlOf("https://x.example/rel").href).toBe("https://x.example/rel/latest.json");
});

test("checkUpdateUrl: https anywhere, http only to this machine", () => {
  expect(() => checkUpdateUrl(new URL("https://x.example/"))).not.toThrow();
  expect(() => checkUpdateUrl(new URL("http://127.0.0.1:1/"))).not.toThrow();
  expect(() => checkUpdateUrl(new URL("http://x.example/"))).toThrow("refusing an update over http:// from x.example");
  expect(() => checkUpdateUrl(new URL("ftp://x.example/"))).toThrow("must start with https://");
});

describe("verifyManifest", () => {
  const manifest = (v: string) =>
    JSON.stringify({ version: v, published_at: "2026-12-02T00:00:00Z", notes: "", files: {} });
  const signed = (body: string, trusted: string) => {
    const f = join(root, `m-${Math.random()}.json`);
    fs.writeFileSync(f, body);
    sign(key.keyFile, f, trusted);
    return fs.readFileSync(`${f}.minisig`, "utf8");
  };
  const pub = () => fs.readFileSync(key.pubFile, "utf8");

  test("a good one parses", () => {
    const body = manifest("1.2.3");
    const m = verifyManifest(pub(), Buffer.from(body), signed(body, "version:1.2.3 file:latest.json timestamp:1"));
    expect(m.version).toBe("1.2.3");
  });
  test("the signed version must be the manifest's", () => {
    const body = manifest("1.2.4");
    expect(() =>
      verifyManifest(pub(), Buffer.from(body), signed(body, "version:1.2.3 file:latest.json timestamp:1")),
    ).toThrow("says version 1.2.4 but its signature says 1.2.3");
  });
  test("a trusted comment of another file is refused", () => {
    const body = manifest("1.2.3");
    expect(() => verifyManifest(pub(), Buffer.from(body), signed(body, "file:SHA256SUMS timestamp:1"))).toThrow(
      "unexpected trusted comment",
    );
  });
  test("a changed byte is refused", () => {
    const body = manifest("1.2.3");
    const sig = signed(body, "version:1.2.3 file:latest.json timestamp:1");
    expect(() => verifyManifest(pub(), Buffer.from(body.replace("1.2.3", "1.2.9")), sig)).toThrow();
  });
});

describe("pinnedGet", () => {
  const url = () => new URL(`https://127.0.0.1:${srv.port}/hello.txt`);
  const opts = { route: { via: "direct" as const }, timeoutMs: 5000, maxBytes: 1000 };

  test("no pin yet: PinNeeded with the server's SPKI pin, and not one application byte sent", async () => {
    const before = srv.received.length;
    const e = await pinnedGet(url(), { ...opts, ca: cert.cert, pin: null }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PinNeeded);
    const der = Buffer.from(cert.cert.replace(/-----[^-]+-----|\s/g, ""), "base64");
    expect((e as PinNeeded).seen).toBe(spkiPin(der));
    expect(srv.received.slice(before).every((n) => n === 0)).toBe(true);
  });

  test("the right pin: the body; a wrong pin: PinMismatch, nothing sent", async () => {
    const der = Buffer.from(cert.cert.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const pin = spkiPin(der);
    const r = await pinnedGet(url(), { ...opts, ca: cert.cert, pin });
    expect(new TextDecoder().decode(r.body)).toBe("hello");
    const before = srv.received.length;
    const wrong = `${"A".repeat(43)}=`;
    const e = await pinnedGet(url(), { ...opts, ca: cert.cert, pin: wrong }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PinMismatch);
    expect(srv.received.slice(before).every((n) => n === 0)).toBe(true);
  });

  test("an untrusted certificate fails before the pin matters", async () => {
    const e = await pinnedGet(url(), { ...opts, pin: null }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/^TLS with the update server 127\.0\.0\.1:\d+ failed: /);
  });

  test("a bigger answer than allowed is cut off", async () => {
    const der = Buffer.from(cert.cert.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const e = await pinnedGet(url(), { ...opts, maxBytes: 3, ca: cert.cert, pin: spkiPin(der) }).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toContain("bigger than announced");
  });
});
