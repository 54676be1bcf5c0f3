// unzipMember against archives from the release's own zip writer: deflated and stored members,
// a missing member, a flipped byte, something that is not a zip, and an existing output file.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zip } from "../../release/zip.ts";
import { unzipMember } from "./unzip.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-unzip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (name: string) => join(dir, `${++n}-${name}`);

const big = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
const random = crypto.getRandomValues(new Uint8Array(5000)); // deflate cannot shrink it: stored

async function archive(): Promise<string> {
  const p = path("a.zip");
  writeFileSync(
    p,
    await zip([
      { name: "phantom/README.md", data: new TextEncoder().encode("hello") },
      { name: "phantom.exe", data: big, mode: 0o755 },
      { name: "random.bin", data: random },
      { name: "empty", data: new Uint8Array() },
    ]),
  );
  return p;
}

test("a deflated member comes out byte for byte, with the mode asked for", async () => {
  const out = path("phantom.exe");
  await unzipMember(await archive(), "phantom.exe", out, 0o700);
  expect(new Uint8Array(readFileSync(out))).toEqual(big);
  expect(statSync(out).mode & 0o777).toBe(0o700);
});

test("stored and empty members", async () => {
  const a = await archive();
  const r = path("random.bin");
  await unzipMember(a, "random.bin", r);
  expect(new Uint8Array(readFileSync(r))).toEqual(random);
  const e = path("empty");
  await unzipMember(a, "empty", e);
  expect(readFileSync(e).length).toBe(0);
});

test("a missing member, or not a zip, is a bad-archive error", async () => {
  await expect(unzipMember(await archive(), "phantom", path("x"))).rejects.toThrow(/has no phantom$/);
  const notZip = path("n.zip");
  writeFileSync(notZip, "just text");
  await expect(unzipMember(notZip, "phantom.exe", path("y"))).rejects.toThrow(/not a zip archive/);
});

test("a flipped byte in the data is refused and leaves no output", async () => {
  for (const member of ["phantom.exe", "random.bin"]) {
    const a = await archive();
    const bytes = readFileSync(a);
    // phantom.exe's deflated data starts at byte 93 (after README.md's 52 bytes and its own header);
    // random.bin is stored, so its bytes are found as they are.
    const where = member === "random.bin" ? bytes.indexOf(Buffer.from(random.subarray(0, 16))) + 40 : 200;
    bytes[where] = (bytes[where] ?? 0) ^ 0x55;
    writeFileSync(a, bytes);
    const out = path(member);
    await expect(unzipMember(a, member, out)).rejects.toThrow(/bad-archive|CRC-32|cannot be unpacked|bigger/);
    expect(existsSync(out)).toBe(false);
  }
});

test("an existing output file is never overwritten or removed", async () => {
  const out = path("keep");
  writeFileSync(out, "mine");
  await expect(unzipMember(await archive(), "phantom.exe", out)).rejects.toThrow();
  expect(readFileSync(out, "utf8")).toBe("mine");
});
