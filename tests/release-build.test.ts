// `./build.sh release` end to end: one five-target release at xz level 0 with a throwaway key (the one
// tests/helpers/release.ts sharedRelease makes for the update tests too), every
// file of the release format checked with the real tools (minisign -V, sha256sum -c, tar, unzip), the
// binaries checked by their headers, the host one run; and a key that does not match refused first.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/relay.ts";
import { hostTarget, makeTestKey, RELEASE_PLATFORMS, SHARED_VERSION, sharedRelease } from "./helpers/release.ts";

const VERSION = SHARED_VERSION;
const PLATFORMS = RELEASE_PLATFORMS;
const PROGRAMS = ["phantom", "phantom-relay"];
const work = mkdtempSync(join(tmpdir(), "phantom-release-build-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const key = makeTestKey(work); // for the refusal test; the release has its own (sharedRelease)

const archive = (program: string, platform: string) =>
  `${program}-${platform}${platform.startsWith("windows") ? ".zip" : ".tar.xz"}`;

function run(argv: string[], cwd = work): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(argv, { cwd });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** What a binary's header says it is: "elf x86-64", "macho arm64", "pe amd64"… */
function binaryFormat(b: Uint8Array): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0) === 0x7f454c46) {
    const m = v.getUint16(18, true);
    return `elf ${m === 0x3e ? "x86-64" : m === 0xb7 ? "aarch64" : m.toString(16)}`;
  }
  if (v.getUint32(0, true) === 0xfeedfacf) {
    const cpu = v.getUint32(4, true);
    return `macho ${cpu === 0x01000007 ? "x86_64" : cpu === 0x0100000c ? "arm64" : cpu.toString(16)}`;
  }
  if (v.getUint16(0) === 0x4d5a) {
    const pe = v.getUint32(0x3c, true);
    if (v.getUint32(pe) !== 0x50450000) return "pe ?";
    const m = v.getUint16(pe + 4, true);
    return `pe ${m === 0x8664 ? "amd64" : m.toString(16)}`;
  }
  return "unknown";
}
const EXPECTED_FORMAT: Record<string, string> = {
  "linux-x64": "elf x86-64",
  "linux-arm64": "elf aarch64",
  "darwin-x64": "macho x86_64",
  "darwin-arm64": "macho arm64",
  "windows-x64": "pe amd64",
};

