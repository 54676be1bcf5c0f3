// phantom update [--check] [--yes] [--rollback] [--reset-pin]: replace this binary with the
// newest signed release (lib/update/). The update URL: PHANTOM_UPDATE_URL, else
// `phantom settings update-url`, else the one compiled in. The route is the relay's choice
// (lib/tor.ts): through Tor when Tor is in use, and never direct to a remote host without the
// same consent (--direct / PHANTOM_DIRECT=1, or a yes on the terminal).
import { PhantomError } from "../../../lib/errors.ts";
import { chooseRoute } from "../../../lib/tor.ts";
import { rollbackBinary } from "../../../lib/update/install.ts";
import { checkUpdateUrl, type UpdateRoute } from "../../../lib/update/pinned-get.ts";
import { checkForUpdate, installUpdate, manifestUrlOf, type Updater } from "../../../lib/update/updater.ts";
import { RELEASE_PUBLIC_KEY, VERSION } from "../../../lib/version.ts";
import { updateStore } from "../../state/update.ts";
import { loadConfig, type ClientConfig } from "../config.ts";
import { confirm, stdinIsTTY } from "../prompt.ts";

export interface UpdateFlags {
  check?: boolean;
  yes?: boolean;
  rollback?: boolean;
  resetPin?: boolean;
}

const say = (s: string) => process.stdout.write(`${s}\n`);

/** The manifest URL of the configuration (PHANTOM_UPDATE_URL, settings, compiled in); else a one-line error. */
export function updateUrlOf(cfg: ClientConfig): URL {
  if (cfg.updateUrl === undefined)
    throw new PhantomError(
      "no-update-url",
      "this build has no update URL: set one with 'phantom settings update-url <https URL>' or PHANTOM_UPDATE_URL",
    );
  const u = manifestUrlOf(cfg.updateUrl);
  checkUpdateUrl(u);
  return u;
}

/** Tor when Tor is in use; direct to a remote host only with --direct / PHANTOM_DIRECT or a yes. */
export async function updateRoute(cfg: ClientConfig, u: URL, interactive: boolean): Promise<UpdateRoute> {
  const plan = await chooseRoute(u, cfg.tor);
  if (plan.via === "tor") return { via: "tor", proxyHost: cfg.tor.proxyHost, proxyPort: cfg.tor.proxyPort };
  if (plan.needsConsent && !cfg.direct) {
    const ok =
      interactive &&
      (process.stderr.write(`phantom: warning: ${plan.reason}\n`), await confirm("Connect directly anyway?"));
    if (!ok)
      throw new PhantomError(
        "direct-refused",
        `not connecting directly to the update server ${u.host} (${plan.reason}); start Tor, or allow it with --direct or PHANTOM_DIRECT=1`,
      );
  }
  return { via: "direct" };
}

export async function updater(cfg: ClientConfig, flags: UpdateFlags): Promise<Updater> {
  const manifestUrl = updateUrlOf(cfg);
  const interactive = stdinIsTTY() && process.stderr.isTTY === true;
  return {
    program: "phantom",
    version: VERSION,
    releaseKey: RELEASE_PUBLIC_KEY,
    manifestUrl,
    route: await updateRoute(cfg, manifestUrl, interactive),
    store: updateStore(cfg.home),
    yes: flags.yes === true,
    confirmPin: interactive
      ? async (host, pin) => {
          process.stderr.write(`The update server ${host} shows the key sha256/${pin}\n`);
          return await confirm("Trust this key for updates from now on?");
        }
      : null,
    binary: process.execPath,
  };
}

export async function run(g: { json?: boolean; direct?: boolean }, o: UpdateFlags = {}): Promise<void> {
  const cfg = loadConfig(g);
  if (o.rollback) {
    rollbackBinary(process.execPath, "phantom");
    say(`phantom: went back to the previous binary (${process.execPath})`);
    return;
  }
  if (o.resetPin) {
    updateStore(cfg.home).resetPins();
    say("phantom: forgot the pinned update server keys; the next update asks again");
    return;
  }
  const up = await updater(cfg, o);
  const { manifest, newer } = await checkForUpdate(up);
  if (!newer) {
    say(`phantom ${VERSION} is up to date`);
    return;
  }
  if (o.check) {
    say(`Phantom ${manifest.version} is available (this is ${VERSION}) — run \`phantom update\``);
    return;
  }
  if (!o.yes && !(stdinIsTTY() && (await confirm(`Install phantom ${manifest.version} over ${VERSION}?`))))
    throw new PhantomError("not-confirmed", `not installing phantom ${manifest.version}: run with --yes`);
  const v = await installUpdate(up, manifest);
  say(
    `phantom: updated to ${v} (the previous binary is ${process.execPath}.old; 'phantom update --rollback' goes back)`,
  );
}
