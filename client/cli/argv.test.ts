import { expect, test } from "bun:test";
import { protectUids, restoreUids } from "./argv.ts";

const DASH_UID = "-neDoMYHnd_GyOsxoWsCn3P7_fMV";

test("a UID starting with '-' no longer looks like an option, and comes back unchanged", () => {
  const argv = protectUids(["add", DASH_UID, "--nick", "bob", "--json"]);
  expect(argv[1]!.startsWith("-")).toBe(false);
  expect(argv.slice(2)).toEqual(["--nick", "bob", "--json"]);
  expect(restoreUids(argv[1])).toBe(DASH_UID);
  expect(restoreUids(["x", argv[1]!])).toEqual(["x", DASH_UID]);
});

test("options and words that are not exactly a UID are left alone", () => {
  const words = ["-h", "--help", "--limit", "-y", `${DASH_UID}x`, DASH_UID.slice(0, 27), "hello"];
  expect(protectUids(words)).toEqual(words);
  expect(restoreUids(undefined)).toBeUndefined();
  expect(restoreUids({ json: true })).toEqual({ json: true });
});
