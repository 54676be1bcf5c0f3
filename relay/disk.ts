// The free-disk reserve (PROTOCOL §7.10): below `reserve` free bytes in the
// data folder the relay refuses new data with 507, and still serves reads and burns.
//
// A burn must work even on a disk that something else filled completely: SQLite cannot
// delete a row then, because the delete is written to the WAL first and a checkpoint must
// first grow the database file (measured: /burn answered 500 on a full 20 MiB tmpfs). So
// the relay keeps a small ballast file in the data folder and removes it when a write fails
// for want of space; it is made again once the disk has room.
import { statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { insufficientStorage } from "./errors.ts";

/** How long a statfs reading is reused. */
export const FREE_CACHE_S = 1;
/** The ballast file: enough for SQLite to checkpoint and write a burn on a full disk. */
export const BALLAST_BYTES = 8 * 1024 * 1024;
export const BALLAST_FILE = "disk-ballast";

/** A failed write for want of space: SQLite's SQLITE_FULL or the file system's ENOSPC. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT";
}

/**
 * Run `fn`; when it fails for want of space, free the ballast (once: releaseBallast says whether
 * there was one) and run it again. For what frees the disk itself: a burn, a retention purge.
 */
export async function freeingBallast<T>(
  disk: DiskGuard,
  warn: (message: string) => void,
  what: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isDiskFull(e) || !disk.releaseBallast()) throw e;
    warn(`disk full: ballast freed for ${what}`);
    return await fn();
  }
}

export class DiskGuard {
  private readonly dir: string;
  readonly reserve: number;
  private readonly clock: () => number;
  private readonly statFree: (dir: string) => number;
  private cached = { free: Infinity, at: -Infinity };
  private ballast = false;

  constructor(
    dir: string,
    reserve: number,
    clock: () => number = () => Date.now() / 1000,
    statFree: (dir: string) => number = (d) => {
      const s = statfsSync(d);
      return s.bavail * s.bsize;
    },
  ) {
    this.dir = dir;
    this.reserve = reserve;
    this.clock = clock;
    this.statFree = statFree;
    this.keepBallast();
  }

  /** Free bytes for the relay in the data folder, read at most once per FREE_CACHE_S. */
  free(): number {
    const now = this.clock();
    if (now - this.cached.at >= FREE_CACHE_S) {
      try {
        this.cached = { free: this.statFree(this.dir), at: now };
      } catch {
        this.cached = { free: Infinity, at: now }; // no statfs here: no reserve to keep
      }
      if (!this.ballast) this.keepBallast();
    }
    return this.cached.free;
  }

  /** Whether `bytes` more can be stored and the reserve still stay free. */
  fits(bytes: number): boolean {
    return this.reserve === 0 || this.free() - bytes >= this.reserve;
  }

  /**
   * 507 unless `bytes` more fit above the reserve (PROTOCOL §7.10). What passes is taken off
   * the cached reading at once, so a burst within FREE_CACHE_S cannot run past the reserve.
   */
  check(bytes: number): void {
    if (!this.fits(bytes)) throw insufficientStorage();
    if (this.cached.free !== Infinity) this.cached.free -= bytes;
  }

  /** Free the ballast after a write failed for want of space; true if there was one to free. */
  releaseBallast(): boolean {
    if (!this.ballast) return false;
    this.ballast = false;
    try {
      unlinkSync(join(this.dir, BALLAST_FILE));
    } catch {
      // already gone
    }
    this.cached.at = -Infinity;
    return true;
  }

  /** (Re)make the ballast when the disk has room for it above the reserve. */
  private keepBallast(): void {
    const size = BALLAST_BYTES; // kept even with no reserve: a burn must work on a full disk
    if (this.cached.free !== Infinity && this.cached.free - size < this.reserve) return;
    try {
      writeFileSync(join(this.dir, BALLAST_FILE), Buffer.alloc(size), { mode: 0o600 });
      this.ballast = true;
    } catch {
      try {
        unlinkSync(join(this.dir, BALLAST_FILE)); // a partial one would only take space
      } catch {
        // nothing written
      }
    }
  }
}
