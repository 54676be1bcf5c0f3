// A streaming multipart/form-data reader (RFC 7578) for POST /file/upload
// (PROTOCOL §7.8). Bytes are pushed as they arrive; small fields are kept in
// memory, the file part goes straight to a sink, so a 50 MiB upload is never
// held in memory.
import { badRequest } from "./errors.ts";

export const MAX_FIELD_BYTES = 1024;
const MAX_HEADER_BYTES = 8 * 1024;
const MAX_PARTS = 8;

/** The boundary of a multipart/form-data Content-Type, or null. */
export function boundaryOf(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]!) : null;
}

export interface PartInfo {
  name: string;
  filename: string | null;
}

export interface MultipartHandler {
  /** Where the bytes of a file part go; null keeps the part in memory as a field. */
  fileSink(part: PartInfo): ((bytes: Uint8Array) => void | Promise<void>) | null;
}

type State = "preamble" | "after-boundary" | "headers" | "body" | "done";
const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

export class MultipartReader {
  /** Text fields by name. */
  readonly fields = new Map<string, string>();
  private readonly delimiter: Buffer; // CRLF "--" boundary
  private readonly handler: MultipartHandler;
  private state: State = "preamble";
  // The body starts with "--boundary"; pretending a CRLF came first lets one delimiter match every boundary.
  private buf: Buffer = Buffer.from(CRLF);
  private part: PartInfo | null = null;
  private sink: ((bytes: Uint8Array) => void | Promise<void>) | null = null;
  private fieldChunks: Buffer[] = [];
  private fieldSize = 0;
  private parts = 0;

  constructor(boundary: string, handler: MultipartHandler) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.handler = handler;
  }

  /** Bytes received but not yet handed on (tests: this stays small whatever is sent). */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  async push(chunk: Uint8Array): Promise<void> {
    // The epilogue after the closing boundary is ignored (RFC 2046 §5.1.1) and never kept:
    // appending it would hold up to the whole upload in memory and copy it on every chunk.
    if (this.state === "done") return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    for (;;) {
      if (this.state === "preamble") {
        const i = this.buf.indexOf(this.delimiter);
        if (i < 0) {
          if (this.buf.length > MAX_HEADER_BYTES) throw badRequest("multipart: boundary not found");
          return;
        }
        this.buf = this.buf.subarray(i + this.delimiter.length);
        this.state = "after-boundary";
      } else if (this.state === "after-boundary") {
        if (this.buf.length < 2) return;
        if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
          this.state = "done";
          this.buf = Buffer.alloc(0);
          return;
        }
        if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) throw badRequest("multipart: malformed boundary line");
        this.buf = this.buf.subarray(2);
        this.state = "headers";
      } else if (this.state === "headers") {
        const i = this.buf.indexOf(HEADER_END);
        if (i < 0) {
          if (this.buf.length > MAX_HEADER_BYTES) throw badRequest("multipart: part headers too long");
          return;
        }
        this.startPart(this.buf.subarray(0, i).toString("latin1"));
        this.buf = this.buf.subarray(i + HEADER_END.length);
        this.state = "body";
      } else if (this.state === "body") {
        const i = this.buf.indexOf(this.delimiter);
        if (i < 0) {
          // Keep a tail that could be the start of a delimiter split across chunks.
          const keep = Math.min(this.buf.length, this.delimiter.length - 1);
          const emit = this.buf.length - keep;
          if (emit > 0) {
            await this.data(this.buf.subarray(0, emit));
            this.buf = this.buf.subarray(emit);
          }
          return;
        }
        await this.data(this.buf.subarray(0, i));
        this.endPart();
        this.buf = this.buf.subarray(i + this.delimiter.length);
        this.state = "after-boundary";
      } else {
        return;
      }
    }
  }

  /** Called after the last byte: the body must have ended with the closing boundary. */
  end(): void {
    if (this.state !== "done") throw badRequest("multipart: body ended before the closing boundary");
  }

  private startPart(headerText: string): void {
    if (++this.parts > MAX_PARTS) throw badRequest("multipart: too many parts");
    let disposition: string | null = null;
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === "content-disposition") {
        disposition = line.slice(colon + 1).trim();
      }
    }
    if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) {
      throw badRequest("multipart: part without form-data disposition");
    }
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw badRequest("multipart: part without a name");
    if (this.fields.has(name)) throw badRequest(`multipart: duplicate part '${name.slice(0, 32)}'`);
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
    this.part = { name, filename };
    this.sink = this.handler.fileSink(this.part);
    this.fieldChunks = [];
    this.fieldSize = 0;
  }

  private async data(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    if (this.sink) return await this.sink(bytes);
    this.fieldSize += bytes.length;
    if (this.fieldSize > MAX_FIELD_BYTES) throw badRequest("multipart: field too long");
    this.fieldChunks.push(Buffer.from(bytes));
  }

  private endPart(): void {
    const part = this.part!;
    if (this.sink) this.fields.set(part.name, "");
    else {
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(this.fieldChunks));
      } catch {
        throw badRequest("multipart: field is not UTF-8");
      }
      this.fields.set(part.name, text);
    }
    this.part = null;
    this.sink = null;
  }
}
