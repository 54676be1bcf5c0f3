// relay/fds.ts: the descriptor count follows what is open, and (Linux) only accepted
// connections silent in both directions are shut down: not one part-way through its
// headers, not an answered keep-alive one.
import { expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { canShutDownStalled, countOpenFds, raiseFdLimit, shutDownStalled } from "./fds.ts";

test("the limit is read and the count follows opened descriptors", () => {
  const { limit } = raiseFdLimit();
  expect(limit).not.toBeNull();
  expect(limit!.soft).toBe(limit!.hard);
  const before = countOpenFds()!;
  const fds = Array.from({ length: 20 }, () => openSync("/dev/null", "r"));
  expect(countOpenFds()).toBe(before + 20);
  for (const fd of fds) closeSync(fd);
  expect(countOpenFds()).toBe(before);
});

test.skipIf(process.platform !== "linux")("only connections silent both ways are shut down", async () => {
  expect(canShutDownStalled()).toBe(true);
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
  const open = (first?: string) => {
    const s: Socket = connect({ host: "127.0.0.1", port: server.port! });
    const state = { closed: false, data: "" };
    s.on("data", (d) => (state.data += d));
    s.on("close", () => (state.closed = true));
    s.on("error", () => {});
    if (first) s.once("connect", () => s.write(first));
    return { s, state };
  };
  const silent = open();
  const partial = open("GET / HTTP/1.1\r\nHost: x\r\n");
  const answered = open("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  try {
    const deadline = Date.now() + 5000;
    while (!answered.state.data.includes("ok") && Date.now() < deadline) await Bun.sleep(20);
    // A silent connection reaches accept() only after ~1 s (the listener defers accepting until
    // data arrives or the handshake is retried), and its idle time counts from then.
    await Bun.sleep(1500);
    expect(shutDownStalled(200)).toBe(1);
    while (!silent.state.closed && Date.now() < deadline) await Bun.sleep(20);
    expect(silent.state.closed).toBe(true);
    await Bun.sleep(200);
    expect(partial.state.closed).toBe(false);
    expect(answered.state.closed).toBe(false);
  } finally {
    for (const c of [silent, partial, answered]) c.s.destroy();
    await server.stop(true);
  }
});
