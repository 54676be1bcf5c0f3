// Terminal text helpers shared by the interactive screens: display width and ANSI
// sequences. Untrusted text is made safe by client/text/sanitise.ts before it gets here.

export { formatBytes } from "../text/format.ts";

export const CSI = "\x1b[";
export const ansi = {
  clearLine: `${CSI}2K`,
  clearDown: `${CSI}J`,
  clearScreen: `${CSI}2J${CSI}H`,
  hideCursor: `${CSI}?25l`,
  showCursor: `${CSI}?25h`,
  right: (n: number): string => (n > 0 ? `${CSI}${n}C` : ""),
  up: (n: number): string => (n > 0 ? `${CSI}${n}A` : ""),
};

/** Columns a string occupies on screen (ANSI ignored, wide characters count 2). */
export function width(s: string): number {
  return Bun.stringWidth(s);
}

export function stripAnsi(s: string): string {
  return Bun.stripANSI(s);
}

const segmenter = new Intl.Segmenter();

/** User-perceived characters, so that editing never splits an emoji or an accent. */
export function graphemes(s: string): string[] {
  return Array.from(segmenter.segment(s), (g) => g.segment);
}

/** Cut to at most `cols` columns, ending with "…" when cut. Plain text only. */
export function truncate(s: string, cols: number): string {
  if (width(s) <= cols) return s;
  if (cols <= 0) return "";
  let out = "";
  let w = 0;
  for (const g of graphemes(s)) {
    const gw = width(g);
    if (w + gw > cols - 1) break;
    out += g;
    w += gw;
  }
  return out + "…";
}

/** Pad with spaces to `cols` columns (ANSI-aware). */
export function padEnd(s: string, cols: number): string {
  const w = width(s);
  return w >= cols ? s : s + " ".repeat(cols - w);
}

/** Place `right` beside `left`, line by line, `gap` spaces apart. */
export function sideBySide(left: string[], right: string[], gap = 4): string[] {
  const lw = Math.max(0, ...left.map(width));
  const n = Math.max(left.length, right.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = left[i] ?? "";
    const r = right[i];
    out.push(r === undefined || r === "" ? l : padEnd(l, lw) + " ".repeat(gap) + r);
  }
  return out;
}

/** "m:ss" or "h:mm:ss". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "[HH:MM]" in local time for a Unix-seconds timestamp. */
export function clock(ts: number): string {
  const d = new Date(ts * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
