// How chat lines look: `[HH:MM] name  text`, own messages in their own colour,
// file messages with name, size and #n; a v2 message from a v3-pinned contact marked, one
// read before with history off dim (PROTOCOL-v3 §V1, §V8). Everything from the peer goes through
// cleanText first: a message can never move the cursor or change colours.
import type { ChatMessage } from "../core/conversation.ts";
import { ALREADY_READ_TEXT, DOWNGRADED_MARK } from "../text/protocol.ts";
import { cleanText } from "../text/sanitise.ts";
import { clock, formatBytes, padEnd, width } from "./term.ts";
import type { Theme } from "./themes.ts";

export interface LineStyle {
  theme: Theme;
  peerName: string;
  /** Column width for names so that texts line up. */
  nameWidth: number;
}

export function lineStyle(theme: Theme, peerName: string): LineStyle {
  return { theme, peerName, nameWidth: Math.max(width("you"), width(peerName)) };
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** The local calendar day of a relay ts (seconds): "Tuesday, 1 December 2026". */
export function dayOf(ts: number): string {
  const d = new Date(ts * 1000);
  return `${WEEKDAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

/**
 * The divider shown before a message when its day is not the day of the message shown before it
 * (before the first one: when it is not today); null when no divider is due.
 */
export function dayDivider(
  prevTs: number | null,
  ts: number,
  theme: Theme,
  now: number = Date.now() / 1000,
): string | null {
  const day = dayOf(ts);
  if (day === dayOf(prevTs ?? now)) return null;
  return theme.dim(`──── ${day} ────`);
}

export function formatMessage(m: Omit<ChatMessage, "id">, s: LineStyle): string {
  const t = s.theme;
  const name = m.mine ? "you" : m.from === "" ? "?" : s.peerName;
  const time = t.dim(`[${clock(m.ts)}]`);
  const who = (m.mine ? t.mine : t.peer)(t.bold(padEnd(name, s.nameWidth)));
  const indent = " ".repeat(8 + s.nameWidth + 2);
  // PROTOCOL-v3 §V1: a v2 message from a contact pinned to v3 carries a mark.
  const mark = m.downgraded ? `  ${t.warn(DOWNGRADED_MARK)}` : "";
  // §V8 history off: a message read before, whose text was not kept.
  if (m.alreadyRead) return `${time} ${who}  ${t.dim(ALREADY_READ_TEXT)}${mark}`;
  if (m.file) {
    const f = m.file;
    const desc = `${t.accent(`file #${f.n}`)}  ${cleanText(f.name, { oneLine: true })}  ${t.dim(`(${formatBytes(f.size)})`)}`;
    const hint = m.mine ? "" : t.dim(`  /get ${f.n}`);
    return `${time} ${who}  ${desc}${hint}${mark}`;
  }
  const lines = cleanText(m.body).split("\n");
  const paint = m.mine ? t.mine : (x: string) => x;
  return `${time} ${who}  ${lines.map(paint).join(`\n${indent}`)}${mark}`;
}

export function formatFileRow(m: ChatMessage, s: LineStyle): string {
  const f = m.file!;
  const who = m.mine ? "you" : s.peerName;
  return `  ${s.theme.accent(`#${f.n}`.padEnd(4))} ${cleanText(f.name, { oneLine: true })}  ${s.theme.dim(
    `${formatBytes(f.size)} · from ${who} · ${clock(m.ts)}`,
  )}`;
}
