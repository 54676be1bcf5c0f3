// lib/wire.ts: every schema refuses oversized and malformed fields with a WireError;
// request schemas also refuse unknown fields, answer schemas ignore them (PROTOCOL §7.10);
// limits are tested at and one past each edge (STYLE habit 8).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { generateIdentity, randomBytes, sha256, uidOf } from "./crypto.ts";
import { b64encode, b64uencode, utf8 } from "./encoding.ts";
import { expectWireError } from "../tests/helpers/errors.ts";
import * as w from "./wire.ts";

const alice = generateIdentity();
const bob = generateIdentity();
const A = uidOf(alice.encPub);
const B = uidOf(bob.encPub);
const members = [A, B] as const;
const room = b64uencode(randomBytes(16));
const b64 = (n: number) => b64encode(new Uint8Array(n).fill(7));
const b64u = (n: number) => b64uencode(new Uint8Array(n).fill(7));

/** Assert `value` passes `schema`, and that each variant is a WireError bad-request; an unknown key too (requests). */
function edges(schema: Parameters<typeof w.check>[0], value: object, bad: Record<string, unknown>[]) {
  expect(w.check(schema, value, "body")).toEqual(value);
  for (const patch of bad) {
    expectWireError(() => w.check(schema, { ...value, ...patch }, "body"), "bad-request");
  }
  expectWireError(() => w.check(schema, { ...value, unknown: 1 }, "body"), "bad-request"); // .strict()
  expectWireError(() => w.check(schema, null, "body"), "bad-request");
  expectWireError(() => w.check(schema, [], "body"), "bad-request");
}

/** Like edges, for an answer: unknown keys are accepted and dropped (PROTOCOL §7.10). */
function answerEdges(schema: Parameters<typeof w.check>[0], value: object, bad: Record<string, unknown>[]) {
  expect(w.check(schema, value, "answer")).toEqual(value);
  for (const patch of bad) {
    expectWireError(() => w.check(schema, { ...value, ...patch }, "answer"), "bad-request");
  }
  expect(w.check(schema, { ...value, unknown: 1, limits: { x: 1 } }, "answer")).toEqual(value);
  expectWireError(() => w.check(schema, null, "answer"), "bad-request");
  expectWireError(() => w.check(schema, [], "answer"), "bad-request");
}

const badUid = [{ x: "" }, { x: A.slice(1) }, { x: `${A}A` }, { x: `${A.slice(1)}+` }, { x: 5 }, { x: null }];
const badRoom = [
  { x: b64u(15) },
  { x: b64u(17) },
  { x: `${room.slice(0, 21)}B` }, // 22 characters with non-zero trailing bits
  { x: b64encode(randomBytes(16)) }, // padded standard base64
  { x: "" },
];
const as = (key: string, list: Record<string, unknown>[]) => list.map((p) => ({ [key]: p.x }));

