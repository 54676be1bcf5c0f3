// Test helper: release keys, release folders and differently built binaries, all through the
// real tools (release/cli.ts via ./build.sh release, ./build.sh with PHANTOM_BUILD_OUT): never dist/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../../release/secret-key.ts";
import { ROOT } from "./relay.ts";

/** The Bun target of this machine, e.g. "bun-linux-x64". */
export function hostTarget(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `bun-${os}-${process.arch === "arm64" ? "arm64" : "x64"}`;
}

/** An unencrypted (as `minisign -G -W`) release key pair written into dir. */
export function makeTestKey(dir: string): { pubFile: string; keyFile: string } {
  const pair = generateKeyPair();
  const keyFile = join(dir, "test-release.key");
  const pubFile = join(dir, "test-release.pub");
  writeFileSync(keyFile, pair.secretText, { mode: 0o600 });
  writeFileSync(pubFile, pair.publicText);
  return { pubFile, keyFile };
}

function runBuild(args: string[], env: Record<string, string>, what: string): string {
  const r = Bun.spawnSync(["./build.sh", ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  if (r.exitCode !== 0) {
    throw new Error(`${what} failed (exit ${r.exitCode}):\n${r.stderr.toString()}${r.stdout.toString()}`);
  }
  return r.stdout.toString();
}

export interface ReleaseOptions {
  version: string;
  keyFile: string;
  pubFile: string;
  /** The release folder to write (PHANTOM_RELEASE_DIR). */
  dir: string;
  /** Bun targets; default this machine's only. */
  targets?: string[];
  /** Extra environment (PHANTOM_DEFAULT_UPDATE_URL, PHANTOM_RELEASE_NOTES…). */
  env?: Record<string, string>;
}

/** `./build.sh release` at xz level 0 into dir; returns dir. Throws with build.sh's output on failure. */
export function buildRelease(o: ReleaseOptions): string {
  runBuild(
    ["release"],
    {
      PHANTOM_VERSION: o.version,
      PHANTOM_RELEASE_KEY_FILE: o.keyFile,
      PHANTOM_RELEASE_PUB_FILE: o.pubFile,
      PHANTOM_RELEASE_DIR: o.dir,
      PHANTOM_RELEASE_TARGETS: (o.targets ?? [hostTarget()]).join(","),
      PHANTOM_RELEASE_XZ_LEVEL: "0",
      ...o.env,
    },
    "./build.sh release",
  );
  return o.dir;
}

/** This machine's phantom and phantom-relay built with that version and public key into out; returns out. */
export function buildBinaries(o: {
  version: string;
  pubFile: string;
  out: string;
  env?: Record<string, string>;
}): string {
  runBuild(
    ["build"],
    { PHANTOM_VERSION: o.version, PHANTOM_RELEASE_PUB_FILE: o.pubFile, PHANTOM_BUILD_OUT: o.out, ...o.env },
    "./build.sh build",
  );
  return o.out;
}

/** What several test files share: one five-target release and one older build, made once per test process. */
export interface SharedRelease {
  /** The release's key pair (unencrypted) and another one, for forgeries. */
  key: { pubFile: string; keyFile: string };
  other: { pubFile: string; keyFile: string };
  /** `./build.sh release` at SHARED_VERSION for the five platforms (xz level 0), notes "test notes". */
  releaseDir: string;
  /** phantom and phantom-relay at OLD_VERSION for this machine, with the same public key. */
  oldDir: string;
}

export const SHARED_VERSION = "9.0.0";
export const OLD_VERSION = "0.1.0";
export const RELEASE_PLATFORMS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"];

let shared: SharedRelease | undefined;

function buildShared(root: string): SharedRelease {
  const mk = (d: string) => (mkdirSync(join(root, d)), join(root, d));
  const key = makeTestKey(mk("key"));
  const other = makeTestKey(mk("other"));
  const releaseDir = buildRelease({
    version: SHARED_VERSION,
    ...key,
    dir: join(root, "release"),
    targets: RELEASE_PLATFORMS.map((p) => `bun-${p}`),
    env: { PHANTOM_RELEASE_NOTES: "test notes" },
  });
  const oldDir = buildBinaries({ version: OLD_VERSION, pubFile: key.pubFile, out: join(root, "old") });
  return { key, other, releaseDir, oldDir };
}

/** How long a test process waits for another one building the shared release. */
const SHARED_WAIT_MS = 10 * 60_000;

/**
 * The shared release, built on first use (about a minute) and then reused by tests/release-build,
 * update and relay-update. Under `./build.sh test` (PHANTOM_TEST_SHARED_DIR set; test files run in
 * parallel worker processes) the first process to create the folder builds it and the others wait
 * for its done.json; alone, a test process builds its own in a temp folder removed at exit.
 * Never write into it: copy or link what a test changes.
 */
export function sharedRelease(): SharedRelease {
  if (shared) return shared;
  const base = process.env.PHANTOM_TEST_SHARED_DIR;
  if (!base) {
    const root = mkdtempSync(join(tmpdir(), "phantom-shared-release-"));
    process.on("exit", () => rmSync(root, { recursive: true, force: true }));
    shared = buildShared(root);
    return shared;
  }
  const root = join(base, "release");
  const done = join(root, "done.json");
  let builder = true;
  try {
    mkdirSync(root); // the lock: exactly one process creates it
  } catch {
    builder = false;
  }
  if (builder) {
    try {
      shared = buildShared(root);
      writeFileSync(done, JSON.stringify({ ok: shared }));
    } catch (e) {
      writeFileSync(done, JSON.stringify({ error: (e as Error).message }));
      throw e;
    }
    return shared;
  }
  const deadline = Date.now() + SHARED_WAIT_MS;
  while (!existsSync(done)) {
    if (Date.now() > deadline) throw new Error(`no shared release in ${root} after ${SHARED_WAIT_MS / 1000} s`);
    Bun.sleepSync(200);
  }
  const r = JSON.parse(readFileSync(done, "utf8")) as { ok?: SharedRelease; error?: string };
  if (!r.ok) throw new Error(`the shared release failed to build in another test process: ${r.error}`);
  shared = r.ok;
  return shared;
}
