import { describe, expect, test } from "bun:test";
import { jsonText } from "../../text/sanitise.ts";
import { listenJson } from "./listen.ts";
import { humanMessage, jsonMessage } from "./read.ts";

const PEER = { uid: "B".repeat(28), nickname: null };

// The bidi fix of issue 9: U+061C ARABIC LETTER MARK (a bidi mark like LRM/RLM) was in
// none of the character classes, so a peer's message reached `phantom read`/`listen` unchanged.
describe("a peer's text in read and listen output", () => {
  const body = "total: 100\u061c\u202e$ \u2067ok\u2069";

  test("human lines show every bidi control as \\uXXXX", () => {
    const line = humanMessage({ id: "x", ts: 0, from: PEER.uid, mine: false, body }, PEER);
    expect(line.endsWith("total: 100\\u061c\\u202e$ \\u2067ok\\u2069")).toBe(true);
    expect(line).not.toMatch(/[\u061c\u202e\u2067\u2069]/);
  });

  test("file names too", () => {
    const file = { n: 1, name: "photo\u061cgpj.exe", size: 3, mime: "image/png" };
    const line = humanMessage({ id: "x", ts: 0, from: PEER.uid, mine: false, body: file.name, file }, PEER);
    expect(line).toContain("[file 1] photo\\u061cgpj.exe (");
  });

  test("--json lines escape them and stay valid JSON", () => {
    const text = jsonText(jsonMessage({ id: "x", ts: 0, from: PEER.uid, mine: false, body }));
    expect(text).not.toMatch(/[\u061c\u202e\u2067\u2069]/);
    expect(JSON.parse(text).body).toBe(body);
  });
});

// PROTOCOL-v3 §V1 and §V8 in read and listen output.
describe("the protocol of each message", () => {
  const base = { id: "x", ts: 1_800_000_000, from: PEER.uid, mine: false, body: "hi" };

  test('--json: "protocol" 3 or 2 on every message, 2 when the message does not say', () => {
    expect(jsonMessage({ ...base, protocol: 3 })).toEqual({ ts: base.ts, from: PEER.uid, body: "hi", protocol: 3 });
    expect(jsonMessage({ ...base, protocol: 2 })).toEqual({ ts: base.ts, from: PEER.uid, body: "hi", protocol: 2 });
    expect(jsonMessage(base)).toEqual({ ts: base.ts, from: PEER.uid, body: "hi", protocol: 2 });
    const file = { n: 2, name: "a.txt", size: 3, mime: "text/plain" };
    expect(jsonMessage({ ...base, body: "a.txt", file, protocol: 3 })).toEqual({
      ts: base.ts,
      from: PEER.uid,
      body: "a.txt",
      file,
      protocol: 3,
    });
  });

  test('--json: "downgraded": true on a v2 message from a v3-pinned contact, "already_read": true with history off', () => {
    expect(jsonMessage({ ...base, protocol: 2, downgraded: true })).toEqual({
      ts: base.ts,
      from: PEER.uid,
      body: "hi",
      protocol: 2,
      downgraded: true,
    });
    expect(jsonMessage({ ...base, body: "", protocol: 3, alreadyRead: true })).toEqual({
      ts: base.ts,
      from: PEER.uid,
      body: "",
      protocol: 3,
      already_read: true,
    });
  });

  test("listen --json carries the same fields, then nick and id", () => {
    const line = listenJson({ ...base, protocol: 2, downgraded: true }, "bob");
    expect(Object.keys(line)).toEqual(["ts", "from", "body", "protocol", "downgraded", "nick", "id"]);
    expect(line).toMatchObject({ protocol: 2, downgraded: true, nick: "bob", id: "x" });
  });

  test("human lines: a downgraded message is marked, text or file; other lines are as before", () => {
    const plain = humanMessage({ ...base, protocol: 3 }, PEER);
    expect(plain).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] BBBBBBBB: hi$/);
    expect(humanMessage({ ...base, protocol: 2 }, PEER)).toBe(plain);
    expect(humanMessage({ ...base, protocol: 2, downgraded: true }, PEER)).toBe(
      `${plain} (sent without forward secrecy)`,
    );
    const lines = humanMessage({ ...base, body: "one\ntwo", downgraded: true }, PEER).split("\n");
    expect(lines[1]).toMatch(/^ +two \(sent without forward secrecy\)$/);
    const file = { n: 1, name: "a.txt", size: 3, mime: "text/plain" };
    expect(humanMessage({ ...base, body: "a.txt", file, downgraded: true }, PEER)).toEndWith(
      `phantom get ${PEER.uid} 1 (sent without forward secrecy)`,
    );
  });

  test("human lines: a message read before with history off says so instead of its text", () => {
    const line = humanMessage({ ...base, body: "", protocol: 3, alreadyRead: true }, PEER);
    expect(line).toMatch(/^\[[^\]]+\] BBBBBBBB: \(already read — history is off\)$/);
  });
});
