// PROTOCOL-v3 §V3.3: the client's bundle checks refuse at the first failure, in the spec's order.
import { expect, test } from "bun:test";
import { makeBundleBody } from "../../tests/helpers/v3fixture.ts";
import { checkBundle } from "./bundle.ts";
import { V3Error } from "./errors.ts";

const f = makeBundleBody();
const reason = (body: unknown, expect_: Parameters<typeof checkBundle>[1] = { uid: f.bob.uid }) => {
  try {
    checkBundle(body, expect_);
    return "accepted";
  } catch (e) {
    return (e as V3Error).reason;
  }
};
const clone = () => JSON.parse(JSON.stringify(f.body));

test("a valid bundle passes; each fault gives its reason; the earlier check wins", () => {
  expect(reason(f.body)).toBe("accepted");
  expect(reason(f.body, { uid: "x".repeat(28) })).toBe("bundle-uid");
  expect(reason(f.body, { uid: f.bob.uid, ik: f.alice.encPub })).toBe("bundle-uid");
  const missing = clone();
  delete missing.pqspk;
  expect(reason(missing)).toBe("bundle-length");
  const noId = clone();
  noId.opk.id = 0xffffffff;
  expect(reason(noId)).toBe("bundle-length");
  const badSig = clone();
  badSig.opqk.sig = clone().opk.sig;
  expect(reason(badSig)).toBe("bundle-sig");
  expect(reason(f.body, { uid: f.bob.uid, pinnedSignPub: f.alice.signPub })).toBe("bundle-pin");
  // Length beats signature: a short key with a bad signature is bundle-length.
  const both = clone();
  both.spk.pub = Buffer.from(new Uint8Array(31)).toString("base64");
  expect(reason(both)).toBe("bundle-length");
  // A key of the right length that is not the signed one is bundle-sig, not bundle-length.
  const swapped = clone();
  swapped.spk.pub = clone().opk.pub;
  expect(reason(swapped)).toBe("bundle-sig");
  expect(reason(null)).toBe("bundle-length");
});
