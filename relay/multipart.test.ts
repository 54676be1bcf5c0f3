import { expect, test } from "bun:test";
import { RelayError } from "./errors.ts";
import { boundaryOf, MultipartReader } from "./multipart.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function form(boundary: string, file: Uint8Array, fields: Record<string, string> = { room_id: "r", sender_id: "s" }) {
  const parts: Uint8Array[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(enc(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(
    enc(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
  );
  parts.push(file, enc(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

async function read(body: Uint8Array, boundary: string, chunk: number) {
  const got: Uint8Array[] = [];
  const r = new MultipartReader(boundary, {
    fileSink: (p) => (p.name === "file" ? (b) => void got.push(Buffer.from(b)) : null),
  });
  for (let i = 0; i < body.length; i += chunk) await r.push(body.subarray(i, i + chunk));
  r.end();
  return { fields: r.fields, file: Buffer.concat(got) };
}

test("boundaryOf", () => {
  expect(boundaryOf("multipart/form-data; boundary=abc")).toBe("abc");
  expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
  expect(boundaryOf("application/json")).toBeNull();
  expect(boundaryOf(null)).toBeNull();
  expect(boundaryOf("multipart/form-data")).toBeNull();
});

test("fields and file survive every chunking, including a file full of boundary look-alikes", async () => {
  const boundary = "xYzBoundary123";
  const file = Buffer.concat([enc("\r\n--xYzBoundary12"), crypto.getRandomValues(new Uint8Array(3000)), enc("\r\n--")]);
  const body = form(boundary, file);
  for (const chunk of [1, 2, 7, 17, 64, 1000, body.length]) {
    const { fields, file: got } = await read(body, boundary, chunk);
    expect(fields.get("room_id")).toBe("r");
    expect(fields.get("sender_id")).toBe("s");
    expect(Buffer.compare(got, file)).toBe(0);
  }
});

test("an empty file is a file", async () => {
  const { fields, file } = await read(form("b", new Uint8Array(0)), "b", 5);
  expect(fields.has("file")).toBe(true);
  expect(file.length).toBe(0);
});

test.each([
  ["no closing boundary", (b: Buffer) => b.subarray(0, b.length - 6)],
  [
    "garbage after a boundary",
    (b: Buffer) => Buffer.from(b.toString("latin1").replace("--B\r\nContent", "--BxxContent"), "latin1"),
  ],
  [
    "no disposition",
    (b: Buffer) => Buffer.from(b.toString("latin1").replace("Content-Disposition", "X-Other"), "latin1"),
  ],
])("%s is a 400", async (_name, mutate) => {
  const body = mutate(form("B", enc("data")));
  const err = await read(body, "B", 9).catch((e) => e);
  expect(err).toBeInstanceOf(RelayError);
  expect((err as RelayError).status).toBe(400);
});

test("a duplicate field and an over-long field are 400", async () => {
  const dup = Buffer.concat([
    enc(`--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n`),
    form("B", enc("x"), { a: "2" }),
  ]);
  expect(((await read(dup, "B", 10).catch((e) => e)) as RelayError).status).toBe(400);
  const long = form("B", enc("x"), { room_id: "r".repeat(2000) });
  expect(((await read(long, "B", 10).catch((e) => e)) as RelayError).status).toBe(400);
});

test("bytes after the closing boundary (the epilogue) are dropped, never held in memory", async () => {
  const r = new MultipartReader("B", { fileSink: () => null });
  await r.push(form("B", enc("x")));
  r.end();
  // Before the fix every epilogue chunk was appended to one buffer: up to the whole upload cap,
  // copied again on each chunk (quadratic), before the signature was even checked.
  const junk = new Uint8Array(64 * 1024);
  for (let i = 0; i < 16; i++) await r.push(junk);
  expect(r.bufferedBytes).toBe(0);
  r.end();
});

test("what is held between chunks stays below a delimiter while a file part streams", async () => {
  const r = new MultipartReader("B", { fileSink: (p) => (p.name === "file" ? () => {} : null) });
  await r.push(enc(`--B\r\nContent-Disposition: form-data; name="file"\r\n\r\n`));
  for (let i = 0; i < 16; i++) {
    await r.push(new Uint8Array(64 * 1024).fill(0x2d));
    expect(r.bufferedBytes).toBeLessThan("\r\n--B".length);
  }
});
