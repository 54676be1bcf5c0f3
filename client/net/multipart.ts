// PROTOCOL §7.8: the upload body is multipart/form-data built here as exact bytes,
// so the §6 signature can hash what is sent (RFC 7578).

import { randomBytes } from "../../lib/crypto.ts";
import { concatBytes, hexencode, utf8 } from "../../lib/encoding.ts";

export interface MultipartBody {
  body: Uint8Array;
  contentType: string;
  /** Where the file's bytes start and end inside `body` (for progress in file bytes). */
  fileStart: number;
  fileEnd: number;
}

/** The bytes around a streamed file part: body = prefix ‖ file ‖ suffix. */
export interface MultipartFrame {
  prefix: Uint8Array;
  suffix: Uint8Array;
  contentType: string;
  /** `--boundary`: the file's bytes must not contain it (else choose another frame). */
  marker: Uint8Array;
}

type FilePart = { field: string; filename: string; type: string };

/** Text fields, then the head of one file part, with a fresh random boundary. */
export function multipartFrame(fields: readonly [string, string][], file: FilePart): MultipartFrame {
  for (const s of [...fields.flat(), file.field, file.filename, file.type]) {
    if (/["\r\n]/.test(s)) throw new Error(`multipart: bad field text ${JSON.stringify(s)}`);
  }
  const boundary = `phantom-${hexencode(randomBytes(16))}`;
  let head = "";
  for (const [name, value] of fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n`;
  head += `Content-Type: ${file.type}\r\n\r\n`;
  return {
    prefix: utf8.encode(head),
    suffix: utf8.encode(`\r\n--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`,
    marker: utf8.encode(`--${boundary}`),
  };
}

/** Text fields, then one file part. Names and values must be plain tokens (no quotes or line breaks). */
export function multipartBody(
  fields: readonly [string, string][],
  file: FilePart & { data: Uint8Array },
): MultipartBody {
  for (;;) {
    const f = multipartFrame(fields, file);
    if (Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).includes(f.marker)) continue;
    return {
      body: concatBytes(f.prefix, file.data, f.suffix),
      contentType: f.contentType,
      fileStart: f.prefix.length,
      fileEnd: f.prefix.length + file.data.length,
    };
  }
}

/**
 * Finds a marker in a stream fed part by part (a match may straddle two parts): feed each part,
 * `found` says whether the marker occurred in what was fed so far.
 */
export class MarkerScan {
  found = false;
  private tail: Buffer = Buffer.alloc(0);
  constructor(private readonly marker: Uint8Array) {}

  feed(part: Uint8Array): void {
    if (this.found || part.length === 0) return;
    const m = this.marker.length;
    const b = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    const edge = Buffer.concat([this.tail, b.subarray(0, m - 1)]);
    if (edge.includes(this.marker) || b.includes(this.marker)) {
      this.found = true;
      return;
    }
    const joined = b.length >= m - 1 ? b.subarray(b.length - (m - 1)) : Buffer.concat([this.tail, b]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (m - 1))));
  }
}
