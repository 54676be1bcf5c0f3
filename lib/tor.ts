// Tor detection and route planning (STYLE habit 9: no silent fallbacks in Tor).
// Everything here is a pure function of explicit configuration: no module-level
// mutable state. The SOCKS5 transport itself is in lib/transport.ts and is
// re-exported here, so callers import Tor concerns from one place.

import * as net from "node:net";
import { PhantomError } from "./errors.ts";
import { bareHost, hostPort } from "./socks-http.ts";
import { quoteInput } from "./text.ts";

export { Transport, TransportError } from "./transport.ts";
export { bareHost, hostPort } from "./socks-http.ts";
export type { TransportConfig, TransportResponse, TransportTls, RequestOptions, Via } from "./transport.ts";

export type TorMode = "auto" | "always" | "never";

export interface TorConfig {
  mode: TorMode;
  proxyHost: string;
  proxyPort: number;
}

export interface RoutePlan {
  via: "direct" | "tor";
  /** A non-loopback relay would be contacted directly: the user must agree first (IP visible). */
  needsConsent: boolean;
  /** One line for the user, e.g. "relay is on this machine". */
  reason: string;
}

/** Tor or its configuration makes the requested route impossible. Never leads to a direct connection. */
export class TorError extends PhantomError {}

export const DEFAULT_TOR_PROXY = "127.0.0.1:9050";
export const TOR_BROWSER_PROXY = "127.0.0.1:9150";
export const DEFAULT_PROBE_TIMEOUT_MS = 1500;

const MODES: readonly TorMode[] = ["auto", "always", "never"];

/** PHANTOM_TOR (auto|always|never, default auto) and PHANTOM_TOR_PROXY (host:port, default 127.0.0.1:9050). */
export function torConfigFromEnv(env: Record<string, string | undefined>): TorConfig {
  const rawMode = (env.PHANTOM_TOR ?? "").trim().toLowerCase();
  const mode = (rawMode === "" ? "auto" : rawMode) as TorMode;
  if (!MODES.includes(mode)) {
    throw new TorError(
      "bad-config",
      `PHANTOM_TOR: expected auto, always or never, got '${clip(env.PHANTOM_TOR ?? "")}'`,
    );
  }
  const rawProxy = (env.PHANTOM_TOR_PROXY ?? "").trim();
  const { host, port } = parseProxyAddress(rawProxy === "" ? DEFAULT_TOR_PROXY : rawProxy);
  return { mode, proxyHost: host, proxyPort: port };
}

/**
 * "host:port", "[ipv6]:port", optionally prefixed by socks5:// or socks5h://
 * (both mean the proxy resolves host names: we never resolve them ourselves).
 */
