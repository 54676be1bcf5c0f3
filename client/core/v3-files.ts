// PROTOCOL-v3 §V9 files, streamed end to end: the sender encrypts while it reads and uploads
// (twice: once to hash for the §6/§V11 signature, once to send), the receiver decrypts while it
// downloads into a temp file that becomes the target only after the last chunk verified. Neither
// side holds a whole file or blob in memory. The FileInner returned travels through the ratchet
// (§V7.1), which the caller (core/v3.ts) sends.

import * as fs from "node:fs";
import { randomBytes } from "../../lib/crypto.ts";
import { PhantomError } from "../../lib/errors.ts";
import { TransportError } from "../../lib/transport.ts";
import { decryptFileStream, encryptFileStream, fileBlobLength } from "../../lib/v3/file.ts";
import { V3Error } from "../../lib/v3/errors.ts";
import { newInnerId, type FileInner } from "../../lib/v3/inner.ts";
import { cleanFileName, filePathOf, type UploadResponse } from "../../lib/wire.ts";
import { RelayError, type RelayClient } from "../net/relay-client.ts";
import { mayWrite, saveReceivedStream } from "../state/files.ts";
import { describeErrno } from "../text/format.ts";
import { cancelled, tooLarge } from "./outgoing.ts";

/** §V9: the file key is 32 random bytes, fresh per file. */
const FILE_KEY_BYTES = 32;

/** What the v3 file flows use of a RelayClient. */
export type FileRelay = Pick<RelayClient, "baseUrl" | "maxFileSize" | "uploadStream" | "downloadStream" | "urlOf">;

/** A local file about to be sent: what stat said, nothing read yet. */
export interface PreparedFile {
  path: string;
  /** The name the peer gets (cleaned as PROTOCOL §5.3 says, as a receiver would). */
  name: string;
  size: number;
  mime: string;
  /** Modification time when prepared: the file must not change until it is uploaded. */
  mtimeMs: number;
}

export interface UploadFileOptions {
  onProgress?: (sent: number, total: number) => void;
  /** Cancels the upload; once it fires, nothing is returned to announce. */
  signal?: AbortSignal;
}

export interface DownloadFileOptions {
  /** Replace an existing file at the target (else refused, as saveReceivedFile does). */
  force: boolean;
  onProgress?: (got: number, total: number) => void;
  /** Asked when the target exists and `force` is not set. */
  confirmOverwrite?: (path: string) => Promise<boolean>;
  signal?: AbortSignal;
}

function ioError(what: string, path: string, cause: unknown): PhantomError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new PhantomError("file-io", `cannot ${what} ${path}: ${describeErrno(code)}`, { cause });
}

function statFile(path: string): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw ioError("read", path, e);
  }
  if (!st.isFile()) throw new PhantomError("file-io", `${path} is not a regular file`);
  return st;
}

/** A regular file to send: stat, name and MIME type (guessed from the extension, as readLocalFile does). */
export function prepareFileV3(path: string): PreparedFile {
  const st = statFile(path);
  const type = Bun.file(path).type.split(";")[0]!.trim();
  return {
    path,
    name: cleanFileName(path),
    size: st.size,
    mime: type === "" ? "application/octet-stream" : type,
    mtimeMs: st.mtimeMs,
  };
}

/** Refuses a file whose size or modification time is not what was prepared (the two passes must agree). */
function checkUnchanged(f: PreparedFile): void {
  const st = statFile(f.path);
  if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) {
    throw new PhantomError("file-changed", `${f.path} changed while it was being sent: try again`);
  }
}

/** Read size of the plaintext: one §V9 chunk. */
const READ_BYTES = 65536;

/**
 * The plaintext of a prepared file, read in place into one buffer that is reused: each part is
 * valid only until the next is asked for (encryptFileStream copies it into its chunk first). This
 * rather than Bun.file().stream(), whose 512 KiB parts, each a new buffer, raised the peak RSS of a
 * 50 MB upload by some 15 MB more. Checked unchanged before and after.
 */
