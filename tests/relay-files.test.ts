// PROTOCOL §7.8 files against the real compiled relay: upload limits (decided
// from Content-Length before reading, enforced while reading), opaque file ids,
// 404 for every download failure, burn removing blobs. Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import * as c from "../lib/crypto.ts";
import { b64udecode, b64uencode } from "../lib/encoding.ts";
import { ErrorBody, UploadResponse } from "../lib/wire.ts";
import { startRelay, type RunningRelay } from "./helpers/relay.ts";
import { makeUser, pair, register, signed, signHeaders, type TestUser } from "./helpers/signer.ts";

const LIMIT = 4096; // MAX_FILE_SIZE_BYTES for these relays
const OVERHEAD = 64 * 1024; // the relay's allowance for multipart framing
let relay: RunningRelay;
let base: string;

beforeAll(async () => {
  relay = await startRelay({ env: { MAX_FILE_SIZE_BYTES: String(LIMIT) } });
  base = relay.url;
});

afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  relay.cleanup();
});

const enc = (s: string) => new TextEncoder().encode(s);

/** The multipart body a Python 2.2.x client sends: fields, then file blob.bin. */
function multipart(
  fields: Record<string, string>,
  file: Uint8Array | null,
  boundary = "b" + b64uencode(c.randomBytes(12)),
) {
  const parts: Uint8Array[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(enc(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    parts.push(
      enc(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n`),
      enc("Content-Type: application/octet-stream\r\n\r\n"),
      file,
      enc("\r\n"),
    );
  }
  parts.push(enc(`--${boundary}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(parts)), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function upload(
  u: TestUser,
  roomId: string,
  file: Uint8Array | null,
  o: { fields?: Record<string, string>; signedBody?: Uint8Array } = {},
) {
  const { body, contentType } = multipart(o.fields ?? { room_id: roomId, sender_id: u.uid }, file);
  return await signed(base, u, "POST", "/file/upload", body, {
    headers: { "content-type": contentType },
    signedBody: o.signedBody,
  });
}

const download = (u: TestUser, url: string) => signed(base, u, "GET", url);
const blobFiles = () => readdirSync(join(relay.dataDir, "blobs"));

describe("§7.8 upload and download", () => {
  test("a file of exactly MAX_FILE_SIZE_BYTES uploads; the other member downloads the same bytes", async () => {
    const { a, b, roomId } = await pair(base);
    const file = c.randomBytes(LIMIT);
    const r = await upload(a, roomId, file);
    expect(r.status).toBe(200);
    const up = UploadResponse.parse(await r.json());
    expect(up.size).toBe(LIMIT);
    expect(up.expires_at).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
    const d = await download(b, up.url);
    expect(d.status).toBe(200);
    expect(d.headers.get("content-type")).toBe("application/octet-stream");
    expect(Buffer.compare(Buffer.from(await d.arrayBuffer()), file)).toBe(0);
  });

  test("one byte over MAX_FILE_SIZE_BYTES is 413 while reading, and leaves no blob behind", async () => {
    const { a, roomId } = await pair(base);
    const before = blobFiles().length;
    const r = await upload(a, roomId, c.randomBytes(LIMIT + 1));
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toBe("too_large");
    expect(blobFiles().length).toBe(before);
  });

  test("a form built by another multipart writer (fetch FormData) is read too", async () => {
    const { a, b, roomId } = await pair(base);
    const form = new FormData();
    form.append("room_id", roomId);
    form.append("sender_id", a.uid);
    const file = c.randomBytes(1000);
    form.append("file", new Blob([file], { type: "application/octet-stream" }), "blob.bin");
    const req = new Request("http://x/", { method: "POST", body: form });
    const contentType = req.headers.get("content-type")!; // read before the body: Bun drops it after
    const body = new Uint8Array(await req.arrayBuffer());
    const r = await signed(base, a, "POST", "/file/upload", body, { headers: { "content-type": contentType } });
    expect(r.status).toBe(200);
    const { url } = (await r.json()) as { url: string };
    expect(Buffer.compare(Buffer.from(await (await download(b, url)).arrayBuffer()), file)).toBe(0);
  });

  // One past the edge, and far past it (Bun's own body limit must not answer first with plain text).
  test.each([
    ["one byte past the limit", LIMIT + OVERHEAD + 1],
    ["10 GB", 10_000_000_000],
  ])("an oversized Content-Length (%s) is refused with the 413 error JSON before the body is sent", async (_, size) => {
    const { a } = await pair(base);
    const port = Number(new URL(base).port);
    const headers = {
      host: `127.0.0.1:${port}`,
      "content-type": "multipart/form-data; boundary=xyz",
      "content-length": String(size),
      ...signHeaders(a, "POST", "/file/upload", new Uint8Array(0)),
    };
    const head = `POST /file/upload HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("")}\r\n`;
    const sock = connect(port, "127.0.0.1");
    const answer = await new Promise<string>((resolve, reject) => {
      let text = "";
      sock.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        const end = text.indexOf("\r\n\r\n");
        const len = /\r\ncontent-length: (\d+)/i.exec(text);
        if (end >= 0 && len && text.length >= end + 4 + Number(len[1])) resolve(text);
      });
      sock.on("error", reject);
      sock.write(head); // headers only: not one byte of the body
    });
    sock.destroy();
    expect(answer.split("\r\n")[0]).toMatch(/^HTTP\/1\.1 413 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(ErrorBody.parse(body).error).toBe("too_large");
  });

  test("a Content-Length at the limit plus framing is read, not refused early", async () => {
    const { a, roomId } = await pair(base);
    // The file is over the limit but the whole body fits the Content-Length allowance: refused while reading.
    const { body, contentType } = multipart({ room_id: roomId, sender_id: a.uid }, c.randomBytes(LIMIT + 100));
    expect(body.length).toBeLessThanOrEqual(LIMIT + OVERHEAD);
    const r = await signed(base, a, "POST", "/file/upload", body, { headers: { "content-type": contentType } });
    expect(r.status).toBe(413);
  });

  test("an empty file uploads", async () => {
    const { a, b, roomId } = await pair(base);
    const r = await upload(a, roomId, new Uint8Array(0));
    expect(r.status).toBe(200);
    const { url, size } = (await r.json()) as { url: string; size: number };
    expect(size).toBe(0);
    expect((await download(b, url)).status).toBe(200);
  });

  test("non-members cannot upload (403) or download (404)", async () => {
    const { a, roomId } = await pair(base);
    const m = makeUser();
    expect((await register(base, m)).status).toBe(200);
    const before = blobFiles().length;
    expect((await upload(m, roomId, c.randomBytes(10))).status).toBe(403);
    expect(blobFiles().length).toBe(before);
    const { url } = (await (await upload(a, roomId, c.randomBytes(10))).json()) as { url: string };
    const r = await download(m, url);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: string }).error).toBe("not_found");
  });

  test("sender_id of someone else is 403; a tampered body is 401; a missing file part is 400", async () => {
    const { a, b, roomId } = await pair(base);
    expect((await upload(a, roomId, c.randomBytes(10), { fields: { room_id: roomId, sender_id: b.uid } })).status).toBe(
      403,
    );
    const signedFor = multipart({ room_id: roomId, sender_id: a.uid }, c.randomBytes(10)).body;
    expect((await upload(a, roomId, c.randomBytes(10), { signedBody: signedFor })).status).toBe(401);
    expect((await upload(a, roomId, null)).status).toBe(400);
    expect(
      (await upload(a, roomId, c.randomBytes(10), { fields: { room_id: "short", sender_id: a.uid } })).status,
    ).toBe(400);
    const notMultipart = await signed(base, a, "POST", "/file/upload", { room_id: roomId });
    expect(notMultipart.status).toBe(400);
  });

  test("tampered, truncated and foreign file ids are 404", async () => {
    const { a, b, roomId } = await pair(base);
    const { url } = (await (await upload(a, roomId, c.randomBytes(10))).json()) as { url: string };
    const id = url.slice("/file/".length);
    const raw = b64udecode(id);
    for (const i of [0, 30, raw.length - 1]) {
      const t = raw.slice();
      t[i]! ^= 1;
      expect((await download(b, `/file/${b64uencode(t)}`)).status).toBe(404);
    }
    expect((await download(b, `/file/${id.slice(0, -2)}`)).status).toBe(404);
    expect((await download(b, `/file/${b64uencode(c.randomBytes(raw.length))}`)).status).toBe(404);
    expect((await download(b, url)).status).toBe(200);
  });

  test("burn deletes the room's files: rows and blob files on disk", async () => {
    const { a, b, roomId } = await pair(base);
    const { url } = (await (await upload(a, roomId, c.randomBytes(100))).json()) as { url: string };
    const before = blobFiles().length;
    expect((await signed(base, b, "POST", "/burn", { room_id: roomId })).status).toBe(200);
    expect((await download(a, url)).status).toBe(404);
    expect(blobFiles().length).toBe(before - 1);
  });
});

describe("§7.8 expiry", () => {
  test("a file id works until its expiry and is 404 after, even before a purge", async () => {
    // 0.0005 h = 1.8 s; no purge runs during the test.
    const r2 = await startRelay({ env: { FILE_RETENTION_HOURS: "0.0005" }, args: ["--purge-interval", "3600"] });
    try {
      const { a, b, roomId } = await pair(r2.url);
      const { body, contentType } = multipart({ room_id: roomId, sender_id: a.uid }, c.randomBytes(10));
      const r = await signed(r2.url, a, "POST", "/file/upload", body, { headers: { "content-type": contentType } });
      const up = (await r.json()) as { url: string; expires_at: number };
      expect((await signed(r2.url, b, "GET", up.url)).status).toBe(200);
      await Bun.sleep(Math.max(0, up.expires_at * 1000 - Date.now()) + 50);
      expect((await signed(r2.url, b, "GET", up.url)).status).toBe(404);
    } finally {
      await r2.stop();
      r2.cleanup();
    }
  });
});
