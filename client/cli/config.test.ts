import { describe, expect, test } from "bun:test";
import { PhantomError } from "../../lib/errors.ts";
import { DEFAULT_RELAY, Settings } from "../state/settings.ts";
import { type ClientConfig, type ClientFlags, colorAllowed, type Env, resolveConfig } from "./config.ts";

const HOMEDIR = "/home/alice";
const defaults = Settings.parse({});

function config(flags: ClientFlags = {}, env: Env = {}, settings: Partial<Settings> = {}): ClientConfig {
  return resolveConfig(flags, env, { ...defaults, ...settings }, { homedir: HOMEDIR });
}

function errorOf(f: () => unknown): PhantomError {
  try {
    f();
  } catch (e) {
    if (e instanceof PhantomError) return e;
    throw e;
  }
  throw new Error("expected a PhantomError");
}

describe("resolveConfig", () => {
  test("defaults: ~/.phantom, the local relay, Tor auto, no direct consent, a prompt for the password", () => {
    expect(config()).toEqual({
      home: "/home/alice/.phantom",
      relayUrl: DEFAULT_RELAY,
      tor: { mode: "auto", proxyHost: "127.0.0.1", proxyPort: 9050 },
      direct: false,
      passwordSource: { kind: "prompt" },
      color: true,
      debug: false,
      json: false,
      updateUrl: undefined,
      updateChecks: false,
    });
  });

  test("home: PHANTOM_HOME (made absolute), an empty one is unset", () => {
    expect(config({}, { PHANTOM_HOME: "/srv/ph" }).home).toBe("/srv/ph");
    expect(config({}, { PHANTOM_HOME: "rel/dir" }).home).toBe(`${process.cwd()}/rel/dir`);
    expect(config({}, { PHANTOM_HOME: "" }).home).toBe("/home/alice/.phantom");
  });

  test("relay: --relay, else PHANTOM_RELAY, else settings.json, else the default; empty values skipped", () => {
    const flag = "https://flag.example";
    const env = "https://env.example";
    const saved = "https://saved.example";
    const table: [ClientFlags, Env, Partial<Settings>, string][] = [
      [{ relay: flag }, { PHANTOM_RELAY: env }, { relay: saved }, flag],
      [{}, { PHANTOM_RELAY: env }, { relay: saved }, env],
      [{ relay: "" }, { PHANTOM_RELAY: "" }, { relay: saved }, saved],
      [{}, {}, {}, DEFAULT_RELAY],
    ];
    for (const [flags, e, s, want] of table) expect(config(flags, e, s).relayUrl).toBe(want);
  });

  test("relay: checked and normalised; a bad one is an error that never repeats credentials", () => {
    expect(config({ relay: "HTTPS://Relay.Example:443/base/" }).relayUrl).toBe("https://relay.example/base");
    for (const bad of ["ftp://relay.example", "relay.example", "https://alice:hunter2@relay.example", "https://r/?x"]) {
      const e = errorOf(() => config({}, { PHANTOM_RELAY: bad }));
      expect(e.code).toBe("bad-relay-url");
      expect(e.message).not.toContain("hunter2");
    }
  });

  test("tor: PHANTOM_TOR and PHANTOM_TOR_PROXY; a bad mode is an error", () => {
    expect(config({}, { PHANTOM_TOR: "Never", PHANTOM_TOR_PROXY: "127.0.0.1:9150" }).tor).toEqual({
      mode: "never",
      proxyHost: "127.0.0.1",
      proxyPort: 9150,
    });
    expect(errorOf(() => config({}, { PHANTOM_TOR: "sometimes" })).message).toContain("PHANTOM_TOR");
  });

  test("direct: --direct or PHANTOM_DIRECT=1, nothing else", () => {
    const table: [ClientFlags, Env, boolean][] = [
      [{ direct: true }, {}, true],
      [{}, { PHANTOM_DIRECT: "1" }, true],
      [{ direct: true }, { PHANTOM_DIRECT: "0" }, true],
      [{}, { PHANTOM_DIRECT: "0" }, false],
      [{}, { PHANTOM_DIRECT: "yes" }, false],
      [{}, { PHANTOM_DIRECT: "" }, false],
      [{ direct: false }, {}, false],
    ];
    for (const [flags, env, want] of table) expect(config(flags, env).direct).toBe(want);
  });

  test("password: PHANTOM_PASSWORD, else PHANTOM_PASSWORD_FILE, else the prompt; empty values skipped", () => {
    const table: [Env, ClientConfig["passwordSource"]][] = [
      [
        { PHANTOM_PASSWORD: "pw", PHANTOM_PASSWORD_FILE: "/f" },
        { kind: "env", password: "pw" },
      ],
      [
        { PHANTOM_PASSWORD: "", PHANTOM_PASSWORD_FILE: "/f" },
        { kind: "file", path: "/f" },
      ],
      [{ PHANTOM_PASSWORD_FILE: "" }, { kind: "prompt" }],
    ];
    for (const [env, want] of table) expect(config({}, env).passwordSource).toEqual(want);
  });

  test("NO_COLOR and TERM=dumb turn colour off; an empty NO_COLOR does not", () => {
    expect(colorAllowed({ NO_COLOR: "1", TERM: "xterm" })).toBe(false);
    expect(colorAllowed({ TERM: "dumb" })).toBe(false);
    expect(colorAllowed({ NO_COLOR: "", TERM: "xterm-256color" })).toBe(true);
    expect(config({}, { NO_COLOR: "1" }).color).toBe(false);
  });

  test("debug: PHANTOM_DEBUG=1 only; json: --json", () => {
    expect(config({}, { PHANTOM_DEBUG: "1" }).debug).toBe(true);
    expect(config({}, { PHANTOM_DEBUG: "true" }).debug).toBe(false);
    expect(config({ json: true }).json).toBe(true);
  });

  test("pure: the same inputs give the same config, and the inputs are not changed", () => {
    const env = Object.freeze({ PHANTOM_HOME: "/x", PHANTOM_RELAY: "https://r.example" });
    expect(config({}, env)).toEqual(config({}, env));
  });
});
