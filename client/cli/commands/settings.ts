// `phantom settings [key] [value…]`: the interactive UI's settings as a command.
//   phantom settings                       show every setting (--json: one object)
//   phantom settings theme amber           cyan | matrix | amber | ocean | custom
//   phantom settings color accent #ffaa00  a colour of the custom theme (accent, dim, mine, peer)
//   phantom settings mascot cat            none | cat | dog | penguin | bear | ghost
//   phantom settings motd hacker           off | fun | privacy | hacker | ops | custom
//   phantom settings motd-add "a line"     add a custom message-of-the-day line
//   phantom settings motd-clear            remove every custom line
//   phantom settings tor-warning off       on | off: the warning before a direct (non-Tor) connection
//   phantom settings relay URL             the relay to use (`default` to forget it)
import { PhantomError } from "../../../lib/errors.ts";
import { homeFromEnv } from "../config.ts";
import { checkRelayUrl } from "../../net/route.ts";
import {
  DEFAULT_RELAY,
  MASCOTS,
  MOTDS,
  THEMES,
  loadSettings,
  updateSettings,
  type Settings,
} from "../../state/settings.ts";
import { colorSpec, DEFAULT_CUSTOM } from "../../tui/themes.ts";

export const SETTINGS_KEYS = [
  "theme",
  "color",
  "mascot",
  "motd",
  "motd-add",
  "motd-clear",
  "tor-warning",
  "relay",
] as const;
const COLOR_SLOTS = ["accent", "dim", "mine", "peer"] as const;

type Out = { write(s: string): unknown };

function oneOf<T extends string>(what: string, value: string | undefined, allowed: readonly T[]): T {
  const v = value?.toLowerCase();
  if (v === undefined || !(allowed as readonly string[]).includes(v)) {
    throw new PhantomError("bad-setting", `${what} must be one of: ${allowed.join(", ")}`);
  }
  return v as T;
}

export function describeSettings(s: Settings): string[] {
  const custom = s.customTheme ?? DEFAULT_CUSTOM;
  return [
    `relay        ${s.relay ?? `${DEFAULT_RELAY} (default)`}`,
    `tor-warning  ${s.torWarning ? "on" : "off"}`,
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
      const current = loadSettings(home).customTheme ?? DEFAULT_CUSTOM;
      return updateSettings(home, { customTheme: { ...current, [slot]: colorSpec(spec) } });
    }
    case "mascot":
      return updateSettings(home, { mascot: oneOf("mascot", v, MASCOTS) });
    case "motd":
      return updateSettings(home, { motd: oneOf("motd", v, MOTDS) });
    case "motd-add": {
      const line = values.join(" ").trim();
      if (line === "") throw new PhantomError("bad-setting", 'usage: phantom settings motd-add "your line"');
      return updateSettings(home, { motdCustom: [...loadSettings(home).motdCustom, line] });
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
    default:
      throw new PhantomError("bad-setting", `unknown setting '${key}' (${SETTINGS_KEYS.join(", ")})`);
  }
}

/** The command: show all settings, or change one. */
export function settingsCommand(
  key: string | undefined,
  values: string[],
  o: { json?: boolean; env?: Record<string, string | undefined>; out?: Out } = {},
): number {
  const out = o.out ?? process.stdout;
  const home = homeFromEnv(o.env ?? process.env);
  const s = key === undefined || key === "show" ? loadSettings(home) : applySetting(home, key, values);
  if (o.json) out.write(`${JSON.stringify(s)}\n`);
  else out.write(`${describeSettings(s).join("\n")}\n`);
  return 0;
}

/** commander entry (phantom.ts): `phantom settings [key] [value…]`. */
export async function run(g: { json?: boolean }, key?: string, values?: string[]): Promise<void> {
  settingsCommand(key, values ?? [], { json: g.json === true });
}
