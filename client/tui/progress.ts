// Progress bar with percent, speed and ETA for uploads and downloads. Drawn only
// on a terminal; the caller decides where the line goes (a plain stream, or the
// chat screen's status line so that it never fights with incoming messages).
import { formatBytes, formatDuration } from "./term.ts";

export interface ProgressOptions {
  /** Where each redrawn line goes; defaults to rewriting the current line of `out`. */
  draw?: (line: string) => void;
  out?: { isTTY?: boolean; columns?: number; write(s: string): unknown };
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
  /** Minimum milliseconds between redraws (the final 100 % is always drawn). */
  intervalMs?: number;
}

/** One progress line: `label  [█████·····]  48%  1.2 MB/s  ETA 0:03`. */
export function progressLine(label: string, done: number, total: number, elapsedS: number, cols = 80): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const speed = elapsedS > 0 ? done / elapsedS : 0;
  const rate = speed > 0 ? `${formatBytes(Math.round(speed))}/s` : "-- B/s";
  const eta = frac >= 1 ? "done" : speed > 0 ? `ETA ${formatDuration((total - done) / speed)}` : "ETA --:--";
  const tail = ` ${pct}  ${formatBytes(done)}/${formatBytes(total)}  ${rate}  ${eta}`;
  const barCols = Math.max(10, Math.min(30, cols - label.length - tail.length - 4));
  const filled = Math.round(frac * barCols);
  return `${label} [${"█".repeat(filled)}${"·".repeat(barCols - filled)}]${tail}`;
}

export interface ProgressBar {
  update(done: number, total: number): void;
  /** Final redraw at 100 % (if anything was drawn) and end the line. */
  finish(): void;
  /** End the line without claiming completion (on failure). */
  stop(): void;
}

/** A progress bar, or a no-op when the output is not a terminal. */
export function createProgress(label: string, opts: ProgressOptions = {}): ProgressBar {
  const out = opts.out ?? process.stdout;
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? 100;
  const tty = opts.draw !== undefined || out.isTTY === true;
  const draw = opts.draw ?? ((line: string) => out.write(`\r\x1b[2K${line}`));
  const start = now();
  let last = -Infinity;
  let lastDone = 0;
  let lastTotal = 0;
  let drawn = false;
  const render = (): void => {
    draw(progressLine(label, lastDone, lastTotal, (now() - start) / 1000, out.columns ?? 80));
    drawn = true;
  };
  return {
    update(done, total) {
      if (!tty) return;
      lastDone = done;
      lastTotal = total;
      const t = now();
      if (t - last < interval && done < total) return;
      last = t;
      render();
    },
    finish() {
      if (!tty || !drawn) return;
      if (lastDone < lastTotal) lastDone = lastTotal;
      render();
      if (opts.draw === undefined) out.write("\n");
    },
    stop() {
      if (tty && drawn && opts.draw === undefined) out.write("\n");
    },
  };
}
