// PROTOCOL-v3 §V11: the origins a relay accepts, from its --public-url values and its listen address.
import { expect, test } from "bun:test";
import { loopbackOnly, relayOrigins, v3OffReason } from "./origins.ts";

test("loopback-only listen addresses imply the loopback origins, with the real port and scheme", () => {
  expect(relayOrigins([], "127.0.0.1", 8787, false)).toEqual(["http://127.0.0.1:8787", "http://localhost:8787"]);
  expect(relayOrigins([], "::1", 8787, false)).toEqual([
    "http://127.0.0.1:8787",
    "http://localhost:8787",
    "http://[::1]:8787",
  ]);
  expect(relayOrigins([], "127.0.0.1", 443, true)).toEqual(["https://127.0.0.1", "https://localhost"]);
  expect(relayOrigins(["https://relay.example"], "127.0.0.1", 80, false)).toEqual([
    "https://relay.example",
    "http://127.0.0.1",
    "http://localhost",
  ]);
});

test("other listen addresses imply nothing: only --public-url, else v3 is off", () => {
  for (const host of ["0.0.0.0", "::", "192.168.1.2", "relay.example"]) {
    expect(loopbackOnly(host)).toBe(false);
    expect(relayOrigins([], host, 8787, false)).toEqual([]);
  }
  expect(relayOrigins(["http://x.onion"], "0.0.0.0", 8787, false)).toEqual(["http://x.onion"]);
  expect(v3OffReason([])).toContain("protocol v3 is off");
  expect(v3OffReason(["http://x.onion"])).toBeNull();
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) expect(loopbackOnly(host)).toBe(true);
});
