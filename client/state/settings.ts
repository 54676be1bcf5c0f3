// $PHANTOM_HOME/settings.json: the relay URL and the interactive UI's choices.
// Missing file → defaults; a bad file is an error naming it (never reset).
// Keys we do not know are kept as they are, so nothing written by another
// client version is lost when we save.

import { z } from "zod";
import { check } from "../../lib/wire.ts";
import { ensureHome, readState, statePath, writeState } from "./home.ts";

export const SETTINGS_FILE = "settings.json";
export const DEFAULT_RELAY = "http://127.0.0.1:8787";

export const THEMES = ["cyan", "matrix", "amber", "ocean", "custom"] as const;
export const MASCOTS = ["none", "cat", "dog", "penguin", "bear", "ghost"] as const;
export const MOTDS = ["off", "fun", "privacy", "hacker", "ops", "custom"] as const;

/** A color name ("cyan", "brightRed") or #rrggbb. */
const Color = z
  .string()
  .max(32)
  .regex(/^(?:#[0-9a-fA-F]{6}|[A-Za-z]+)$/, "expected a color name or #rrggbb");

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
export function updateSettings(home: string, patch: Partial<Settings>): Settings {
  const next = { ...loadSettings(home), ...patch };
  saveSettings(home, next);
  return check(Settings, next, "settings");
}
