// Local side of PROTOCOL §5.3 file messages: reading a file to send, choosing
// where a received file goes, and writing it without ever overwriting by surprise.

import * as fs from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { describeErrno, formatBytes } from "../text/format.ts";
import { FILE_MODE, fsyncDir, installExclusive, tempPathFor, writeAtomic } from "./home.ts";

/** Files are encrypted in memory: refuse anything bigger than this before reading it. */
export const MAX_SEND_BYTES = 1024 * 1024 * 1024;

export interface LocalFile {
  name: string;
  data: Uint8Array;
  mime: string;
}

function ioError(what: string, path: string, cause: unknown): PhantomError {
  const code = (cause as NodeJS.ErrnoException).code;
  return new PhantomError("file-io", `cannot ${what} ${path}: ${describeErrno(code)}`, { cause });
}

/** A regular file to send, with its base name and a MIME type guessed from the extension. */
export async function readLocalFile(path: string): Promise<LocalFile> {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw ioError("read", path, e);
  }
  if (!st.isFile()) throw new PhantomError("file-io", `${path} is not a regular file`);
  if (st.size > MAX_SEND_BYTES) {
    throw new PhantomError(
      "too-large",
      `${path} is too large to send (${formatBytes(st.size)}; at most ${formatBytes(MAX_SEND_BYTES)})`,
    );
  }
  let data: Uint8Array;
  try {
    data = new Uint8Array(fs.readFileSync(path));
  } catch (e) {
    throw ioError("read", path, e);
  }
  const type = Bun.file(path).type.split(";")[0]!.trim();
  return { name: basename(path), data, mime: type === "" ? "application/octet-stream" : type };
}

/**
 * Where a received file goes: `dest` may be a folder (the file keeps its cleaned
 * name there) or a file path; default the current folder.
 */
export function targetPath(dest: string | undefined, cleanName: string, cwd = process.cwd()): string {
  if (dest === undefined || dest === "") return join(cwd, cleanName);
  const full = resolve(cwd, dest);
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(full);
  } catch {
    st = null;
  }
  if (st?.isDirectory()) return join(full, cleanName);
  if (/[\\/]$/.test(dest)) throw new PhantomError("file-io", `no such folder: ${dest}`);
  const parent = dirname(full);
  if (!fs.existsSync(parent)) throw new PhantomError("file-io", `no such folder: ${parent}`);
  return full;
}

/**
 * Write a received file (0600). An existing file is replaced only with `force`
 * or when `confirmOverwrite` says yes; the write itself never replaces a file
 * that appeared meanwhile unless overwriting was allowed.
 */
export async function saveReceivedFile(
  path: string,
  data: Uint8Array,
  o: { force?: boolean; confirmOverwrite?: (path: string) => Promise<boolean> } = {},
): Promise<void> {
  let overwrite = o.force === true;
  if (!overwrite && fs.existsSync(path)) {
    if (fs.statSync(path).isDirectory()) throw new PhantomError("file-exists", `${path} is a folder`);
    overwrite = o.confirmOverwrite ? await o.confirmOverwrite(path) : false;
    if (!overwrite) throw new PhantomError("file-exists", `${path} already exists (use --force to overwrite)`);
  }
  try {
    writeAtomic(path, data, { exclusive: !overwrite });
  } catch (e) {
    if (e instanceof PhantomError && e.code === "exists") {
      throw new PhantomError("file-exists", `${path} already exists (use --force to overwrite)`, { cause: e });
    }
    throw e;
  }
}

/**
 * The overwrite rule of saveReceivedFile, before anything is downloaded: true when an existing
 * file at `path` may be replaced (`force`, or `confirmOverwrite` said yes); refuses otherwise.
 */
export async function mayWrite(
  path: string,
  o: { force?: boolean; confirmOverwrite?: (path: string) => Promise<boolean> } = {},
): Promise<boolean> {
  if (o.force === true) return true;
  if (!fs.existsSync(path)) return false;
  if (fs.statSync(path).isDirectory()) throw new PhantomError("file-exists", `${path} is a folder`);
  if (o.confirmOverwrite && (await o.confirmOverwrite(path))) return true;
  throw new PhantomError("file-exists", `${path} already exists (use --force to overwrite)`);
}

/**
 * Write a received file that arrives as a stream (PROTOCOL-v3 §V9), never holding it whole: the
 * parts go to a temp file (0600) beside `path`, which is put at `path` only once the stream ended
 * without error, replacing a file there only when `overwrite` (see mayWrite). On any failure the
 * temp file is deleted: nothing partial is ever left under the final name. The stream is read
 * only after the temp file exists, so a download it drives starts only then.
 */
export async function saveReceivedStream(
  path: string,
  parts: AsyncIterable<Uint8Array>,
  o: { overwrite: boolean },
): Promise<void> {
  const tmp = tempPathFor(path);
  let fh: fs.promises.FileHandle | null = null;
  let installed = false;
  try {
    try {
      fh = await fs.promises.open(tmp, "wx", FILE_MODE);
    } catch (e) {
      throw ioError("write", path, e);
    }
    for await (const part of parts) {
      try {
        await fh.write(part);
      } catch (e) {
        throw ioError("write", path, e);
      }
    }
    try {
      await fh.sync();
      await fh.close();
      fh = null;
      if (o.overwrite) fs.renameSync(tmp, path);
      else installExclusive(tmp, path);
      installed = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new PhantomError("file-exists", `${path} already exists (use --force to overwrite)`, { cause: e });
      }
      throw ioError("write", path, e);
    }
    fsyncDir(dirname(path));
  } finally {
    if (fh !== null) await fh.close().catch(() => {});
    if (!installed) fs.rmSync(tmp, { force: true });
  }
}
