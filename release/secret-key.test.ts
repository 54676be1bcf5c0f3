// Secret keys and signatures against the real minisign (0.11): keys it makes parse here, and what we
// sign and generate it accepts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MinisignError, parsePublicKey, verify } from "../lib/minisign.ts";
import { checkKeyMatches, generateKeyPair, isEncrypted, parseSecretKey, scryptParams } from "./secret-key.ts";
import { signBytes } from "./sign.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-sk-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = new TextEncoder().encode("a release archive, or so\n");
writeFileSync(join(dir, "data"), data);

function minisign(args: string[], stdin = ""): { code: number; out: string } {
  const r = Bun.spawnSync(["minisign", ...args], { cwd: dir, stdin: new TextEncoder().encode(stdin) });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

/** Our signature of data, checked by the real `minisign -Vm`; returns the trusted comment it printed. */
function realVerify(sigText: string, pubFile: string): string {
  writeFileSync(join(dir, "data.minisig"), sigText);
  const r = minisign(["-Vm", "data", "-p", pubFile]);
  expect(r.out).toContain("Signature and comment signature verified");
  expect(r.code).toBe(0);
  return /Trusted comment: (.*)/.exec(r.out)![1]!;
}

function refusal(f: () => unknown): MinisignError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MinisignError);
    expect((e as Error).message).not.toContain("\n");
    return e as MinisignError;
  }
  throw new Error("not refused");
}

describe("minisign secret keys", () => {
  test("libsodium's scrypt parameters from opslimit and memlimit", () => {
    expect(scryptParams(33554432n, 1073741824n)).toEqual({ N: 2 ** 20, r: 8, p: 1 }); // *_SENSITIVE
    expect(scryptParams(524288n, 16777216n)).toEqual({ N: 2 ** 14, r: 8, p: 1 }); // *_INTERACTIVE
    expect(scryptParams(1000n, 1n << 30n)).toEqual({ N: 2 ** 10, r: 8, p: 1 }); // opslimit raised to 32768
    expect(scryptParams(1n << 30n, 1n << 20n)).toEqual({ N: 2 ** 10, r: 8, p: 32768 });
  });

  test("an unencrypted key made by `minisign -G -W` signs what `minisign -V` accepts", () => {
    expect(minisign(["-G", "-W", "-p", "w.pub", "-s", "w.key"]).code).toBe(0);
    const text = readFileSync(join(dir, "w.key"), "utf8");
    expect(isEncrypted(text)).toBe(false);
    const key = parseSecretKey(text);
    const pub = parsePublicKey(readFileSync(join(dir, "w.pub"), "utf8"));
    checkKeyMatches(key, pub);
    const sig = signBytes(key, data, "file:data timestamp:1700000000");
    expect(realVerify(sig, "w.pub")).toBe("file:data timestamp:1700000000");
    expect(verify(pub, sig, data)).toBe("file:data timestamp:1700000000");
  });

  test("an encrypted key made by `minisign -G` opens with its password, and only with it", () => {
    expect(minisign(["-G", "-p", "e.pub", "-s", "e.key"], "pw\npw\n").code).toBe(0);
    const text = readFileSync(join(dir, "e.key"), "utf8");
    expect(isEncrypted(text)).toBe(true);
    const key = parseSecretKey(text, "pw");
    checkKeyMatches(key, parsePublicKey(readFileSync(join(dir, "e.pub"), "utf8")));
    expect(realVerify(signBytes(key, data, "version:0.2.0 file:latest.json timestamp:1"), "e.pub")).toBe(
      "version:0.2.0 file:latest.json timestamp:1",
    );
    const wrong = refusal(() => parseSecretKey(text, "pW"));
    expect(wrong.code).toBe("wrong-password");
    expect(wrong.message).toBe("wrong password for the release key");
    expect(refusal(() => parseSecretKey(text)).code).toBe("password-needed");
    // Three scrypt runs of libsodium's sensitive parameters (1 GiB each): slow beside a loaded suite.
  }, 120_000);

  test("a key pair we generate encrypted is one the real minisign signs with", () => {
    const pair = generateKeyPair("secret words", { opslimit: 524288n, memlimit: 16777216n });
    writeFileSync(join(dir, "g.key"), pair.secretText, { mode: 0o600 });
    writeFileSync(join(dir, "g.pub"), pair.publicText);
    expect(isEncrypted(pair.secretText)).toBe(true);
    const r = minisign(["-S", "-s", "g.key", "-m", "data", "-x", "g.minisig", "-t", "by minisign"], "secret words\n");
    expect(r.code).toBe(0);
    const pub = parsePublicKey(pair.publicText);
    expect(verify(pub, readFileSync(join(dir, "g.minisig"), "utf8"), data)).toBe("by minisign");
    const key = parseSecretKey(pair.secretText, "secret words");
    expect(realVerify(signBytes(key, data, "ours"), "g.pub")).toBe("ours");
    expect(refusal(() => parseSecretKey(pair.secretText, "secret word")).code).toBe("wrong-password");
  });

  test("a key pair we generate unencrypted is as `minisign -G -W` makes it", () => {
    const pair = generateKeyPair();
    writeFileSync(join(dir, "u.key"), pair.secretText, { mode: 0o600 });
    writeFileSync(join(dir, "u.pub"), pair.publicText);
    expect(isEncrypted(pair.secretText)).toBe(false);
    expect(minisign(["-S", "-s", "u.key", "-m", "data", "-x", "u.minisig", "-t", "plain"]).code).toBe(0);
    expect(verify(parsePublicKey(pair.publicText), readFileSync(join(dir, "u.minisig"), "utf8"), data)).toBe("plain");
  });

  test("a secret key of another public key is refused", () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const err = refusal(() => checkKeyMatches(parseSecretKey(a.secretText), parsePublicKey(b.publicText)));
    expect(err.code).toBe("wrong-key");
    expect(err.message).toMatch(/^the release key [0-9A-F]+ is not the public key compiled in \([0-9A-F]+\)$/);
  });

  test("garbage, a truncated key and a newline in the trusted comment are refused", () => {
    expect(refusal(() => parseSecretKey("untrusted comment: x\nnot base64!\n")).code).toBe("bad-secret-key");
    const line = generateKeyPair().secretText.split("\n")[1]!;
    expect(refusal(() => parseSecretKey(Buffer.from(line, "base64").subarray(0, 100).toString("base64"))).message).toBe(
      "minisign secret key: 100 bytes, not 158",
    );
    const key = parseSecretKey(generateKeyPair().secretText);
    expect(refusal(() => signBytes(key, data, "a\nb")).code).toBe("bad-comment");
  });
});
