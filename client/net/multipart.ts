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

/** Text fields, then one file part. Names and values must be plain tokens (no quotes or line breaks). */
export function multipartBody(
  fields: readonly [string, string][],
  file: { field: string; filename: string; type: string; data: Uint8Array },
): MultipartBody {
  for (const s of [...fields.flat(), file.field, file.filename, file.type]) {
    if (/["\r\n]/.test(s)) throw new Error(`multipart: bad field text ${JSON.stringify(s)}`);
  }
  for (;;) {
    const boundary = `phantom-${hexencode(randomBytes(16))}`;
    const marker = utf8.encode(`--${boundary}`);
    if (Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).includes(marker)) continue;
    let head = "";
    for (const [name, value] of fields) {
      head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    }
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n`;
    head += `Content-Type: ${file.type}\r\n\r\n`;
    const prefix = utf8.encode(head);
    const body = concatBytes(prefix, file.data, utf8.encode(`\r\n--${boundary}--\r\n`));
    return {
      body,
      contentType: `multipart/form-data; boundary=${boundary}`,
      fileStart: prefix.length,
      fileEnd: prefix.length + file.data.length,
    };
  }
}
