import { expect, test } from "bun:test";
import { randomBytes } from "../lib/crypto.ts";
import { b64udecode, b64uencode } from "../lib/encoding.ts";
import { decodeFileId, encodeFileId, FILE_ID_CHARS, newBlobId } from "./file-ids.ts";

const key = randomBytes(32);
const ref = { roomId: b64uencode(randomBytes(16)), blobId: newBlobId(), expires: 1_900_000_000 };

test("a file id round-trips and matches the upload URL shape (PROTOCOL §7.8)", () => {
  const id = encodeFileId(key, ref);
  expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(id.length).toBe(FILE_ID_CHARS);
  expect(decodeFileId(key, id)).toEqual(ref);
});

test("two ids for the same file differ and reveal nothing in clear", () => {
  const a = encodeFileId(key, ref);
  const b = encodeFileId(key, ref);
  expect(a).not.toBe(b);
  expect(a).not.toContain(ref.roomId);
  expect(Buffer.from(b64udecode(a)).toString("hex")).not.toContain(ref.blobId);
});

test("every single-byte change is refused", () => {
  const raw = b64udecode(encodeFileId(key, ref));
  for (let i = 0; i < raw.length; i++) {
    const t = raw.slice();
    t[i]! ^= 0x01;
    expect(decodeFileId(key, b64uencode(t))).toBeNull();
  }
});

test("another key, truncation, extension and junk are refused", () => {
  const id = encodeFileId(key, ref);
  expect(decodeFileId(randomBytes(32), id)).toBeNull();
  expect(decodeFileId(key, id.slice(0, -1))).toBeNull();
  expect(decodeFileId(key, id + "A")).toBeNull();
  expect(decodeFileId(key, "")).toBeNull();
  expect(decodeFileId(key, "!".repeat(FILE_ID_CHARS))).toBeNull();
});

test("blob ids are 32 hex characters", () => {
  expect(newBlobId()).toMatch(/^[0-9a-f]{32}$/);
  expect(newBlobId()).not.toBe(newBlobId());
});
