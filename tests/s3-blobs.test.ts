// --blobs s3://BUCKET/PREFIX (issue 13) with the real compiled relay and client against a real
// S3-compatible server (tests/helpers/s3-server.ts): a file sent with `phantom send --file` is
// stored as one object in the bucket (nothing in the data folder), downloaded with `phantom get`,
// and gone from the bucket after `phantom burn`. Then the bucket goes away: uploads and
// downloads get 503 (PROTOCOL §7.10) and the relay keeps serving. Build first: ./build.sh
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { S3Client } from "bun";
import * as c from "../lib/crypto.ts";
import { b64uencode } from "../lib/encoding.ts";
import { phantom, userEnv } from "./helpers/cli.ts";
import { within } from "./helpers/deadline.ts";
import { demoUser } from "./helpers/demo-users.ts";
import { startRelay, tempDir, type RunningRelay } from "./helpers/relay.ts";
import { NO_S3RVER, startS3Server, type S3Server } from "./helpers/s3-server.ts";
import { pair, signed, type TestUser } from "./helpers/signer.ts";

const PREFIX = "relay-a";
let s3: S3Server;
let relay: RunningRelay;
let bucket: S3Client;
const root = tempDir("phantom-s3-e2e-");

const objects = async () => ((await bucket.list({ prefix: `${PREFIX}/` })).contents ?? []).map((o) => o.key);

describe.skipIf(NO_S3RVER !== null)(`--blobs s3:// (${NO_S3RVER ?? "s3rver"})`, () => {
  beforeAll(async () => {
    s3 = await startS3Server();
    bucket = new S3Client({ ...s3.access, bucket: s3.bucket, virtualHostedStyle: false });
    relay = await startRelay({
      args: ["--log-level", "warn", "--blobs", `s3://${s3.bucket}/${PREFIX}`],
      env: s3.env,
    });
  });

  afterAll(async () => {
    if (relay) {
      expect(await relay.stop()).toBe(0);
      relay.cleanup();
    }
    await s3?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test("send --file stores one object, get downloads it, burn deletes it", async () => {
    const home = (n: string) => join(root, n);
    const env = (n: string) => userEnv(home(n), relay.url);
    const alice = await demoUser("alice s3", home("alice"), relay.url);
    const bob = await demoUser("bob s3", home("bob"), relay.url);
    expect((await phantom(env("alice"), ["add", bob.uid, "--nick", "bob"])).code).toBe(0);
    expect((await phantom(env("bob"), ["add", alice.uid, "--nick", "alice"])).code).toBe(0);
    expect((await phantom(env("alice"), ["contacts"])).code).toBe(0);

    const src = join(root, "photo.bin");
    const content = c.randomBytes(6 * 1024 * 1024 + 333); // over one multipart part
    writeFileSync(src, content);
    const sent = await phantom(env("alice"), ["send", "bob", "--file", src]);
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    const keys = await objects();
    expect(keys.length).toBe(1);
    expect(keys[0]).toMatch(new RegExp(`^${PREFIX}/[0-9a-f]{32}$`));
    expect(existsSync(join(relay.dataDir, "blobs"))).toBe(false); // nothing on the relay's disk

    expect((await phantom(env("bob"), ["read", alice.uid])).stdout).toContain("photo.bin");
    const dest = join(root, "got.bin");
    const got = await phantom(env("bob"), ["get", "alice", "1", dest]);
    expect(got.stderr).toBe("");
    expect(got.code).toBe(0);
    expect(Bun.hash(readFileSync(dest))).toBe(Bun.hash(content));

    const burned = await phantom(env("alice"), ["burn", "bob", "--yes"]);
    expect(burned.code).toBe(0);
    expect(await objects()).toEqual([]);
  });

  test("retention deletes an expired file's object", async () => {
    // 0.0002 h = 0.72 s, purged every 0.2 s; its own prefix in the same bucket.
    const r2 = await startRelay({
      args: ["--log-level", "warn", "--purge-interval", "0.2", "--blobs", `s3://${s3.bucket}/relay-b`],
      env: { ...s3.env, FILE_RETENTION_HOURS: "0.0002" },
    });
    try {
      const { a, roomId } = await pair(r2.url);
      expect((await upload(a, roomId, c.randomBytes(100), r2.url)).status).toBe(200);
      const keys = async () => ((await bucket.list({ prefix: "relay-b/" })).contents ?? []).length;
      expect(await keys()).toBe(1);
      const gone = async () => {
        while ((await keys()) > 0) await Bun.sleep(100);
      };
      await within(gone(), 15_000, () => "the expired file's object is still in the bucket after 15 s");
      expect(await objects()).toEqual([]); // the other relay's prefix: untouched (and empty after its burn)
    } finally {
      expect(await r2.stop()).toBe(0);
      r2.cleanup();
    }
  });

  test("the bucket unreachable: 503 for uploads and downloads, the relay keeps serving", async () => {
    const { a, roomId } = await pair(relay.url);
    const first = await upload(a, roomId, c.randomBytes(1000));
    expect(first.status).toBe(200);
    const { url } = (await first.json()) as { url: string };
    const down = await signed(relay.url, a, "GET", url);
    expect(down.status).toBe(200);
    expect((await down.arrayBuffer()).byteLength).toBe(1000);

    await s3.stop();
    const refused = await upload(a, roomId, c.randomBytes(1000));
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toBeString();
    expect((await signed(relay.url, a, "GET", url)).status).toBe(503);
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
    // The log line comes through the relay's stdout pipe, a little after the answer.
    for (let i = 0; i < 250 && !relay.logs.join("\n").includes("S3: an upload failed"); i++) await Bun.sleep(20);
    const logs = relay.logs.join("\n");
    expect(logs).toContain("S3: an upload failed");
    expect(logs).not.toContain("S3RVER"); // s3rver's access key and secret
  });
});

/** A signed PROTOCOL §7.8 multipart upload of `file` to `roomId`. */
async function upload(u: TestUser, roomId: string, file: Uint8Array, base = relay.url): Promise<Response> {
  const boundary = `b${b64uencode(c.randomBytes(12))}`;
  const text = (s: string) => new TextEncoder().encode(s);
  const body = Buffer.concat([
    text(`--${boundary}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n${roomId}\r\n`),
    text(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n\r\n`),
    file,
    text(`\r\n--${boundary}--\r\n`),
  ]);
  return await signed(base, u, "POST", "/file/upload", new Uint8Array(body), {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  });
}
