// The once-a-day release notice against a real loopback server serving a signed 9.0.0 manifest.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFileServer, writeManifest, type FileServer } from "../../tests/helpers/update-server.ts";
import { makeTestKey } from "../../tests/helpers/release.ts";
import { CHECK_INTERVAL_MS } from "../../lib/update/updater.ts";
import { updateNotice } from "./update-notice.ts";

const root = fs.mkdtempSync(join(tmpdir(), "phantom-notice-"));
let srv: FileServer;
let pub: string;

beforeAll(async () => {
  const key = makeTestKey((fs.mkdirSync(join(root, "key")), join(root, "key")));
  pub = fs.readFileSync(key.pubFile, "utf8");
  fs.mkdirSync(join(root, "rel"));
  writeManifest(join(root, "rel"), key.keyFile, { version: "9.0.0", published_at: "x", notes: "", files: {} });
  srv = await startFileServer(join(root, "rel"), null);
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const tor = { mode: "auto" as const, proxyHost: "127.0.0.1", proxyPort: 9 };
const cfg = (home: string, updateChecks: boolean) => ({
  home: join(root, home),
  tor,
  direct: false,
  updateChecks,
  updateUrl: `http://127.0.0.1:${srv.port}/latest.json`,
});
const o = (now: number) => ({ now, version: "0.1.0", releaseKey: pub });

test("off: no line and no connection", async () => {
  const before = srv.connections;
  expect(await updateNotice(cfg("off", false), o(1_000))).toBeNull();
  expect(srv.connections).toBe(before);
});

test("on: one check a day, the line from what was seen in between", async () => {
  const c = cfg("on", true);
  const t0 = 1_700_000_000_000;
  let before = srv.connections;
  expect(await updateNotice(c, o(t0))).toBe("Phantom 9.0.0 is available — run `phantom update`");
  expect(srv.connections).toBe(before + 2); // latest.json and its .minisig
  before = srv.connections;
  expect(await updateNotice(c, o(t0 + CHECK_INTERVAL_MS - 1))).toBe(
    "Phantom 9.0.0 is available — run `phantom update`",
  );
  expect(srv.connections).toBe(before);
  await updateNotice(c, o(t0 + CHECK_INTERVAL_MS));
  expect(srv.connections).toBe(before + 2);
  // Running 9.0.0 already: nothing to say.
  expect(await updateNotice(c, { ...o(t0 + CHECK_INTERVAL_MS), version: "9.0.0" })).toBeNull();
});
