import { describe, expect, test } from "bun:test";
import { ScreenModel } from "../../tests/helpers/screen.ts";
import { KeyDecoder } from "./keys.ts";
import { LineEditor } from "./line-editor.ts";

const LEFT = "\x1b[D";
const RIGHT = "\x1b[C";
const HOME = "\x1b[H";
const END = "\x1b[F";
const BS = "\x7f";
const DEL = "\x1b[3~";
const UP = "\x1b[A";
const DOWN = "\x1b[B";

function setup(columns = 40, rows = 8) {
  const screen = new ScreenModel(columns, rows);
  const submitted: string[] = [];
  const ed = new LineEditor({ out: screen, prompt: "> ", onSubmit: (l) => submitted.push(l) });
  ed.render();
  return { screen, ed, submitted };
}

/** What the screen shows left of the cursor on its row. */
function beforeCursor(screen: ScreenModel): string {
  const line = screen.cursorLine();
  let out = "";
  let col = 0;
  for (const g of new Intl.Segmenter().segment(line)) {
    if (col >= screen.x) break;
    out += g.segment;
    col += Bun.stringWidth(g.segment);
  }
  return out;
}

describe("key decoder", () => {
  test("reassembles UTF-8 split across reads and recognises sequences", () => {
    const d = new KeyDecoder();
    const bytes = new TextEncoder().encode("é中👍🏽\x1b[D\x1b[3~\x1bOH");
    const keys = [];
    for (let i = 0; i < bytes.length; i++) keys.push(...d.feed(bytes.subarray(i, i + 1)));
    const text = keys.filter((k) => k.kind === "text").map((k) => (k.kind === "text" ? k.text : ""));
    expect(text.join("")).toBe("é中👍🏽");
    expect(keys.filter((k) => k.kind !== "text").map((k) => k.kind)).toEqual(["left", "delete", "home"]);
    expect(d.waiting).toBe(false);
  });

  test("a lone Esc waits, then is reported by flush(); control junk is ignored", () => {
    const d = new KeyDecoder();
    expect(d.feed("\x1b")).toEqual([]);
    expect(d.waiting).toBe(true);
    expect(d.flush()).toEqual([{ kind: "escape" }]);
    expect(d.feed("a\x00\x07b\r\n")).toEqual([{ kind: "text", text: "ab" }, { kind: "enter" }]);
    expect(d.feed("\x1b[1;5D\x1bb\x1b\x7f")).toEqual([
      { kind: "word-left" },
      { kind: "word-left" },
      { kind: "kill-word" },
    ]);
  });
});

