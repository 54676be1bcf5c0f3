// A real S3-compatible server for the tests (issue 13, --blobs s3://…): s3rver (a pinned
// devDependency) run by Node as a child process, on 127.0.0.1 and a free port, storing in a
// temporary folder, with one bucket. Node is what s3rver is written for; it is not run inside
// bun test. Its list continuation tokens use DES, which Node's OpenSSL 3 keeps in the legacy
// provider, hence --openssl-legacy-provider. s3rver's fixed credentials are S3RVER / S3RVER.
import { spawn, spawnSync, type Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Access } from "../../relay/blobs.ts";
import { tail, within } from "./deadline.ts";
import { lines, ROOT } from "./relay.ts";

const CHILD = join(import.meta.dir, "s3rver-child.mjs");

function noS3rver(): string | null {
  if (spawnSync(["node", "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode !== 0) {
    return "node is not installed (s3rver, the test S3 server, runs under Node)";
  }
  if (!existsSync(join(ROOT, "node_modules/s3rver/package.json"))) return "s3rver is not installed (run npm ci)";
  return null;
}

/** Why the S3 tests cannot run here, or null when they can. */
export const NO_S3RVER = noS3rver();

export interface S3Server {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  bucket: string;
  /** The variables a relay reads to reach it (relay/s3-blobs.ts s3AccessFromEnv). */
  env: Record<string, string>;
  access: S3Access;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = "phantom-test"): Promise<S3Server> {
  if (NO_S3RVER) throw new Error(NO_S3RVER);
  const dir = mkdtempSync(join(tmpdir(), "phantom-s3-"));
  // Its standard input stays open while we live: if this process dies, the server stops too.
  const proc: Subprocess<"pipe", "pipe", "pipe"> = spawn(
    ["node", "--openssl-legacy-provider", CHILD, join(dir, "data"), bucket],
    { cwd: ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" },
  );
  const errors: string[] = [];
  void (async () => {
    for await (const line of lines(proc.stderr, { tail: true })) errors.push(line);
  })();
  const port = await within(
    (async () => {
      for await (const line of lines(proc.stdout)) return (JSON.parse(line) as { port: number }).port;
      throw new Error(`s3rver exited (${await proc.exited}):\n${tail(errors.join("\n"))}`);
    })(),
    15_000,
    () => `s3rver did not start within 15 s:\n${tail(errors.join("\n"))}`,
    () => proc.kill("SIGKILL"),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const access: S3Access = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1", endpoint };
  const env = {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: endpoint,
  };
  return {
    endpoint,
    bucket,
    env,
    access,
    async stop() {
      proc.kill("SIGTERM");
      await within(
        proc.exited,
        5000,
        () => "s3rver did not stop",
        () => proc.kill("SIGKILL"),
      ).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
