import { describe, expect, test } from "bun:test";
import { utf8 } from "../../lib/encoding.ts";
import { refused } from "./relay-error.ts";

const answer = (status: number, body: unknown) => ({
  status,
  headers: new Headers({ "content-type": "application/json" }),
  body: utf8.encode(typeof body === "string" ? body : JSON.stringify(body)),
});

describe("relay refusals in words", () => {
  test("what was being done, not the status and endpoint; sizes as a person reads them", () => {
    const e = refused(
      "POST /file/upload",
      answer(413, { error: "too_large", message: "file larger than 104857600 bytes" }),
    );
    expect(e.message).toBe("relay refused: file larger than 100 MB (uploading the file)");
    expect(e.message).not.toMatch(/413|POST|\/file\/upload|104857600/);
    expect(e.status).toBe(413);
  });

  test("a page that is not a relay error: the status in words", () => {
    const e = refused("POST /send", answer(413, "<h1>nginx</h1>"));
    expect(e.message).toBe("relay refused: too large for this relay (sending the message)");
  });
});
