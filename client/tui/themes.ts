// Colour themes of the interactive screens. NO_COLOR (https://no-color.org) and
// TERM=dumb turn every colour off: the theme's functions then return text unchanged.
import { COLOR_SGR, colorSpec, type CustomColors, DEFAULT_CUSTOM, PRESETS, THEMES } from "../state/settings.ts";

export const THEME_NAMES = THEMES;
export type ThemeName = (typeof THEMES)[number];

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

/** SGR parameters for a colour name or "#rrggbb"; throws PhantomError("bad-color"). */
export function parseColor(spec: string): string {
  const s = colorSpec(spec);
  const named = COLOR_SGR[s];
  if (named) return named;
  return `38;2;${parseInt(s.slice(1, 3), 16)};${parseInt(s.slice(3, 5), 16)};${parseInt(s.slice(5, 7), 16)}`;
}

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
