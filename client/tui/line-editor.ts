// A one-row input line in raw mode: insert, delete, cursor moves, history, UTF-8
// and wide characters. printAbove() puts a message above the line and redraws the
// prompt, the text being typed and the cursor exactly where they were, so incoming
// messages never garble what the user is typing. The line scrolls sideways instead
// of wrapping, so it always occupies exactly one terminal row. A message may hold line breaks
// (Ctrl-J, Alt-Enter, a paste): each is shown as ↵ on the row and submitted as "\n".
import { KeyDecoder, type Key } from "./keys.ts";
import { ansi, graphemes, truncate, width } from "./term.ts";

export interface EditorOutput {
  write(s: string): unknown;
  columns?: number;
}

export interface LineEditorOptions {
  out: EditorOutput;
  prompt: string;
  history?: string[];
  maxHistory?: number;
  onSubmit?: (line: string) => void;
  /** Ctrl-C. */
  onInterrupt?: () => void;
  /** Ctrl-D on an empty line. */
  onEof?: () => void;
  onEscape?: () => void;
}

/** How a line break inside the message is shown on the one input row. */
export const NEWLINE_MARK = "↵";

interface Asking {
  prompt: string;
  saved: { buf: string[]; cursor: number };
  resolve: (answer: string | null) => void;
}

export class LineEditor {
  private readonly out: EditorOutput;
  private readonly decoder = new KeyDecoder();
  private readonly history: string[];
  private readonly maxHistory: number;
  private prompt: string;
  private buf: string[] = [];
  private cursor = 0;
  private scroll = 0;
  private histIndex: number;
  private draft: string[] = [];
  private status: string | null = null;
  private asking: Asking | null = null;
  private escTimer: ReturnType<typeof setTimeout> | null = null;
  onSubmit: (line: string) => void;
  onInterrupt: () => void;
  onEof: () => void;
  onEscape: () => void;

  constructor(o: LineEditorOptions) {
    this.out = o.out;
    this.prompt = o.prompt;
    this.history = o.history ?? [];
    this.maxHistory = o.maxHistory ?? 200;
    this.histIndex = this.history.length;
    this.onSubmit = o.onSubmit ?? (() => {});
    this.onInterrupt = o.onInterrupt ?? (() => {});
    this.onEof = o.onEof ?? (() => {});
    this.onEscape = o.onEscape ?? (() => {});
  }

  /** The text being typed. */
  get value(): string {
    return this.buf.join("");
  }

  /** Cursor position in user-perceived characters. */
  get cursorIndex(): number {
    return this.cursor;
  }

  get busy(): boolean {
    return this.status !== null;
  }

  setPrompt(prompt: string): void {
    this.prompt = prompt;
    this.render();
  }

  /** Show a status line (progress) instead of the input; null brings the input back. */
  setStatus(status: string | null): void {
    this.status = status;
    this.render();
  }

  /** Print a message (may span lines) above the input line, then redraw the input. */
  printAbove(text: string): void {
    const body = text.replace(/\r?\n/g, "\r\n");
    this.out.write(`\r${ansi.clearLine}${body}\r\n${this.frame()}`);
  }

  /** Ask a question on the input line; resolves with the answer, or null on Esc/Ctrl-C. */
  ask(question: string): Promise<string | null> {
    if (this.asking) this.asking.resolve(null);
    return new Promise((resolve) => {
      this.asking = { prompt: question, saved: { buf: this.buf, cursor: this.cursor }, resolve };
      this.buf = [];
      this.cursor = 0;
      this.scroll = 0;
      this.render();
    });
  }

  /** Feed raw bytes from the terminal. */
  feed(chunk: Uint8Array | string): void {
    if (this.escTimer) clearTimeout(this.escTimer);
    this.escTimer = null;
    for (const key of this.decoder.feed(chunk)) this.handle(key);
    if (this.decoder.waiting) {
      this.escTimer = setTimeout(() => {
        this.escTimer = null;
        for (const key of this.decoder.flush()) this.handle(key);
      }, 40);
    }
  }

  /** Stop the pending Esc timer (when leaving the screen). */
  dispose(): void {
    if (this.escTimer) clearTimeout(this.escTimer);
    this.escTimer = null;
  }

