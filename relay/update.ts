// phantom-relay update [--check] [--yes] [--reset-pin] [--update-url <url>] [--data <dir>]:
// replace the relay's binary on disk with the newest signed release (lib/update/, the same
// checks as `phantom update`), then print the command to restart it; the running relay is
// not touched. The update URL: --update-url, else PHANTOM_UPDATE_URL, else the one compiled in.
// The pins and the newest version seen live in the relay's data folder.
import { checkUpdateUrl } from "../lib/update/pinned-get.ts";
import { fileStore } from "../lib/update/store.ts";
import { checkForUpdate, installUpdate, manifestUrlOf, type Updater } from "../lib/update/updater.ts";
import { DEFAULT_UPDATE_URL, RELEASE_PUBLIC_KEY, VERSION } from "../lib/version.ts";
import { DEFAULTS } from "./defaults.ts";
import { ConfigError } from "./errors.ts";

export const UPDATE_USAGE = "phantom-relay update [--check] [--yes] [--reset-pin] [--update-url URL] [--data DIR]";

export interface RelayUpdateArgs {
  check: boolean;
  yes: boolean;
  resetPin: boolean;
  updateUrl?: string;
  dataDir?: string;
}

export function parseUpdateArgs(argv: string[]): RelayUpdateArgs {
  const a: RelayUpdateArgs = { check: false, yes: false, resetPin: false };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new ConfigError(`${f} needs a value`);
      return v;
    };
    if (f === "--help" || f === "-h") throw new ConfigError(`usage: ${UPDATE_USAGE}`);
    else if (f === "--check") a.check = true;
    else if (f === "--yes" || f === "-y") a.yes = true;
    else if (f === "--reset-pin") a.resetPin = true;
    else if (f === "--update-url") a.updateUrl = value();
    else if (f === "--data") a.dataDir = value();
    else throw new ConfigError(`unknown option for update: ${f} (--check, --yes, --reset-pin, --update-url, --data)`);
  }
  return a;
}

export async function runUpdate(
  a: RelayUpdateArgs,
  env: Record<string, string | undefined>,
  say: (line: string) => void,
): Promise<void> {
  const dataDir = a.dataDir ?? env.PHANTOM_RELAY_DATA ?? DEFAULTS.dataDir;
  const store = fileStore(dataDir);
  if (a.resetPin) {
    store.resetPins();
    say("phantom-relay: forgot the pinned update server keys; the next update asks again");
    return;
  }
  const text = [a.updateUrl, env.PHANTOM_UPDATE_URL, DEFAULT_UPDATE_URL].find((v) => v !== undefined && v !== "");
  if (text === undefined)
    throw new ConfigError("this build has no update URL: give one with --update-url <https URL> or PHANTOM_UPDATE_URL");
  const manifestUrl = manifestUrlOf(text);
  checkUpdateUrl(manifestUrl);
  const up: Updater = {
    program: "phantom-relay",
    version: VERSION,
    releaseKey: RELEASE_PUBLIC_KEY,
    manifestUrl,
    // A relay is a public server: it fetches its update directly.
    route: { via: "direct" },
    store,
    yes: a.yes,
    confirmPin: null,
    binary: process.execPath,
  };
  const { manifest, newer } = await checkForUpdate(up);
  if (!newer) return say(`phantom-relay ${VERSION} is up to date`);
  if (a.check)
    return say(
      `phantom-relay ${manifest.version} is available (this is ${VERSION}) — run \`phantom-relay update --yes\``,
    );
  if (!a.yes) throw new ConfigError(`not installing phantom-relay ${manifest.version} unasked: run with --yes`);
  await installUpdate(up, manifest);
  say(`phantom-relay: ${process.execPath} is now ${manifest.version} (previous: ${process.execPath}.old)`);
  say(
    `restart it to run the new version, e.g.: systemctl restart phantom-relay   (or stop it and start ${process.execPath} again)`,
  );
}
