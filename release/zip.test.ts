// The zip writer, read back by the real unzip and by Python's zipfile.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, zip } from "./zip.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("CRC-32 known answer", () => {
  expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  expect(crc32(new Uint8Array())).toBe(0);
});

test("unzip -t and python zipfile read what zip() writes, names, bytes and modes", async () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
  const random = crypto.getRandomValues(new Uint8Array(5000)); // stored: deflate does not shrink it
  const file = join(dir, "a.zip");
  writeFileSync(
    file,
    await zip([
      { name: "phantom.exe", data: big, mode: 0o755 },
      { name: "README.md", data: new TextEncoder().encode("# hi\n") },
      { name: "completions/phantom.bash", data: random },
      { name: "empty", data: new Uint8Array() },
    ]),
  );
  const t = Bun.spawnSync(["unzip", "-t", file]);
  expect(t.stdout.toString()).toContain("No errors detected");
  expect(t.exitCode).toBe(0);
  const py = Bun.spawnSync([
    "python3",
    "-c",
    `import zipfile, sys, hashlib, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.file_size, i.compress_type, oct(i.external_attr >> 16), hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))`,
    file,
  ]);
  expect(py.stderr.toString()).toBe("");
  const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
  expect(JSON.parse(py.stdout.toString())).toEqual([
    ["phantom.exe", 300000, 8, "0o100755", sha(big)],
    ["README.md", 5, 0, "0o100644", sha(new TextEncoder().encode("# hi\n"))],
    ["completions/phantom.bash", 5000, 0, "0o100644", sha(random)],
    ["empty", 0, 0, "0o100644", sha(new Uint8Array())],
  ]);
});

test("crc32 continues across chunks", () => {
  const all = new TextEncoder().encode("123456789");
  expect(crc32(all.subarray(4), crc32(all.subarray(0, 4)))).toBe(0xcbf43926);
});
