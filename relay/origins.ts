// PROTOCOL-v3 §V11: the origins a relay accepts v3 request signatures for: its --public-url
// values, plus the loopback origins implied when it listens on loopback only. Never the Host
// header: whoever sends a request chooses it, so it proves nothing.
import { isIP } from "node:net";

/** Listen addresses that reach loopback only ("localhost" resolves to loopback addresses). */
export function loopbackOnly(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** PROTOCOL-v3 §V11: the origins of a relay listening on `host`:`port` (the port it really got). */
export function relayOrigins(publicUrls: readonly string[], host: string, port: number, tls: boolean): string[] {
  const out = [...publicUrls];
  if (loopbackOnly(host)) {
    const scheme = tls ? "https" : "http";
    const dflt = tls ? 443 : 80;
    const p = port === dflt ? "" : `:${port}`;
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    const implied = [`${scheme}://127.0.0.1${p}`, `${scheme}://localhost${p}`];
    if (h === "::1" || h === "localhost") implied.push(`${scheme}://[::1]${p}`);
    for (const o of implied) if (!out.includes(o)) out.push(o);
  }
  return out;
}

/** Why v3 is off, for the start log; null when it is on. */
export function v3OffReason(origins: readonly string[]): string | null {
  return origins.length > 0
    ? null
    : "protocol v3 is off: no --public-url is set and the relay does not listen on loopback only (PROTOCOL-v3 §V11)";
}
