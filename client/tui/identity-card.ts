// The UID shown large, with its QR code: the end of the first-run wizard and "My UID".
import { renderQr } from "./qr.ts";
import { sideBySide, width } from "./term.ts";
import type { Theme } from "./themes.ts";

/** The UID in a box, letter-spaced in groups of 4 for reading aloud, and once plain for copying. */
export function bigUid(uid: string, t: Theme): string[] {
  const spaced = (uid.match(/.{1,4}/g) ?? [uid]).map((g) => g.split("").join(" ")).join("   ");
  const inner = ` ${spaced} `;
  const w = inner.length;
  return [
    t.accent(`╭${"─".repeat(w)}╮`),
    `${t.accent("│")}${t.bold(t.accent(inner))}${t.accent("│")}`,
    t.accent(`╰${"─".repeat(w)}╯`),
    `  copy: ${t.bold(uid)}`,
  ];
}

/** Box, QR code (with `side` lines beside it when they fit in `cols`), fingerprint. */
export function identityCard(uid: string, fingerprint: string, t: Theme, side: string[] = [], cols = 80): string[] {
  const qr = renderQr(uid, t.color).map((l) => `  ${l}`);
  const sideW = Math.max(0, ...side.map(width));
  const body = side.length > 0 && width(qr[0]!) + 3 + sideW < cols ? sideBySide(qr, side, 3) : [...qr, "", ...side];
  return [...bigUid(uid, t), "", ...body, "", `  ${t.dim("fingerprint")} ${fingerprint}`];
}
