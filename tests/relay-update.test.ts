// `phantom-relay update` end to end: the relay binary 0.1.0 updated on disk to a signed 9.0.0
// served over HTTPS on 127.0.0.1 (throwaway certificate and key), pins in its data folder;
// a release signed with another key leaves it byte for byte.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "./helpers/cli.ts";
import { makeCert, sha256, sign, startFileServer, type FileServer } from "./helpers/update-server.ts";
import { sharedRelease } from "./helpers/release.ts";

const root = fs.mkdtempSync(join(tmpdir(), "phantom-relay-update-"));
let srv: FileServer;
let oldBin: string;
let release: string;
let certFile: string;
let otherKey: string;

beforeAll(async () => {
  const shared = sharedRelease(); // 9.0.0 and an older 0.1.0, signed with a throwaway key
  otherKey = shared.other.keyFile;
  oldBin = join(shared.oldDir, "phantom-relay");
  release = shared.releaseDir;
  const cert = makeCert(root);
  certFile = cert.certFile;
  srv = await startFileServer(release, cert);
}, 300_000);
afterAll(async () => {
  await srv?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function install(name: string) {
  const dir = join(root, name);
  fs.mkdirSync(dir);
  const bin = join(dir, "phantom-relay");
  fs.copyFileSync(oldBin, bin);
  fs.chmodSync(bin, 0o755);
  const data = join(dir, "data");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, NODE_EXTRA_CA_CERTS: certFile };
  const url = `https://127.0.0.1:${srv.port}/latest.json`;
  return { bin, data, env, url };
}

test("phantom-relay update --check, then --yes: the binary on disk is 9.0.0 and a restart command is printed", async () => {
  const i = install("a");
  const c = await runProgram([i.bin, "update", "--check", "--yes", "--update-url", i.url, "--data", i.data], i.env);
  expect(c.stderr).toBe("");
  expect(c.stdout).toContain("phantom-relay 9.0.0 is available (this is 0.1.0)");
  expect(Object.keys(JSON.parse(fs.readFileSync(join(i.data, "update-pins.json"), "utf8")))).toEqual([
    `127.0.0.1:${srv.port}`,
  ]);
  const u = await runProgram([i.bin, "update", "--yes", "--data", i.data], { ...i.env, PHANTOM_UPDATE_URL: i.url });
  expect(u.stderr).toBe("");
  expect(u.code).toBe(0);
  expect(u.stdout).toContain("restart it to run the new version");
  expect((await runProgram([i.bin, "--version"], i.env)).stdout.trim()).toBe("phantom-relay 9.0.0");
  expect(sha256(`${i.bin}.old`)).toBe(sha256(oldBin));
}, 30_000);

test("phantom-relay update refuses a manifest signed with another key, in one line, binary unchanged", async () => {
  const i = install("b");
  const dir = join(root, "rel-other");
  fs.cpSync(release, dir, { recursive: true });
  sign(otherKey, join(dir, "latest.json"), "version:9.0.0 file:latest.json timestamp:1");
  srv.dir = dir;
  try {
    const r = await runProgram([i.bin, "update", "--yes", "--update-url", i.url, "--data", i.data], i.env);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^phantom-relay: error: .*(signature|key)/);
    expect(sha256(i.bin)).toBe(sha256(oldBin));
  } finally {
    srv.dir = release;
  }
}, 30_000);