describe("PROTOCOL §7 request bodies", () => {
  test("§7.2 register", () => {
    edges(w.RegisterBody, { uid: A, pub_key: b64encode(alice.encPub), sign_pub: b64uencode(alice.signPub) }, [
      ...as("uid", badUid),
      { pub_key: b64(31) },
      { pub_key: b64(33) },
      { pub_key: b64(48) },
      { pub_key: b64uencode(alice.encPub) },
      { sign_pub: b64u(31) },
      { sign_pub: b64u(33) },
      { sign_pub: b64encode(alice.signPub) },
      { sign_pub: undefined },
    ]);
  });

  test("§7.4 ke/push", () => {
    edges(w.KePushBody, { from_uid: A, to_uid: B, pub_key: b64encode(alice.encPub), room_id: room }, [
      ...as("from_uid", badUid),
      ...as("to_uid", badUid),
      ...as("room_id", badRoom),
      { pub_key: b64(33) },
    ]);
  });

  test("§7.6 send: fields", () => {
    const ct = b64(100);
    edges(w.SendBody, { room_id: room, ciphertext: ct, sender_id: A }, [
      ...as("room_id", badRoom),
      ...as("sender_id", badUid.slice(0, 5)),
      { ciphertext: "" },
      { ciphertext: ct.slice(1) },
      { ciphertext: "-_-_" },
      { ciphertext: `${ct} ` },
      { ciphertext: 5 },
    ]);
    expect(w.check(w.SendBody, { room_id: room, ciphertext: ct }, "body")).toBeTruthy();
    expect(w.check(w.SendBody, { room_id: room, ciphertext: ct, sender_id: null }, "body")).toBeTruthy();
  });

  test("§7.6 send: ciphertext of 65,536 decoded bytes is within the limit, 65,537 is over", () => {
    expect(w.MAX_CIPHERTEXT_BYTES).toBe(65_536);
    for (const [n, over] of [
      [65_535, false],
      [65_536, false],
      [65_537, true],
      [65_538, true],
    ] as const) {
      const ciphertext = b64(n);
      // The schema accepts both; the relay answers 413 from the decoded length.
      const body = w.check(w.SendBody, { room_id: room, ciphertext }, "body");
      expect(w.b64DecodedLength(body.ciphertext)).toBe(n);
      expect(w.b64DecodedLength(body.ciphertext) > w.MAX_CIPHERTEXT_BYTES).toBe(over);
    }
  });

  test("§7.6 send: ciphertext text longer than a JSON body can hold is refused", () => {
    const max = Math.ceil(w.MAX_JSON_BODY_BYTES / 3) * 4;
    expect(w.check(w.SendBody, { room_id: room, ciphertext: "A".repeat(max) }, "b")).toBeTruthy();
    expectWireError(() => w.check(w.SendBody, { room_id: room, ciphertext: "A".repeat(max + 4) }, "b"), "bad-request");
  });

  test("b64DecodedLength", () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) expect(w.b64DecodedLength(b64(n))).toBe(n);
  });

  test("§7.6 fetch: limit 1–200, since_ts a non-negative integer", () => {
    expect(w.FETCH_LIMIT_MAX).toBe(200);
    expect(w.FETCH_LIMIT_DEFAULT).toBe(50);
    for (const limit of [1, 50, 200, null, undefined]) {
      expect(w.check(w.FetchBody, { room_id: room, limit }, "body").limit).toBe(limit);
    }
    edges(w.FetchBody, { room_id: room, limit: 200, since_ts: 0 }, [
      ...as("room_id", badRoom),
      { limit: 201 },
      { limit: 0 },
      { limit: -1 },
      { limit: 1.5 },
      { limit: "50" },
      { since_ts: -1 },
      { since_ts: 1.5 },
      { since_ts: 2 ** 53 },
      { since_ts: "0" },
    ]);
  });

  test("§7.6.1 fetch: after_seq a non-negative integer, not together with since_ts", () => {
    edges(w.FetchBody, { room_id: room, limit: 200, after_seq: 0 }, [
      { after_seq: -1 },
      { after_seq: 1.5 },
      { after_seq: 2 ** 53 },
      { after_seq: "0" },
      { since_ts: 0 },
    ]);
    expect(w.check(w.FetchBody, { room_id: room, after_seq: 2 ** 53 - 1 }, "b").after_seq).toBe(2 ** 53 - 1);
    expect(w.check(w.FetchBody, { room_id: room, after_seq: null, since_ts: 5 }, "b").since_ts).toBe(5);
    expect(() => w.check(w.FetchBody, { room_id: room, after_seq: 1, since_ts: 1 }, "fetch")).toThrow(
      /^fetch: after_seq: give since_ts or after_seq, not both$/,
    );
  });

  test("§7.7 burn", () => {
    edges(w.BurnBody, { room_id: room, sender_id: A }, [
      ...as("room_id", badRoom),
      ...as("sender_id", badUid.slice(0, 5)),
    ]);
  });
});

