import { afterAll, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { Transport, TransportError } from "./transport.ts";

// A server that reads the request and closes the connection without an answer.
const sockets: Socket[] = [];
const server = createServer((sock) => {
  sockets.push(sock);
  sock.once("data", () => sock.resetAndDestroy());
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

test("a connection dropped after the request is said in words, not as a system code", async () => {
  let err: unknown;
  try {
    await new Transport({ via: "direct" }).request("GET", `http://127.0.0.1:${port}/health`, {}, undefined, {
      timeoutMs: 5000,
    });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TransportError);
  const message = (err as TransportError).message;
  expect(message).toMatch(/^connection to 127\.0\.0\.1:\d+ failed \(the connection was (reset|closed)\)$/);
});
