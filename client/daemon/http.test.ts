// `--http HOST:PORT`: loopback only (127.0.0.0/8, ::1, localhost), ports 1 to 65535; anything
// else is a bad-option error. (The server itself is tested end to end, against the binary.)
import { expect, test } from "bun:test";
import { errorOf } from "../../tests/helpers/errors.ts";
import { parseHttpAddress } from "./http.ts";

test("loopback addresses: 127.0.0.0/8, [::1] and localhost (which listens on 127.0.0.1)", () => {
  expect(parseHttpAddress("127.0.0.1:8788")).toEqual({ host: "127.0.0.1", port: 8788 });
  expect(parseHttpAddress("127.1.2.3:80")).toEqual({ host: "127.1.2.3", port: 80 });
  expect(parseHttpAddress("127.255.255.254:80")).toEqual({ host: "127.255.255.254", port: 80 });
  expect(parseHttpAddress("[::1]:8788")).toEqual({ host: "::1", port: 8788 });
  expect(parseHttpAddress("localhost:8788")).toEqual({ host: "127.0.0.1", port: 8788 });
  expect(parseHttpAddress("LocalHost:8788")).toEqual({ host: "127.0.0.1", port: 8788 });
  expect(parseHttpAddress("  127.0.0.1:8788\n")).toEqual({ host: "127.0.0.1", port: 8788 });
});

test("ports: 1 and 65535 are taken; 0, 65536 and six digits are not", () => {
  expect(parseHttpAddress("127.0.0.1:1").port).toBe(1);
  expect(parseHttpAddress("127.0.0.1:65535").port).toBe(65535);
  expect(parseHttpAddress("127.0.0.1:08788").port).toBe(8788);
  for (const bad of ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456", "[::1]:0"]) {
    const e = errorOf(() => parseHttpAddress(bad));
    expect(e.code).toBe("bad-option");
    expect(e.message).toContain("like 127.0.0.1:8788");
  }
});

test("not HOST:PORT: no port, a bare IPv6, a name with spaces, a sign or a fraction in the port", () => {
  for (const bad of [
    "",
    "127.0.0.1",
    "8788",
    ":8788",
    "127.0.0.1:",
    "::1:8788",
    "[::1]",
    "[::1]8788",
    "127.0.0.1:-1",
    "127.0.0.1:+80",
    "127.0.0.1:80.5",
    "127.0.0.1:8788/rpc",
    "http://127.0.0.1:8788",
    "local host:8788",
    "[::ffff:127.0.0.1]:8788",
  ]) {
    const e = errorOf(() => parseHttpAddress(bad));
    expect(e.code).toBe("bad-option");
    expect(e.message).toContain("--http takes a loopback address and port");
  }
});

test("anything beyond loopback is refused, naming the host: it would expose the unlocked identity", () => {
  for (const [text, host] of [
    ["0.0.0.0:8788", "0.0.0.0"],
    ["192.168.1.10:8788", "192.168.1.10"],
    ["10.0.0.1:8788", "10.0.0.1"],
    ["128.0.0.1:8788", "128.0.0.1"],
    ["[::]:8788", "::"],
    ["[fe80::1]:8788", "fe80::1"],
    ["[0:0:0:0:0:0:0:2]:8788", "0:0:0:0:0:0:0:2"],
    ["example.com:8788", "example.com"],
    ["127.0.0.1.nip.io:8788", "127.0.0.1.nip.io"],
    ["127.evil.example:8788", "127.evil.example"],
    ["localhost.:8788", "localhost."],
    ["localhost.evil.example:8788", "localhost.evil.example"],
    ["127.1:8788", "127.1"],
    ["127.0.0.01:8788", "127.0.0.01"],
    ["0177.0.0.1:8788", "0177.0.0.1"],
    ["127.256.0.1:8788", "127.256.0.1"],
    ["[127.0.0.1]:8788", "[127.0.0.1]"],
  ] as const) {
    const e = errorOf(() => parseHttpAddress(text));
    expect(e.code).toBe("bad-option");
    expect(e.message).toBe(
      `--http listens on loopback only (127.0.0.1, ::1, localhost), not ${host}: the API unlocks your identity`,
    );
  }
});

test("the error quotes the input on one line, at most 80 characters of it", () => {
  const e = errorOf(() => parseHttpAddress(`bad\x1b[31m${"x".repeat(200)}`));
  expect(e.message).not.toContain("\x1b");
  expect(e.message).toContain("(got bad [31m");
  const quoted = /\(got (.*)\)$/.exec(e.message)![1]!;
  expect(quoted.length).toBe(80);
  const far = errorOf(() => parseHttpAddress(`${"h".repeat(200)}:80`));
  expect(far.message).toContain(`not ${"h".repeat(80)}:`);
  expect(far.message).not.toContain("h".repeat(81));
});
