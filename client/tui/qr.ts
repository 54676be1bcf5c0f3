// The UID as a QR code in the terminal, two modules per character row (▀ ▄ █).
import { encode } from "uqr";

const QUIET = 2; // quiet-zone modules around the code

/**
 * Render `text` as QR lines. With colour, dark modules are black on a white
 * background (scans on every terminal theme); without colour, light modules are
 * drawn as blocks, which reads as a normal code on the usual dark terminal.
 */
export function renderQr(text: string, color: boolean): string[] {
  const { data, size } = encode(text, { ecc: "M", border: 0 });
  const n = size + QUIET * 2;
  const dark = (x: number, y: number): boolean => {
    const xi = x - QUIET;
    const yi = y - QUIET;
    return xi >= 0 && yi >= 0 && xi < size && yi < size && data[yi]![xi]! === true;
  };
  const lines: string[] = [];
  for (let y = 0; y < n; y += 2) {
    let line = "";
    for (let x = 0; x < n; x++) {
      // "on" = the module is drawn with the foreground colour.
      const top = color ? dark(x, y) : !dark(x, y);
      const bottom = y + 1 < n && (color ? dark(x, y + 1) : !dark(x, y + 1));
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    lines.push(color ? `\x1b[30;107m${line}\x1b[39;49m` : line);
  }
  return lines;
}
