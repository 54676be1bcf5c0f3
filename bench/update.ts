// Update benchmark (not a test): `./build.sh bench update [xz-level]`. Builds a release of this
// machine's phantom at 9.0.0 with a throwaway key (xz level: the argument, default 9 as a real
// release) and phantom 0.1.0 with the same public key, serves the release over HTTPS on 127.0.0.1,
// and times `phantom update --yes` (pinning, manifest and archive signatures, SHA-256, unpack,
// --version check, rename) from a fresh copy, five times.
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinaries, buildRelease, makeTestKey } from "../tests/helpers/release.ts";
import { hostPlatform, makeCert, startFileServer } from "../tests/helpers/update-server.ts";

const level = process.argv[2] ?? "9";
const root = fs.mkdtempSync(join(tmpdir(), "phantom-bench-update-"));
try {
  const key = makeTestKey(root);
  let t = performance.now();
  const rel = buildRelease({
    version: "9.0.0",
    ...key,
    dir: join(root, "rel"),
    env: { PHANTOM_RELEASE_XZ_LEVEL: level },
  });
  console.log(
    `release for ${hostPlatform()} at xz -${level} built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const old = join(buildBinaries({ version: "0.1.0", pubFile: key.pubFile, out: join(root, "old") }), "phantom");
  const archive = join(rel, `phantom-${hostPlatform()}.tar.xz`);
  console.log(
    `archive ${(fs.statSync(archive).size / 1e6).toFixed(1)} MB, binary ${(fs.statSync(old).size / 1e6).toFixed(1)} MB`,
  );
  const cert = makeCert(root);
  const srv = await startFileServer(rel, cert);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = join(root, `i${i}`);
    fs.mkdirSync(dir);
    const bin = join(dir, "phantom");
    fs.copyFileSync(old, bin);
    fs.chmodSync(bin, 0o755);
    t = performance.now();
    // Not spawnSync: the server runs in this process.
    const r = Bun.spawn([bin, "update", "--yes"], {
      stdout: "ignore",
      stderr: "pipe",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        PHANTOM_HOME: join(dir, "home"),
        PHANTOM_UPDATE_URL: `https://127.0.0.1:${srv.port}/latest.json`,
        NODE_EXTRA_CA_CERTS: cert.certFile,
      },
    });
    const [code, err] = [await r.exited, await new Response(r.stderr).text()];
    times.push(performance.now() - t);
    if (code !== 0) throw new Error(`update failed: ${err}`);
  }
  await srv.close();
  times.sort((a, b) => a - b);
  console.log(
    `phantom update --yes 0.1.0 → 9.0.0 over loopback HTTPS: median ${(times[2]! / 1000).toFixed(2)} s, ` +
      `min ${(times[0]! / 1000).toFixed(2)} s, max ${(times[4]! / 1000).toFixed(2)} s (5 runs)`,
  );
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
