// install.sh end to end: a local HTTPS release server on 127.0.0.1 (the test certificate, trusted by curl
// through CURL_CA_BUNDLE) serves a release signed with a throwaway minisign key; the script is run with
// that key written into a copy of it. Verified with the real minisign, with openssl only, with neither.
// Stand-in release (host archive made here by hand) until tests/helpers/release.ts buildRelease lands.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "./helpers/cli.ts";
import { CLIENT_BIN, ROOT, TLS_DIR } from "./helpers/relay.ts";

const SCRIPT = join(ROOT, "install.sh");
const CERT = join(TLS_DIR, "localhost-test-cert.pem");
const ARCH = process.arch === "arm64" ? "arm64" : "x64";
const HOST_ARCHIVE = `phantom-linux-${ARCH}.tar.xz`;

let work: string;
let server: ReturnType<typeof Bun.serve>;
let requested: string[] = [];
/** Release folders by name: /<name>/<file>. */
let pubKey: string;
let scriptCopy: string;

function sh(cmd: string[], cwd?: string): string {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

function sha256(file: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
}

/** A throwaway unencrypted minisign pair in dir: {pub (key line), key file}. */
function makeKey(dir: string): { pub: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  sh(["minisign", "-G", "-W", "-p", join(dir, "k.pub"), "-s", join(dir, "k.key")]);
  return { pub: readFileSync(join(dir, "k.pub"), "utf8").split("\n")[1]!, keyFile: join(dir, "k.key") };
}

/** Staging folder → an archive already made of it (xz -0 of the real binary takes ~14 s: once per run). */
const packed = new Map<string, string>();

/** A release folder: the archives given (name → staging folder), SHA256SUMS and its prehashed signature. */
function makeRelease(dir: string, archives: Record<string, string>, keyFile: string) {
  mkdirSync(dir, { recursive: true });
  const sums: string[] = [];
  for (const [name, staging] of Object.entries(archives)) {
    const out = join(dir, name);
    const cached = packed.get(staging);
    if (cached) {
      sh(["cp", cached, out]);
      sums.push(`${sha256(out)}  ${name}`);
      continue;
    }
    packed.set(staging, out);
    const r = Bun.spawnSync(["sh", "-c", `tar -cf - -C "${staging}" . | xz -0 -T0 > "${out}"`]);
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    sums.push(`${sha256(out)}  ${name}`);
  }
  writeFileSync(join(dir, "SHA256SUMS"), sums.join("\n") + "\n");
  const ts = Math.floor(Date.now() / 1000);
  sh(["minisign", "-S", "-s", keyFile, "-m", join(dir, "SHA256SUMS"), "-t", `file:SHA256SUMS timestamp:${ts}`]);
}

/** A folder of symlinks to the named tools (those that exist), to run the script with a narrow PATH. */
function toolDir(name: string, tools: string[]): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const t of tools) {
    const found = Bun.which(t, { PATH: "/usr/local/bin:/usr/bin:/bin" });
    if (found) symlinkSync(found, join(dir, t));
  }
  return dir;
}

const BASE_TOOLS = [
  "sh",
  "uname",
  "curl",
  "tar",
  "xz",
  "mktemp",
  "dd",
  "od",
  "tr",
  "awk",
  "sed",
  "cut",
  "wc",
  "cat",
  "cp",
  "mv",
  "rm",
  "mkdir",
  "chmod",
  "basename",
  "sha256sum",
  "sysctl",
];

