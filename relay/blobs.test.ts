// The Blobs contract (relay/blobs-contract.ts) against a folder and against a real S3-compatible
// server (tests/helpers/s3-server.ts), then what only S3 does: a shared bucket's young objects,
// paged listings, an unreachable bucket (503, never a crash), and the --blobs values.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "bun";
import { NO_S3RVER, startS3Server, type S3Server } from "../tests/helpers/s3-server.ts";
import { DirBlobs, parseBlobsTarget, s3AccessFromEnv } from "./blobs.ts";
import { blobsContract } from "./blobs-contract.ts";
import { parseConfig } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { newBlobId } from "./file-ids.ts";
import { S3Blobs, type S3BlobsOptions } from "./s3-blobs.ts";
import { StoreBusyError } from "./store.ts";

const root = mkdtempSync(join(tmpdir(), "phantom-blobs-"));
let dirs = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

blobsContract("dir", async () => {
  const dir = join(root, `d${++dirs}`, "blobs");
  return { blobs: new DirBlobs(dir), aged: () => new DirBlobs(dir) };
});

let s3: S3Server | null = null;
let prefixes = 0;
const s3Blobs = (o: Partial<S3BlobsOptions> = {}) =>
  new S3Blobs({ bucket: s3!.bucket, prefix: `p${prefixes}/`, access: s3!.access, ...o });

describe.skipIf(NO_S3RVER !== null)(`S3 (${NO_S3RVER ?? "s3rver"})`, () => {
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  blobsContract("S3", async () => {
    prefixes++;
    return { blobs: s3Blobs(), aged: (ms) => s3Blobs({ now: () => Date.now() + ms }) };
  });

  test("Bun's client reaches the server path-style with the standard variables", async () => {
    const client = new S3Client({ ...s3AccessFromEnv(s3!.env), bucket: s3!.bucket, virtualHostedStyle: false });
    await client.write("hello.txt", "hi");
    expect(await client.file("hello.txt").text()).toBe("hi");
    await client.delete("hello.txt");
  });

  test("the sweep keeps young objects (another relay's upload), keys not ours, keys outside the prefix", async () => {
    prefixes++;
    const blobs = s3Blobs();
    const client = new S3Client({ ...s3!.access, bucket: s3!.bucket, virtualHostedStyle: false });
    const young = newBlobId();
    await (await blobs.create(young)).close();
    await client.write(`p${prefixes}/notes.txt`, "x");
    await client.write(`elsewhere/${newBlobId()}`, "x");
    expect(await blobs.removeOrphans(async () => false)).toBe(0);
    expect(await blobs.download(young)).not.toBeNull();
    const later = s3Blobs({ now: () => Date.now() + 2 * 3600_000 });
    expect(await later.removeOrphans(async () => false)).toBe(1);
    expect(await client.file(`p${prefixes}/notes.txt`).exists()).toBe(true);
  });

  test("the sweep reads the listing page by page", async () => {
    prefixes++;
    const ids = Array.from({ length: 7 }, () => newBlobId());
    const blobs = s3Blobs();
    for (const id of ids) await (await blobs.create(id)).close();
    const later = s3Blobs({ now: () => Date.now() + 2 * 3600_000, listPageKeys: 2 });
    const asked = new Set<string>();
    const removed = await later.removeOrphans(async (id) => {
      asked.add(id);
      return id !== ids[0];
    });
    expect(removed).toBe(1);
    expect(asked.size).toBe(7);
    expect(await blobs.download(ids[0]!)).toBeNull();
    expect(await blobs.download(ids[6]!)).not.toBeNull();
  });

  test("an unreachable bucket: StoreBusyError (503), removal only warns, no secret in any message", async () => {
    const secret = "very-secret-key-material";
    const warnings: string[] = [];
    const dead = new S3Blobs({
      bucket: "phantom-test",
      prefix: "",
      access: { accessKeyId: "AKIDTEST", secretAccessKey: secret, region: "us-east-1", endpoint: "http://127.0.0.1:9" },
      warn: (m) => warnings.push(m),
    });
    const w = await dead.create(newBlobId());
    const failures: unknown[] = [];
    await w
      .write(new Uint8Array(6 * 1024 * 1024))
      .then(() => w.close())
      .catch((e) => failures.push(e));
    await w.abort();
    await dead.download(newBlobId()).catch((e) => failures.push(e));
    await dead.removeOrphans(async () => false).catch((e) => failures.push(e));
    await dead.remove([newBlobId()]);
    expect(failures.length).toBe(3);
    for (const e of failures) expect(e).toBeInstanceOf(StoreBusyError);
    expect(warnings.some((m) => m.includes("not deleted"))).toBe(true);
    for (const m of [...warnings, ...failures.map((e) => (e as Error).message)]) {
      expect(m).not.toContain(secret);
      expect(m).not.toContain("AKIDTEST");
    }
  });
});