describe("PROTOCOL §7 responses", () => {
  test("health", () => {
    answerEdges(w.HealthResponse, { status: "ok", version: "0.1.0", auth_required: true, auth_pub: b64(32) }, [
      { status: "OK" },
      { version: "v".repeat(65) },
      { auth_required: "yes" },
      { auth_pub: b64u(32) },
      { auth_pub: b64(31) },
    ]);
    expect(
      w.check(w.HealthResponse, { status: "ok", version: "1", auth_required: false, auth_pub: null }, "h"),
    ).toBeTruthy();
  });

  test("error body", () => {
    answerEdges(w.ErrorBody, { error: "bad-request", message: "room_id: invalid" }, [
      { error: "e".repeat(65) },
      { message: "m".repeat(1025) },
      { message: 1 },
    ]);
  });

  test("ke/pop, send, fetch, burn, upload, pubkey", () => {
    const entry = { from_uid: A, pub_key: b64(32), room_id: room, ts: 1 };
    answerEdges(w.KeEntry, entry, [{ from_uid: "x" }, { ts: -1 }, { pub_key: b64(16) }]);
    expect(w.check(w.KePopResponse, { entries: [entry] }, "r").entries).toHaveLength(1);
    const flood = Array.from({ length: 20_001 }, () => entry); // popped entries are gone from the relay
    expect(w.check(w.KePopResponse, { entries: flood }, "r").entries).toHaveLength(20_001);
    // A key the relay adds to an entry is ignored (§7.10); a missing one is still refused.
    expect(w.check(w.KePopResponse, { entries: [{ ...entry, to_uid: B }] }, "r").entries).toEqual([entry]);
    expectWireError(() => w.check(w.KePopResponse, { entries: [{ ...entry, ts: undefined }] }, "r"), "bad-request");
    answerEdges(w.SendResponse, { ts: 1 }, [{ ts: 1.5 }, { ts: "1" }]);
    const msg = { ts: 1, ciphertext: b64(40) };
    const many = (n: number) => Array.from({ length: n }, () => msg);
    expect(w.check(w.FetchResponse, { messages: many(200) }, "r").messages).toHaveLength(200);
    expectWireError(() => w.check(w.FetchResponse, { messages: many(201) }, "r"), "bad-request");
    // A relay that supplies the row's sender (§5.2 legacy rows) is understood; §7.6.1 seq too.
    answerEdges(w.StoredMessage, { ts: 1, ciphertext: b64(40), sender_id: A, seq: 3 }, [
      { sender_id: "x" },
      { seq: -1 },
      { seq: 1.5 },
      { seq: "3" },
    ]);
    answerEdges(w.FetchResponse, { messages: [msg], more: true }, [{ more: "yes" }, { messages: [{ ts: 1 }] }]);
    answerEdges(w.BurnResponse, { ok: true, deleted: 0 }, [{ ok: false }, { deleted: -1 }]);
    answerEdges(w.UploadResponse, { url: "/file/abc_-1", size: 10, expires_at: 5 }, [
      { url: "/file/../x" },
      { url: "http://evil.example/file/abc" },
      { url: `/file/${"a".repeat(513)}` },
      { size: -1 },
    ]);
    answerEdges(w.PubkeyResponse, { uid: A, pub_key: b64(32) }, [{ uid: "x" }, { pub_key: b64(33) }]);
    answerEdges(w.OkResponse, { ok: true }, [{ ok: 1 }]);
  });

  test("§7.9 WebSocket frames", () => {
    expect(w.check(w.WsFrame, { event: "burned" }, "f")).toEqual({ event: "burned" });
    expect(w.check(w.WsFrame, { ts: 3, ciphertext: b64(40) }, "f")).toEqual({ ts: 3, ciphertext: b64(40) });
    const seqFrame = { ts: 3, ciphertext: b64(40), seq: 9 };
    expect(w.check(w.WsFrame, { ...seqFrame, x: 1 }, "f")).toEqual(seqFrame); // §7.10: unknown keys ignored
    expect(w.check(w.WsFrame, { event: "burned", x: 1 }, "f")).toEqual({ event: "burned" });
    for (const bad of [{ event: "other" }, { ts: 3 }, { ...seqFrame, seq: -1 }, {}]) {
      expectWireError(() => w.check(w.WsFrame, bad, "f"), "bad-request");
    }
  });
});

