import { describe, expect, test } from "bun:test";
import { envWarnings, RELAY_S3_RULES, RULES, warnAboutEnv } from "./env-warnings.ts";

describe("envWarnings", () => {
  test("a clean environment gives no warning", () => {
    expect(envWarnings("phantom", { PATH: "/usr/bin", HOME: "/home/a", PHANTOM_TOR: "never" })).toEqual([]);
    expect(envWarnings("phantom-relay", { PATH: "/usr/bin", PHANTOM_RELAY_PORT: "1" })).toEqual([]);
  });

  test("an empty or blank value counts as unset", () => {
    expect(envWarnings("phantom", { BUN_OPTIONS: "", HTTPS_PROXY: "  ", NODE_TLS_REJECT_UNAUTHORIZED: "" })).toEqual(
      [],
    );
  });

  test("BUN_OPTIONS: both binaries, one line each, saying it cannot be refused", () => {
    for (const bin of ["phantom", "phantom-relay"] as const) {
      const w = envWarnings(bin, { BUN_OPTIONS: "--preload ./x.js" });
      expect(w).toHaveLength(1);
      expect(w[0]).toStartWith(`${bin}: warning: BUN_OPTIONS is set: `);
      expect(w[0]).toContain("--preload");
      expect(w[0]).toContain("cannot refuse");
      expect(w[0]).not.toContain("./x.js"); // the value is not repeated
    }
  });

  test("the debugger variables warn in both binaries", () => {
    for (const name of ["BUN_INSPECT", "BUN_INSPECT_CONNECT_TO"]) {
      for (const bin of ["phantom", "phantom-relay"] as const) {
        const w = envWarnings(bin, { [name]: "127.0.0.1:9229" });
        expect(w).toEqual([expect.stringMatching(new RegExp(`^${bin}: warning: ${name} is set: .*cannot refuse it$`))]);
      }
    }
  });

  test("the client warns about TLS, proxy and fetch-logging variables it ignores; the relay does not", () => {
    const env = { NODE_TLS_REJECT_UNAUTHORIZED: "0", https_proxy: "http://p:3128", BUN_CONFIG_VERBOSE_FETCH: "curl" };
    const w = envWarnings("phantom", env);
    expect(w).toHaveLength(3);
    expect(w[0]).toStartWith("phantom: warning: NODE_TLS_REJECT_UNAUTHORIZED is set: ");
    expect(w[0]).toContain("Phantom ignores it");
    expect(w[1]).toStartWith("phantom: warning: https_proxy is set: Phantom ignores it");
    expect(w[2]).toStartWith("phantom: warning: BUN_CONFIG_VERBOSE_FETCH is set: ");
    expect(envWarnings("phantom-relay", env)).toEqual([]);
  });

  test("with an S3 bucket (--blobs s3://…) the relay warns about them too: Bun acts on them there", () => {
    const env = { NODE_TLS_REJECT_UNAUTHORIZED: "0", https_proxy: "http://p:3128", BUN_CONFIG_VERBOSE_FETCH: "curl" };
    const w = envWarnings("phantom-relay", env, RELAY_S3_RULES);
    expect(w).toHaveLength(3);
    expect(w[0]).toStartWith("phantom-relay: warning: NODE_TLS_REJECT_UNAUTHORIZED is set: ");
    expect(w[1]).toStartWith("phantom-relay: warning: https_proxy is set: the requests to the S3 bucket");
    expect(w[2]).toStartWith("phantom-relay: warning: BUN_CONFIG_VERBOSE_FETCH is set: ");
    for (const line of w) expect(line).toEndWith("Phantom cannot refuse it");
    expect(envWarnings("phantom-relay", { PATH: "/usr/bin" }, RELAY_S3_RULES)).toEqual([]);
  });

  test("several spellings of one variable: one line naming each", () => {
    const w = envWarnings("phantom", { HTTP_PROXY: "http://p", http_proxy: "http://p", ALL_PROXY: "http://p" });
    expect(w).toEqual([expect.stringMatching(/^phantom: warning: HTTP_PROXY, http_proxy, ALL_PROXY are set: /)]);
  });

  test("every variable set at once: one line per rule, in a fixed order", () => {
    const env = Object.fromEntries(RULES.flatMap((r) => r.names.map((n) => [n, "1"])));
    const w = envWarnings("phantom", env);
    expect(w).toHaveLength(RULES.length);
    expect(new Set(w).size).toBe(RULES.length);
    expect(envWarnings("phantom-relay", env)).toHaveLength(3);
  });

  test("NO_PROXY alone is not a warning (it only narrows a proxy, and Phantom uses none)", () => {
    expect(envWarnings("phantom", { NO_PROXY: "*" })).toEqual([]);
  });
});

describe("warnAboutEnv", () => {
  test("writes all lines in one write, or nothing", () => {
    const writes: string[] = [];
    warnAboutEnv("phantom", { BUN_OPTIONS: "--smol", HTTPS_PROXY: "http://p" }, (s) => writes.push(s));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split("\n")).toHaveLength(3); // two lines and the final newline
    warnAboutEnv("phantom", {}, (s) => writes.push(s));
    expect(writes).toHaveLength(1);
  });
});