describe("./build.sh release", () => {
  test("a secret key that is not the compiled-in public key is refused before anything is built", () => {
    const other = makeTestKey(mkdirSync(join(work, "other"), { recursive: true }) ?? join(work, "other"));
    chmodSync(other.keyFile, 0o644);
    const dir = join(work, "refused");
    const r = Bun.spawnSync(["./build.sh", "release"], {
      cwd: ROOT,
      env: {
        ...process.env,
        PHANTOM_RELEASE_KEY_FILE: other.keyFile,
        PHANTOM_RELEASE_PUB_FILE: key.pubFile,
        PHANTOM_RELEASE_DIR: dir,
      },
    });
    const err = r.stderr.toString();
    expect(err).toMatch(/^build\.sh: warning: the release key .* is readable by others \(mode 644\): chmod 600 it\n/);
    expect(err.split("\n").filter((l) => l.startsWith("build.sh: error:"))).toEqual([
      expect.stringMatching(/^build\.sh: error: the release key [0-9A-F]+ is not the public key compiled in/),
    ]);
    expect(err).not.toContain("== build");
    expect(r.exitCode).toBe(1);
    expect(existsSync(dir)).toBe(false);

    const missing = Bun.spawnSync(["./build.sh", "release"], {
      cwd: ROOT,
      env: { ...process.env, PHANTOM_RELEASE_KEY_FILE: "", PHANTOM_RELEASE_DIR: dir },
    });
    expect(missing.stderr.toString()).toMatch(/^build\.sh: error: PHANTOM_RELEASE_KEY_FILE is not set[^\n]*\n$/);
    expect(missing.exitCode).toBe(1);
  });

  test("five targets: archives, sums, signatures and latest.json as the release format says", async () => {
    // Made by ./build.sh release (tests/helpers/release.ts), shared with update and relay-update.
    const { releaseDir: dir, key } = sharedRelease();
    const archives = PLATFORMS.flatMap((p) => PROGRAMS.map((prog) => archive(prog, p)));
    const expected = [
      ...archives.flatMap((a) => [a, `${a}.minisig`]),
      "SHA256SUMS",
      "SHA256SUMS.minisig",
      "latest.json",
      "latest.json.minisig",
    ];
    expect(readdirSync(dir).sort()).toEqual(expected.sort());

    // Every signature by the real minisign, with the trusted comment of the format.
    for (const f of [...archives, "SHA256SUMS", "latest.json"]) {
      const v = run(["minisign", "-Vm", join(dir, f), "-p", key.pubFile]);
      expect(v.out).toContain("Signature and comment signature verified");
      const comment = /Trusted comment: (.*)/.exec(v.out)![1]!;
      expect(comment).toMatch(
        f === "latest.json"
          ? new RegExp(`^version:${VERSION.replaceAll(".", "\\.")} file:latest\\.json timestamp:\\d{10}$`)
          : new RegExp(`^file:${f.replaceAll(".", "\\.")} timestamp:\\d{10}$`),
      );
    }

    const sums = run(["sha256sum", "-c", "SHA256SUMS"], dir);
    expect(sums.code).toBe(0);
    expect(sums.out.trim().split("\n").sort()).toEqual(archives.map((a) => `${a}: OK`).sort());

    const manifest = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8"));
    expect(manifest.version).toBe(VERSION);
    expect(manifest.notes).toBe("test notes");
    expect(manifest.published_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(manifest.published_at) - Date.now())).toBeLessThan(10 * 60_000);
    const sumOf = new Map(
      readFileSync(join(dir, "SHA256SUMS"), "utf8")
        .trim()
        .split("\n")
        .map((l) => [l.slice(66), l.slice(0, 64)] as const),
    );
    expect(Object.keys(manifest.files).sort()).toEqual(
      PLATFORMS.flatMap((p) => PROGRAMS.map((prog) => `${prog}-${p}`)).sort(),
    );
    for (const [k, f] of Object.entries(manifest.files) as [string, { name: string; sha256: string; size: number }][]) {
      expect(f.name).toBe(archive(k.replace(/-(linux|darwin|windows)-.*$/, ""), k.replace(/^.*-(\w+-\w+)$/, "$1")));
      expect(f.size).toBe(statSync(join(dir, f.name)).size);
      expect(f.sha256).toBe(sumOf.get(f.name)!);
    }

    // The contents, flat, and each binary for its platform: every archive listed while it is
    // extracted (tar -xv: one decompression each), all at once.
    const checks = PLATFORMS.flatMap((platform) =>
      PROGRAMS.map(async (program) => {
        const win = platform.startsWith("windows");
        const exe = program + (win ? ".exe" : "");
        const want = [exe, "README.md", "LICENSE", `${program}.1`];
        if (program === "phantom")
          want.push("completions/phantom.bash", "completions/_phantom", "completions/phantom.fish");
        const file = join(dir, archive(program, platform));
        const x = join(work, "x", `${program}-${platform}`);
        mkdirSync(x, { recursive: true });
        const argv = win ? ["unzip", "-Z1", file] : ["tar", "-xvJf", file, "-C", x];
        const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
        const listed = (await new Response(p.stdout).text()).trim().split("\n").sort();
        expect(await p.exited).toBe(0);
        expect(listed).toEqual(want.sort());
        if (win) expect(run(["unzip", "-q", file, "-d", x]).code).toBe(0);
        expect(binaryFormat(new Uint8Array(readFileSync(join(x, exe))))).toBe(EXPECTED_FORMAT[platform]!);
        if (!win) expect(statSync(join(x, exe)).mode & 0o777).toBe(0o755);
        expect(readFileSync(join(x, `${program}.1`), "utf8")).toContain(`${program.replace("-", "\\-")} ${VERSION}`);
        expect(readFileSync(join(x, "LICENSE"), "utf8")).toContain("The Phantom authors");
      }),
    );
    await Promise.all(checks);

    const host = hostTarget().slice("bun-".length);
    for (const program of PROGRAMS) {
      const v = run([join(work, "x", `${program}-${host}`, program), "--version"]);
      expect(v.out.trim()).toContain(VERSION);
      expect(v.code).toBe(0);
    }
  }, 120_000);
});
