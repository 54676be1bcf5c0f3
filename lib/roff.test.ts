import { expect, test } from "bun:test";
import { roffArg, roffItem, roffText } from "./roff.ts";

test("roff text: hyphens and backslashes escaped, no line read as a request", () => {
  expect(roffText("--relay a\\b")).toBe("\\-\\-relay a\\eb");
  expect(roffText(".SH x\n'quoted\nok")).toBe("\\&.SH x\n\\&'quoted\nok");
  expect(roffArg('say "hi"')).toBe('"say ""hi"""');
  expect(roffItem("--file <path>", "a file")).toBe(".TP\n\\fB\\-\\-file \\fR\\fI<path>\\fR\na file\n");
});
