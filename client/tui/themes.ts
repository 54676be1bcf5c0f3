// Colour themes of the interactive screens. NO_COLOR (https://no-color.org) and
// TERM=dumb turn every colour off: the theme's functions then return text unchanged.
import { PhantomError } from "../../lib/errors.ts";

export const THEME_NAMES = ["cyan", "matrix", "amber", "ocean", "custom"] as const;
export type ThemeName = (typeof THEME_NAMES)[number];

/** The four user-chosen colours of the custom theme: names or "#rrggbb". */
export interface CustomColors {
  accent: string;
  dim: string;
  mine: string;
  peer: string;
}

type Style = (s: string) => string;

export interface Theme {
  readonly name: ThemeName;
  readonly color: boolean;
  accent: Style;
  dim: Style;
  /** Own messages and own name. */
  mine: Style;
  /** The peer's name. */
  peer: Style;
  ok: Style;
  warn: Style;
  danger: Style;
  bold: Style;
}

const NAMED: Record<string, string> = {
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

export const COLOR_NAMES = Object.keys(NAMED);

/**
 * A colour as settings store it: a name in lower case without spaces, "-" or "_" ("Bright-Green"
 * → "brightgreen"), or "#rrggbb" in lower case. Throws PhantomError("bad-color") for anything else.
 */
export function colorSpec(spec: string): string {
  const s = spec
    .trim()
    .toLowerCase()
    .replace(/[\s_-]/g, "");
  if (NAMED[s] !== undefined || /^#[0-9a-f]{6}$/.test(s)) return s;
  throw new PhantomError("bad-color", `unknown colour '${spec}' (use a name like cyan or brightgreen, or #rrggbb)`);
}

/** SGR parameters for a colour name or "#rrggbb"; throws PhantomError("bad-color"). */
export function parseColor(spec: string): string {
  const s = colorSpec(spec);
  const named = NAMED[s];
  if (named) return named;
  return `38;2;${parseInt(s.slice(1, 3), 16)};${parseInt(s.slice(3, 5), 16)};${parseInt(s.slice(5, 7), 16)}`;
}

const PRESETS: Record<Exclude<ThemeName, "custom">, CustomColors> = {
  cyan: { accent: "cyan", dim: "gray", mine: "brightcyan", peer: "brightwhite" },
  matrix: { accent: "brightgreen", dim: "#2e7d32", mine: "brightgreen", peer: "green" },
  amber: { accent: "#ffb000", dim: "#8a6420", mine: "#ffcc66", peer: "#ffb000" },
  ocean: { accent: "#3a9ad9", dim: "#456b87", mine: "#7fdbff", peer: "#a3c9e8" },
};

export const DEFAULT_CUSTOM: CustomColors = PRESETS.cyan;

function sgr(open: string, close: string): Style {
  return (s) => (s === "" ? s : `\x1b[${open}m${s}\x1b[${close}m`);
}

const plain: Style = (s) => s;

export function makeTheme(name: ThemeName, custom: CustomColors | undefined, color: boolean): Theme {
  if (!color) {
    return {
      name,
      color,
      accent: plain,
      dim: plain,
      mine: plain,
      peer: plain,
      ok: plain,
      warn: plain,
      danger: plain,
      bold: plain,
    };
  }
  const c = name === "custom" ? (custom ?? DEFAULT_CUSTOM) : PRESETS[name];
  const fg = (spec: string): Style => {
    let code: string;
    try {
      code = parseColor(spec);
    } catch {
      code = "39"; // a bad custom colour in settings.json falls back to the default colour
    }
    return sgr(code, "39");
  };
  return {
    name,
    color,
    accent: fg(c.accent),
    dim: fg(c.dim),
    mine: fg(c.mine),
    peer: fg(c.peer),
    ok: sgr("32", "39"),
    warn: sgr("33", "39"),
    danger: sgr("31", "39"),
    bold: sgr("1", "22"),
  };
}