async function install(release: string, o: { path?: string; args?: string[]; home?: string } = {}) {
  const home = o.home ?? mkdtempSync(join(work, "home-"));
  const bin = join(home, "bin");
  const env: Record<string, string> = {
    PATH: o.path ?? process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    PHANTOM_RELEASE_URL: `https://127.0.0.1:${server.port}/${release}/`,
    PHANTOM_INSTALL_DIR: bin,
    CURL_CA_BUNDLE: CERT,
  };
  const r = await runProgram(["/bin/sh", scriptCopy, ...(o.args ?? [])], env, { timeoutMs: 30_000 });
  return { ...r, home, bin };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "phantom-install-"));
  const key = makeKey(join(work, "key"));
  const other = makeKey(join(work, "other"));
  pubKey = key.pub;
  scriptCopy = join(work, "install.sh");
  writeFileSync(scriptCopy, readFileSync(SCRIPT, "utf8").replace(/^PUBKEY=.*$/m, `PUBKEY=${pubKey}`));

  // The host archive: the real dist/phantom with its man page and completions, flat.
  const stage = join(work, "stage");
  mkdirSync(join(stage, "completions"), { recursive: true });
  sh(["cp", CLIENT_BIN, join(stage, "phantom")]);
  sh(["cp", join(ROOT, "README.md"), stage]);
  writeFileSync(join(stage, "LICENSE"), "test license\n");
  writeFileSync(join(stage, "phantom.1"), ".TH PHANTOM 1\n");
  for (const [shell, file] of [
    ["bash", "phantom.bash"],
    ["zsh", "_phantom"],
    ["fish", "phantom.fish"],
  ] as const) {
    writeFileSync(join(stage, "completions", file), sh([CLIENT_BIN, "completion", shell]));
  }
  // A stand-in arm64 "binary" (a script) so the arm64 case can be told apart without running foreign code.
  const arm = join(work, "stage-arm");
  mkdirSync(arm);
  writeFileSync(join(arm, "phantom"), "#!/bin/sh\necho 'phantom arm64 stand-in'\n");
  chmodSync(join(arm, "phantom"), 0o755);

  makeRelease(join(work, "www/good"), { [HOST_ARCHIVE]: stage, "phantom-linux-arm64.tar.xz": arm }, key.keyFile);
  // Signed by another key.
  makeRelease(join(work, "www/otherkey"), { [HOST_ARCHIVE]: stage }, other.keyFile);
  // Tampered archive: the good SHA256SUMS and signature, an archive with one byte changed.
  makeRelease(join(work, "www/tampered"), { [HOST_ARCHIVE]: stage }, key.keyFile);
  const t = join(work, "www/tampered", HOST_ARCHIVE);
  const bytes = readFileSync(t);
  bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 1;
  writeFileSync(t, bytes);

  // SHA256SUMS changed after signing (same key id, so the openssl path gets to the Ed25519 check).
  makeRelease(join(work, "www/sums"), { [HOST_ARCHIVE]: stage }, key.keyFile);
  const sums = join(work, "www/sums/SHA256SUMS");
  writeFileSync(sums, readFileSync(sums, "utf8") + `${"0".repeat(64)}  extra.tar.xz\n`);

  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: readFileSync(CERT, "utf8"), key: readFileSync(join(TLS_DIR, "localhost-test-key.pem"), "utf8") },
    fetch(req) {
      const path = new URL(req.url).pathname;
      requested.push(path);
      const file = join(work, "www", path);
      if (path.includes("..") || !existsSync(file) || !statSync(file).isFile())
        return new Response("no", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
}, 60_000);

