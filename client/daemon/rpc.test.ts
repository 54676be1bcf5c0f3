// JSON-RPC 2.0 as the daemon speaks it: which requests parse (and what a notification is), how
// every kind of error is told (never a stack or a value of an unexpected error), the replies'
// shapes, and the line splitter with its MAX_REQUEST_BYTES edge.
import { expect, test } from "bun:test";
import { z } from "zod";
import { PhantomError, WireError } from "../../lib/errors.ts";
import { RPC } from "./api.ts";
import {
  errorObject,
  errorResponse,
  LineReader,
  MAX_REQUEST_BYTES,
  notification,
  parseRequest,
  response,
  RpcError,
} from "./rpc.ts";

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

/** The RpcError parseRequest throws for `value`, with the id it keeps for the reply. */
function refusal(value: unknown): RpcError & { id?: unknown } {
  try {
    parseRequest(value);
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

test("a request: id, method and params as sent; params default to {}; an array of params is kept", () => {
  expect(parseRequest({ jsonrpc: "2.0", id: 7, method: "status", params: { a: 1 } })).toEqual({
    id: 7,
    notification: false,
    method: "status",
    params: { a: 1 },
  });
  expect(parseRequest({ jsonrpc: "2.0", id: "x-1", method: "status" })).toEqual({
    id: "x-1",
    notification: false,
    method: "status",
    params: {},
  });
  expect(parseRequest({ jsonrpc: "2.0", id: 1, method: "m", params: [1, 2] }).params).toEqual([1, 2]);
  // Members outside the spec are ignored.
  expect(parseRequest({ jsonrpc: "2.0", id: 1, method: "m", extra: true }).method).toBe("m");
});

test("no id member is a notification; an id of null is a request answered with id null", () => {
  expect(parseRequest({ jsonrpc: "2.0", method: "ack", params: { id: 1 } })).toEqual({
    id: null,
    notification: true,
    method: "ack",
    params: { id: 1 },
  });
  expect(parseRequest({ jsonrpc: "2.0", id: null, method: "status" })).toEqual({
    id: null,
    notification: false,
    method: "status",
    params: {},
  });
});

test("invalid requests are -32600 bad-request, keeping a string or number id and nothing else", () => {
  const cases: [unknown, unknown][] = [
    [{ jsonrpc: "1.0", id: 3, method: "status" }, 3],
    [{ id: 3, method: "status" }, 3],
    [{ jsonrpc: "2.0", id: "a", method: "" }, "a"],
    [{ jsonrpc: "2.0", id: "a", method: "m".repeat(101) }, "a"],
    [{ jsonrpc: "2.0", id: 4, method: 5 }, 4],
    [{ jsonrpc: "2.0", id: 4, method: "m", params: "text" }, 4],
    [{ jsonrpc: "2.0", id: 4, method: "m", params: null }, 4],
    [{ jsonrpc: "2.0", id: { x: 1 }, method: "m" }, null],
    [{ jsonrpc: "2.0", id: [1], method: "m" }, null],
    [{ jsonrpc: "2.0", id: true, method: "m" }, null],
    ["status", null],
    [null, null],
    [42, null],
    [[{ jsonrpc: "2.0", id: 1, method: "m" }], null],
  ];
  for (const [value, id] of cases) {
    const e = refusal(value);
    expect(e.rpcCode).toBe(RPC.invalidRequest);
    expect(e.rpcCode).toBe(-32600);
    expect(e.data).toEqual({ code: "bad-request" });
    expect(e.id).toBe(id as never);
  }
});

test("method names of 1 and 100 characters and ids of 200 characters are taken; 101 and 201 are not", () => {
  expect(parseRequest({ jsonrpc: "2.0", id: 1, method: "m" }).method).toBe("m");
  expect(parseRequest({ jsonrpc: "2.0", id: 1, method: "m".repeat(100) }).method).toBe("m".repeat(100));
  expect(parseRequest({ jsonrpc: "2.0", id: "i".repeat(200), method: "m" }).id).toBe("i".repeat(200));
  expect(refusal({ jsonrpc: "2.0", id: "i".repeat(201), method: "m" }).rpcCode).toBe(RPC.invalidRequest);
  expect(refusal({ jsonrpc: "2.0", id: 1, method: "m".repeat(101) }).rpcCode).toBe(RPC.invalidRequest);
});

test("errorObject: an RpcError keeps its code and one line; data only when it has a code", () => {
  expect(errorObject(new RpcError(RPC.noMethod, "unknown method 'x'", "no-method"))).toEqual({
    code: -32601,
    message: "unknown method 'x'",
    data: { code: "no-method" },
  });
  expect(errorObject(new RpcError(RPC.busy, "busy\n\x1b[2J\u202e now"))).toEqual({
    code: -32002,
    message: "busy [2J now",
  });
});

test("errorObject: a zod error is -32602 bad-params naming the first issue's path", () => {
  const schema = z.strictObject({ consumer: z.string(), limit: z.number().int().max(200) });
  const at = (v: unknown) => {
    try {
      schema.parse(v);
    } catch (e) {
      return errorObject(e);
    }
    throw new Error("expected a zod error");
  };
  const o = at({ consumer: "c", limit: 201 });
  expect(o.code).toBe(-32602);
  expect(o.data).toEqual({ code: "bad-params" });
  expect(o.message.startsWith("invalid params: limit: ")).toBe(true);
  expect(o.message).not.toContain("\n");
  const root = at("not an object");
  expect(root.message.startsWith("invalid params: ")).toBe(true);
  expect(root.message.startsWith("invalid params: : ")).toBe(false);
});

test("errorObject: a PhantomError (and its kinds) is -32000 with its code and its message on one line", () => {
  expect(errorObject(new PhantomError("no-contact", "no contact named\n'bob'"))).toEqual({
    code: -32000,
    message: "no contact named 'bob'",
    data: { code: "no-contact" },
  });
  expect(errorObject(new WireError("bad-wire", "bad envelope"))).toEqual({
    code: RPC.phantom,
    message: "bad envelope",
    data: { code: "bad-wire" },
  });
});

test("errorObject: a system error (errno code) is -32000 io", () => {
  const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: "ENOENT" });
  expect(errorObject(e)).toEqual({
    code: RPC.phantom,
    message: "ENOENT: no such file or directory, open '/x'",
    data: { code: "io" },
  });
});

