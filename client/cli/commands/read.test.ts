import { describe, expect, test } from "bun:test";
import type { Session } from "../../core/session.ts";
import { jsonText } from "../../text/sanitise.ts";
import { humanMessage, jsonMessage } from "./read.ts";

const PEER = { uid: "B".repeat(28), nickname: null };
const session = {} as Session;

// The bidi fix of issue 9: U+061C ARABIC LETTER MARK (a bidi mark like LRM/RLM) was in
// none of the character classes, so a peer's message reached `phantom read`/`listen` unchanged.
describe("a peer's text in read and listen output", () => {
  const body = "total: 100\u061c\u202e$ \u2067ok\u2069";

  test("human lines show every bidi control as \\uXXXX", () => {
    const line = humanMessage(session, { id: "x", ts: 0, from: PEER.uid, mine: false, body }, PEER);
    expect(line.endsWith("total: 100\\u061c\\u202e$ \\u2067ok\\u2069")).toBe(true);
    expect(line).not.toMatch(/[\u061c\u202e\u2067\u2069]/);
  });

  test("file names too", () => {
    const file = { n: 1, name: "photo\u061cgpj.exe", size: 3, mime: "image/png" };
    const line = humanMessage(session, { id: "x", ts: 0, from: PEER.uid, mine: false, body: file.name, file }, PEER);
    expect(line).toContain("[file 1] photo\\u061cgpj.exe (");
  });

  test("--json lines escape them and stay valid JSON", () => {
    const text = jsonText(jsonMessage({ id: "x", ts: 0, from: PEER.uid, mine: false, body }));
    expect(text).not.toMatch(/[\u061c\u202e\u2067\u2069]/);
    expect(JSON.parse(text).body).toBe(body);
  });
});