describe("line editor", () => {
  test("insert, cursor moves, backspace and delete", () => {
    const { screen, ed } = setup();
    ed.feed("helo");
    ed.feed(LEFT);
    ed.feed("l");
    expect(ed.value).toBe("hello");
    expect(beforeCursor(screen)).toBe("> hell");
    ed.feed(HOME + DEL + END + BS + "!");
    expect(ed.value).toBe("ell!");
    expect(screen.cursorLine()).toBe("> ell!");
    expect(beforeCursor(screen)).toBe("> ell!");
    ed.feed("\x01\x06\x0b"); // Ctrl-A, Ctrl-F, Ctrl-K
    expect(ed.value).toBe("e");
    ed.feed(" two three\x17"); // Ctrl-W
    expect(ed.value).toBe("e two ");
  });

  test("UTF-8, wide characters and combining accents are edited as whole characters", () => {
    const { screen, ed } = setup();
    ed.feed(new TextEncoder().encode("a中b👍🏽c"));
    ed.feed("e\u0301"); // e + combining acute = one character
    expect(ed.value).toBe("a中b👍🏽ce\u0301");
    ed.feed(LEFT + LEFT + LEFT);
    expect(beforeCursor(screen)).toBe("> a中b");
    expect(screen.x).toBe(2 + 4); // "中" is two columns wide
    ed.feed(BS);
    expect(ed.value).toBe("a中👍🏽ce\u0301");
    ed.feed(END + BS);
    expect(ed.value).toBe("a中👍🏽c");
    expect(screen.cursorLine()).toBe("> a中👍🏽c");
  });

  test("printAbove keeps the half-typed line, the cursor column and the buffer intact", () => {
    const { screen, ed } = setup(40, 8);
    ed.feed("hello wor");
    ed.feed(LEFT + LEFT + LEFT); // cursor inside the word
    const before = { value: ed.value, x: screen.x, line: screen.cursorLine() };
    ed.printAbove("[12:00] bob  hi there");
    ed.printAbove("[12:01] bob  first line\nsecond line");
    ed.printAbove("[12:02] bob  " + "x".repeat(70)); // wraps on screen
    ed.printAbove("y".repeat(40)); // exactly one row: no blank line after it
    expect(ed.value).toBe(before.value);
    expect(screen.cursorLine()).toBe(before.line);
    expect(screen.x).toBe(before.x);
    const lines = screen.lines();
    expect(lines).toEqual([
      "[12:00] bob  hi there",
      "[12:01] bob  first line",
      "second line",
      "[12:02] bob  " + "x".repeat(27),
      "x".repeat(40),
      "xxx",
      "y".repeat(40),
      "> hello wor",
    ]);
    expect(screen.y).toBe(7);
    // Typing continues where it was.
    ed.feed("X");
    expect(ed.value).toBe("hello Xwor");
    expect(screen.cursorLine()).toBe("> hello Xwor");
  });

  test("messages arriving on a full screen scroll it and leave the input on the last row", () => {
    const { screen, ed } = setup(30, 4);
    ed.feed("typing");
    for (let i = 0; i < 10; i++) ed.printAbove(`message ${i}`);
    expect(screen.lines()).toEqual(["message 7", "message 8", "message 9", "> typing"]);
    expect(screen.y).toBe(3);
    expect(screen.x).toBe(8);
  });

  test("a long line scrolls sideways and never wraps", () => {
    const { screen, ed } = setup(20, 4);
    ed.feed("abcdefghijklmnopqrstuvwxyz");
    expect(ed.value).toBe("abcdefghijklmnopqrstuvwxyz");
    expect(screen.lines()[1]).toBe("");
    expect(screen.y).toBe(0);
    expect(screen.x).toBeLessThan(20);
    expect(screen.cursorLine().endsWith("z")).toBe(true);
    ed.feed(HOME);
    expect(screen.cursorLine()).toBe("> abcdefghijklmnopq");
    expect(screen.x).toBe(2);
    ed.printAbove("note");
    expect(screen.lines().slice(0, 2)).toEqual(["note", "> abcdefghijklmnopq"]);
  });

  test("enter submits and history recalls lines, keeping the draft", () => {
    const { ed, submitted, screen } = setup();
    ed.feed("first\r");
    ed.feed("second\r");
    ed.feed("draft");
    ed.feed(UP);
    expect(ed.value).toBe("second");
    ed.feed(UP + UP);
    expect(ed.value).toBe("first");
    ed.feed(DOWN + DOWN);
    expect(ed.value).toBe("draft");
    expect(submitted).toEqual(["first", "second"]);
    expect(screen.cursorLine()).toBe("> draft");
  });

  test("ask() borrows the line and gives the typed text back", async () => {
    const { ed, screen, submitted } = setup();
    ed.feed("half typed");
    const answer = ed.ask("Really? [y/N] ");
    expect(screen.cursorLine()).toBe("Really? [y/N]");
    ed.printAbove("incoming");
    expect(screen.cursorLine()).toBe("Really? [y/N]");
    ed.feed("y\r");
    expect(await answer).toBe("y");
    expect(ed.value).toBe("half typed");
    expect(screen.cursorLine()).toBe("> half typed");
    expect(screen.lines().slice(0, 3)).toEqual(["incoming", "Really? [y/N] y", "> half typed"]);
    const cancelled = ed.ask("Sure? ");
    ed.feed("\x03");
    expect(await cancelled).toBeNull();
    expect(submitted).toEqual([]);
  });

  test("a status line replaces the input while busy and ignores typing", () => {
    const { ed, screen } = setup();
    ed.feed("abc");
    ed.setStatus("uploading 50%");
    ed.feed("zzz");
    ed.printAbove("msg");
    expect(screen.lines().slice(0, 2)).toEqual(["msg", "uploading 50%"]);
    ed.setStatus(null);
    expect(ed.value).toBe("abc");
    expect(screen.cursorLine()).toBe("> abc");
  });

  test("Ctrl-C, Esc and Ctrl-D on an empty line reach their handlers", async () => {
    const events: string[] = [];
    const ed = new LineEditor({
      out: new ScreenModel(),
      prompt: "> ",
      onInterrupt: () => events.push("int"),
      onEscape: () => events.push("esc"),
      onEof: () => events.push("eof"),
    });
    ed.feed("x\x04"); // Ctrl-D with text: ignored
    ed.feed("\x7f\x04\x03");
    ed.feed("\x1b");
    await Bun.sleep(80); // the lone-Esc pause of the decoder
    expect(events).toEqual(["eof", "int", "esc"]);
    ed.dispose();
  });
});
