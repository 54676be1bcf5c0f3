// HTTP/1.1 framing (lib/http1.ts) against canned byte streams from a plain TCP server:
// the framings a relay or a reverse proxy in front of it may use, and malformed answers.
import { afterAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { http1Exchange, TooLarge } from "./http1.ts";

const servers: net.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

/** A server that reads the request head (and `bodyBytes` of body), then writes `answer` and closes. */
async function serve(answer: string | Uint8Array, bodyBytes = 0): Promise<{ port: number; got: Promise<Buffer> }> {
  let gotIt!: (b: Buffer) => void;
  const got = new Promise<Buffer>((r) => (gotIt = r));
  const srv = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end >= 0 && buf.length >= end + 4 + bodyBytes) {
        gotIt(buf);
        s.end(answer);
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { port: (srv.address() as net.AddressInfo).port, got };
}

async function exchange(port: number, o: { body?: Uint8Array; max?: number; progress?: number[] } = {}) {
  const sock = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((r, j) => (sock.once("connect", () => r()), sock.once("error", j)));
  try {
    return await http1Exchange(
      sock,
      {
        method: o.body ? "POST" : "GET",
        host: `127.0.0.1:${port}`,
        path: "/x?y=1",
        headers: { "X-A": "b" },
        body: o.body,
      },
      { maxResponseBytes: o.max ?? 1 << 20, onDownloadProgress: (d) => o.progress?.push(d) },
      () => {},
    );
  } finally {
    sock.destroy();
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("requests", () => {
  test("request line, host, close, lower-case headers and exact body bytes", async () => {
    const body = new Uint8Array([0, 1, 2, 255]);
    const { port, got } = await serve("HTTP/1.1 204 No Content\r\n\r\n", body.length);
    const r = await exchange(port, { body });
    expect(r.status).toBe(204);
    const raw = await got;
    const head = raw.subarray(0, raw.indexOf("\r\n\r\n")).toString("latin1").split("\r\n");
    expect(head[0]).toBe("POST /x?y=1 HTTP/1.1");
    expect(head).toContain(`host: 127.0.0.1:${port}`);
    expect(head).toContain("connection: close");
    expect(head).toContain("x-a: b");
    expect(head).toContain("content-length: 4");
    expect(new Uint8Array(raw.subarray(raw.indexOf("\r\n\r\n") + 4))).toEqual(body);
  });

  test("header injection is refused before anything is written", async () => {
    const sock = new net.Socket();
    const req = { method: "GET", host: "h", path: "/", headers: { "x-a": "b\r\nx-evil: 1" } };
    await expect(http1Exchange(sock, req, { maxResponseBytes: 10 }, () => {})).rejects.toThrow("bad header");
  });
});

describe("responses", () => {
  test("Content-Length, with download progress", async () => {
    const { port } = await serve(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}',
    );
    const progress: number[] = [];
    const r = await exchange(port, { progress });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(text(r.body)).toBe('{"ok":true}');
    expect(progress.at(-1)).toBe(11);
  });

  test("chunked, with extensions and trailers", async () => {
    const { port } = await serve(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
    );
    expect(text((await exchange(port)).body)).toBe("Wikipedia");
  });

  test("close-delimited, after a 100 Continue", async () => {
    const { port } = await serve("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nnope");
    const r = await exchange(port);
    expect(r.status).toBe(404);
    expect(text(r.body)).toBe("nope");
  });

  test("bigger than allowed, by Content-Length or by bytes", async () => {
    const declared = await serve("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    await expect(exchange(declared.port, { max: 99 })).rejects.toBeInstanceOf(TooLarge);
    const streamed = await serve(`HTTP/1.1 200 OK\r\n\r\n${"x".repeat(100)}`);
    await expect(exchange(streamed.port, { max: 99 })).rejects.toBeInstanceOf(TooLarge);
    const chunked = await serve(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${"x".repeat(100)}\r\n0\r\n\r\n`,
    );
    await expect(exchange(chunked.port, { max: 99 })).rejects.toBeInstanceOf(TooLarge);
  });

  test.each([
    ["not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.1 response"],
    ["truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "connection closed early"],
    ["bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed Content-Length"],
    ["bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunked encoding"],
    ["bad header", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed response header"],
    ["no head end", "HTTP/1.1 200 OK\r\nA: b", "connection closed early"],
    ["control character in a header name", "HTTP/1.1 200 OK\r\nA\u001b[2J: b\r\n\r\n", "malformed response header"],
    ["bad header value", "HTTP/1.1 200 OK\r\nA: b\u0000c\r\n\r\n", "malformed response header"],
  ])("%s", async (_name, answer, message) => {
    const { port } = await serve(answer);
    await expect(exchange(port)).rejects.toThrow(message);
  });

  test("an endless header is cut off", async () => {
    const { port } = await serve(`HTTP/1.1 200 OK\r\n${"A: b\r\n".repeat(20_000)}\r\n`);
    await expect(exchange(port)).rejects.toThrow("response header too long");
  });

  // Heads, interim responses and trailers share one budget: a relay cannot keep the client
  // busy reading header lines until the request times out.
  test("endless interim responses are cut off", async () => {
    const { port } = await serve(`${"HTTP/1.1 100 Continue\r\n\r\n".repeat(5_000)}HTTP/1.1 204 No Content\r\n\r\n`);
    await expect(exchange(port)).rejects.toThrow("response header too long");
  });

  test("endless trailers are cut off", async () => {
    const { port } = await serve(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n${"T: u\r\n".repeat(20_000)}\r\n`,
    );
    await expect(exchange(port)).rejects.toThrow("response header too long");
  });
});
