// PROTOCOL-v3 §V11: the canonical string and signature of the vector file, and origin normalisation.
import { expect, test } from "bun:test";
import { sha256 } from "../crypto.ts";
import { b64udecode, b64uencode, utf8 } from "../encoding.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalRequestV3, H_SIGV, normaliseOrigin, signRequestV3, SIGV_V3, verifyRequestV3 } from "./request-sig.ts";

const vectors = JSON.parse(
  readFileSync(process.env.PHANTOM_V3_VECTORS ?? join(import.meta.dir, "../../tests/vectors/v3.json"), "utf8"),
);
const v = vectors.prekeys.publish.request_sigv3;
const bob = vectors.users.bob;
const h = v.headers as Record<string, string>;
const args = [v.method, v.path, h["x-phantom-uid"]!, h["x-phantom-ts"]!, h["x-phantom-nonce"]!] as const;
const bodyHash = sha256(utf8.encode(v.body));

test("the vector's canonical string and signature", () => {
  expect(canonicalRequestV3(v.origin, ...args, bodyHash)).toBe(v.canonical);
  const sig = signRequestV3(b64udecode(bob.sign_seed_b64u), v.origin, ...args, bodyHash);
  expect(b64uencode(sig)).toBe(h["x-phantom-sig"]!);
  expect(h[H_SIGV]).toBe(SIGV_V3);
});

test("verify tries each origin and names the one that verified; another origin or path fails", () => {
  const pub = b64udecode(bob.sign_pub_b64u);
  const sig = b64udecode(h["x-phantom-sig"]!);
  const other = "https://relay.example";
  expect(verifyRequestV3(pub, [other, v.origin], ...args, bodyHash, sig)).toBe(v.origin);
  expect(verifyRequestV3(pub, [other], ...args, bodyHash, sig)).toBeNull();
  expect(verifyRequestV3(pub, [], ...args, bodyHash, sig)).toBeNull();
  expect(verifyRequestV3(pub, [v.origin], v.method, "/v3/bundle", args[2], args[3], args[4], bodyHash, sig)).toBeNull();
  expect(verifyRequestV3(pub, ["http://127.0.0.1:8788"], ...args, bodyHash, sig)).toBeNull();
});

test("origins: scheme and host lower case, IDN as xn--, IPv6 bracketed, default port and path dropped", () => {
  const cases: [string, string][] = [
    ["https://Relay.Example", "https://relay.example"],
    ["HTTPS://RELAY.EXAMPLE:443/phantom/", "https://relay.example"],
    ["https://relay.example:8443/x?y#z", "https://relay.example:8443"],
    ["http://relay.example:80", "http://relay.example"],
    ["http://relay.example:443", "http://relay.example:443"],
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787"],
    ["http://[::1]:8787/", "http://[::1]:8787"],
    ["http://[0:0:0:0:0:0:0:1]:8787", "http://[::1]:8787"],
    ["https://bücher.example", "https://xn--bcher-kva.example"],
    [`http://${"a".repeat(56)}.onion`, `http://${"a".repeat(56)}.onion`],
  ];
  for (const [input, want] of cases) expect(normaliseOrigin(input)).toBe(want);
  for (const bad of ["relay.example", "ftp://relay.example", "https://u:p@relay.example", "", "http://"]) {
    expect(() => normaliseOrigin(bad)).toThrow();
  }
});
