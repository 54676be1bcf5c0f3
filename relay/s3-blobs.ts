// File blobs in an S3-compatible bucket (--blobs s3://BUCKET/PREFIX), through Bun's S3 client.
// Several relays may share the bucket: blob ids are random, and a blob is served only once its
// row is committed (relay/blobs.ts). Relays sharing a prefix must share a store too, since the
// start-up sweep deletes what the store has no row for (docs/deploy.md). Uploads are streamed
// as multipart uploads, a part at a time.
// Credentials come from the standard variables and never appear in logs or errors.
import { S3Client, type NetworkSink, type S3File } from "bun";
import { BLOB_NAME, type BlobWriter, type Blobs, type S3Access } from "./blobs.ts";
import { StoreBusyError } from "./store.ts";

/** Multipart part size: S3's minimum, so one upload holds about a part or two in memory. */
export const PART_SIZE = 5 * 1024 * 1024;
/** Parts sent at once by one upload. */
const QUEUE_SIZE = 2;
/** An object younger than this may be another relay's upload whose row is not committed yet. */
export const ORPHAN_MIN_AGE_S = 3600;
/** The start-up sweep reads at most this many pages of this many keys. */
const LIST_PAGE_KEYS = 1000;
const LIST_PAGES_MAX = 100;
/** Deletes sent at once. */
const DELETES_AT_ONCE = 8;

/** Bun's S3Error code (NoSuchKey, AccessDenied, ConnectionRefused…), or the error's name. */
function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : e instanceof Error ? e.name : "error";
}

const isMissing = (e: unknown) => codeOf(e) === "NoSuchKey";

/** PROTOCOL §7.10: the bucket cannot be reached or refuses us: 503 busy, never a crash. */
function unavailable(): StoreBusyError {
  return new StoreBusyError();
}

export interface S3BlobsOptions {
  bucket: string;
  /** "" or ending in "/". */
  prefix: string;
  access: S3Access;
  /** Where failures that are not the client's business are told (the relay's log). */
  warn?: (message: string) => void;
  /** Milliseconds since the epoch (tests move it to make objects old). */
  now?: () => number;
  /** Keys per listed page (tests make it small to see several pages). */
  listPageKeys?: number;
}

export class S3Blobs implements Blobs {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly warn: (message: string) => void;
  private readonly now: () => number;
  private readonly pageKeys: number;

  constructor(o: S3BlobsOptions) {
    this.pageKeys = o.listPageKeys ?? LIST_PAGE_KEYS;
    this.bucket = o.bucket;
    this.prefix = o.prefix;
    this.warn = o.warn ?? (() => {});
    this.now = o.now ?? Date.now;
    // Path-style requests: they work with AWS and with every S3-compatible server.
    this.client = new S3Client({ ...o.access, bucket: o.bucket, virtualHostedStyle: false });
  }

  key(blobId: string): string {
    if (!BLOB_NAME.test(blobId)) throw new Error("invalid blob id"); // never reached with relay-made ids
    return this.prefix + blobId;
  }

  async create(blobId: string): Promise<BlobWriter> {
    const file = this.client.file(this.key(blobId));
    return new S3BlobWriter(file, () => this.remove([blobId]), this.warn);
  }

  async remove(blobIds: readonly string[]): Promise<void> {
    const failed = await this.deleteAll(blobIds);
    if (failed.length > 0) {
      this.warn(`S3: ${failed.length} blob(s) not deleted (${failed[0]}); the start-up sweep removes them`);
    }
  }

  /** Streamed through: clients see the same PROTOCOL §7.8 answer as with a folder. */
  async download(blobId: string): Promise<Bun.BodyInit | null> {
    const reader = this.client.file(this.key(blobId)).stream().getReader();
    let first: Awaited<ReturnType<typeof reader.read>>;
    try {
      first = await reader.read(); // the GET's answer: missing or unavailable shows here
    } catch (e) {
      if (isMissing(e)) return null;
      this.warn(`S3: a download failed (${codeOf(e)})`);
      throw unavailable();
    }
    let pending: typeof first | null = first;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const r = pending ?? (await reader.read());
        pending = null;
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }

  /**
   * Objects under the prefix with a blob name and no row, older than ORPHAN_MIN_AGE_S (a younger
   * one may be another relay's upload in progress), at most LIST_PAGES_MAX pages of keys per start.
   */
  async removeOrphans(isKnown: (blobId: string) => Promise<boolean>): Promise<number> {
    const before = this.now() - ORPHAN_MIN_AGE_S * 1000;
    let removed = 0;
    let token: string | undefined;
    for (let page = 0; page < LIST_PAGES_MAX; page++) {
      let res;
      try {
        res = await this.client.list({ prefix: this.prefix, maxKeys: this.pageKeys, continuationToken: token });
      } catch (e) {
        this.warn(`S3: listing the bucket for orphan blobs failed (${codeOf(e)})`);
        throw unavailable();
      }
      const orphans: string[] = [];
      for (const o of res.contents ?? []) {
        const id = o.key.slice(this.prefix.length);
        if (!BLOB_NAME.test(id) || !(Date.parse(o.lastModified ?? "") < before)) continue;
        if (!(await isKnown(id))) orphans.push(id);
      }
      removed += orphans.length - (await this.deleteAll(orphans)).length;
      token = res.nextContinuationToken;
      if (!res.isTruncated || !token) break;
    }
    return removed;
  }

  /** Deletes a few at a time; missing objects count as deleted. The codes of those that failed. */
  private async deleteAll(blobIds: readonly string[]): Promise<string[]> {
    const failed: string[] = [];
    for (let i = 0; i < blobIds.length; i += DELETES_AT_ONCE) {
      const batch = blobIds.slice(i, i + DELETES_AT_ONCE);
      const results = await Promise.allSettled(batch.map((id) => this.client.delete(this.key(id))));
      for (const r of results) if (r.status === "rejected" && !isMissing(r.reason)) failed.push(codeOf(r.reason));
    }
    return failed;
  }
}

/** One multipart upload (a plain PUT when it is under a part). */
class S3BlobWriter implements BlobWriter {
  private readonly sink: NetworkSink;
  private unflushed = 0;
  private ended = false;

  constructor(
    file: S3File,
    private readonly drop: () => Promise<void>,
    private readonly warn: (message: string) => void,
  ) {
    this.sink = file.writer({ partSize: PART_SIZE, queueSize: QUEUE_SIZE, type: "application/octet-stream" });
  }

  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.sink.write(bytes);
      this.unflushed += bytes.length;
      // Bun's writer keeps every byte until flushed: flushing each part's worth (it sends whole
      // parts only) keeps one upload's memory bounded instead of the whole file.
      if (this.unflushed >= PART_SIZE) {
        this.unflushed = 0;
        await this.sink.flush();
      }
    } catch (e) {
      throw this.failed(e);
    }
  }

  async close(): Promise<void> {
    this.ended = true;
    try {
      await this.sink.end();
    } catch (e) {
      throw this.failed(e);
    }
  }

  /**
   * Bun's writer has no abort (end(error) still completes the upload), so the upload is
   * ended and its object deleted: nothing is left either way.
   */
  async abort(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await Promise.resolve()
        .then(() => this.sink.end())
        .catch(() => {});
    }
    await this.drop();
  }

  private failed(e: unknown): StoreBusyError {
    this.warn(`S3: an upload failed (${codeOf(e)})`); // the code only: it names no key or secret
    return unavailable();
  }
}