describe("parsing helpers", () => {
  test("bad JSON is bad-json, invalid UTF-8 is bad-utf8, a mismatch is bad-request", () => {
    expectWireError(() => w.parseJson(w.OkResponse, "{ok:true}", "r"), "bad-json");
    expectWireError(() => w.parseJson(w.OkResponse, "", "r"), "bad-json");
    expectWireError(() => w.parseJsonBytes(w.OkResponse, Uint8Array.of(0x7b, 0xff, 0x7d), "r"), "bad-utf8");
    // An own "__proto__" key in an answer is dropped like any unknown key, never merged.
    const proto = w.parseJson(w.OkResponse, '{"ok":true,"__proto__":{"polluted":1}}', "r");
    expect(Object.keys(proto)).toEqual(["ok"]);
    expect((proto as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(w.parseJsonBytes(w.OkResponse, utf8.encode(' { "ok" : true } '), "r")).toEqual({ ok: true });
  });

  test("the error names the field", () => {
    expect(() => w.check(w.FetchBody, { room_id: room, limit: 201 }, "fetch body")).toThrow(/^fetch body: limit: /);
  });
});

describe("PROTOCOL §5.2 envelope", () => {
  test("senders write compact JSON, non-ASCII escaped", () => {
    expect(w.encodeEnvelope(A, 'hi "there"\n')).toBe(`PHANTOM_MSG_V1:{"from":"${A}","body":"hi \\"there\\"\\n"}`);
    expect(w.encodeEnvelope(A, "é👻\u007f")).toBe(
      `PHANTOM_MSG_V1:{"from":"${A}","body":"\\u00e9\\ud83d\\udc7b\\u007f"}`,
    );
  });

  test("round trip of any body (property)", () => {
    const anyUtf16 = fc.array(fc.integer({ min: 0, max: 0xffff })).map((a) => String.fromCharCode(...a));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), anyUtf16), fc.constantFrom(A, B), (body, from) => {
        const text = w.encodeEnvelope(from, body);
        expect(text).toMatch(/^[\x20-\x7e]*$/);
        expect(w.decodeEnvelope(text, members)).toEqual({ from, body, legacy: false });
      }),
    );
  });

  test("readers accept \\uXXXX escapes, whitespace and any key order", () => {
    const escaped = `PHANTOM_MSG_V1:{"from":"\\u${A.charCodeAt(0).toString(16).padStart(4, "0")}${A.slice(1)}","body":"\\u00fc\\ud83d\\udc7b"}`;
    expect(w.decodeEnvelope(escaped, members)).toEqual({ from: A, body: "ü👻", legacy: false });
    const spaced = `PHANTOM_MSG_V1: { "body" : "x" ,\n "from" : "${B}" } `;
    expect(w.decodeEnvelope(spaced, members)).toEqual({ from: B, body: "x", legacy: false });
  });

  test("a sender outside the conversation is dropped (bad-sender)", () => {
    const carol = uidOf(generateIdentity().encPub);
    expectWireError(() => w.decodeEnvelope(w.encodeEnvelope(carol, "hi"), members), "bad-sender");
    expectWireError(() => w.decodeEnvelope("legacy text", members, carol), "bad-sender");
  });

  test("legacy plaintexts: body is everything, sender from the relay row if any", () => {
    expect(w.decodeEnvelope("plain old text", members)).toEqual({ from: null, body: "plain old text", legacy: true });
    expect(w.decodeEnvelope("plain", members, B)).toEqual({ from: B, body: "plain", legacy: true });
    expect(w.decodeEnvelope("", members)).toEqual({ from: null, body: "", legacy: true });
    const lower = `phantom_msg_v1:{"from":"${A}","body":"x"}`;
    expect(w.decodeEnvelope(lower, members).legacy).toBe(true);
  });

  test("keys a peer's client adds are ignored, not a reason to drop the message", () => {
    expect(w.decodeEnvelope(`${w.MSG_PREFIX}{"from":"${A}","body":"x","to":"${B}","v":2}`, members)).toEqual({
      from: A,
      body: "x",
      legacy: false,
    });
  });

  test("malformed envelopes are typed errors", () => {
    const p = w.MSG_PREFIX;
    expectWireError(() => w.decodeEnvelope(p, members), "bad-json");
    expectWireError(() => w.decodeEnvelope(`${p}{"from":"${A}","body":"x"`, members), "bad-json");
    expectWireError(() => w.decodeEnvelope(`${p}{"from":"${A}","body":5}`, members), "bad-request");
    expectWireError(() => w.decodeEnvelope(`${p}{"from":"${A}"}`, members), "bad-request");
    expectWireError(() => w.decodeEnvelope(`${p}{"from":null,"body":"x"}`, members), "bad-request");
    expectWireError(() => w.decodeEnvelope(`${p}["${A}","x"]`, members), "bad-request");
  });
});

