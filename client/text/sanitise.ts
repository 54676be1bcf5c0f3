// The one sanitiser for untrusted text (peer messages, nicknames, file names, relay
// and error text) before it reaches a terminal. What is unsafe is defined once, in
// lib/text.ts (C0, DEL, C1, bidi marks); this module decides how it is shown:
// - cleanText: screens (the interactive client): "?" in its place, tabs as two spaces;
// - escapeText: line output of the commands: "\uXXXX" in its place, tabs as four spaces;
// - oneLine: one line (errors, warnings, names in a sentence): runs become one space;
// - jsonText: JSON output, with the characters some terminals act on escaped.
// File names are cleaned by lib/wire.ts cleanFileName (PROTOCOL §5.3), with the same class.

import { UNSAFE_CHARS } from "../../lib/text.ts";

export { hasUnsafe, quoteInput } from "../../lib/text.ts";

/** U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: line breaks outside LF. */
const LINE_SEPARATORS = "\\u2028\\u2029";

const UNSAFE = new RegExp(`[${UNSAFE_CHARS}]`, "g");
const UNSAFE_OR_SEPARATOR = new RegExp(`[${UNSAFE_CHARS}${LINE_SEPARATORS}]`, "g");
const UNSAFE_RUNS = new RegExp(`[${UNSAFE_CHARS}${LINE_SEPARATORS}]+`, "g");
const JSON_ESCAPED = new RegExp(
  `[\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069${LINE_SEPARATORS}]`,
  "g",
);

function escaped(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

export interface CleanOptions {
  /** Newlines become "⏎" (a name, a file name, a notice); else they are kept. */
  oneLine?: boolean;
}

/**
 * Text for a screen: CR LF and CR become LF, tabs two spaces, every other unsafe
 * character "?" (an escape sequence shows as text, never acts). LF is kept unless `oneLine`.
 */
export function cleanText(s: string, opts: CleanOptions = {}): string {
  const out = s
    .replace(/\r\n?/g, "\n")
    .replace(/\t/g, "  ")
    .replace(UNSAFE, (c) => (c === "\n" ? c : "?"));
  return opts.oneLine ? out.replace(/\n/g, "⏎") : out;
}

/**
 * Text for a command's line output: every unsafe character and line separator shown
 * as "\uXXXX" (a reader sees which one it was), tabs four spaces, LF kept.
 */
export function escapeText(s: string): string {
  return s.replace(UNSAFE_OR_SEPARATOR, (c) => (c === "\n" ? c : c === "\t" ? "    " : escaped(c)));
}

/** One printable line: runs of unsafe characters and line breaks become one space; spaces collapse. */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_RUNS, " ").replace(/\s+/g, " ").trim();
}

/** `oneLine`, cut to at most `max` characters (ending "..." when cut). */
export function shortLine(s: string, max: number): string {
  const t = oneLine(s);
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

/**
 * JSON text on one line. JSON.stringify already escapes C0; DEL, C1, the bidi marks and
 * the line separators are escaped too (still valid JSON, nothing a terminal acts on).
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(JSON_ESCAPED, escaped);
}
