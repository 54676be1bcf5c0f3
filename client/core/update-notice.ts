// The once-a-day release check (settings: updates on): at most one manifest fetch per
// CHECK_INTERVAL_MS, recorded in update-state.json, and a line when a newer signed release was
// seen. It never installs, never asks: no pinned key yet, or a route that would need consent
// to go direct, and it stays silent (`phantom update` asks). Shown by whoami and the menu.
import { chooseRoute, type TorConfig } from "../../lib/tor.ts";
import { compareVersions } from "../../lib/update/manifest.ts";
import { checkUpdateUrl } from "../../lib/update/pinned-get.ts";
import { CHECK_INTERVAL_MS, checkForUpdate, manifestUrlOf } from "../../lib/update/updater.ts";
import { RELEASE_PUBLIC_KEY, VERSION } from "../../lib/version.ts";
import { updateStore } from "../state/update.ts";

export interface NoticeConfig {
  home: string;
  tor: TorConfig;
  direct: boolean;
  updateUrl?: string;
  updateChecks?: boolean;
}

export const NOTICE_TIMEOUT_MS = 5000;

/** "Phantom X.Y.Z is available — run `phantom update`", or null. */
export async function updateNotice(
  c: NoticeConfig,
  o: { now?: number; version?: string; releaseKey?: string; binary?: string } = {},
): Promise<string | null> {
  if (c.updateChecks !== true || c.updateUrl === undefined) return null;
  const version = o.version ?? VERSION;
  const now = o.now ?? Date.now();
  const store = updateStore(c.home);
  const last = store.state().lastCheck;
  if (last === undefined || now - last >= CHECK_INTERVAL_MS || last > now) {
    store.setState({ lastCheck: now }); // a failed check waits a day too
    try {
      const manifestUrl = manifestUrlOf(c.updateUrl);
      checkUpdateUrl(manifestUrl);
      const plan = await chooseRoute(manifestUrl, c.tor);
      if (plan.via === "tor" || !plan.needsConsent || c.direct) {
        await checkForUpdate({
          program: "phantom",
          version,
          releaseKey: o.releaseKey ?? RELEASE_PUBLIC_KEY,
          manifestUrl,
          route:
            plan.via === "tor"
              ? { via: "tor", proxyHost: c.tor.proxyHost, proxyPort: c.tor.proxyPort }
              : { via: "direct" },
          store,
          yes: false,
          confirmPin: null,
          binary: o.binary ?? process.execPath,
          timeoutMs: NOTICE_TIMEOUT_MS,
          now,
        });
      }
    } catch {
      // A background check says nothing when it fails; `phantom update --check` tells why.
    }
  }
  const seen = store.state().newestSeen;
  return seen !== undefined && compareVersions(seen, version) > 0
    ? `Phantom ${seen} is available — run \`phantom update\``
    : null;
}