describe("PROTOCOL §5.3 file message", () => {
  const file: w.FileMessage = {
    type: "file",
    name: "naïve résumé.pdf",
    size: 1000,
    cipher_size: 1016,
    mime: "application/pdf",
    url: "http://127.0.0.1:8787/file/abc",
    key: b64(32),
    nonce: b64(12),
  };

  test("round trip; non-ASCII escaped; an ordinary body is not a file", () => {
    const body = w.encodeFileMessage(file);
    expect(body).toMatch(/^PHANTOM_FILE_V1:\{"type":"file","name":"na\\u00efve r\\u00e9sum\\u00e9\.pdf",/);
    expect(w.decodeFileMessage(body)).toEqual(file);
    expect(w.decodeFileMessage("hello")).toBeNull();
    expect(w.decodeFileMessage(JSON.stringify(file))).toBeNull();
  });

  test("unknown keys are ignored; a null or missing mime reads as application/octet-stream", () => {
    const extra = w.FILE_PREFIX + JSON.stringify({ ...file, extra: 1, thumb: null });
    expect(w.decodeFileMessage(extra)).toEqual(file);
    const octet = { ...file, mime: "application/octet-stream" };
    expect(w.decodeFileMessage(w.FILE_PREFIX + JSON.stringify({ ...file, mime: null }))).toEqual(octet);
    expect(w.decodeFileMessage(w.FILE_PREFIX + JSON.stringify({ ...file, mime: undefined }))).toEqual(octet);
  });

  test.each([
    ["other type", { type: "image" }],
    ["empty name", { name: "" }],
    ["name too long", { name: "n".repeat(w.MAX_FILE_NAME * 4 + 1) }],
    ["negative size", { size: -1 }],
    ["fractional size", { size: 1.5 }],
    ["cipher_size below a tag", { cipher_size: 15 }],
    ["mime too long", { mime: "m".repeat(w.MAX_MIME + 1) }],
    ["empty url", { url: "" }],
    ["url too long", { url: `/file/${"a".repeat(w.MAX_URL)}` }],
    ["short key", { key: b64(31) }],
    ["b64u key", { key: b64u(32) }],
    ["long nonce", { nonce: b64(24) }],
    ["missing nonce", { nonce: undefined }],
  ])("%s is bad-request", (_, patch) => {
    const body = w.FILE_PREFIX + JSON.stringify({ ...file, ...patch });
    expectWireError(() => w.decodeFileMessage(body), "bad-request");
  });

  test("not JSON is bad-json", () => expectWireError(() => w.decodeFileMessage(`${w.FILE_PREFIX}{`), "bad-json"));
});

describe("PROTOCOL §5.3 filePathOf: only the path, only a relay file path", () => {
  test.each([
    ["/file/abc", "/file/abc"],
    ["http://127.0.0.1:8787/file/EXAMPLE_-1", "/file/EXAMPLE_-1"],
    ["https://evil.example:444/file/abc?x=1#frag", "/file/abc"],
    ["//evil.example/file/abc", "/file/abc"],
    ["http://user:pw@evil.example/file/abc", "/file/abc"],
  ])("%s → %s", (url, path) => expect(w.filePathOf(url)).toBe(path));

  test.each([
    "/files/abc",
    "/file/",
    "/file/abc/def",
    "/file/../etc/passwd",
    "/file/%2e%2e%2fetc",
    "/file/a b",
    "/file/abc%00",
    "/other/file/abc",
    "javascript:alert(1)",
    "data:text/plain,/file/abc",
    "http://[::1/file/abc",
    `/file/${"a".repeat(513)}`,
  ])("rejects %s", (url) => expectWireError(() => w.filePathOf(url), "bad-url"));

  test.each([
    ["https://host/phantom/file/abc", "/phantom", "/file/abc"],
    ["https://host/phantom/file/abc", "/phantom/", "/file/abc"],
    ["/a/b/file/abc", "/a/b", "/file/abc"],
    ["https://host/file/abc", "/phantom", "/file/abc"],
  ])("%s under the base path %s → %s", (url, base, path) => expect(w.filePathOf(url, base)).toBe(path));

  test.each([
    ["https://host/other/file/abc", "/phantom"],
    ["https://host/phantom/file/abc/def", "/phantom"],
    ["https://host/phantomfile/abc", "/phantom"],
    ["https://host/phantom/files/abc", "/phantom"],
  ])("rejects %s under the base path %s", (url, base) => expectWireError(() => w.filePathOf(url, base), "bad-url"));
});

describe("PROTOCOL §5.3 cleanFileName", () => {
  test.each([
    ["../../x", "x"],
    ["..\\..\\x", "x"],
    ["/etc/passwd", "passwd"],
    ["C:\\Users\\me\\doc.txt", "doc.txt"],
    ["..", "file"],
    [".", "file"],
    ["", "file"],
    ["dir/", "file"],
    ["  ", "file"],
    ["\u0000\u001b", "file"],
    ["a\u0000b\nc\u001b[31m.txt", "abc[31m.txt"],
    ["\u202etxt.exe", "txt.exe"],
    ["a\u061cb\u200e.txt", "ab.txt"],
    ["\u0085\u009bx", "x"],
    [".bashrc", "_bashrc"],
    ["...", "_.."],
    ["report.pdf", "report.pdf"],
  ])("%j → %j", (name, clean) => expect(w.cleanFileName(name)).toBe(clean));

  test("very long names are cut to 255 UTF-8 bytes at a code point", () => {
    expect(w.cleanFileName("a".repeat(1000))).toBe("a".repeat(255));
    expect(w.cleanFileName("é".repeat(300))).toBe("é".repeat(127));
    expect(w.cleanFileName(`${"a".repeat(253)}👻`)).toBe("a".repeat(253));
  });

  test("no hostile name survives (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400, size: "max" }), (name) => {
        const clean = w.cleanFileName(name);
        expect(clean.length).toBeGreaterThan(0);
        expect(utf8.encode(clean).length).toBeLessThanOrEqual(w.MAX_FILE_NAME);
        expect(clean).not.toMatch(/[/\\\u0000-\u001f\u007f-\u009f]/);
        expect(clean.startsWith(".")).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("PROTOCOL §6 canonical request and headers", () => {
  test("canonical string", () => {
    const hash = sha256("");
    expect(w.canonicalRequest("get", "/ke/pop/x", A, "5", "n", hash)).toBe(
      `GET\n/ke/pop/x\n${A}\n5\nn\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`,
    );
  });

  test("signed headers: well-formed values only, other headers ignored", () => {
    const ok = { [w.H_UID]: A, [w.H_TS]: "1767225600", [w.H_NONCE]: b64u(12), [w.H_SIG]: b64u(64) };
    expect(w.check(w.SignedHeaders, { ...ok, host: "x" }, "headers")).toEqual(ok);
    expect(w.SIGNATURE_WINDOW_S).toBe(300);
    for (const patch of [
      { [w.H_UID]: undefined },
      { [w.H_UID]: "x" },
      { [w.H_TS]: "" },
      { [w.H_TS]: "-1" },
      { [w.H_TS]: "1.5" },
      { [w.H_TS]: "1".repeat(16) },
      { [w.H_TS]: 5 },
      { [w.H_NONCE]: b64u(11) },
      { [w.H_NONCE]: b64u(13) },
      { [w.H_NONCE]: b64encode(new Uint8Array(12).fill(0xfb)) },
      { [w.H_SIG]: b64u(63) },
      { [w.H_SIG]: `${b64u(64)}==` },
      { [w.H_SIG]: null },
    ]) {
      expectWireError(() => w.check(w.SignedHeaders, { ...ok, ...patch }, "headers"), "bad-request");
    }
  });
});