export function parseProxyAddress(text: string): { host: string; port: number } {
  const what = "PHANTOM_TOR_PROXY";
  if (text.includes("@")) throw new TorError("bad-config", `${what}: user names and passwords are not supported`);
  const bad = () =>
    new TorError("bad-config", `${what}: expected host:port like ${DEFAULT_TOR_PROXY}, got '${clip(text)}'`);
  const rest = text.replace(/^socks5h?:\/\//i, "").replace(/\/$/, "");
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(rest);
  if (!m) throw bad();
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw bad();
  if (m[1] !== undefined && net.isIPv6(host) === false) throw bad();
  if (m[2] !== undefined && (host.startsWith(".") || host.endsWith(".") || host.startsWith("-"))) throw bad();
  return { host, port };
}

/** 127.0.0.0/8, ::1, ::ffff:127.x.y.z and localhost: the relay runs on this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  if (!net.isIPv6(host)) return false;
  if (host === "::1") return true;
  // IPv4-mapped loopback; the URL parser writes it in hex (::ffff:7f00:1).
  const mapped = /^::ffff:(?:(127\.[\d.]+)|7f([0-9a-f]{2}):[0-9a-f]{1,4})$/.exec(host);
  return mapped !== null && (mapped[1] === undefined || net.isIPv4(mapped[1]));
}

export function isOnionHost(hostname: string): boolean {
  return /\.onion\.?$/i.test(bareHost(hostname));
}

/**
 * Decide how to reach a relay. Throws TorError when the only acceptable route is
 * through a proxy that is down: this function never turns a Tor route into a direct one.
 */
export function planRoute(relayUrl: URL, cfg: TorConfig, proxyUp: boolean): RoutePlan {
  if (relayUrl.protocol !== "http:" && relayUrl.protocol !== "https:") {
    throw new TorError("bad-relay-url", `relay URL must start with http:// or https://, got '${clip(relayUrl.href)}'`);
  }
  const proxy = hostPort(cfg.proxyHost, cfg.proxyPort);
  const loopback = isLoopbackHost(relayUrl.hostname);
  const onion = isOnionHost(relayUrl.hostname);
  const down = (why: string) =>
    new TorError(
      "tor-unavailable",
      `${why}, but the Tor proxy at ${proxy} is not answering (start Tor or set PHANTOM_TOR_PROXY; see 'phantom tor')`,
    );
  switch (cfg.mode) {
    case "never":
      if (onion)
        throw new TorError("tor-unavailable", "an .onion relay can only be reached through Tor (PHANTOM_TOR=never)");
      return loopback
        ? { via: "direct", needsConsent: false, reason: "PHANTOM_TOR=never; the relay is on this machine" }
        : { via: "direct", needsConsent: true, reason: "PHANTOM_TOR=never: the relay will see your IP address" };
    case "always":
      if (!proxyUp) throw down("PHANTOM_TOR=always");
      return { via: "tor", needsConsent: false, reason: `PHANTOM_TOR=always: through the Tor proxy at ${proxy}` };
    case "auto":
      if (onion) {
        if (!proxyUp) throw down("the relay is an .onion address");
        return { via: "tor", needsConsent: false, reason: `.onion relay: through the Tor proxy at ${proxy}` };
      }
      if (loopback) return { via: "direct", needsConsent: false, reason: "the relay is on this machine" };
      if (proxyUp) return { via: "tor", needsConsent: false, reason: `through the Tor proxy at ${proxy}` };
      return {
        via: "direct",
        needsConsent: true,
        reason: `no Tor proxy answers at ${proxy}: the relay will see your IP address`,
      };
  }
}

/** Whether planning a route to this relay needs to know if the proxy is up. */
export function needsProbe(relayUrl: URL, cfg: TorConfig): boolean {
  if (cfg.mode === "never") return false;
  return cfg.mode === "always" || isOnionHost(relayUrl.hostname) || !isLoopbackHost(relayUrl.hostname);
}

/** Probe the proxy only when the answer matters, then plan. */
export async function chooseRoute(
  relayUrl: URL,
  cfg: TorConfig,
  timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
): Promise<RoutePlan> {
  const up = needsProbe(relayUrl, cfg) ? await probeProxy(cfg, timeoutMs) : false;
  return planRoute(relayUrl, cfg, up);
}

/** True when a SOCKS5 server at the proxy address accepts "no authentication" (RFC 1928 §3). */
export function probeProxy(cfg: Pick<TorConfig, "proxyHost" | "proxyPort">, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: cfg.proxyHost, port: cfg.proxyPort });
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on("error", () => {});
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on("connect", () => sock.write(Uint8Array.of(0x05, 0x01, 0x00)));
    sock.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2) done(got[0] === 0x05 && got[1] === 0x00);
    });
    sock.on("error", () => done(false));
    sock.on("close", () => done(false));
  });
}

/** Text lines for `phantom tor`: mode, proxy state, the route to the relay, and a setup hint. */
export async function torStatus(
  cfg: TorConfig,
  opts: { relayUrl?: string; timeoutMs?: number; platform?: NodeJS.Platform } = {},
): Promise<string[]> {
  const proxy = hostPort(cfg.proxyHost, cfg.proxyPort);
  const up = await probeProxy(cfg, opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  const lines = [
    `mode: ${cfg.mode} (PHANTOM_TOR=auto|always|never)`,
    `proxy: ${proxy} — ${up ? "answering" : "not answering"}`,
  ];
  if (opts.relayUrl !== undefined) {
    try {
      const plan = planRoute(new URL(opts.relayUrl), cfg, up);
      lines.push(`relay: ${opts.relayUrl} — ${plan.via === "tor" ? "through Tor" : "direct"} (${plan.reason})`);
    } catch (e) {
      lines.push(`relay: ${opts.relayUrl} — unreachable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!up) lines.push(...setupHint(opts.platform ?? process.platform));
  return lines;
}

function setupHint(platform: NodeJS.Platform): string[] {
  const install =
    platform === "darwin"
      ? "brew install tor && brew services start tor"
      : platform === "win32"
        ? "install the Tor Expert Bundle, or keep Tor Browser running"
        : "sudo apt install tor && sudo systemctl enable --now tor   (Debian/Ubuntu; other systems: the 'tor' package)";
  return [
    `hint: to hide your IP address from the relay, run Tor: ${install}`,
    `hint: Tor Browser listens on ${TOR_BROWSER_PROXY}: PHANTOM_TOR_PROXY=${TOR_BROWSER_PROXY}`,
  ];
}

function clip(s: string): string {
  // Quote bad input in one line, never the whole of something long.
  const one = quoteInput(s);
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}
