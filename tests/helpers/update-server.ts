// Test helpers for self-update (the release itself comes from tests/helpers/release.ts): files
// re-signed or crafted with the real minisign CLI, a throwaway certificate from `openssl req
// -x509`, and a small HTTPS file server on 127.0.0.1 that counts the application bytes each
// connection sent.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { join } from "node:path";

function sh(argv: string[], o: { cwd?: string; env?: Record<string, string> } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

export function sign(keyFile: string, file: string, trusted: string): void {
  sh(["minisign", "-S", "-s", keyFile, "-m", file, "-x", `${file}.minisig`, "-t", trusted]);
}

export const hostPlatform = () => `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;

export const sha256 = (p: string) => createHash("sha256").update(fs.readFileSync(p)).digest("hex");

export function writeManifest(
  dir: string,
  keyFile: string,
  m: { version: string } & Record<string, unknown>,
  signedVersion = m.version,
) {
  fs.writeFileSync(join(dir, "latest.json"), JSON.stringify(m));
  sign(
    keyFile,
    join(dir, "latest.json"),
    `version:${signedVersion} file:latest.json timestamp:${Math.floor(Date.now() / 1000)}`,
  );
}

export function makeCert(dir: string, name = "cert"): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  sh([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8"), certFile };
}

export interface FileServer {
  port: number;
  /** The folder served; change it between runs. */
  dir: string;
  /** TCP connections accepted (a TLS handshake that failed counts too). */
  connections: number;
  /** Application bytes received, per connection that finished its TLS handshake, in order. */
  received: number[];
  /** Serve only this fraction of each archive's bytes (while still announcing its full length). */
  truncate: number | null;
  close(): Promise<void>;
}

/** HTTPS (or plain HTTP when `cert` is null) GET of files in `dir`, HTTP/1.1, one request per connection. */
export async function startFileServer(
  dir: string,
  cert: { key: string; cert: string } | null,
  port = 0,
): Promise<FileServer> {
  const fsrv: FileServer = { port: 0, dir, connections: 0, received: [], truncate: null, close: async () => {} };
  const onConn = (s: net.Socket) => {
    const i = fsrv.received.push(0) - 1;
    let head = "";
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      fsrv.received[i]! += d.length;
      head += d.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const path = decodeURIComponent(head.split(" ")[1] ?? "/").replace(/^\/+/, "");
      const file = join(fsrv.dir, path);
      if (path.includes("..") || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        s.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return;
      }
      const data = fs.readFileSync(file);
      const send =
        fsrv.truncate === null || !path.endsWith(".tar.xz")
          ? data
          : data.subarray(0, Math.floor(data.length * fsrv.truncate));
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${data.length}\r\nconnection: close\r\n\r\n`);
      s.end(send);
    });
  };
  const srv = cert ? tls.createServer({ key: cert.key, cert: cert.cert }, onConn) : net.createServer(onConn);
  srv.on("connection", () => fsrv.connections++);
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", r));
  fsrv.port = (srv.address() as net.AddressInfo).port;
  fsrv.close = () => new Promise<void>((r) => srv.close(() => r()));
  return fsrv;
}
