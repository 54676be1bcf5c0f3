// $PHANTOM_HOME/settings.json: the relay URL and the interactive UI's choices.
// Missing file → defaults; a bad file is an error naming it (never reset).
// Keys we do not know are kept as they are, so nothing written by another
// client version is lost when we save.

import { z } from "zod";
import { PhantomError } from "../../lib/errors.ts";
import { check } from "../../lib/wire.ts";
import { withStateLock } from "./lock.ts";
import { ensureHome, readState, SETTINGS_FILE, statePath, writeState } from "./home.ts";

export const DEFAULT_RELAY = "http://127.0.0.1:8787";

export const THEMES = ["cyan", "matrix", "amber", "ocean", "custom"] as const;
export const MASCOTS = ["none", "cat", "dog", "penguin", "bear", "ghost"] as const;
export const MOTDS = ["off", "fun", "privacy", "hacker", "ops", "custom"] as const;

/** The four user-chosen colours of the custom theme: names or "#rrggbb". */
export interface CustomColors {
  accent: string;
  dim: string;
  mine: string;
  peer: string;
}

/** The colour names settings accept, with their SGR foreground codes. */
export const COLOR_SGR: Record<string, string> = {
  black: "30",
  red: "31",
  green: "32",
  yellow: "33",
  blue: "34",
  magenta: "35",
  cyan: "36",
  white: "37",
  gray: "90",
  grey: "90",
  brightred: "91",
  brightgreen: "92",
  brightyellow: "93",
  brightblue: "94",
  brightmagenta: "95",
  brightcyan: "96",
  brightwhite: "97",
};

export const COLOR_NAMES = Object.keys(COLOR_SGR);

/**
 * A colour as settings store it: a name in lower case without spaces, "-" or "_" ("Bright-Green"
 * → "brightgreen"), or "#rrggbb" in lower case. Throws PhantomError("bad-color") for anything else.
 */
export function colorSpec(spec: string): string {
  const s = spec
    .trim()
    .toLowerCase()
    .replace(/[\s_-]/g, "");
  if (COLOR_SGR[s] !== undefined || /^#[0-9a-f]{6}$/.test(s)) return s;
  throw new PhantomError("bad-color", `unknown colour '${spec}' (use a name like cyan or brightgreen, or #rrggbb)`);
}

export const PRESETS: Record<Exclude<(typeof THEMES)[number], "custom">, CustomColors> = {
  cyan: { accent: "cyan", dim: "gray", mine: "brightcyan", peer: "brightwhite" },
  matrix: { accent: "brightgreen", dim: "#2e7d32", mine: "brightgreen", peer: "green" },
  amber: { accent: "#ffb000", dim: "#8a6420", mine: "#ffcc66", peer: "#ffb000" },
  ocean: { accent: "#3a9ad9", dim: "#456b87", mine: "#7fdbff", peer: "#a3c9e8" },
};

export const DEFAULT_CUSTOM: CustomColors = PRESETS.cyan;

/** A color name ("cyan", "brightRed") or #rrggbb. */
const Color = z
  .string()
  .max(32)
  .regex(/^(?:#[0-9a-fA-F]{6}|[A-Za-z]+)$/, "expected a color name or #rrggbb");

/** PROTOCOL-v3 §V8 `history days N`: N from 1 to this (100 years). */
export const HISTORY_MAX_DAYS = 36_500;

/** PROTOCOL-v3 §V8, the setting `history`: keep every message (default), delete rows older than N days, or keep none. */
export const HistoryPolicy = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("keep") }),
  z.strictObject({ mode: z.literal("days"), days: z.number().int().min(1).max(HISTORY_MAX_DAYS) }),
  z.strictObject({ mode: z.literal("off") }),
]);
export type HistoryPolicy = z.infer<typeof HistoryPolicy>;

export const CustomTheme = z.strictObject({ accent: Color, dim: Color, mine: Color, peer: Color });

export const Settings = z.looseObject({
  relay: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/\S+$/, "expected an http:// or https:// URL")
    .optional(),
  torWarning: z.boolean().default(true),
  theme: z.enum(THEMES).default("cyan"),
  customTheme: CustomTheme.optional(),
  mascot: z.enum(MASCOTS).default("ghost"),
  motd: z.enum(MOTDS).default("fun"),
  motdCustom: z.array(z.string().max(200)).max(100).default([]),
  /** Check for a new release at most once a day and say so (never installs unasked). */
  updates: z.boolean().default(false),
  /** Where `phantom update` looks (else PHANTOM_UPDATE_URL, else the URL compiled in). */
  updateUrl: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/\S+$/, "expected an https:// URL")
    .optional(),
  /** The first-run wizard asked about update checks. */
  updatesAsked: z.boolean().default(false),
  /** PROTOCOL-v3 §V8: what local history keeps. */
  history: HistoryPolicy.default({ mode: "keep" }),
  /** PROTOCOL-v3 §V1 `require-v3`: never fall back to v2 for a contact without a v3 bundle. */
  requireV3: z.boolean().default(false),
  /** `phantom daemon`: a desktop notification for a message from a contact whose chat is not open. */
  notify: z.boolean().default(false),
  /** With `notify`: the notification shows the message's text, not only the sender's nickname. */
  notifyPreview: z.boolean().default(false),
});
export type Settings = z.infer<typeof Settings>;
export type CustomTheme = z.infer<typeof CustomTheme>;

export function settingsPath(home: string): string {
  return statePath(home, SETTINGS_FILE);
}

export function defaultSettings(): Settings {
  return Settings.parse({});
}

export function loadSettings(home: string): Settings {
  return readState(Settings, settingsPath(home)) ?? defaultSettings();
}

/** Validate and write the whole settings object (atomic, 0600). */
export function saveSettings(home: string, settings: Settings): void {
  const valid = check(Settings, settings, "settings");
  ensureHome(home);
  writeState(settingsPath(home), valid);
}

/** Load, apply a change, validate and save; returns the saved settings. */
/** Apply a change (a patch, or a function of the current settings) under the home's lock; the saved settings. */
export function updateSettings(
  home: string,
  patch: Partial<Settings> | ((s: Settings) => Partial<Settings>),
): Settings {
  return withStateLock(home, () => {
    const current = loadSettings(home);
    const next = { ...current, ...(typeof patch === "function" ? patch(current) : patch) };
    saveSettings(home, next);
    return check(Settings, next, "settings");
  });
}
