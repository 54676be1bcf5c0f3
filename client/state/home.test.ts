// State-file writes: atomic (temp file in the same folder, then rename), 0600, and
// exclusive when asked; received files use the same path (client/state/files.ts).
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../tests/helpers/relay.ts";
import { errorOf } from "../../tests/helpers/errors.ts";
import { saveReceivedFile } from "./files.ts";
import { installExclusive, writeAtomic } from "./home.ts";

const root = tempDir("phantom-home-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function dir(): string {
  const d = join(root, `d${++n}`);
  mkdirSync(d);
  return d;
}

test("a received file with a name of the full 255 bytes is saved (the temp name does not grow with it)", async () => {
  const d = dir();
  const name = `${"é".repeat(126)}a.b`; // 252 + 3 bytes: as long as cleanFileName allows
  expect(Buffer.byteLength(name)).toBe(255);
  await saveReceivedFile(join(d, name), new Uint8Array([1, 2, 3]));
  expect(readdirSync(d)).toEqual([name]);
  expect(statSync(join(d, name)).mode & 0o777).toBe(0o600);
});

test("writeAtomic replaces a file whole, 0600, and leaves no temp file; exclusive never replaces", () => {
  const d = dir();
  const path = join(d, "state.json");
  writeFileSync(path, "old", { mode: 0o644 });
  writeAtomic(path, "new");
  expect(readFileSync(path, "utf8")).toBe("new");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(errorOf(() => writeAtomic(path, "other", { exclusive: true })).message).toContain("already exists");
  expect(readFileSync(path, "utf8")).toBe("new");
  expect(readdirSync(d)).toEqual(["state.json"]);
});

test("exclusive writes where there are no hard links (FAT, exFAT: link() is EPERM) still never replace a file", () => {
  const d = dir();
  const noLinks = () => {
    throw Object.assign(new Error("EPERM: operation not permitted, link"), { code: "EPERM" });
  };
  const tmp = join(d, ".phantom-0000000000000000.tmp");
  writeFileSync(tmp, "received", { mode: 0o600 });
  installExclusive(tmp, join(d, "photo.jpg"), noLinks);
  expect(readFileSync(join(d, "photo.jpg"), "utf8")).toBe("received");
  expect(readdirSync(d)).toEqual(["photo.jpg"]);
  writeFileSync(tmp, "second", { mode: 0o600 });
  expect(() => installExclusive(tmp, join(d, "photo.jpg"), noLinks)).toThrow("EEXIST");
  expect(readFileSync(join(d, "photo.jpg"), "utf8")).toBe("received");
});
