import { describe, expect, test } from "bun:test";
import { b64encode } from "../lib/encoding.ts";
import { listenUrl, parseConfig, type RelayConfig } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { MAX_INFLIGHT_PER_UID, STALL_TIMEOUT_S } from "./inflight.ts";

function run(argv: string[], env: Record<string, string> = {}): RelayConfig {
  const p = parseConfig(argv, env);
  if (p.kind !== "run") throw new Error(`expected run, got ${p.kind}`);
  return p.config;
}

describe("parseConfig", () => {
  test("defaults (issue 3 item 5, PROTOCOL §9)", () => {
    const c = run([]);
    expect([c.host, c.port, c.dataDir, c.logLevel, c.tlsCert, c.tlsKey]).toEqual([
      "127.0.0.1",
      8787,
      "./phantom-relay-data",
      "info",
      null,
      null,
    ]);
    expect(c.messageRetentionS).toBe(7 * 86400);
    expect(c.keRetentionS).toBe(24 * 3600);
    expect(c.fileRetentionS).toBe(24 * 3600);
    expect(c.maxFileSizeBytes).toBe(52428800);
    expect(c.purgeIntervalS).toBe(300);
    expect(c.authPriv).toBeNull();
    expect(c.fileIdKey).toBeNull();
  });

  test("flags, both spellings, and flags win over the environment", () => {
    const c = run(["--host", "0.0.0.0", "--port=0", "--data", "/x", "--log-level", "warn"], {
      PHANTOM_RELAY_HOST: "10.0.0.1",
      PHANTOM_RELAY_PORT: "1234",
    });
    expect([c.host, c.port, c.dataDir, c.logLevel]).toEqual(["0.0.0.0", 0, "/x", "warn"]);
  });

  test("every flag has an environment variable", () => {
    const c = run([], {
      PHANTOM_RELAY_HOST: "::1",
      PHANTOM_RELAY_PORT: "9000",
      PHANTOM_RELAY_DATA: "/d",
      PHANTOM_RELAY_TLS_CERT: "c.pem",
      PHANTOM_RELAY_TLS_KEY: "k.pem",
      PHANTOM_RELAY_LOG_LEVEL: "debug",
      PHANTOM_PURGE_INTERVAL_S: "0.5",
    });
    expect([c.host, c.port, c.dataDir, c.tlsCert, c.tlsKey, c.logLevel, c.purgeIntervalS]).toEqual([
      "::1",
      9000,
      "/d",
      "c.pem",
      "k.pem",
      "debug",
      0.5,
    ]);
  });

  test("retention variables accept decimals", () => {
    const c = run([], { MESSAGE_RETENTION_DAYS: "0.5", KE_RETENTION_HOURS: "0.0005", FILE_RETENTION_HOURS: "2" });
    expect(c.messageRetentionS).toBe(43200);
    expect(c.keRetentionS).toBeCloseTo(1.8, 9);
    expect(c.fileRetentionS).toBe(7200);
  });

  test("keys are b64 of 32 bytes", () => {
    const key = new Uint8Array(32).fill(7);
    const c = run([], { PHANTOM_AUTH_PRIV_B64: b64encode(key), PHANTOM_FILE_ID_KEY_B64: b64encode(key) });
    expect(c.authPriv).toEqual(key);
    expect(c.fileIdKey).toEqual(key);
    expect(() => run([], { PHANTOM_AUTH_PRIV_B64: b64encode(new Uint8Array(31)) })).toThrow(ConfigError);
    expect(() => run([], { PHANTOM_FILE_ID_KEY_B64: "not base64!" })).toThrow(ConfigError);
  });

  test("the error about a bad key never quotes it", () => {
    try {
      run([], { PHANTOM_AUTH_PRIV_B64: "c2VjcmV0LXZhbHVl" });
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).not.toContain("c2VjcmV0LXZhbHVl");
    }
  });

  test.each([
    [["--port", "65536"]],
    [["--port", "-1"]],
    [["--port", "12ab"]],
    [["--port"]],
    [["--bogus"]],
    [["--tls-cert", "a.pem"]],
    [["--log-level", "loud"]],
    [["--purge-interval", "0"]],
    [["--purge-interval", "-5"]],
  ])("refuses %p", (argv) => {
    expect(() => run(argv)).toThrow(ConfigError);
  });

  test.each([
    ["MAX_FILE_SIZE_BYTES", "0"],
    ["MAX_FILE_SIZE_BYTES", "1.5"],
    ["MESSAGE_RETENTION_DAYS", "0"],
    ["KE_RETENTION_HOURS", "x"],
  ])("refuses %s=%s", (name, value) => {
    expect(() => run([], { [name]: value })).toThrow(ConfigError);
  });

  test("in-flight limit and stall timeout (relay/inflight.ts): defaults, flag, variable, edges", () => {
    expect([run([]).maxInflightPerUid, run([]).stallTimeoutS]).toEqual([MAX_INFLIGHT_PER_UID, STALL_TIMEOUT_S]);
    const c = run(["--max-inflight-per-uid", "1"], {
      PHANTOM_MAX_INFLIGHT_PER_UID: "9",
      PHANTOM_STALL_TIMEOUT_S: "2.5",
    });
    expect([c.maxInflightPerUid, c.stallTimeoutS]).toEqual([1, 2.5]);
    expect(run([], { PHANTOM_MAX_INFLIGHT_PER_UID: "100000" }).maxInflightPerUid).toBe(100_000);
    for (const bad of ["0", "100001", "1.5", "x"]) {
      expect(() => run(["--max-inflight-per-uid", bad])).toThrow(ConfigError);
    }
    for (const bad of ["0", "-1", "x"]) expect(() => run(["--stall-timeout", bad])).toThrow(ConfigError);
  });

  test("port edges: 0 and 65535 are fine", () => {
    expect(run(["--port", "0"]).port).toBe(0);
    expect(run(["--port", "65535"]).port).toBe(65535);
  });

  test("help and version win", () => {
    expect(parseConfig(["--port", "1", "--help"], {}).kind).toBe("help");
    expect(parseConfig(["-V"], {}).kind).toBe("version");
  });
});

test("listenUrl brackets IPv6", () => {
  expect(listenUrl("127.0.0.1", 80, false)).toBe("http://127.0.0.1:80");
  expect(listenUrl("::1", 443, true)).toBe("https://[::1]:443");
});