afterAll(() => {
  server?.stop(true);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("install.sh", () => {
  test("its PUBKEY line is the key line of release/phantom-release.pub", () => {
    const pub = readFileSync(join(ROOT, "release/phantom-release.pub"), "utf8").split("\n")[1]!.trim();
    const line = readFileSync(SCRIPT, "utf8").match(/^PUBKEY=(\S+)$/m);
    expect(line?.[1]).toBe(pub);
    // install.ps1 (Windows; no PowerShell here to run it) carries the same key.
    const ps = readFileSync(join(ROOT, "install.ps1"), "utf8").match(/^\$PubKey = '(\S+)'$/m);
    expect(ps?.[1]).toBe(pub);
  });

  test("installs with minisign: binary 0755 runs --version, man page and completions in the user folders", async () => {
    const r = await install("good");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("verified with minisign");
    expect(r.stdout).toContain("phantom init");
    expect(r.stdout).toContain("is not on your PATH");
    const bin = join(r.bin, "phantom");
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    const v = await runProgram([bin, "--version"], { PATH: "/usr/bin:/bin", HOME: r.home });
    expect(v.stdout).toMatch(/^phantom \d+\.\d+\.\d+/);
    expect(existsSync(join(r.home, ".local/share/man/man1/phantom.1"))).toBe(true);
    expect(readFileSync(join(r.home, ".local/share/bash-completion/completions/phantom"), "utf8")).toContain(
      "_phantom",
    );
    expect(existsSync(join(r.home, ".local/share/zsh/site-functions/_phantom"))).toBe(true);
    expect(existsSync(join(r.home, ".config/fish/completions/phantom.fish"))).toBe(true);
  }, 40_000);

  test("installs with openssl only (no minisign on PATH)", async () => {
    const path = toolDir("path-openssl", [...BASE_TOOLS, "openssl"]);
    const r = await install("good", { path });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("verified with openssl");
    expect(r.code).toBe(0);
    expect(existsSync(join(r.bin, "phantom"))).toBe(true);
  }, 40_000);

  test("openssl path refuses SHA256SUMS signed by another key", async () => {
    const path = join(work, "path-openssl");
    const r = await install("otherkey", { path });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^install\.sh: error: SHA256SUMS\.minisig was made by another key .*\n$/);
    expect(existsSync(join(r.bin, "phantom"))).toBe(false);
  }, 40_000);

  test("openssl path refuses a SHA256SUMS changed after signing", async () => {
    const r = await install("sums", { path: join(work, "path-openssl") });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("install.sh: error: the signature of SHA256SUMS does not verify: refusing to install\n");
    expect(existsSync(r.bin)).toBe(false);
  }, 40_000);

  test("neither minisign nor openssl: refused, unless --no-verify (the checksum still checked)", async () => {
    const path = toolDir("path-none", BASE_TOOLS);
    const r = await install("good", { path });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "install.sh: error: cannot check the release signature: install minisign (or openssl >= 3), or rerun with --no-verify\n",
    );
    expect(existsSync(join(r.bin, "phantom"))).toBe(false);
    const ok = await install("good", { path, args: ["--no-verify"] });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("NOT checked");
    expect(existsSync(join(ok.bin, "phantom"))).toBe(true);
    const bad = await install("tampered", { path, args: ["--no-verify"] });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("does not match SHA256SUMS");
  }, 40_000);

  test("tampered archive: refused and nothing installed", async () => {
    const r = await install("tampered");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^install\.sh: error: phantom-linux-\w+\.tar\.xz does not match SHA256SUMS .*\n$/);
    expect(existsSync(r.bin)).toBe(false);
    expect(existsSync(join(r.home, ".local"))).toBe(false);
  }, 40_000);

  test("SHA256SUMS signed by another key: refused by minisign", async () => {
    const r = await install("otherkey");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "install.sh: error: the signature of SHA256SUMS does not verify with the Phantom release key: refusing to install\n",
    );
    expect(existsSync(r.bin)).toBe(false);
  }, 40_000);

  test("arm64: a uname saying aarch64 gets phantom-linux-arm64.tar.xz", async () => {
    const fake = join(work, "fake-uname");
    mkdirSync(fake);
    writeFileSync(
      join(fake, "uname"),
      '#!/bin/sh\ncase "$1" in -m) echo aarch64 ;; -s) echo Linux ;; *) /bin/uname "$@" ;; esac\n',
    );
    chmodSync(join(fake, "uname"), 0o755);
    requested = [];
    const r = await install("good", { path: `${fake}:${process.env.PATH ?? "/usr/bin:/bin"}` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(requested).toContain("/good/phantom-linux-arm64.tar.xz");
    expect(requested).not.toContain(`/good/phantom-linux-x64.tar.xz`);
    expect(readFileSync(join(r.bin, "phantom"), "utf8")).toContain("arm64 stand-in");
  }, 40_000);
});
