// First run (no identity yet): what Phantom protects, relay check, Tor, password,
// identity creation and registration, then the UID with its QR code.
import * as p from "@clack/prompts";
import { torStatus } from "../../lib/tor.ts";
import { RelayClient } from "../net/relay-client.ts";
import { checkRelayUrl, planRelayRoute, transportFor, type Route } from "../net/route.ts";
import { Session, sessionConfig } from "../core/session.ts";
import { DEFAULT_RELAY, type Settings, updateSettings } from "../state/settings.ts";
import { identityPath, MIN_PASSWORD_LENGTH } from "../state/vault.ts";
import { identityCard } from "./identity-card.ts";
import { cleanText } from "../text/sanitise.ts";
import { errorText, type Ui } from "./ui.ts";

const WELCOME = (t: Ui["theme"]) =>
  [
    "Phantom sends end-to-end encrypted messages and files from your terminal.",
    "",
    t.ok("Protected:"),
    "  • what you write and send: encrypted here, the relay stores only ciphertext",
    "  • your identity key: made on this machine, locked by your password",
    t.warn("Not protected:"),
    "  • your IP address, unless you use Tor: the relay sees where you connect from",
    "  • who talks to whom, and when: the relay sees rooms and times",
    "  • a machine that is already compromised",
  ].join("\n");

/** Cancel (Esc / Ctrl-C) anywhere in the wizard ends it. */
class WizardCancelled extends Error {}
function must<T>(v: T): Exclude<T, symbol> {
  if (p.isCancel(v)) throw new WizardCancelled();
  return v as Exclude<T, symbol>;
}

type RelayState = { url: string; route: Route; online: boolean; directOk: boolean };

async function checkHealth(url: string, route: Route): Promise<string> {
  const relay = new RelayClient({ baseUrl: url, transport: transportFor(route), timeoutMs: 8000, retries: 0 });
  return (await relay.health()).version;
}

/** An address typed in the wizard; typed empty, the saved relay or the default. */
function typedRelayUrl(typed: string, settings: Settings): string {
  return checkRelayUrl(typed || settings.relay || DEFAULT_RELAY);
}

/** Relay address, Tor detection, consent for a direct connection, /health. */
async function chooseRelay(ui: Ui): Promise<RelayState> {
  const t = ui.theme;
  let url = ui.config.relayUrl;
  for (;;) {
    const route = await planRelayRoute(url, ui.config.tor);
    const tor = await torStatus(route.cfg, { relayUrl: url, timeoutMs: 1500 });
    p.note(tor.join("\n"), route.viaTor ? "Tor: your IP is hidden from the relay" : "Tor");
    let directOk = true;
    // --direct or PHANTOM_DIRECT=1 is the user's consent already.
    if (route.plan?.needsConsent && ui.settings.torWarning && !ui.config.direct) {
      directOk = must(
        await p.confirm({
          message: t.warn(`Connect to ${url} directly? The relay will see your IP address.`),
          initialValue: false,
        }),
      );
    }
    let problem: string | null = null;
    if (!directOk) problem = "not connecting without Tor";
    else if (route.error) problem = errorText(route.error);
    else {
      try {
        const version = await checkHealth(url, route);
        // The version is the relay's text: shown, never acted on.
        p.log.success(`Relay ${url} is up (phantom-relay ${cleanText(version, { oneLine: true })}).`);
        return { url, route, online: true, directOk };
      } catch (e) {
        problem = errorText(e);
      }
    }
    p.log.error(`Relay ${url}: ${problem}`);
    const next = must(
      await p.select({
        message: "What now?",
        options: [
          { value: "retry", label: "Try again" },
          { value: "other", label: "Use another relay address" },
          { value: "offline", label: "Continue offline", hint: "create the identity now, register later" },
          { value: "quit", label: "Quit" },
        ],
      }),
    );
    if (next === "quit") throw new WizardCancelled();
    if (next === "offline") return { url, route, online: false, directOk };
    if (next === "other") {
      const typed = must(
        await p.text({
          message: "Relay address",
          initialValue: url,
          validate: (v) => {
            try {
              typedRelayUrl(v ?? "", ui.settings);
              return undefined;
            } catch (e) {
              return errorText(e);
            }
          },
        }),
      );
      url = typedRelayUrl(typed, ui.settings);
    }
  }
}

