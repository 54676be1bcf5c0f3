// The settings a user may change (phantom settings, the menu's settings screen): one list of
// keys, how each is shown and how a change is checked and saved in settings.json.
import { PhantomError } from "../../lib/errors.ts";
import { checkUpdateUrl } from "../../lib/update/pinned-get.ts";
import { manifestUrlOf } from "../../lib/update/updater.ts";
import { checkRelayUrl } from "../net/route.ts";
import {
  colorSpec,
  DEFAULT_CUSTOM,
  DEFAULT_RELAY,
  HISTORY_MAX_DAYS,
  type HistoryPolicy,
  MASCOTS,
  MOTDS,
  THEMES,
  updateSettings,
  type Settings,
} from "../state/settings.ts";

export const SETTINGS_KEYS = [
  "theme",
  "color",
  "mascot",
  "motd",
  "motd-add",
  "motd-clear",
  "tor-warning",
  "relay",
  "updates",
  "update-url",
  "history",
  "require-v3",
  "notify",
  "notify-preview",
] as const;
export type SettingKey = (typeof SETTINGS_KEYS)[number];
const COLOR_SLOTS = ["accent", "dim", "mine", "peer"] as const;

function oneOf<T extends string>(what: string, value: string | undefined, allowed: readonly T[]): T {
  const v = value?.toLowerCase();
  if (v === undefined || !(allowed as readonly string[]).includes(v)) {
    throw new PhantomError("bad-setting", `${what} must be one of: ${allowed.join(", ")}`);
  }
  return v as T;
}

/** How the `history` setting reads: keep, days N, off. */
export function historyText(p: HistoryPolicy): string {
  return p.mode === "days" ? `days ${p.days}` : p.mode;
}

export function describeSettings(s: Settings): string[] {
  const custom = s.customTheme ?? DEFAULT_CUSTOM;
  return [
    `relay        ${s.relay ?? `${DEFAULT_RELAY} (default)`}`,
    `tor-warning  ${s.torWarning ? "on" : "off"}`,
    `updates      ${s.updates ? "on" : "off"}`,
    `update-url   ${s.updateUrl ?? "(default)"}`,
    `history      ${historyText(s.history)}${s.history.mode === "keep" ? " (default)" : ""}`,
    `require-v3   ${s.requireV3 ? "on" : "off"}`,
    `notify       ${s.notify ? "on" : "off"}  (phantom daemon: desktop notifications)`,
    `notify-preview ${s.notifyPreview ? "on" : "off"}  (show the text in them)`,
    `theme        ${s.theme}`,
    `color        accent ${custom.accent}, dim ${custom.dim}, mine ${custom.mine}, peer ${custom.peer}  (custom theme)`,
    `mascot       ${s.mascot}`,
    `motd         ${s.motd}`,
    `motd-custom  ${s.motdCustom.length === 0 ? "(none)" : s.motdCustom.map((l) => JSON.stringify(l)).join(", ")}`,
  ];
}

/** Apply one change and return the saved settings. */
export function applySetting(home: string, key: string, values: string[]): Settings {
  const v = values[0];
  switch (key) {
    case "theme":
      return updateSettings(home, { theme: oneOf("theme", v, THEMES) });
    case "color": {
      const slot = oneOf("the colour to set", v, COLOR_SLOTS);
      const spec = values.slice(1).join(" ");
      if (spec === "") throw new PhantomError("bad-setting", `usage: phantom settings color ${slot} <name or #rrggbb>`);
      const color = colorSpec(spec);
      return updateSettings(home, (s) => ({ customTheme: { ...(s.customTheme ?? DEFAULT_CUSTOM), [slot]: color } }));
    }
    case "mascot":
      return updateSettings(home, { mascot: oneOf("mascot", v, MASCOTS) });
    case "motd":
      return updateSettings(home, { motd: oneOf("motd", v, MOTDS) });
    case "motd-add": {
      const line = values.join(" ").trim();
      if (line === "") throw new PhantomError("bad-setting", 'usage: phantom settings motd-add "your line"');
      // Adding a line of one's own means wanting to see it: the custom list becomes the one shown.
      return updateSettings(home, (s) => ({ motd: "custom", motdCustom: [...s.motdCustom, line] }));
    }
    case "motd-clear":
      return updateSettings(home, { motdCustom: [] });
    case "tor-warning": {
      const on = oneOf("tor-warning", v, ["on", "off"] as const);
      return updateSettings(home, { torWarning: on === "on" });
    }
    case "relay": {
      if (v === undefined) throw new PhantomError("bad-setting", "usage: phantom settings relay <URL | default>");
      if (v === "default") return updateSettings(home, { relay: undefined });
      return updateSettings(home, { relay: checkRelayUrl(v) }); // the check every command applies
    }
    case "updates": {
      const on = oneOf("updates", v, ["on", "off"] as const);
      return updateSettings(home, { updates: on === "on", updatesAsked: true });
    }
    case "update-url": {
      if (v === undefined)
        throw new PhantomError("bad-setting", "usage: phantom settings update-url <https URL | default>");
      if (v === "default") return updateSettings(home, { updateUrl: undefined });
      checkUpdateUrl(manifestUrlOf(v));
      return updateSettings(home, { updateUrl: v });
    }
    case "history":
      return updateSettings(home, { history: historyPolicyOf(values) });
    case "require-v3": {
      const on = oneOf("require-v3", v, ["on", "off"] as const);
      return updateSettings(home, { requireV3: on === "on" });
    }
    case "notify": {
      const on = oneOf("notify", v, ["on", "off"] as const);
      return updateSettings(home, { notify: on === "on" });
    }
    case "notify-preview": {
      const on = oneOf("notify-preview", v, ["on", "off"] as const);
      return updateSettings(home, { notifyPreview: on === "on" });
    }
    default:
      throw new PhantomError("bad-setting", `unknown setting '${key}' (${SETTINGS_KEYS.join(", ")})`);
  }
}

/** PROTOCOL-v3 §V8: `history keep | days N | off` (N a whole number of days, 1 to 36500). */
export function historyPolicyOf(values: string[]): HistoryPolicy {
  const usage = `history must be one of: keep, days N (N from 1 to ${HISTORY_MAX_DAYS}), off`;
  const mode = values[0]?.toLowerCase();
  if ((mode === "keep" || mode === "off") && values.length === 1) return { mode };
  if (mode === "days" && values.length === 2) {
    const n = values[1]!;
    if (/^\d{1,6}$/.test(n) && Number(n) >= 1 && Number(n) <= HISTORY_MAX_DAYS) return { mode, days: Number(n) };
  }
  throw new PhantomError("bad-setting", usage);
}
