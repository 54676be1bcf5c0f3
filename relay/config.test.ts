import { describe, expect, test } from "bun:test";
import { b64encode } from "../lib/encoding.ts";
import { BURN_LIMIT, BURN_WINDOW_S } from "../lib/wire.ts";
import { listenUrl, parseConfig } from "./config.ts";
import type { RelayConfig } from "./defaults.ts";
import { OPTIONS } from "./options.ts";
import { ConfigError } from "./errors.ts";
import { relayHelp } from "./help.ts";
import { MAX_INFLIGHT_PER_UID, STALL_TIMEOUT_S } from "./inflight.ts";
import { parseUpdateArgs, UPDATE_USAGE } from "./update.ts";

function run(argv: string[], env: Record<string, string> = {}): RelayConfig {
  const p = parseConfig(argv, env);
  if (p.kind !== "run") throw new Error(`expected run, got ${p.kind}`);
  return p.config;
}

describe("parseConfig", () => {
  test("defaults (PROTOCOL §9)", () => {
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

  test("live-socket caps (PROTOCOL §7.10): defaults 256 per UID and 8 per room, flag or variable, 1 … 1,000,000", () => {
    expect([run([]).wsMaxPerUid, run([]).wsMaxPerRoom]).toEqual([256, 8]);
    const c = run(["--ws-max-per-uid", "3"], { PHANTOM_RELAY_WS_MAX_PER_UID: "9", PHANTOM_RELAY_WS_MAX_PER_ROOM: "2" });
    expect([c.wsMaxPerUid, c.wsMaxPerRoom]).toEqual([3, 2]);
    expect(run(["--ws-max-per-room=1"]).wsMaxPerRoom).toBe(1);
    expect(run(["--ws-max-per-uid", "1000000"]).wsMaxPerUid).toBe(1_000_000);
    for (const bad of ["0", "1000001", "1.5", "-1", "x"]) {
      expect(() => run(["--ws-max-per-uid", bad])).toThrow(ConfigError);
      expect(() => run([], { PHANTOM_RELAY_WS_MAX_PER_ROOM: bad })).toThrow(ConfigError);
    }
  });

  test("in-flight limit and stall timeout (relay/inflight.ts): defaults, flag, variable, edges", () => {
    expect([run([]).maxInflightPerUid, run([]).stallTimeoutS]).toEqual([MAX_INFLIGHT_PER_UID, STALL_TIMEOUT_S]);
    const c = run(["--max-inflight-per-uid", "1"], {
      PHANTOM_RELAY_MAX_INFLIGHT_PER_UID: "9",
      PHANTOM_RELAY_STALL_TIMEOUT_S: "2.5",
    });
    expect([c.maxInflightPerUid, c.stallTimeoutS]).toEqual([1, 2.5]);
    expect(run([], { PHANTOM_RELAY_MAX_INFLIGHT_PER_UID: "100000" }).maxInflightPerUid).toBe(100_000);
    for (const bad of ["0", "100001", "1.5", "x"]) {
      expect(() => run(["--max-inflight-per-uid", bad])).toThrow(ConfigError);
    }
    for (const bad of ["0", "-1", "x"]) expect(() => run(["--stall-timeout", bad])).toThrow(ConfigError);
  });

  test("burn limit and window (PROTOCOL §7.7): defaults, flag, variable, edges", () => {
    expect([run([]).burnLimit, run([]).burnWindowS]).toEqual([BURN_LIMIT, BURN_WINDOW_S]);
    const c = run(["--burn-limit", "1"], { PHANTOM_RELAY_BURN_LIMIT: "9", PHANTOM_RELAY_BURN_WINDOW_S: "5" });
    expect([c.burnLimit, c.burnWindowS]).toEqual([1, 5]);
    expect(run(["--burn-window", "604800"]).burnWindowS).toBe(604_800);
    for (const bad of ["0", "1.5", "-1", "x"]) {
      expect(() => run(["--burn-limit", bad])).toThrow(ConfigError);
      expect(() => run(["--burn-window", bad])).toThrow(ConfigError);
    }
    expect(() => run(["--burn-window", "604801"])).toThrow(ConfigError);
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

describe("quota flags", () => {
  const fields = [
    ["--sent-bytes-per-day", "PHANTOM_RELAY_SENT_BYTES_PER_DAY", "sentBytesPerDay", 1024 ** 3],
    ["--uploads-per-hour", "PHANTOM_RELAY_UPLOADS_PER_HOUR", "uploadsPerHour", 60],
    ["--rooms-per-hour", "PHANTOM_RELAY_ROOMS_PER_HOUR", "roomsPerHour", 60],
    ["--room-bytes", "PHANTOM_RELAY_ROOM_BYTES", "roomBytes", 1024 ** 3],
    ["--registrations-per-hour", "PHANTOM_RELAY_REGISTRATIONS_PER_HOUR", "registrationsPerHour", 30],
    ["--uploads-in-flight", "PHANTOM_RELAY_UPLOADS_IN_FLIGHT", "uploadsInFlightPerUid", 2],
    ["--upload-spool-bytes", "PHANTOM_RELAY_UPLOAD_SPOOL_BYTES", "uploadSpoolBytes", 256 * 1024 ** 2],
    ["--disk-reserve-bytes", "PHANTOM_RELAY_DISK_RESERVE_BYTES", "diskReserveBytes", 256 * 1024 ** 2],
  ] as const;

  test("each has its default, a flag and a variable (flag wins); 0 is accepted", () => {
    for (const [flag, env, field, dflt] of fields) {
      expect(run([])[field]).toBe(dflt);
      expect(run([], { [env]: "7" })[field]).toBe(7);
      expect(run([flag, "0"], { [env]: "7" })[field]).toBe(0);
    }
  });

  test("a negative, fractional or non-numeric value is a config error", () => {
    for (const [flag] of fields) {
      for (const bad of ["-1", "1.5", "lots"]) expect(() => run([`${flag}=${bad}`])).toThrow(ConfigError);
    }
  });

  test("--trusted-proxy: loopback by default; addresses, CIDR ranges, none; garbage refused", () => {
    expect(run([]).trustedProxies).toEqual(["loopback"]);
    expect(run(["--trusted-proxy", "10.0.0.0/8, ::1,loopback"]).trustedProxies).toEqual([
      "10.0.0.0/8",
      "::1",
      "loopback",
    ]);
    expect(run([], { PHANTOM_RELAY_TRUSTED_PROXIES: "none" }).trustedProxies).toEqual([]);
    for (const bad of ["10.0.0.0/33", "example.com", "1.2.3.4/8/1", "::1/129"]) {
      expect(() => run(["--trusted-proxy", bad])).toThrow(ConfigError);
    }
  });
});

describe("the help is the option table (relay/help.ts)", () => {
  const help = relayHelp("0.0.0");
  // The flags of the relay itself: the `phantom-relay update` usage line has its own (tested below).
  const helpFlags = new Set(help.replace(UPDATE_USAGE, "").match(/--[a-z][a-z-]*/g));

  test("the help shows the update command, and every flag of it is one parseUpdateArgs reads", () => {
    expect(help).toContain(`       ${UPDATE_USAGE}\n`);
    const flags = UPDATE_USAGE.match(/--[a-z][a-z-]*( [A-Z]+)?/g) ?? [];
    expect(flags.length).toBe(5);
    for (const f of flags) {
      const [flag, value] = f.split(" ");
      expect(() => parseUpdateArgs(value ? [flag!, "x"] : [flag!])).not.toThrow();
    }
    expect(() => parseUpdateArgs(["--bogus"])).toThrow(/unknown option for update: --bogus/);
  });
  const helpVariables = new Set(help.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g));

  test("every option parseConfig reads is in the help, with its variable and default", () => {
    for (const o of OPTIONS) {
      if (o.flag) expect(helpFlags).toContain(o.flag);
      expect(helpVariables).toContain(o.env);
      if (o.shown !== undefined) expect(help).toContain(o.shown);
    }
  });

  test("every flag and variable in the help is one parseConfig reads", () => {
    for (const flag of helpFlags) {
      if (flag === "--help" || flag === "--version") continue;
      const o = OPTIONS.find((x) => x.flag === flag);
      expect(o?.flag).toBe(flag as `--${string}`);
      // Accepted as a flag: a bad value is a value error, never "unknown option".
      const message = (() => {
        try {
          parseConfig([flag, "-"], {});
          return "";
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(message).not.toContain("unknown option");
    }
    for (const name of helpVariables) expect(OPTIONS.map((o) => o.env)).toContain(name);
  });

  test("the variables without a flag (PROTOCOL §9) are read: a bad value is refused", () => {
    for (const o of OPTIONS.filter((x) => x.flag === undefined)) {
      expect(() => run([], { [o.env]: "not-a-value" })).toThrow(ConfigError);
    }
  });
});

// PROTOCOL-v3 §V11
describe("--public-url", () => {
  test("repeatable, comma-separated in the variable, normalised, deduplicated; the flag wins", () => {
    expect(run([]).publicUrls).toEqual([]);
    const c = run([
      "--public-url",
      "https://Relay.Example/phantom",
      "--public-url=http://x.onion,https://relay.example",
    ]);
    expect(c.publicUrls).toEqual(["https://relay.example", "http://x.onion"]);
    const env = { PHANTOM_RELAY_PUBLIC_URL: "https://a.example:443, http://b.example:8080/," };
    expect(run([], env).publicUrls).toEqual(["https://a.example", "http://b.example:8080"]);
    expect(run(["--public-url", "https://c.example"], env).publicUrls).toEqual(["https://c.example"]);
  });

  test("a URL that is not http or https is a ConfigError", () => {
    for (const bad of ["ftp://x", "relay.example", "https://u:p@relay.example"]) {
      expect(() => run(["--public-url", bad])).toThrow(ConfigError);
    }
  });
});
