// The self-update of both programs (issue 11), given its parts: where the manifest is, the
// route, the pins and state, and how to ask. `phantom update` (client/cli/commands/update.ts)
// and `phantom-relay update` (relay/update.ts) wire it.
//
// Order of checks: pinned TLS (pinned-get.ts) → latest.json signature and version (manifest.ts)
// → no downgrade, no replay (newest version ever seen, stored) → the archive: announced size
// (bigger is cut off), SHA-256, its own signature → unpack only the binary, run it
// (install.ts) → rename over the binary, the old one kept as .old.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { blake2b512, parsePublicKey, verifyDigest } from "../minisign.ts";
import type { HttpResponse } from "../http1.ts";
import { compareVersions, MAX_MANIFEST_BYTES, platformKey, verifyManifest, type Manifest } from "./manifest.ts";
import { checkStarts, replaceBinary, tempBeside, unpackBinary } from "./install.ts";
import { PinMismatch, PinNeeded, pinKey, pinnedGet, UpdateError, type UpdateRoute } from "./pinned-get.ts";
import type { UpdateState, UpdateStore } from "./store.ts";

export const UPDATE_TIMEOUT_MS = 120_000;
/** How often the automatic check (settings: updates on) may ask the server. */
export const CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface Updater {
  program: "phantom" | "phantom-relay";
  /** The running version. */
  version: string;
  /** The release public key text (.pub). */
  releaseKey: string;
  /** The manifest URL (…/latest.json). */
  manifestUrl: URL;
  route: UpdateRoute;
  store: UpdateStore;
  /** Accept a first-seen server key without asking (--yes). */
  yes: boolean;
  /** Ask whether to trust a server key seen for the first time; null: nobody to ask. */
  confirmPin: ((host: string, pin: string) => Promise<boolean>) | null;
  /** The binary to replace (process.execPath). */
  binary: string;
  timeoutMs?: number;
  ca?: string;
  /** The time recorded as the last check (default: now). */
  now?: number;
}

/** The manifest URL of a configured update URL: "…/latest.json" as it is, a folder gets latest.json appended. */
export function manifestUrlOf(text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UpdateError("bad-update-url", `not a URL: '${text.slice(0, 200)}'`);
  }
  if (u.pathname.endsWith(".json")) return u;
  return new URL(u.pathname.endsWith("/") ? "latest.json" : `${u.pathname.split("/").pop()}/latest.json`, u);
}

async function get(
  up: Updater,
  url: URL,
  maxBytes: number,
  onBodyPart?: (part: Uint8Array) => void,
): Promise<Uint8Array> {
  const key = pinKey(url);
  const opts = { route: up.route, timeoutMs: up.timeoutMs ?? UPDATE_TIMEOUT_MS, maxBytes, ca: up.ca, onBodyPart };
  let res: HttpResponse;
  try {
    res = await pinnedGet(url, { ...opts, pin: up.store.pin(key) });
  } catch (e) {
    if (e instanceof PinMismatch)
      throw new UpdateError(
        "pin-mismatch",
        `the update server ${key} now shows key sha256/${e.seen}, not the pinned sha256/${e.pinned}: refusing (if its key really changed: ${up.program} update --reset-pin)`,
      );
    if (!(e instanceof PinNeeded)) throw e;
    // Trust on first use, after consent: nothing was sent to the server yet.
    const ok = up.yes || (up.confirmPin !== null && (await up.confirmPin(key, e.seen)));
    if (!ok)
      throw new UpdateError(
        "pin-refused",
        `the update server ${key} (key sha256/${e.seen}) is not trusted yet: run again on a terminal or with --yes`,
      );
    up.store.setPin(key, e.seen);
    res = await pinnedGet(url, { ...opts, pin: e.seen });
  }
  if (res.status !== 200) throw new UpdateError("http-status", `${url.href} answered HTTP ${res.status}`);
  return res.body;
}

export interface CheckResult {
  manifest: Manifest;
  /** The manifest's version is newer than the running one. */
  newer: boolean;
}

/** Fetch and verify the manifest; record the newest version seen and the time of the check. */
export async function checkForUpdate(up: Updater): Promise<CheckResult> {
  const body = await get(up, up.manifestUrl, MAX_MANIFEST_BYTES);
  const sig = await get(up, new URL(`${up.manifestUrl.pathname}.minisig`, up.manifestUrl), MAX_MANIFEST_BYTES);
  const m = verifyManifest(up.releaseKey, body, new TextDecoder().decode(sig));
  const state = up.store.state();
  if (compareVersions(m.version, up.version) < 0)
    throw new UpdateError(
      "downgrade",
      `the server offers ${up.program} ${m.version}, older than this ${up.version}: refusing a downgrade`,
    );
  if (state.newestSeen !== undefined && compareVersions(m.version, state.newestSeen) < 0)
    throw new UpdateError(
      "replay",
      `the server offers ${m.version}, but ${state.newestSeen} was already seen: an old manifest replayed? refusing`,
    );
  const next: UpdateState = { newestSeen: m.version, lastCheck: up.now ?? Date.now() };
  up.store.setState(next);
  return { manifest: m, newer: compareVersions(m.version, up.version) > 0 };
}

/**
 * Download the manifest's archive `name` (e.g. "phantom-linux-arm64") into `dir` and check it:
 * the announced size (more is cut off by the HTTP reader, fewer is "truncated"), its SHA-256,
 * and its own .minisig with the release key. Returns the archive's path.
 */
export async function downloadArchive(up: Updater, m: Manifest, name: string, dir: string): Promise<string> {
  const entry = m.files[name];
  if (!entry) throw new UpdateError("no-platform", `release ${m.version} has no ${name}`);
  const url = new URL(entry.name, up.manifestUrl);
  const archive = join(dir, entry.name);
  const fd = fs.openSync(archive, "wx", 0o600);
  const sha = createHash("sha256");
  const b2 = blake2b512();
  let got = 0;
  try {
    await get(up, url, entry.size, (part) => {
      got += part.length;
      sha.update(part);
      b2.update(part);
      fs.writeSync(fd, part);
    });
  } finally {
    fs.closeSync(fd);
  }
  if (got !== entry.size)
    throw new UpdateError("truncated", `${entry.name}: got ${got} bytes of ${entry.size}: not installed`);
  if (sha.digest("hex") !== entry.sha256)
    throw new UpdateError("bad-sha256", `${entry.name} does not match its SHA-256 in latest.json: not installed`);
  const sig = await get(up, new URL(`${url.pathname}.minisig`, url), MAX_MANIFEST_BYTES);
  const trusted = verifyDigest(parsePublicKey(up.releaseKey), new TextDecoder().decode(sig), b2.digest());
  if (!trusted.startsWith(`file:${entry.name} `))
    throw new UpdateError("bad-archive", `${entry.name}.minisig was made for another file: not installed`);
  return archive;
}

/** Download, check and install the manifest's archive for this platform; returns the new version. */
export async function installUpdate(up: Updater, m: Manifest): Promise<string> {
  const tmp = tempBeside(up.binary);
  try {
    const archive = await downloadArchive(up, m, `${up.program}-${platformKey()}`, tmp);
    const member = up.program + (process.platform === "win32" ? ".exe" : "");
    const fresh = unpackBinary(archive, tmp, member);
    checkStarts(fresh, up.program, m.version);
    replaceBinary(fresh, up.binary);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return m.version;
}
