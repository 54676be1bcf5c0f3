// The characters that must never reach a terminal, a file name or a nickname from
// untrusted text. lib/wire.ts strips them from file names (PROTOCOL §5.3); the
// client's sanitiser (client/text/sanitise.ts) builds every other cleaning on them.

/**
 * A regular-expression character class body (without the brackets):
 * - C0 controls U+0000–U+001F (ESC, BEL, CR, LF, TAB among them) and DEL U+007F;
 * - C1 controls U+0080–U+009F (8-bit CSI, OSC, DCS, ST…);
 * - the bidi formatting marks, which make text display differently from what it is:
 *   LRM U+200E, RLM U+200F, ALM U+061C, the embeddings and overrides U+202A–U+202E,
 *   the isolates U+2066–U+2069.
 * Zero-width joiners, variation selectors and emoji are not in it: they are text.
 */
export const UNSAFE_CHARS = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";

const UNSAFE_RE = new RegExp(`[${UNSAFE_CHARS}]`, "g");

/** True when `s` holds an unsafe character. */
export function hasUnsafe(s: string): boolean {
  return new RegExp(`[${UNSAFE_CHARS}]`).test(s);
}

/** Input quoted in an error: every unsafe character shown as "?". */
export function quoteInput(s: string): string {
  return s.replace(UNSAFE_RE, "?");
}
