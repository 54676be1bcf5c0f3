// Test helper: multipart upload bodies (PROTOCOL §7.8, fields before the file as both
// clients send them) and HTTP requests on a raw connection whose body is sent in steps,
// to hold an upload in flight while a test looks at the relay's data folder.
import { readdirSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import * as c from "../../lib/crypto.ts";
import { b64uencode } from "../../lib/encoding.ts";
import { within } from "./deadline.ts";

const enc = (s: string) => new TextEncoder().encode(s);

export function multipart(roomId: string, uid: string, file: Uint8Array) {
  const boundary = "b" + b64uencode(c.randomBytes(12));
  const body = Buffer.concat([
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n${roomId}\r\n`),
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="sender_id"\r\n\r\n${uid}\r\n`),
    enc(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n`),
    enc("Content-Type: application/octet-stream\r\n\r\n"),
    file,
    enc(`\r\n--${boundary}--\r\n`),
  ]);
  return { body: new Uint8Array(body), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface Answer {
  status: number;
  headers: string;
  json: unknown;
}

function parse(raw: Buffer): Answer {
  const text = raw.toString("utf8");
  const split = text.indexOf("\r\n\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? "0");
  let json: unknown = null;
  try {
    json = JSON.parse(text.slice(split + 4));
  } catch {
    // no JSON body
  }
  return { status, headers: text.slice(0, split).toLowerCase(), json };
}

/**
 * POST `path` on a raw connection: the head (Content-Length = body length), then the first
 * `first` bytes of the body. send(n) sends n more bytes; answer() resolves when the relay has
 * answered and closed (it may answer before the body is complete).
 */
export async function rawPost(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
  first: number,
) {
  const sock: Socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((r, j) => (sock.once("connect", () => r()), sock.once("error", j)));
  let raw = Buffer.alloc(0);
  sock.on("data", (d: Buffer) => (raw = Buffer.concat([raw, d])));
  sock.on("error", () => {}); // the relay may close while we still write
  const closed = new Promise<void>((r) => sock.once("close", () => r()));
  let head = `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ${body.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  sock.write(`${head}\r\n`);
  let sent = Math.min(first, body.length);
  if (sent > 0) sock.write(body.subarray(0, sent));
  return {
    sock,
    send(n = body.length - sent): void {
      if (sock.destroyed) return;
      sock.write(body.subarray(sent, sent + n));
      sent += n;
    },
    /** The answer once the relay closes the connection (20 s at most, else a failure with what came). */
    async answer(): Promise<Answer> {
      await within(closed, 20_000, () => {
        sock.destroy();
        return `the relay did not close the connection within 20 s; got ${raw.length} bytes: ${JSON.stringify(raw.subarray(0, 300).toString("latin1"))}`;
      });
      return parse(raw);
    },
    /** The answer if one came within `ms`, else null (the relay is still reading). */
    async answerWithin(ms: number): Promise<Answer | null> {
      const done = await Promise.race([closed.then(() => true), Bun.sleep(ms).then(() => false)]);
      return done || raw.length > 0 ? parse(raw) : null;
    },
  };
}

/** Bytes of the files in a folder (not recursive). */
export function folderBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    try {
      n += statSync(`${dir}/${name}`).size;
    } catch {
      // removed meanwhile
    }
  }
  return n;
}