test("errorObject: anything else is -32603 with a fixed message, never its text or stack", () => {
  const secret = "ratchet-state-0xdeadbeef";
  for (const e of [
    new Error(secret),
    new TypeError(`cannot read ${secret}`),
    Object.assign(new Error(secret), { code: "ERR_SOMETHING_ELSE" }),
    Object.assign(new Error(secret), { code: 42 }),
    secret,
    { message: secret, code: "ENOENT" },
    undefined,
    null,
  ]) {
    const o = errorObject(e);
    expect(o).toEqual({ code: -32603, message: "internal error (see the daemon's log)", data: { code: "unexpected" } });
    expect(JSON.stringify(o)).not.toContain(secret);
  }
});

test("response, errorResponse and notification are one JSON-RPC 2.0 object each, on one line", () => {
  expect(JSON.parse(response(3, { ok: true }))).toEqual({ jsonrpc: "2.0", id: 3, result: { ok: true } });
  expect(JSON.parse(response(null, null))).toEqual({ jsonrpc: "2.0", id: null, result: null });
  expect(JSON.parse(errorResponse("a", new PhantomError("x-code", "bad\nthing")))).toEqual({
    jsonrpc: "2.0",
    id: "a",
    error: { code: -32000, message: "bad thing", data: { code: "x-code" } },
  });
  expect(JSON.parse(notification("event", { id: 1 }))).toEqual({ jsonrpc: "2.0", method: "event", params: { id: 1 } });
  for (const line of [response(1, { t: "a\nb" }), errorResponse(1, new Error("x\ny")), notification("m", "a\nb")]) {
    expect(line).not.toContain("\n");
  }
});

