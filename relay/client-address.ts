// The client address that per-address limits count. Behind an onion
// service or a reverse proxy every client arrives from the proxy's address (127.0.0.1 for
// Tor), so a peer the operator trusts as a proxy (--trusted-proxy; loopback by default) is
// never limited itself: its X-Forwarded-For names the client if it sent one, else there is
// no address to count and the per-signer limits carry the load. X-Forwarded-For from any
// other peer is ignored. The address is used for counting only, never logged or stored.
import { BlockList, isIP } from "node:net";

export class ProxySet {
  private readonly list = new BlockList();

  /** Entries as relay/config.ts checked them: addresses, CIDR ranges, "loopback". */
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      if (e === "loopback") {
        this.list.addSubnet("127.0.0.0", 8, "ipv4");
        this.list.addAddress("::1", "ipv6");
        continue;
      }
      const [addr, bits] = e.split("/") as [string, string | undefined];
      const type = isIP(addr) === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(bits), type);
    }
  }

  has(address: string): boolean {
    const v = unmapped(address);
    const family = isIP(v);
    return family !== 0 && this.list.check(v, family === 6 ? "ipv6" : "ipv4");
  }
}

/** "::ffff:1.2.3.4" → "1.2.3.4"; anything else unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** The key an address is counted under: IPv4 whole, IPv6 by its /64 (one host usually has a whole /64). */
export function addressKey(address: string): string {
  const v = unmapped(address);
  if (isIP(v) !== 6) return v;
  const [head = "", tail = ""] = v.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = v.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return (
    groups
      .slice(0, 4)
      .map((g) => g.replace(/^0+(?=.)/, ""))
      .join(":") + "::/64"
  );
}

/**
 * The client's address for per-address limits, or null when there is none to count (a
 * trusted proxy that named no untrusted client, or no peer address at all).
 * X-Forwarded-For is read from its right end: the entry the nearest trusted proxy added.
 */
export function clientAddress(peer: string | null, forwardedFor: string | null, proxies: ProxySet): string | null {
  if (peer === null) return null;
  if (!proxies.has(peer)) return peer;
  if (!forwardedFor) return null;
  const hops = forwardedFor.split(",").map((s) => s.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(unmapped(hop)) === 0) return null; // not written by a proxy we trust
    if (!proxies.has(hop)) return hop;
  }
  return null;
}