async function* fileBytes(f: PreparedFile): AsyncGenerator<Uint8Array> {
  checkUnchanged(f);
  let fd: number;
  try {
    fd = fs.openSync(f.path, "r");
  } catch (e) {
    throw ioError("read", f.path, e);
  }
  try {
    const buf = new Uint8Array(READ_BYTES);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw ioError("read", f.path, e);
      }
      if (n === 0) break;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
  checkUnchanged(f);
}

/**
 * PROTOCOL-v3 §V9: encrypt with a fresh key and upload (v2 §7.8) in two streamed passes; the
 * FileInner to send through the ratchet (§V7.1). A relay that states its limit (v2 §7.10, which
 * counts the blob) is not sent a blob it would refuse.
 */
export async function uploadFileV3(
  relay: FileRelay,
  roomId: string,
  f: PreparedFile,
  o: UploadFileOptions = {},
): Promise<FileInner> {
  const blobSize = fileBlobLength(f.size);
  const max = await relay.maxFileSize();
  if (max !== null && blobSize > max) throw tooLarge(f.size, max);
  cancelled(o.signal);
  const key = randomBytes(FILE_KEY_BYTES);
  let up: UploadResponse;
  try {
    up = await relay.uploadStream(
      roomId,
      { size: blobSize, open: () => encryptFileStream(key, fileBytes(f)) },
      o.onProgress && ((sent) => o.onProgress!(Math.min(sent, f.size), f.size)),
      { signal: o.signal },
    );
  } catch (e) {
    key.fill(0);
    cancelled(o.signal);
    // A relay that does not state its limit says 413 (PROTOCOL §7.8).
    if (e instanceof RelayError && e.status === 413) throw tooLarge(f.size, null, e);
    throw e;
  }
  // Cancelled while the relay was answering: the blob is stored but never announced (§8 expires it).
  if (o.signal?.aborted) key.fill(0);
  cancelled(o.signal);
  return { t: "file", id: newInnerId(), name: f.name, size: f.size, mime: f.mime, url: relay.urlOf(up.url), key };
}

/**
 * PROTOCOL-v3 §V9: download (only the path of the announced URL, from our own relay, v2 §5.3),
 * decrypt and verify while streaming into a temp file beside `target`, which becomes `target` only
 * once the last chunk verified. A refusal is one line naming the §V12 reason; nothing partial is
 * left. Returns the path written.
 */
export async function downloadFileV3(
  relay: FileRelay,
  f: FileInner,
  target: string,
  o: DownloadFileOptions,
): Promise<string> {
  const path = filePathOf(f.url, new URL(relay.baseUrl).pathname);
  const overwrite = await mayWrite(target, { force: o.force, confirmOverwrite: o.confirmOverwrite });
  const expected = fileBlobLength(f.size);
  const blob = relay.downloadStream(path, {
    expectedBytes: expected,
    signal: o.signal,
    onProgress: o.onProgress && ((got) => o.onProgress!(Math.min(got, expected), expected)),
  });
  try {
    await saveReceivedStream(target, decryptFileStream(f.key, blob, f.size), { overwrite });
  } catch (e) {
    if (e instanceof V3Error) {
      throw new PhantomError("file-check", `the file failed its check: ${e.reason} — ${detail(e)}`, { cause: e });
    }
    // More than the announced blob: the bytes after its final chunk were refused unread (§V9).
    if (e instanceof RelayError && e.cause instanceof TransportError && e.cause.code === "too-large") {
      throw new PhantomError(
        "file-check",
        `the file failed its check: file-trailing — the relay has more than the ${expected} bytes of its blob; it was not saved`,
        { cause: e },
      );
    }
    throw e;
  }
  return target;
}

function detail(e: V3Error): string {
  const d = e.message.startsWith(`${e.reason}: `) ? e.message.slice(e.reason.length + 2) : "";
  return `${d === "" ? "" : `${d}; `}the file is damaged or incomplete on the relay and was not saved`;
}
