// PROTOCOL §7.8 multipart bodies: the streamed frame is the same bytes as the whole body, and the
// boundary search of a streamed blob finds the marker wherever the parts are cut.
import { expect, test } from "bun:test";
import { concatBytes, utf8 } from "../../lib/encoding.ts";
import { MarkerScan, multipartBody, multipartFrame } from "./multipart.ts";

const fields: [string, string][] = [
  ["room_id", "r"],
  ["sender_id", "s"],
];
const part = { field: "file", filename: "blob.bin", type: "application/octet-stream" };

test("prefix ‖ data ‖ suffix has the shape of multipartBody's body", () => {
  const data = utf8.encode("hello");
  const f = multipartFrame(fields, part);
  const whole = utf8.decode(concatBytes(f.prefix, data, f.suffix));
  const b = f.contentType.split("boundary=")[1]!;
  expect(whole).toBe(
    `--${b}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\nr\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="sender_id"\r\n\r\ns\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\nhello\r\n--${b}--\r\n`,
  );
  const body = multipartBody(fields, { ...part, data });
  expect(body.body.length).toBe(whole.length);
  expect(utf8.decode(body.body.subarray(body.fileStart, body.fileEnd))).toBe("hello");
  expect(() => multipartFrame([["a", 'x"y']], part)).toThrow("multipart: bad field text");
});

test("MarkerScan finds the marker inside a part, across two parts, across many small ones", () => {
  const marker = utf8.encode("--phantom-0123456789abcdef");
  const text = utf8.encode(`xxxxxxxxxx--phantom-0123456789abcdefyyyyyyyyyy`);
  for (const cut of [1, 2, 3, 5, 7, 13, 26, 40, text.length]) {
    const s = new MarkerScan(marker);
    for (let at = 0; at < text.length; at += cut) s.feed(text.subarray(at, at + cut));
    expect(s.found).toBe(true);
  }
  const near = utf8.encode("xx--phantom-0123456789abcdeXfyy--phantom-0123456789abcde");
  for (const cut of [1, 4, 9, near.length]) {
    const s = new MarkerScan(marker);
    for (let at = 0; at < near.length; at += cut) s.feed(near.subarray(at, at + cut));
    expect(s.found).toBe(false);
  }
});
