// Test helper: release keys, release folders and differently built binaries, all through the
// real tools (release/cli.ts via ./build.sh release, ./build.sh with PHANTOM_BUILD_OUT): never dist/.
import { writeFileSync } from "node:fs";
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
