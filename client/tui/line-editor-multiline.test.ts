import { describe, expect, test } from "bun:test";
import { ScreenModel } from "../../tests/helpers/screen.ts";
import { KeyDecoder, PASTE } from "./keys.ts";
import { LineEditor } from "./line-editor.ts";

function setup() {
  const screen = new ScreenModel(40, 8);
  const submitted: string[] = [];
  const ed = new LineEditor({ out: screen, prompt: "> ", onSubmit: (l) => submitted.push(l) });
  ed.render();
  return { screen, ed, submitted };
}

describe("multi-line messages: keys", () => {
  test("Enter (CR) submits; Ctrl-J (LF) and Alt-Enter insert a newline", () => {
    const d = new KeyDecoder();
    expect(d.feed("a\rb")).toEqual([{ kind: "text", text: "a" }, { kind: "enter" }, { kind: "text", text: "b" }]);
    expect(d.feed("\n")).toEqual([{ kind: "newline" }]);
    expect(d.feed("\x1b\r")).toEqual([{ kind: "newline" }]);
    expect(d.feed("x\r\n")).toEqual([{ kind: "text", text: "x" }, { kind: "enter" }]);
  });

  test("a bracketed paste is one insertion with its line breaks, even split across reads", () => {
    const d = new KeyDecoder();
    expect(d.feed(`${PASTE.start}line one\r\nline`)).toEqual([]);
    expect(d.waiting).toBe(true);
    expect(d.flush()).toEqual([]); // a pause inside a paste is not an Esc
    expect(d.feed(` two\rthree\x07\t!${PASTE.end.slice(0, 3)}`)).toEqual([]);
    expect(d.feed(`${PASTE.end.slice(3)}z`)).toEqual([
      { kind: "paste", text: "line one\nline two\nthree !" },
      { kind: "text", text: "z" },
    ]);
  });
});

describe("multi-line messages: the editor", () => {
  test("a pasted block and Enter: ONE message with its newlines", () => {
    const { ed, submitted } = setup();
    ed.feed(`${PASTE.start}first\nsecond\nthird${PASTE.end}`);
    expect(submitted).toEqual([]);
    ed.feed("\r");
    expect(submitted).toEqual(["first\nsecond\nthird"]);
  });

  test("Ctrl-J and Alt-Enter insert a newline; the row shows it as ↵ and stays one row", () => {
    const { screen, ed, submitted } = setup();
    ed.feed("hello\nworld\x1b\r!");
    expect(ed.value).toBe("hello\nworld\n!");
    expect(screen.cursorLine()).toBe("> hello↵world↵!");
    ed.feed("\r");
    expect(submitted).toEqual(["hello\nworld\n!"]);
  });

  test("an answer to a question stays one line", async () => {
    const { ed } = setup();
    const answer = ed.ask("name? ");
    ed.feed(`${PASTE.start}a\nb${PASTE.end}\n\r`);
    expect(await answer).toBe("a b");
  });
});
