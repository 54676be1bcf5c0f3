// Decodes raw terminal input (bytes from stdin in raw mode) into editing keys.
// UTF-8 characters split across reads are reassembled; escape sequences for the
// arrows, Home/End/Delete (xterm, VT220 and tmux variants) are recognised; a lone
// Esc is reported once the caller calls flush() after a short pause. Enter (CR) submits; Ctrl-J (LF)
// and Alt-Enter insert a newline; a bracketed paste (ESC[200~ … ESC[201~) is one "paste" key whose
// line breaks are kept as "\n".

export type KeyKind =
  | "enter"
  | "newline"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "kill-line"
  | "kill-end"
  | "kill-word"
  | "ctrl-c"
  | "ctrl-d"
  | "ctrl-l"
  | "escape"
  | "tab";

export type Key = { kind: "text"; text: string } | { kind: "paste"; text: string } | { kind: KeyKind };

/** Bracketed paste (xterm): the terminal wraps pasted text in these once ENABLE is written. */
export const PASTE = { enable: "\x1b[?2004h", disable: "\x1b[?2004l", start: "\x1b[200~", end: "\x1b[201~" };

/** Pasted text as typed text: CRLF and CR become LF, tabs a space, other control characters are dropped. */
export function cleanPaste(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/\t/g, " ")
    .replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, "");
}

const CONTROL: Record<string, KeyKind> = {
  "\r": "enter",
  "\n": "newline",
  "\x7f": "backspace",
  "\x08": "backspace",
  "\x01": "home",
  "\x05": "end",
  "\x02": "left",
  "\x06": "right",
  "\x10": "up",
  "\x0e": "down",
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x0b": "kill-end",
  "\x15": "kill-line",
  "\x17": "kill-word",
  "\x0c": "ctrl-l",
  "\t": "tab",
};

const CSI_FINAL: Record<string, KeyKind> = { A: "up", B: "down", C: "right", D: "left", H: "home", F: "end" };
const CSI_TILDE: Record<string, KeyKind> = { "1": "home", "7": "home", "4": "end", "8": "end", "3": "delete" };

export class KeyDecoder {
  private readonly utf8 = new TextDecoder("utf-8", { fatal: false });
  private pending = "";

  /** Whether a lone Esc (or an unfinished sequence) waits for more input. */
  get waiting(): boolean {
    return this.pending !== "";
  }

  feed(chunk: Uint8Array | string): Key[] {
    const text = typeof chunk === "string" ? chunk : this.utf8.decode(chunk, { stream: true });
    this.pending += text;
    return this.drain(false);
  }

  /** Called after a pause: a pending lone Esc becomes the Esc key. */
  flush(): Key[] {
    return this.drain(true);
  }

  private drain(final: boolean): Key[] {
    const keys: Key[] = [];
    const s = this.pending;
    let i = 0;
    let text = "";
    const pushText = (): void => {
      if (text) keys.push({ kind: "text", text });
      text = "";
    };
    while (i < s.length) {
      const c = s[i]!;
      if (c === "\x1b" && s.startsWith(PASTE.start, i)) {
        pushText();
        const end = s.indexOf(PASTE.end, i + PASTE.start.length);
        if (end === -1) break; // the rest of the paste is still on its way
        keys.push({ kind: "paste", text: cleanPaste(s.slice(i + PASTE.start.length, end)) });
        i = end + PASTE.end.length;
        continue;
      }
      if (c === "\x1b") {
        pushText();
        const seq = parseEscape(s, i);
        if (seq === null) {
          if (!final) break; // wait for the rest of the sequence
          keys.push({ kind: "escape" });
          i += 1;
          continue;
        }
        if (seq.key) keys.push({ kind: seq.key });
        i += seq.length;
        continue;
      }
      const kind = CONTROL[c];
      if (kind) {
        pushText();
        keys.push({ kind });
        i += c === "\r" && s[i + 1] === "\n" ? 2 : 1;
        continue;
      }
      if (c < " " || (c >= "\x80" && c <= "\x9f")) {
        i += 1; // other control characters are ignored
        continue;
      }
      text += c;
      i += 1;
    }
    pushText();
    this.pending = s.slice(i);
    return keys;
  }
}

/** Parse an escape sequence at `i`; null when incomplete; key undefined when unknown. */
function parseEscape(s: string, i: number): { key?: KeyKind; length: number } | null {
  const next = s[i + 1];
  if (next === undefined) return null;
  if (next === "[" || next === "O") {
    // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E.
    let j = i + 2;
    while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x3f) j++;
    if (j >= s.length) return null;
    const final = s[j]!;
    const params = s.slice(i + 2, j);
    const length = j - i + 1;
    if (final === "~") return { key: CSI_TILDE[params.split(";")[0] ?? ""], length };
    const base = CSI_FINAL[final];
    if (base && /;[35]$/.test(params)) {
      // Ctrl/Alt + arrow: move by words.
      if (base === "left") return { key: "word-left", length };
      if (base === "right") return { key: "word-right", length };
    }
    return { key: base, length };
  }
  if (next === "\r" || next === "\n") return { key: "newline", length: 2 }; // Alt-Enter
  if (next === "b") return { key: "word-left", length: 2 };
  if (next === "f") return { key: "word-right", length: 2 };
  if (next === "\x7f" || next === "\x08") return { key: "kill-word", length: 2 };
  if (next === "\x1b") return { key: "escape", length: 1 };
  return { length: 2 }; // Alt+other key: ignored
}