async function choosePassword(ui: Ui): Promise<string> {
  p.log.info(
    `Choose a password (at least ${MIN_PASSWORD_LENGTH} characters). It locks your identity on this machine;\n` +
      "nobody can reset it for you.",
  );
  for (;;) {
    const first = must(
      await p.password({
        message: "New password",
        validate: (v) =>
          [...(v ?? "")].length < MIN_PASSWORD_LENGTH ? `At least ${MIN_PASSWORD_LENGTH} characters` : undefined,
      }),
    );
    const second = must(await p.password({ message: "Repeat the password" }));
    if (first === second) return first;
    p.log.warn(ui.theme.warn("The passwords differ. Try again."));
  }
}

/** The wizard; resolves with an open Session, or null when the user quits. */
export async function runWizard(
  ui: Ui,
  notice: string | null = null,
): Promise<{ session: Session; relayUrl: string } | null> {
  const t = ui.theme;
  p.intro(t.bold(t.accent(" Welcome to Phantom ")));
  if (notice !== null) p.log.warn(t.warn(notice));
  p.note(WELCOME(t), "What Phantom protects");
  try {
    const relay = await chooseRelay(ui);
    const password = await choosePassword(ui);
    const confirmDirect = async (): Promise<boolean> => relay.directOk;
    const config = { ...sessionConfig(ui.config), relayUrl: relay.url, password };
    p.log.step("Creating your identity…");
    // Offline: keys and identity.json now; the menu registers once the relay answers.
    const session = await Session.create(config, { confirmDirect }, { offline: !relay.online });
    // An address typed here is where the identity lives: later runs must use it too (like init --relay).
    if (relay.url !== ui.config.relayUrl) {
      ui.settings = updateSettings(ui.home, { relay: relay.url });
    }
    if (relay.online) p.log.success("Identity created and registered with the relay.");
    else p.log.warn("Identity created offline. It will be registered when the relay is reachable.");
    const steps = [
      t.bold("Next steps"),
      "1. Share your UID (or this QR code)",
      "   with the people you want to talk to.",
      "2. Add theirs: menu → Add a contact",
      `   ${t.dim("or: phantom add <uid>")}`,
      "3. Compare fingerprints once:",
      "   menu → Verify a contact",
      "4. Chat: menu → Message a contact",
      `   ${t.dim("or: phantom chat <uid>")}`,
      `   ${t.dim("one line: phantom send <uid> hi")}`,
    ];
    p.note(
      identityCard(session.uid, session.fingerprint, t, steps, process.stdout.columns ?? 80).join("\n"),
      "Your UID",
    );
    p.log.warn(
      `Your identity lives in ${identityPath(ui.home)}.\n` +
        "Back it up (with your password kept apart): if you lose it, this UID is gone for good.",
    );
    // Asked once, and only when there is somewhere to look (a build with an update URL, or one set).
    if (ui.config.updateUrl !== undefined && !ui.settings.updatesAsked) {
      const checks = await p.confirm({
        message: "Check once a day whether a new Phantom release exists? (it only tells you)",
        initialValue: false,
      });
      ui.settings = updateSettings(ui.home, { updates: checks === true, updatesAsked: true });
    }
    const open = await p.confirm({
      message: "Open the menu now?",
      active: "Yes",
      inactive: "Quit",
      initialValue: true,
    });
    if (open !== true) {
      session.close();
      p.outro("Bye. Run phantom again any time.");
      return null;
    }
    return { session, relayUrl: relay.url };
  } catch (e) {
    if (e instanceof WizardCancelled) {
      p.cancel("Bye.");
      return null;
    }
    throw e;
  }
}
