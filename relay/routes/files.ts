// PROTOCOL §7.8 POST /file/upload and GET /file/{file_id}.
import { UploadFields } from "../../lib/wire.ts";
import { check } from "../../lib/wire.ts";
import type { BlobWriter } from "../blobs.ts";
import type { Handler } from "../context.ts";
import { badRequest, busy, forbidden, notFound, tooLarge } from "../errors.ts";
import { decodeFileId, encodeFileId, newBlobId } from "../file-ids.ts";
import { contentLength, ok, signedEmpty } from "../http.ts";
import { boundaryOf, MultipartReader } from "../multipart.ts";
import { checkRoomSpace, refuse, roomFull, roomHas, UPLOAD_BUSY_RETRY_S } from "../quota.ts";
import { isMember } from "../rooms.ts";

/** Room for the multipart framing around the file: boundaries, part headers, room_id and sender_id. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

// PROTOCOL §7.8: the signature covers the raw multipart bytes, so they are hashed
// while they stream in; the file part goes straight to its blob file.
export const upload: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const { quotas } = relay;
  const limit = relay.config.maxFileSizeBytes;
  // Everything the headers alone can refuse is refused before a byte of the body is read.
  const auth = await relay.auth.precheck(req.headers, ctx.now);
  const cap = limit + MULTIPART_OVERHEAD_BYTES;
  const declared = contentLength(req);
  if (declared !== null && declared > cap) throw tooLarge(`file larger than ${limit} bytes`); // before reading
  const boundary = boundaryOf(req.headers.get("content-type"));
  if (!boundary) throw badRequest("expected multipart/form-data with a boundary");
  if (!req.body) throw badRequest("empty body");
  // The body is spooled to disk before its signature can be checked (it covers the body's hash),
  // so what unverified uploads may spool at once is reserved and bounded (relay/quota.ts UploadSlots).
  // An upload that could not be stored anyway (the claimed signer is out of quota or has its
  // uploads in flight, the room is not theirs or is full) is read and hashed but never spooled,
  // and refused only after its signature is checked: the answer tells someone without the key
  // nothing about the UID they name.
  const spool = declared ?? cap;
  relay.disk.check(spool); // 507, the same for everyone
  const fileAtLeast = declared === null ? 0 : Math.max(0, declared - MULTIPART_OVERHEAD_BYTES);
  const unhold = relay.auth.hold(auth);
  let release: (() => void) | null;
  try {
    release = quotas.uploadSlots.acquire(auth.uid, spool); // 503 when all slots are taken
  } catch (e) {
    unhold();
    throw e;
  }
  const overQuota = async () =>
    (await quotas.uploads.wait(auth.uid, 1)) > 0 || (await quotas.sentBytes.wait(auth.uid, fileAtLeast)) > 0;
  // A limiter that cannot answer (Redis down): not spooled; refuse() after the body answers 503.
  let discard = release === null || (await overQuota().catch(() => true));

  const blobId = newBlobId();
  let handle: BlobWriter | null = null;
  let size = 0;
  let stored = false;
  /** The room checks made when the file part begins (the store is asynchronous). */
  let roomChecked: Promise<void> | null = null;
  try {
    const reader = new MultipartReader(boundary, {
      fileSink(part) {
        if (part.name !== "file") return null;
        // The fields before the file (both clients send room_id first) are checked before it is spooled.
        const roomId = reader.fields.get("room_id");
        if (roomId !== undefined) {
          roomChecked = (async () => {
            if (!((await isMember(relay, roomId, auth.uid)) && (await roomHas(relay, roomId, fileAtLeast)))) {
              discard = true;
            }
          })().catch(() => {
            discard = true; // the store failed: not spooled; the checks after the body answer
          });
        }
        return async (bytes) => {
          size += bytes.length;
          if (size > limit) throw tooLarge(`file larger than ${limit} bytes`); // while reading
          await roomChecked;
          if (discard) return;
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
    await relay.auth.finish(auth, req.method, ctx.path, new Uint8Array(hasher.digest()), ctx.now);
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
    await roomChecked;
    if (!(await isMember(relay, fields.room_id, auth.uid))) throw forbidden("not a member of this room");
    // Signed: now the signer's quotas are checked and spent (PROTOCOL §7.10).
    if (release === null) throw busy(UPLOAD_BUSY_RETRY_S, "too many uploads in progress");
    await refuse(quotas.uploads, auth.uid, 1, "uploads per hour");
    await refuse(quotas.sentBytes, auth.uid, size, "bytes sent per day");
    await checkRoomSpace(relay, fields.room_id, size);
    // Quotas refilled while it streamed in, or the room was burned: it was not kept, so ask again.
    if (discard) throw busy(UPLOAD_BUSY_RETRY_S, "the upload could not be kept, try again");

    if (handle === null) handle = await relay.blobs.create(blobId); // an empty file
    const written = handle as BlobWriter;
    handle = null;
    await written.close();
    // PROTOCOL §8: the file's age counts from when it is stored, not from when its upload began.
    const expires = await relay.writes.run(async (tx) => {
      const expires = Math.ceil(Date.now() / 1000 + relay.config.fileRetentionS);
      // The room quota again, in the same store call as the write.
      const file = { blobId, roomId: fields.room_id, size, expires };
      if (!(await tx.addFileWithin(file, relay.writes.ts, quotas.roomBytes))) throw roomFull(relay, size);
      return expires;
    });
    stored = true;
    // Stored: the answer must say where, even if Redis went away since refuse() (then the next
    // upload's refuse() is 503); the charge it lost is one file's.
    await Promise.all([quotas.uploads.charge(auth.uid, 1), quotas.sentBytes.charge(auth.uid, size)]).catch(() => {});
    const fileId = encodeFileId(relay.fileIdKey, { roomId: fields.room_id, blobId, expires });
    return ok({ url: `/file/${fileId}`, size, expires_at: expires });
  } finally {
    unhold();
    release?.();
    release = null;
    if (handle !== null) await (handle as BlobWriter).abort();
    if (!stored) await relay.blobs.remove([blobId]);
  }
};

// PROTOCOL §7.8: 404 for every failure, so nothing tells whether a file exists.
export const download: Handler = async (req, ctx) => {
  const { relay } = ctx;
  const auth = await signedEmpty(req, ctx);
  const ref = decodeFileId(relay.fileIdKey, ctx.params[0]!);
  if (!ref || ctx.now >= ref.expires || !(await isMember(relay, ref.roomId, auth.uid))) throw notFound();
  const record = await relay.store.getFile(ref.blobId);
  if (!record || record.roomId !== ref.roomId) throw notFound();
  const body = await relay.blobs.download(ref.blobId);
  if (body === null) throw notFound();
  // A file from disk goes with its Content-Length; an S3 object is streamed through, chunked
  // (Bun sends any streamed body so, whatever Content-Length it is given).
  return new Response(body, { status: 200, headers: { "content-type": "application/octet-stream" } });
};
