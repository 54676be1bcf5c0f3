import { describe, expect, test } from "bun:test";
import { PhantomError } from "../../lib/errors.ts";
import { errorLine, wantsJson } from "./errors.ts";

describe("the one error printer", () => {
  test("one line of words by default", () => {
    expect(errorLine(new PhantomError("unknown-contact", "no contact 'bob'"), false)).toBe(
      "phantom: error: no contact 'bob'",
    );
  });

  test("with --json, one line of JSON: the code and the message", () => {
    const line = errorLine(new PhantomError("unknown-contact", "no contact 'bob'\nsecond"), true);
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({ error: "unknown-contact", message: "no contact 'bob' second" });
    expect(JSON.parse(errorLine(new Error("boom"), true))).toEqual({
      error: "unexpected",
      message: "unexpected error: boom",
    });
  });

  test("--json is seen anywhere before `--`", () => {
    expect(wantsJson(["read", "bob", "--json"])).toBe(true);
    expect(wantsJson(["--json", "send", "bob", "hi"])).toBe(true);
    expect(wantsJson(["send", "bob", "--", "--json"])).toBe(false);
    expect(wantsJson(["read", "bob"])).toBe(false);
  });
});

test("a system error nobody put in words is said in words, with its path", () => {
  const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), {
    code: "ENOENT",
    path: "/x/y",
  });
  expect(errorLine(e, false)).toBe("phantom: error: no such file or folder: /x/y");
});
