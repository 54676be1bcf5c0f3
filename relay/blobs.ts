// Blob files under <data>/blobs (PROTOCOL §7.8): names are relay-generated blob
// ids (32 hex characters); nothing from a request ever becomes part of a path.
// Files are created 0600 in a 0700 folder.
import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

const BLOB_NAME = /^[0-9a-f]{32}$/;

export class BlobStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "blobs");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(blobId: string): string {
    if (!BLOB_NAME.test(blobId)) throw new Error("invalid blob id"); // never reached with relay-made ids
    return join(this.dir, blobId);
  }

  /** A new, empty blob file opened for writing; fails if it exists. */
  async create(blobId: string): Promise<FileHandle> {
    return await open(this.path(blobId), "wx", 0o600);
  }

  /** Remove blob files; missing ones are fine (already purged). */
  async remove(blobIds: readonly string[]): Promise<void> {
    await Promise.all(blobIds.map((id) => unlink(this.path(id)).catch(() => {})));
  }

  /** Blob files on disk with no row (left by a crash mid-upload or mid-burn). Start-up only. */
  async removeOrphans(isKnown: (blobId: string) => Promise<boolean>): Promise<number> {
    let n = 0;
    for (const name of readdirSync(this.dir)) {
      if (BLOB_NAME.test(name) && (await isKnown(name))) continue;
      try {
        unlinkSync(join(this.dir, name));
        n++;
      } catch {
        // another process or a folder: leave it
      }
    }
    return n;
  }
}