describe("--blobs values", () => {
  test("dir:PATH and s3://BUCKET/PREFIX", () => {
    expect(parseBlobsTarget("dir:/srv/blobs", "--blobs")).toEqual({ kind: "dir", dir: "/srv/blobs" });
    expect(parseBlobsTarget("s3://my-bucket", "--blobs")).toMatchObject({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "",
    });
    expect(parseBlobsTarget("s3://my.bucket/a/b/", "--blobs")).toMatchObject({
      kind: "s3",
      bucket: "my.bucket",
      prefix: "a/b/",
    });
  });

  test("the flag, its variable, the default, and the credentials from the AWS variables", () => {
    const run = (argv: string[], env: Record<string, string> = {}) => {
      const p = parseConfig(argv, env);
      if (p.kind !== "run") throw new Error(p.kind);
      return p.config.blobs;
    };
    expect(run([])).toEqual({ kind: "dir", dir: null });
    expect(run([], { PHANTOM_RELAY_BLOBS: "dir:/x" })).toEqual({ kind: "dir", dir: "/x" });
    const env = {
      PHANTOM_RELAY_BLOBS: "dir:/x",
      AWS_ACCESS_KEY_ID: "id",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      S3_ENDPOINT: "http://127.0.0.1:1",
    };
    expect(run(["--blobs", "s3://bkt/pre"], env)).toEqual({
      kind: "s3",
      bucket: "bkt",
      prefix: "pre/",
      access: {
        accessKeyId: "id",
        secretAccessKey: "secret",
        sessionToken: "token",
        region: "us-east-1",
        endpoint: "http://127.0.0.1:1",
      },
    });
    const both = { ...env, AWS_ENDPOINT_URL: "http://127.0.0.1:2", AWS_REGION: "eu-west-1" };
    expect(run(["--blobs=s3://bkt"], both)).toMatchObject({
      access: { region: "eu-west-1", endpoint: "http://127.0.0.1:2" },
    });
    expect(() => run(["--blobs", "ftp://x"])).toThrow(ConfigError);
    expect(() => run([], { PHANTOM_RELAY_BLOBS: "x" })).toThrow("--blobs must be dir:PATH");
  });

  test("anything else is a one-line ConfigError that does not repeat the value", () => {
    for (const bad of [
      "",
      "dir:",
      "/srv/blobs",
      "s3://",
      "s3://UPPER/x",
      "s3://ab",
      "s3://b-1/a//b",
      "s3://b-1/../x",
    ]) {
      let message = "";
      try {
        parseBlobsTarget(bad, "--blobs");
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        message = (e as Error).message;
      }
      expect(message).toStartWith("--blobs must be dir:PATH or s3://BUCKET/PREFIX");
      expect(message).not.toContain("\n");
    }
    let message = "";
    try {
      parseBlobsTarget("s3://KEY:SECRET@bucket/x", "--blobs");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain("SECRET");
  });
});
