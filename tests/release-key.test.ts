// `./build.sh release-key` and the key checks `./build.sh release` makes before it builds anything
// (no binary is built here).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyIdHex, parsePublicKey, publicKeyLine } from "../lib/minisign.ts";
import { isEncrypted, parseSecretKey } from "../release/secret-key.ts";
import { ROOT } from "./helpers/relay.ts";

const work = mkdtempSync(join(tmpdir(), "phantom-release-key-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function build(args: string[], env: Record<string, string | undefined> = {}) {
  const r = Bun.spawnSync(["./build.sh", ...args], {
    cwd: ROOT,
    env: { ...process.env, PHANTOM_RELEASE_KEY_PASSWORD: undefined, ...env },
    stdin: "ignore",
  });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("./build.sh release-key", () => {
  test("-W: an unencrypted pair, the key 0600, the minisign line printed; never overwritten", () => {
    const dir = join(work, "w");
    const r = build(["release-key", dir, "-W"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const keyText = readFileSync(join(dir, "phantom-release.key"), "utf8");
    expect(statSync(join(dir, "phantom-release.key")).mode & 0o777).toBe(0o600);
    expect(isEncrypted(keyText)).toBe(false);
    const pub = parsePublicKey(readFileSync(join(dir, "phantom-release.pub"), "utf8"));
    expect(parseSecretKey(keyText).publicKey).toEqual(pub.key);
    expect(r.out).toContain(`key id ${keyIdHex(pub.keyId)}`);
    expect(r.out).toContain(`minisign -Vm <file> -P ${publicKeyLine(pub)}`);

    const again = build(["release-key", dir, "-W"]);
    expect(again.err).toMatch(/^build\.sh: error: .*phantom-release\.key already exists: not overwritten\n$/);
    expect(again.code).toBe(1);
  });

  test("encrypted with the password; release refuses a wrong one and a missing one before building", () => {
    const dir = join(work, "e");
    const r = build(["release-key", dir], { PHANTOM_RELEASE_KEY_PASSWORD: "right words" });
    expect(r.code).toBe(0);
    const keyFile = join(dir, "phantom-release.key");
    const pubFile = join(dir, "phantom-release.pub");
    expect(isEncrypted(readFileSync(keyFile, "utf8"))).toBe(true);
    const env = {
      PHANTOM_RELEASE_KEY_FILE: keyFile,
      PHANTOM_RELEASE_PUB_FILE: pubFile,
      PHANTOM_RELEASE_DIR: join(work, "out"),
    };

    const wrong = build(["release"], { ...env, PHANTOM_RELEASE_KEY_PASSWORD: "wrong words" });
    expect(wrong.err).toBe("build.sh: error: wrong password for the release key\n");
    expect(wrong.code).toBe(1);

    const none = build(["release"], env);
    expect(none.err).toBe(
      "build.sh: error: the release key is encrypted: set PHANTOM_RELEASE_KEY_PASSWORD or run on a terminal\n",
    );
    expect(none.code).toBe(1);

    writeFileSync(join(work, "bad.key"), "untrusted comment: x\nAAAA\n", { mode: 0o600 });
    const bad = build(["release"], { ...env, PHANTOM_RELEASE_KEY_FILE: join(work, "bad.key") });
    expect(bad.err).toBe("build.sh: error: minisign secret key: 3 bytes, not 158\n");
    const missing = build(["release"], { ...env, PHANTOM_RELEASE_KEY_FILE: join(work, "nope.key") });
    expect(missing.err).toMatch(/^build\.sh: error: the release key .*nope\.key does not exist/);
    expect(missing.code).toBe(1);
  }, 60_000);
});
