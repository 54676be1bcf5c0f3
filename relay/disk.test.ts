// relay/disk.ts with a fake statfs and clock: the reserve's edge, the cached reading, the ballast.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BALLAST_BYTES, BALLAST_FILE, DiskGuard } from "./disk.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-disk-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;

describe("DiskGuard", () => {
  test("data that leaves exactly the reserve free passes, one byte more is 507", () => {
    let free = 100 * MiB;
    const g = new DiskGuard(
      dir,
      64 * MiB,
      () => 0,
      () => free,
    );
    expect(g.fits(36 * MiB)).toBe(true);
    expect(g.fits(36 * MiB + 1)).toBe(false);
    expect(() => g.check(36 * MiB + 1)).toThrow(expect.objectContaining({ status: 507 }));
    g.check(36 * MiB); // passes, and is taken off the cached reading
    expect(() => g.check(1)).toThrow(expect.objectContaining({ status: 507 }));
    free = 0; // unchanged until the cache expires
    expect(g.fits(0)).toBe(true);
  });

  test("the reading is cached for FREE_CACHE_S", () => {
    let now = 0;
    let reads = 0;
    const g = new DiskGuard(
      dir,
      1,
      () => now,
      () => (reads++, 10 * MiB),
    );
    g.free();
    g.free();
    expect(reads).toBe(1);
    now += 1;
    g.free();
    expect(reads).toBe(2);
  });

  test("a ballast file is kept and freed once when a write fails for space", () => {
    const g = new DiskGuard(
      dir,
      64 * MiB,
      () => 0,
      () => 1e12,
    );
    expect(statSync(join(dir, BALLAST_FILE)).size).toBe(BALLAST_BYTES);
    expect(g.releaseBallast()).toBe(true);
    expect(existsSync(join(dir, BALLAST_FILE))).toBe(false);
    expect(g.releaseBallast()).toBe(false);
  });

  test("reserve 0: no reserve, but still a ballast (a burn must work on a full disk)", () => {
    rmSync(join(dir, BALLAST_FILE), { force: true });
    const g = new DiskGuard(
      dir,
      0,
      () => 0,
      () => 0,
    );
    expect(g.fits(1e15)).toBe(true);
    expect(existsSync(join(dir, BALLAST_FILE))).toBe(true);
  });
});