  /** Apply one key. */
  handle(key: Key): void {
    if (this.status !== null && key.kind !== "ctrl-c") return; // busy: only Ctrl-C counts
    switch (key.kind) {
      case "text":
        this.insert(key.text);
        break;
      case "paste":
        // An answer to a question is one line; a message keeps the paste's line breaks.
        this.insert(this.asking ? key.text.replace(/\n/g, " ") : key.text);
        break;
      case "newline":
        if (!this.asking) this.insert("\n");
        break;
      case "enter":
        return this.submit();
      case "backspace":
        if (this.cursor > 0) {
          this.buf.splice(this.cursor - 1, 1);
          this.cursor--;
        }
        break;
      case "delete":
        if (this.cursor < this.buf.length) this.buf.splice(this.cursor, 1);
        break;
      case "left":
        this.cursor = Math.max(0, this.cursor - 1);
        break;
      case "right":
        this.cursor = Math.min(this.buf.length, this.cursor + 1);
        break;
      case "home":
        this.cursor = 0;
        break;
      case "end":
        this.cursor = this.buf.length;
        break;
      case "word-left":
        this.cursor = this.wordStart(this.cursor);
        break;
      case "word-right":
        while (this.cursor < this.buf.length && this.buf[this.cursor] === " ") this.cursor++;
        while (this.cursor < this.buf.length && this.buf[this.cursor] !== " ") this.cursor++;
        break;
      case "kill-line":
        this.buf.splice(0, this.cursor);
        this.cursor = 0;
        break;
      case "kill-end":
        this.buf.splice(this.cursor);
        break;
      case "kill-word": {
        const start = this.wordStart(this.cursor);
        this.buf.splice(start, this.cursor - start);
        this.cursor = start;
        break;
      }
      case "up":
      case "down":
        if (this.asking) break;
        this.browse(key.kind === "up" ? -1 : 1);
        break;
      case "ctrl-c":
      case "escape":
        if (this.asking) return this.answer(null);
        if (key.kind === "ctrl-c") return this.onInterrupt();
        return this.onEscape();
      case "ctrl-d":
        if (this.buf.length === 0 && !this.asking) return this.onEof();
        break;
      case "ctrl-l":
      case "tab":
        break;
    }
    this.render();
  }

  /** Redraw the input line in place. */
  render(): void {
    this.out.write(this.frame());
  }

  private frame(): string {
    const cols = Math.max(8, this.out.columns ?? 80);
    if (this.status !== null) return `\r${ansi.clearLine}${truncate(this.status, cols - 1)}`;
    const prompt = this.asking ? this.asking.prompt : this.prompt;
    const buf = this.buf.map((g) => (g === "\n" ? NEWLINE_MARK : g));
    const promptW = width(prompt);
    const room = Math.max(1, cols - 1 - promptW);
    // Keep the cursor visible: scroll left or right just enough.
    if (this.cursor < this.scroll) this.scroll = this.cursor;
    while (this.scroll < this.cursor && width(buf.slice(this.scroll, this.cursor).join("")) >= room) this.scroll++;
    let shown = "";
    let w = 0;
    for (let i = this.scroll; i < buf.length; i++) {
      const gw = width(buf[i]!);
      if (w + gw > room) break;
      shown += buf[i];
      w += gw;
    }
    const col = promptW + width(buf.slice(this.scroll, this.cursor).join(""));
    return `\r${ansi.clearLine}${prompt}${shown}\r${ansi.right(col)}`;
  }

  private insert(text: string): void {
    const gs = graphemes(text);
    this.buf.splice(this.cursor, 0, ...gs);
    this.cursor += gs.length;
    // A grapheme may have merged with its neighbour (e.g. a combining accent).
    const joined = graphemes(this.buf.join(""));
    if (joined.length !== this.buf.length) {
      const before = graphemes(this.buf.slice(0, this.cursor).join("")).length;
      this.buf = joined;
      this.cursor = before;
    }
  }

  private wordStart(from: number): number {
    let i = from;
    while (i > 0 && this.buf[i - 1] === " ") i--;
    while (i > 0 && this.buf[i - 1] !== " ") i--;
    return i;
  }

  private browse(dir: -1 | 1): void {
    const next = this.histIndex + dir;
    if (next < 0 || next > this.history.length) return;
    if (this.histIndex === this.history.length) this.draft = this.buf;
    this.histIndex = next;
    this.buf = next === this.history.length ? this.draft : graphemes(this.history[next]!);
    this.cursor = this.buf.length;
  }

  private submit(): void {
    const line = this.buf.join("");
    if (this.asking) return this.answer(line);
    this.buf = [];
    this.cursor = 0;
    this.scroll = 0;
    if (line.trim() !== "" && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > this.maxHistory) this.history.shift();
    }
    this.histIndex = this.history.length;
    this.draft = [];
    this.render();
    this.onSubmit(line);
  }

  private answer(value: string | null): void {
    const a = this.asking!;
    this.asking = null;
    this.buf = a.saved.buf;
    this.cursor = a.saved.cursor;
    this.scroll = 0;
    // The question and its answer stay above, as a record of what was decided.
    this.printAbove(`${a.prompt}${value ?? "(cancelled)"}`);
    a.resolve(value);
  }
}
