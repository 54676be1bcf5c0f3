import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  MinisignError,
  keyIdHex,
  parsePublicKey,
  publicKeyLine,
  verify,
  verifyDigest,
  blake2b512,
} from "./minisign.ts";

// Known answers from the real minisign (tests/fixtures/minisign/README.md).
const dir = join(import.meta.dir, "../tests/fixtures/minisign");
const read = (name: string) => readFileSync(join(dir, name), "utf8");
const data = new Uint8Array(readFileSync(join(dir, "data.txt")));
const a = parsePublicKey(read("a.pub"));
const b = parsePublicKey(read("b.pub"));

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MinisignError);
    return (e as Error).message;
  }
  throw new Error("not refused");
}

describe("minisign verification", () => {
  test("a prehashed signature by minisign verifies and gives its trusted comment", () => {
    expect(verify(a, read("data.txt.minisig"), data)).toBe("version:1.2.3 file:data.txt");
  });

  test("the key id is printed as minisign prints it, and the key line round-trips", () => {
    expect(read("a.pub")).toContain(`minisign public key ${keyIdHex(a.keyId)}`);
    expect(read("a.pub").split("\n")[1]).toBe(publicKeyLine(a));
    expect(parsePublicKey(publicKeyLine(a))).toEqual(a);
  });

  test("streaming the prehash in chunks gives the same answer", () => {
    const h = blake2b512();
    for (let i = 0; i < data.length; i += 5) h.update(data.subarray(i, i + 5));
    expect(verifyDigest(a, read("data.txt.minisig"), h.digest())).toBe("version:1.2.3 file:data.txt");
  });

  test("a changed file is refused", () => {
    const changed = data.slice();
    changed[0] = changed[0]! ^ 1;
    expect(refusal(() => verify(a, read("data.txt.minisig"), changed))).toBe("signature does not match the file");
  });

  test("another key's signature is refused by key id", () => {
    expect(refusal(() => verify(a, read("data.txt.b.minisig"), data))).toContain(
      `not by the release key ${keyIdHex(a.keyId)}`,
    );
    expect(verify(b, read("data.txt.b.minisig"), data)).toBe("by b");
  });

  test("another key with the same key id is refused by the signature", () => {
    const forged = { keyId: a.keyId, key: b.key };
    expect(refusal(() => verify(forged, read("data.txt.minisig"), data))).toBe("signature does not match the file");
  });

  test("a changed trusted comment is refused", () => {
    const sig = read("data.txt.minisig").replace("version:1.2.3", "version:9.9.9");
    expect(refusal(() => verify(a, sig, data))).toBe("trusted comment signature does not match");
  });

  test("the legacy (not prehashed) form is refused", () => {
    expect(refusal(() => verify(a, read("data.txt.legacy.minisig"), data))).toContain("not prehashed Ed25519 (ED)");
  });

  test("garbage is refused with one line, never a throw of another kind", () => {
    for (const text of ["", "hello", "untrusted comment: x\n!!!\n", "untrusted comment: x\nRUQ=\n", "x".repeat(5000)]) {
      expect(refusal(() => verify(a, text, data))).not.toContain("\n");
    }
    expect(refusal(() => parsePublicKey("untrusted comment: x\nnot a key\n"))).toContain("minisign public key");
    const noTrusted = read("data.txt.minisig").split("\n").slice(0, 2).join("\n");
    expect(refusal(() => verify(a, noTrusted, data))).toBe("signature file: no trusted comment");
  });
});
