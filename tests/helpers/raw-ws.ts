// A WebSocket client that truly stops reading, for backpressure tests and the ws-backpressure
// attack: a raw TCP socket (node:net) sends the RFC 6455 upgrade request, reads the relay's
// answer head, then pauses, so the kernel buffers fill and the relay's send buffer grows (Bun's
// own WebSocket client always reads). read() resumes it and parses the frames that arrived.
import * as net from "node:net";
import { randomBytes } from "node:crypto";

export interface RawUpgrade {
  /** HTTP status of the answer: 101 when upgraded. */
  status: number;
  /** The answer head's header lines, lower-case names. */
  headers: Map<string, string>;
  /** The body of a refused upgrade (the §7 error JSON), "" after a 101. */
  body: string;
  socket: net.Socket;
}

const HEAD_END = "\r\n\r\n";

/** Upgrade `path` on `base` (http://host:port) with the given (signed) headers; never reads past the answer head. */
export function rawUpgrade(base: string, path: string, headers: Record<string, string>): Promise<RawUpgrade> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    let head: { status: number; headers: Map<string, string>; length: number } | null = null;
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    // An answer head within 10 s, or a failure saying what came.
    const timer = setTimeout(() => {
      const got = buf.subarray(0, 300).toString("latin1");
      fail(new Error(`no complete upgrade answer within 10 s; got ${buf.length} bytes: ${JSON.stringify(got)}`));
    }, 10_000);
    socket.once("error", fail);
    socket.once("connect", () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: ${u.host}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join("\r\n") + HEAD_END);
    });
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!head) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) return;
        const [statusLine, ...rest] = buf.subarray(0, end).toString("latin1").split("\r\n");
        const map = new Map<string, string>();
        for (const line of rest) {
          const i = line.indexOf(":");
          if (i > 0) map.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
        }
        head = { status: Number(statusLine!.split(" ")[1]), headers: map, length: end + HEAD_END.length };
      }
      const after = buf.subarray(head.length);
      if (head.status === 101) {
        socket.off("data", onData);
        socket.pause();
        if (after.length > 0) socket.unshift(after);
        socket.off("error", fail);
        socket.on("error", () => {}); // a reset after pausing is the relay's business, not a crash here
        clearTimeout(timer);
        return resolve({ status: 101, headers: head.headers, body: "", socket });
      }
      const length = Number(head.headers.get("content-length") ?? "0");
      if (after.length < length) return;
      socket.off("data", onData);
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: head.status, headers: head.headers, body: after.subarray(0, length).toString("utf8"), socket });
    };
    socket.on("data", onData);
    socket.once("close", () => {
      if (!head) fail(new Error(`connection closed before an answer; got ${buf.length} bytes`));
    });
  });
}

export interface ReadFrames {
  /** Text frames in order of arrival. */
  texts: string[];
  /** The close frame's code, or null if none came before the connection ended or the wait ran out. */
  closeCode: number | null;
}

/**
 * Resume a paused socket and read server frames (unmasked, RFC 6455 §5.2) until a close frame,
 * the end of the connection or `timeoutMs`.
 */
export function readFrames(socket: net.Socket, timeoutMs: number): Promise<ReadFrames> {
  return new Promise((resolve) => {
    const out: ReadFrames = { texts: [], closeCode: null };
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (opcode === 1) out.texts.push(payload.toString("utf8"));
        if (opcode === 8) {
          out.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : null;
          return finish();
        }
      }
    });
    socket.once("close", finish);
    socket.resume();
  });
}