test("LineReader: lines split at LF across chunks; a partial line waits; empty lines are lines", () => {
  const r = new LineReader();
  expect(r.push(bytes('{"a":'))).toEqual([]);
  expect(r.push(bytes("1}\n{"))).toEqual(['{"a":1}']);
  expect(r.push(bytes('"b":2}\n\nx\ny'))).toEqual(['{"b":2}', "", "x"]);
  expect(r.push(bytes("z"))).toEqual([]);
  expect(r.push(bytes("\n"))).toEqual(["yz"]);
  expect(r.push(new Uint8Array(0))).toEqual([]);
  // CR is the caller's business (JSON allows it as white space).
  expect(r.push(bytes("a\r\n"))).toEqual(["a\r"]);
});

test("LineReader: a UTF-8 character split between chunks decodes whole; chunks it kept are copies", () => {
  const r = new LineReader();
  const all = bytes("héllo 👻\n");
  const chunk = all.slice(0, 2); // "h" and half of "é"
  expect(r.push(chunk)).toEqual([]);
  chunk.fill(0); // the caller reuses its buffer
  expect(r.push(all.subarray(2, 9))).toEqual([]); // half of the ghost
  expect(r.push(all.subarray(9))).toEqual(["héllo 👻"]);
});

test("LineReader: a line of MAX_REQUEST_BYTES is taken, one byte more is refused (in one chunk or many)", () => {
  const max = new Uint8Array(MAX_REQUEST_BYTES + 1).fill(0x61);
  max[MAX_REQUEST_BYTES] = 10;
  const lines = new LineReader().push(max);
  expect(lines.length).toBe(1);
  expect(lines[0]!.length).toBe(MAX_REQUEST_BYTES);

  const tooLong = new Uint8Array(MAX_REQUEST_BYTES + 2).fill(0x61);
  tooLong[MAX_REQUEST_BYTES + 1] = 10;
  const tooLongError = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as RpcError;
    }
    throw new Error("expected a refusal");
  };
  const e = tooLongError(() => new LineReader().push(tooLong));
  expect(e).toBeInstanceOf(RpcError);
  expect(e.rpcCode).toBe(RPC.invalidRequest);
  expect(e.data).toEqual({ code: "too-long" });

  // Without a newline: MAX_REQUEST_BYTES waiting is fine, the next byte is refused before any LF.
  const r = new LineReader();
  const half = new Uint8Array(MAX_REQUEST_BYTES / 2).fill(0x62);
  expect(r.push(half)).toEqual([]);
  expect(r.push(half)).toEqual([]);
  expect(tooLongError(() => r.push(bytes("b"))).data).toEqual({ code: "too-long" });

  const r2 = new LineReader();
  r2.push(half);
  r2.push(half);
  expect(r2.push(bytes("\n"))).toEqual(["b".repeat(MAX_REQUEST_BYTES)]);
  expect(tooLongError(() => new LineReader().push(new Uint8Array(MAX_REQUEST_BYTES + 1))).data).toEqual({
    code: "too-long",
  });
});

test("LineReader: after a long line is taken the count starts again", () => {
  const r = new LineReader();
  const big = new Uint8Array(MAX_REQUEST_BYTES).fill(0x63);
  r.push(big);
  expect(r.push(bytes("\nnext"))).toEqual(["c".repeat(MAX_REQUEST_BYTES)]);
  expect(r.push(big.subarray(0, MAX_REQUEST_BYTES - 4))).toEqual([]);
  expect(r.push(bytes("\n"))[0]!.length).toBe(MAX_REQUEST_BYTES);
});
