import { describe, expect, test } from "bun:test";
import { encryptMessage, messageId, randomBytes } from "../../lib/crypto.ts";
import { b64encode } from "../../lib/encoding.ts";
import { encodeEnvelope, encodeFileMessage } from "../../lib/wire.ts";
import { decodeRows, fileNumberOf, publicMessage, type RoomContext } from "./conversation.ts";

const ME = "A".repeat(28);
const PEER = "B".repeat(28);
const STRANGER = "C".repeat(28);
const ctx: RoomContext = { me: ME, peer: PEER, sessionKey: randomBytes(32) };
const row = (plaintext: string, ts: number, sender_id?: string) => ({
  ts,
  ciphertext: encryptMessage(ctx.sessionKey, plaintext),
  ...(sender_id ? { sender_id } : {}),
});

describe("PROTOCOL §5.2 rows of a pair room", () => {
  test("envelopes from either member are shown; a third party's is skipped and counted", () => {
    const { messages, skipped } = decodeRows(
      [row(encodeEnvelope(PEER, "hi"), 1), row(encodeEnvelope(ME, "yo"), 2), row(encodeEnvelope(STRANGER, "x"), 3)],
      ctx,
    );
    expect(messages.map((m) => [m.message.from, m.message.mine, m.message.body])).toEqual([
      [PEER, false, "hi"],
      [ME, true, "yo"],
    ]);
    expect(skipped).toBe(1);
  });

  test("a legacy row takes its sender from the row's sender_id, only when it is a member", () => {
    const { messages, skipped } = decodeRows(
      [row("plain old", 1), row("from peer", 2, PEER), row("forged", 3, STRANGER)],
      ctx,
    );
    expect(messages.map((m) => [m.message.from, m.message.body])).toEqual([
      ["", "plain old"],
      [PEER, "from peer"],
    ]);
    expect(skipped).toBe(1);
  });

  test("a row under another key or with garbage is skipped, never shown as text", () => {
    const other = encryptMessage(randomBytes(32), encodeEnvelope(PEER, "secret"));
    const { messages, skipped } = decodeRows([{ ts: 1, ciphertext: other }], ctx);
    expect(messages).toEqual([]);
    expect(skipped).toBe(1);
  });

  test("two rows with the same second and text have different ids (the §5.1 nonce), kept by publicMessage", () => {
    const same = encodeEnvelope(PEER, "ok");
    const rows = [row(same, 7), row(same, 7)];
    const { messages } = decodeRows(rows, ctx);
    const [a, b] = messages.map(publicMessage);
    expect(a!.body).toBe(b!.body);
    expect(a!.id).not.toBe(b!.id);
    expect(a!.id).toBe(messageId(rows[0]!.ciphertext));
  });

  // The de-duplication fix of issue 9: the id is messageId(ciphertext). Before, it was the ts
  // and the first 24 base64 characters of the ciphertext, so one row restamped by the relay
  // got a second id, and two rows that share that prefix (a sender that reuses a nonce) one id.
  // A relay serving the same ciphertext again with a new ts makes no new message: the row is
  // kept at its first place only.
  test("a row's id is its messageId: the same ciphertext at another ts is the same row, kept at its first place", () => {
    const r = row(encodeEnvelope(PEER, "ok"), 7);
    const { messages } = decodeRows([r, { ...r, ts: 8 }], ctx);
    expect(messages.map((m) => [m.message.id, m.message.ts])).toEqual([[messageId(r.ciphertext), 7]]);
  });

  test("two rows that share ts and the start of the ciphertext still have different ids", () => {
    const nonce = randomBytes(12);
    const one = { ts: 7, ciphertext: encryptMessage(ctx.sessionKey, encodeEnvelope(PEER, "one"), nonce) };
    const two = { ts: 7, ciphertext: encryptMessage(ctx.sessionKey, encodeEnvelope(PEER, "two"), nonce) };
    expect(one.ciphertext.slice(0, 24)).toBe(two.ciphertext.slice(0, 24));
    const { messages } = decodeRows([one, two], ctx);
    const [a, b] = messages.map((m) => m.message.id);
    expect(a).not.toBe(b);
  });

  test("a live file row is numbered by its own row, even beside an identical file in the same second", () => {
    const announce = () =>
      encodeEnvelope(
        PEER,
        encodeFileMessage({
          type: "file",
          name: "a.txt",
          size: 1,
          cipher_size: 17,
          mime: "text/plain",
          url: "http://relay.example/file/x",
          key: b64encode(randomBytes(32)),
          nonce: b64encode(randomBytes(12)),
        }),
      );
    const { messages } = decodeRows([row(announce(), 9), row(announce(), 9)], ctx);
    expect(messages.map((m) => fileNumberOf(messages, m.message.id))).toEqual([1, 2]);
    expect(fileNumberOf(messages, "9:not-a-row")).toBe(0);
  });
});
