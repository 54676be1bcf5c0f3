// File blobs (PROTOCOL §7.8): one per uploaded file, named by its relay-generated blob id
// (32 hex characters); nothing from a request ever becomes part of a name. They live in a
// folder (DirBlobs, default <data>/blobs) or in an S3-compatible bucket (relay/s3-blobs.ts),
// chosen with --blobs. A blob is served only once its file row is committed: downloads look
// the row up first (relay/routes/files.ts), so a blob mid-upload or left by a crash never shows.
import { mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "./errors.ts";

export const BLOB_NAME = /^[0-9a-f]{32}$/;

/** A blob being written. It is not served before its row is committed (see above). */
export interface BlobWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** All bytes are written and kept. */
  close(): Promise<void>;
  /** Nothing written is kept; never throws. */
  abort(): Promise<void>;
}

/** Where file blobs are kept; an unavailable backend throws StoreBusyError (503, PROTOCOL §7.10). */
export interface Blobs {
  /** A new, empty blob for writing. */
  create(blobId: string): Promise<BlobWriter>;
  /** Remove blobs; missing ones are fine (already purged). Never throws. */
  remove(blobIds: readonly string[]): Promise<void>;
  /** The blob's bytes as a response body, or null when there is none (PROTOCOL §7.8: 404). */
  download(blobId: string): Promise<Bun.BodyInit | null>;
  /**
   * Blobs with no row (left by a crash mid-upload or mid-burn), removed at start-up; how many.
   * Blobs younger than `minAgeS` stay: another relay process sharing them may be mid-upload.
   */
  removeOrphans(isKnown: (blobId: string) => Promise<boolean>, minAgeS?: number): Promise<number>;
}

/** How Bun's S3 client reaches a bucket. */
export interface S3Access {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region: string;
  endpoint?: string;
}

/** The standard AWS variables (and S3_ENDPOINT); unset ones are left to Bun's own defaults. */
export function s3AccessFromEnv(env: Record<string, string | undefined>): S3Access {
  const v = (name: string) => (env[name] === "" ? undefined : env[name]);
  return {
    accessKeyId: v("AWS_ACCESS_KEY_ID"),
    secretAccessKey: v("AWS_SECRET_ACCESS_KEY"),
    sessionToken: v("AWS_SESSION_TOKEN"),
    region: v("AWS_REGION") ?? "us-east-1",
    endpoint: v("AWS_ENDPOINT_URL") ?? v("S3_ENDPOINT"),
  };
}

/**
 * --blobs: a folder (null: <data>/blobs) or a bucket and a key prefix ("" or ending in "/"),
 * with the access read from the environment by parseConfig (relay/config.ts).
 */
export type BlobsTarget =
  { kind: "dir"; dir: string | null } | { kind: "s3"; bucket: string; prefix: string; access: S3Access };

/** S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Key prefixes we accept: plain path segments, so keys stay predictable (no "..", no "//"). */
const PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** --blobs dir:PATH | s3://BUCKET/PREFIX. The value is not echoed: it could carry a secret by mistake. */
export function parseBlobsTarget(text: string, name: string): BlobsTarget {
  if (text.startsWith("dir:") && text.length > 4) return { kind: "dir", dir: text.slice(4) };
  const usage = `${name} must be dir:PATH or s3://BUCKET/PREFIX`;
  if (!text.startsWith("s3://")) throw new ConfigError(usage);
  const rest = text.slice(5).replace(/\/+$/, "");
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? "" : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new ConfigError(`${usage}: the bucket name is not valid`);
  if (prefix !== "" && (!PREFIX.test(prefix) || prefix.split("/").some((s) => s === "." || s === ".."))) {
    throw new ConfigError(`${usage}: the prefix may have letters, digits, '.', '_', '-' and single '/'`);
  }
  return { kind: "s3", bucket, prefix: prefix === "" ? "" : `${prefix}/`, access: s3AccessFromEnv({}) };
}

/** Blob files in a folder, created 0600 in a 0700 folder. */
export class DirBlobs implements Blobs {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(blobId: string): string {
    if (!BLOB_NAME.test(blobId)) throw new Error("invalid blob id"); // never reached with relay-made ids
    return join(this.dir, blobId);
  }

  async create(blobId: string): Promise<BlobWriter> {
    const path = this.path(blobId);
    const handle = await open(path, "wx", 0o600); // fails if it exists
    return new FileBlobWriter(handle, path);
  }

  async remove(blobIds: readonly string[]): Promise<void> {
    await Promise.all(blobIds.map((id) => unlink(this.path(id)).catch(() => {})));
  }

  /** Bun.file: sent from the file without copying it through JS. */
  async download(blobId: string): Promise<Bun.BodyInit | null> {
    const file = Bun.file(this.path(blobId));
    return (await file.exists()) ? file : null;
  }

  /**
   * Start-up only. With minAgeS 0 (one relay process) no upload is in progress in this folder
   * then; with --workers another process may be mid-upload, so younger files stay.
   */
  async removeOrphans(isKnown: (blobId: string) => Promise<boolean>, minAgeS = 0): Promise<number> {
    let n = 0;
    const before = Date.now() - minAgeS * 1000;
    for (const name of readdirSync(this.dir)) {
      if (BLOB_NAME.test(name) && (await isKnown(name))) continue;
      if (minAgeS > 0 && !olderThan(join(this.dir, name), before)) continue;
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

function olderThan(path: string, ms: number): boolean {
  try {
    return statSync(path).mtimeMs < ms;
  } catch {
    return false; // gone meanwhile
  }
}

class FileBlobWriter implements BlobWriter {
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    await this.handle.write(bytes);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.handle.close();
  }

  async abort(): Promise<void> {
    if (!this.closed) await this.handle.close().catch(() => {});
    this.closed = true;
    await unlink(this.path).catch(() => {});
  }
}
