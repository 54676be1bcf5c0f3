// One member out of a zip archive (APPNOTE.TXT), streamed: `phantom usb` takes phantom.exe out of
// the verified phantom-windows-x64.zip on hosts whose tar cannot read zip (GNU tar). Only what
// release/zip.ts writes is accepted: stored or deflated members, no zip64, no encryption. The
// archive's signature was checked before this runs; the CRC-32 and both sizes are still checked,
// and the output never grows past the size the central directory announces.

import * as fs from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createInflateRaw } from "node:zlib";
import { crc32 } from "../crc32.ts";
import { UpdateError } from "./pinned-get.ts";

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** End record (22 bytes) plus the longest archive comment. */
const EOCD_SEARCH = 22 + 0xffff;

interface Member {
  method: number;
  crc: number;
  compressed: number;
  size: number;
  localOffset: number;
  flags: number;
}

function bad(archive: string, what: string): UpdateError {
  return new UpdateError("bad-archive", `${archive}: ${what}`);
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = fs.readSync(fd, b, 0, length, offset);
  return b.subarray(0, n);
}

function findMember(fd: number, archive: string, name: string): Member {
  const size = fs.fstatSync(fd).size;
  const tailStart = Math.max(0, size - EOCD_SEARCH);
  const tail = readAt(fd, tailStart, size - tailStart);
  let e = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      e = i;
      break;
    }
  }
  if (e < 0) throw bad(archive, "not a zip archive (no end record)");
  const count = tail.readUInt16LE(e + 10);
  const cdSize = tail.readUInt32LE(e + 12);
  const cdOffset = tail.readUInt32LE(e + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw bad(archive, "zip64 archives are not supported");
  if (cdOffset + cdSize > size) throw bad(archive, "the central directory lies past the end");
  const cd = readAt(fd, cdOffset, cdSize);
  for (let p = 0, i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) throw bad(archive, "a broken central directory");
    const nameLen = cd.readUInt16LE(p + 28);
    const next = p + 46 + nameLen + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    if (next > cd.length) throw bad(archive, "a broken central directory");
    if (cd.toString("utf8", p + 46, p + 46 + nameLen) === name) {
      return {
        flags: cd.readUInt16LE(p + 8),
        method: cd.readUInt16LE(p + 10),
        crc: cd.readUInt32LE(p + 16),
        compressed: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localOffset: cd.readUInt32LE(p + 42),
      };
    }
    p = next;
  }
  throw bad(archive, `the archive has no ${name}`);
}

/** Counts, CRCs and caps what passes through. */
class Check extends Transform {
  crc = 0;
  bytes = 0;
  constructor(
    private readonly max: number,
    private readonly archive: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return done(bad(this.archive, "a member is bigger than its directory says"));
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }
}

/** Write member `name` of the zip `archive` to `out` (created new, mode `mode`). */
export async function unzipMember(archive: string, name: string, out: string, mode = 0o755): Promise<void> {
  const fd = fs.openSync(archive, "r");
  let m: Member;
  let dataStart: number;
  try {
    m = findMember(fd, archive, name);
    if ((m.flags & 1) !== 0) throw bad(archive, `${name} is encrypted`);
    if (m.method !== 0 && m.method !== 8) throw bad(archive, `${name} uses compression method ${m.method}`);
    const local = readAt(fd, m.localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIG) throw bad(archive, `no local header for ${name}`);
    dataStart = m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    fs.closeSync(fd);
  }
  if (m.compressed === 0) {
    // An empty stored member: nothing to stream.
    if (m.size !== 0 || m.crc !== 0) throw bad(archive, `${name} has no data`);
    fs.writeFileSync(out, new Uint8Array(), { flag: "wx", mode });
    return;
  }
  const source = fs.createReadStream(archive, { start: dataStart, end: dataStart + m.compressed - 1 });
  const check = new Check(m.size, archive);
  const sink = fs.createWriteStream(out, { flags: "wx", mode });
  let created = false;
  sink.on("open", () => (created = true));
  try {
    if (m.method === 8) await pipeline(source, createInflateRaw(), check, sink);
    else await pipeline(source, check, sink);
  } catch (e) {
    if (created) fs.rmSync(out, { force: true });
    if (e instanceof UpdateError) throw e;
    throw bad(archive, `${name} cannot be unpacked (${(e as Error).message})`);
  }
  if (check.bytes !== m.size || check.crc !== m.crc) {
    fs.rmSync(out, { force: true });
    throw bad(archive, `${name} does not match its CRC-32 and size`);
  }
}
