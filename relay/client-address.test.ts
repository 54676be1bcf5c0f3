// relay/client-address.ts: loopback is a proxy by default; X-Forwarded-For counts only from
// trusted proxies, read from its right end; IPv6 is counted by /64.
import { describe, expect, test } from "bun:test";
import { addressKey, clientAddress, ProxySet } from "./client-address.ts";

const loopback = new ProxySet(["loopback"]);

describe("clientAddress", () => {
  test("a direct client is its own address; its X-Forwarded-For is ignored", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", loopback)).toBe("203.0.113.9");
  });

  test("loopback (Tor, a local proxy) without X-Forwarded-For has no address to count", () => {
    expect(clientAddress("127.0.0.1", null, loopback)).toBeNull();
    expect(clientAddress("::1", null, loopback)).toBeNull();
    expect(clientAddress("::ffff:127.0.0.1", null, loopback)).toBeNull();
  });

  test("from a trusted proxy, the rightmost untrusted hop is the client", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.1, 203.0.113.9", loopback)).toBe("203.0.113.9");
    const two = new ProxySet(["loopback", "10.0.0.0/8"]);
    expect(clientAddress("127.0.0.1", "198.51.100.1, 203.0.113.9, 10.1.2.3", two)).toBe("203.0.113.9");
    expect(clientAddress("127.0.0.1", "garbage", loopback)).toBeNull();
  });

  test("'none' trusts nobody: loopback is then an ordinary client", () => {
    expect(clientAddress("127.0.0.1", "203.0.113.9", new ProxySet([]))).toBe("127.0.0.1");
  });

  test("IPv6 addresses of one /64 share a key; IPv4 stays whole", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:0db8:0001:0002:ffff:1:2:3"));
    expect(addressKey("2001:db8:1:3::1")).not.toBe(addressKey("2001:db8:1:2::1"));
    expect(addressKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
  });
});
