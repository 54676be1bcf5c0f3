// Test helper: a tiny in-memory terminal (a subset of xterm) for unit tests of the
// interactive screens. It understands what our code writes: printable text with
// wide characters, \r, \n, and the CSI sequences for cursor moves, erase and SGR
// (colours are ignored). Wrapping is deferred like xterm: writing the last column
// leaves the cursor there until the next printable character.

const segmenter = new Intl.Segmenter();

export class ScreenModel {
  readonly rows: number;
  readonly columns: number;
  /** Each cell holds a grapheme, "" for the right half of a wide character. */
  private grid: string[][];
  x = 0;
  y = 0;
  private wrapPending = false;
  /** Every write, in order (for tests that count redraws). */
  readonly writes: string[] = [];
  readonly isTTY = true;

  constructor(columns = 80, rows = 24) {
    this.columns = columns;
    this.rows = rows;
    this.grid = Array.from({ length: rows }, () => this.blankRow());
  }

  private blankRow(): string[] {
    return Array.from({ length: this.columns }, () => " ");
  }

  write(s: string): boolean {
    this.writes.push(s);
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c === "\x1b") {
        i = this.escape(s, i);
        continue;
      }
      if (c === "\r") {
        this.x = 0;
        this.wrapPending = false;
        i++;
        continue;
      }
      if (c === "\n") {
        this.lineFeed();
        this.wrapPending = false;
        i++;
        continue;
      }
      if (c < " ") {
        i++;
        continue;
      }
      // One grapheme at a time.
      const seg = segmenter
        .segment(s.slice(i, i + 16))
        [Symbol.iterator]()
        .next().value!.segment;
      this.put(seg);
      i += seg.length;
    }
    return true;
  }

  private put(g: string): void {
    const w = Bun.stringWidth(g);
    if (w === 0) return;
    if (this.wrapPending || this.x + w > this.columns) {
      this.x = 0;
      this.lineFeed();
      this.wrapPending = false;
    }
    const row = this.grid[this.y]!;
    row[this.x] = g;
    if (w === 2) row[this.x + 1] = "";
    this.x += w;
    if (this.x >= this.columns) {
      this.x = this.columns - 1;
      this.wrapPending = true;
    }
  }

  private lineFeed(): void {
    if (this.y === this.rows - 1) {
      this.grid.shift();
      this.grid.push(this.blankRow());
    } else {
      this.y++;
    }
  }

  private escape(s: string, i: number): number {
    if (s[i + 1] !== "[") return i + 2;
    let j = i + 2;
    while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x3f) j++;
    const final = s[j];
    const params = s.slice(i + 2, j);
    const n = Number.parseInt(params, 10);
    const count = Number.isNaN(n) ? 1 : n;
    this.wrapPending = false;
    switch (final) {
      case "C":
        this.x = Math.min(this.columns - 1, this.x + count);
        break;
      case "D":
        this.x = Math.max(0, this.x - count);
        break;
      case "A":
        this.y = Math.max(0, this.y - count);
        break;
      case "B":
        this.y = Math.min(this.rows - 1, this.y + count);
        break;
      case "G":
        this.x = Math.min(this.columns - 1, count - 1);
        break;
      case "H": {
        const [r, c] = params.split(";").map((p) => Number.parseInt(p, 10) || 1);
        this.y = Math.min(this.rows - 1, (r ?? 1) - 1);
        this.x = Math.min(this.columns - 1, (c ?? 1) - 1);
        break;
      }
      case "K": {
        const row = this.grid[this.y]!;
        const mode = Number.isNaN(n) ? 0 : n;
        const [a, b] = mode === 0 ? [this.x, this.columns] : mode === 1 ? [0, this.x + 1] : [0, this.columns];
        for (let k = a; k < b; k++) row[k] = " ";
        break;
      }
      case "J": {
        const mode = Number.isNaN(n) ? 0 : n;
        if (mode === 2) this.grid = this.grid.map(() => this.blankRow());
        else {
          const row = this.grid[this.y]!;
          for (let k = this.x; k < this.columns; k++) row[k] = " ";
          for (let r = this.y + 1; r < this.rows; r++) this.grid[r] = this.blankRow();
        }
        break;
      }
      default:
        break; // SGR (m), cursor show/hide (?25h/l) and the rest change nothing we model
    }
    return j + 1;
  }

  /** The screen as text lines, trailing spaces removed. */
  lines(): string[] {
    return this.grid.map((row) => row.join("").replace(/ +$/, ""));
  }

  /** Lines up to the last non-empty one. */
  text(): string {
    const l = this.lines();
    while (l.length > 0 && l[l.length - 1] === "") l.pop();
    return l.join("\n");
  }

  /** The line the cursor is on. */
  cursorLine(): string {
    return this.lines()[this.y]!;
  }
}
