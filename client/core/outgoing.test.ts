import { describe, expect, test } from "bun:test";
import { MAX_CIPHERTEXT_BYTES } from "../../lib/wire.ts";
import { errorOf } from "../../tests/helpers/errors.ts";
import { checkLength, messageFit } from "./outgoing.ts";

const uid = "A".repeat(28);
// 0x01 + nonce (12) + tag (16) around the envelope (PROTOCOL §5.1, §5.2).
const asciiLimit = MAX_CIPHERTEXT_BYTES - 29 - `PHANTOM_MSG_V1:{"from":"${uid}","body":""}`.length;

describe("the message length limit, in characters", () => {
  test("plain ASCII: exactly what the relay's 64 KiB of ciphertext holds", () => {
    expect(messageFit(uid, "x".repeat(asciiLimit))).toEqual({ chars: asciiLimit, fit: asciiLimit });
    expect(() => checkLength(uid, "x".repeat(asciiLimit))).not.toThrow();
    expect(messageFit(uid, "x".repeat(asciiLimit + 1)).fit).toBe(asciiLimit);
  });

  test("the error names this message's length and the limit in characters, not bytes", () => {
    const e = errorOf(() => checkLength(uid, "x".repeat(70_000)));
    expect(e.code).toBe("too-large");
    expect(e.message).toBe(
      `message too long: this message is 70,000 characters; the limit is ${asciiLimit.toLocaleString("en-US")}`,
    );
    expect(e.message).not.toContain("bytes");
  });

  test("characters outside ASCII take more room, and the limit is for this text", () => {
    // é is written \u00e9 (6 bytes); an emoji is a surrogate pair (12 bytes) but one character.
    const e = errorOf(() => checkLength(uid, "é".repeat(20_000)));
    expect(e.message).toBe(
      `message too long: this message is 20,000 characters; the limit is ${Math.floor(asciiLimit / 6).toLocaleString("en-US")} for this text (characters outside ASCII take more room)`,
    );
    expect(messageFit(uid, "\u{1F40D}".repeat(3))).toEqual({ chars: 3, fit: 3 });
    expect(messageFit(uid, "\u{1F40D}".repeat(10_000)).fit).toBe(Math.floor(asciiLimit / 12));
  });
});
