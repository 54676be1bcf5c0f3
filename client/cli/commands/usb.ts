// phantom usb <folder> [--offline] [--yes]: a portable bundle (client/cli/usb.ts). This binary for
// this platform; with an update URL, the other platforms' binaries from the signed release, each
// archive checked as `phantom update` checks it (pinned TLS, signed latest.json, SHA-256, the
// archive's own signature; lib/update/updater.ts), over Tor when Tor is in use.
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PhantomError } from "../../../lib/errors.ts";
import { platformKey } from "../../../lib/update/manifest.ts";
import { unpackBinary } from "../../../lib/update/install.ts";
import { unzipMember } from "../../../lib/update/unzip.ts";
import { checkForUpdate, downloadArchive } from "../../../lib/update/updater.ts";
import { VERSION } from "../../../lib/version.ts";
import { loadConfig } from "../config.ts";
import { printWarning } from "../errors.ts";
import { IDENTITY_FILE } from "../../state/home.ts";
import { checkBundleFolder, PLATFORMS, writeBundle } from "../usb.ts";
import { needCompiled } from "./context.ts";
import { updater } from "./update.ts";

export interface UsbFlags {
  offline?: boolean;
  yes?: boolean;
}

/** The other platforms' binaries of the current release, unpacked into `tmp`. */
async function releaseBinaries(
  g: { json?: boolean; direct?: boolean },
  flags: UsbFlags,
  tmp: string,
  say: (s: string) => void,
): Promise<{ version: string; binaries: Map<string, string> }> {
  const up = await updater(loadConfig(g), { yes: flags.yes });
  // As "version 0.0.0": a release older than this binary is fine for the other platforms, but
  // the signature and the replay rule (never older than the newest seen) still hold.
  const { manifest } = await checkForUpdate({ ...up, version: "0.0.0" });
  const binaries = new Map<string, string>();
  for (const platform of PLATFORMS) {
    if (platform === platformKey()) continue;
    const name = `phantom-${platform}`;
    if (!manifest.files[name]) {
      say(`phantom: release ${manifest.version} has no ${name}: left out`);
      continue;
    }
    const dir = fs.mkdtempSync(join(tmp, `${platform}-`));
    const archive = await downloadArchive(up, manifest, name, dir);
    let bin: string;
    if (archive.endsWith(".zip")) {
      bin = join(dir, "phantom.exe");
      await unzipMember(archive, "phantom.exe", bin);
    } else {
      bin = unpackBinary(archive, dir, "phantom");
    }
    fs.rmSync(archive);
    binaries.set(platform, bin);
    say(`phantom: ${name} ${manifest.version}: signature and SHA-256 verified`);
  }
  return { version: manifest.version, binaries };
}

export async function run(g: { json?: boolean; direct?: boolean }, folderArg: string, o: UsbFlags = {}): Promise<void> {
  const cfg = loadConfig(g);
  const folder = resolve(folderArg);
  needCompiled("usb");
  if (!fs.existsSync(join(cfg.home, IDENTITY_FILE)))
    throw new PhantomError("no-identity", `no identity in ${cfg.home}: run 'phantom init' first`);
  checkBundleFolder(folder); // before any download
  const progress = (s: string) => (g.json ? undefined : process.stderr.write(`${s}\n`));

  const binaries = new Map<string, string>([[platformKey(), process.execPath]]);
  let releaseVersion: string | null = null;
  const tmp = fs.mkdtempSync(join(tmpdir(), "phantom-usb-"));
  try {
    if (o.offline) {
      progress("phantom: --offline: the bundle gets this binary only");
    } else if (cfg.updateUrl === undefined) {
      progress(
        "phantom: no update URL (phantom settings update-url): the bundle gets this binary only, for " + platformKey(),
      );
    } else {
      const rel = await releaseBinaries(g, o, tmp, progress);
      releaseVersion = rel.version;
      for (const [k, v] of rel.binaries) binaries.set(k, v);
    }
    const platforms = writeBundle({ folder, home: cfg.home, version: VERSION, binaries });
    printWarning(
      `${folder} holds your identity and contacts, encrypted with your password: whoever gets it can try to guess your password offline; keep it as safe as this computer`,
    );
    if (g.json) {
      process.stdout.write(
        `${JSON.stringify({ usb: folder, version: VERSION, release: releaseVersion, platforms })}\n`,
      );
    } else {
      process.stdout.write(
        `phantom: bundle written to ${folder} (${platforms.join(", ")}); start it with run-linux.sh, run-macos.sh or run-windows.bat\n`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
