// PROTOCOL §7.8 POST /file/upload and GET /file/{file_id}.
import type { FileHandle } from "node:fs/promises";
import { UploadFields } from "../../lib/wire.ts";
import { check } from "../../lib/wire.ts";
import type { Handler } from "../context.ts";
import { badRequest, forbidden, notFound, tooLarge } from "../errors.ts";
import { decodeFileId, encodeFileId, newBlobId } from "../file-ids.ts";
import { contentLength, ok, signedEmpty } from "../http.ts";
import { boundaryOf, MultipartReader } from "../multipart.ts";
import { isMember } from "./messages.ts";

/** Room for the multipart framing around the file: boundaries, part headers, room_id and sender_id. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

// PROTOCOL §7.8: the signature covers the raw multipart bytes, so they are hashed
// while they stream in; the file part goes straight to its blob file.
export const upload: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const limit = relay.config.maxFileSizeBytes;
  const auth = relay.auth.precheck(req.headers, ctx.now);
  const cap = limit + MULTIPART_OVERHEAD_BYTES;
  const declared = contentLength(req);
  if (declared !== null && declared > cap) throw tooLarge(`file larger than ${limit} bytes`); // before reading
  const boundary = boundaryOf(req.headers.get("content-type"));
  if (!boundary) throw badRequest("expected multipart/form-data with a boundary");
  if (!req.body) throw badRequest("empty body");

  const blobId = newBlobId();
  let handle: FileHandle | null = null;
  let size = 0;
  let stored = false;
  try {
    const reader = new MultipartReader(boundary, {
      fileSink(part) {
        if (part.name !== "file") return null;
        return async (bytes) => {
          size += bytes.length;
          if (size > limit) throw tooLarge(`file larger than ${limit} bytes`); // while reading
          handle ??= await relay.blobs.create(blobId);
          await handle.write(bytes);
        };
      },
    });
    const hasher = new Bun.CryptoHasher("sha256");
    let total = 0;
    for await (const chunk of req.body) {
      total += chunk.length;
      if (total > cap) throw tooLarge(`file larger than ${limit} bytes`);
      hasher.update(chunk);
      await reader.push(chunk);
    }
    relay.auth.finish(auth, req.method, ctx.path, new Uint8Array(hasher.digest()), ctx.now);
    reader.end();

    const known = new Set(["room_id", "sender_id", "file"]);
    for (const name of reader.fields.keys())
      if (!known.has(name)) throw badRequest(`unexpected field '${name.slice(0, 32)}'`);
    if (!reader.fields.has("file")) throw badRequest("missing file part");
    const fields = check(
      UploadFields,
      { room_id: reader.fields.get("room_id"), sender_id: reader.fields.get("sender_id") },
      "upload",
    );
    if (fields.sender_id != null && fields.sender_id !== auth.uid) throw forbidden("sender_id is not the signer");
    if (!isMember(relay, fields.room_id, auth.uid)) throw forbidden("not a member of this room");

    if (handle === null) handle = await relay.blobs.create(blobId); // an empty file
    await (handle as FileHandle).close();
    handle = null;
    // PROTOCOL §8: the file's age counts from when it is stored, not from when its upload began.
    const expires = await relay.writes.run(() => {
      const expires = Math.ceil(Date.now() / 1000 + relay.config.fileRetentionS);
      relay.store.addFile({ blobId, roomId: fields.room_id, size, expires }, relay.writes.ts);
      return expires;
    });
    stored = true;
    const fileId = encodeFileId(relay.fileIdKey, { roomId: fields.room_id, blobId, expires });
    return ok({ url: `/file/${fileId}`, size, expires_at: expires });
  } finally {
    if (handle !== null) await (handle as FileHandle).close().catch(() => {});
    if (!stored) await relay.blobs.remove([blobId]);
  }
};

// PROTOCOL §7.8: 404 for every failure, so nothing tells whether a file exists.
export const download: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const auth = signedEmpty(req, ctx);
  const ref = decodeFileId(relay.fileIdKey, ctx.params[0]!);
  if (!ref || ctx.now >= ref.expires || !isMember(relay, ref.roomId, auth.uid)) throw notFound();
  const record = relay.store.getFile(ref.blobId);
  if (!record || record.roomId !== ref.roomId) throw notFound();
  const file = Bun.file(relay.blobs.path(ref.blobId));
  if (!(await file.exists())) throw notFound();
  return new Response(file, { status: 200, headers: { "content-type": "application/octet-stream" } });
};
