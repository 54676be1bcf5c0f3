// `phantom update` end to end: a release at 9.0.0 signed with a throwaway key, served over
// HTTPS on 127.0.0.1 (throwaway certificate, trusted through NODE_EXTRA_CA_CERTS), and the
// "old" phantom 0.1.0 built with the same public key, copied into a temp folder and updated
// in place. Every refusal is one error line and leaves the old binary byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PASSWORD, expectOneLineError, runProgram } from "./helpers/cli.ts";
import { startProxy } from "./helpers/socks.ts";
import { startRelay } from "./helpers/relay.ts";

import { EXIT_MARK, Tmux } from "./helpers/tmux.ts";
import { spkiPin } from "../lib/update/pinned-get.ts";
import {
  hostPlatform,
  makeCert,
  sha256,
  sign,
  startFileServer,
  writeManifest,
  type FileServer,
} from "./helpers/update-server.ts";
import { sharedRelease } from "./helpers/release.ts";

const root = fs.mkdtempSync(join(tmpdir(), "phantom-update-"));
let key: { pubFile: string; keyFile: string };
let other: { pubFile: string; keyFile: string };
let oldBin: string;
let oldSha: string;
let release: string;
let cert: { key: string; cert: string; certFile: string };
let srv: FileServer;
let n = 0;
const mkdir = (d: string) => (fs.mkdirSync(d, { recursive: true }), d);

beforeAll(() => {
  // The release as `./build.sh release` makes it, shared with tests/release-build and relay-update.
  const shared = sharedRelease();
  ({ key, other, releaseDir: release } = shared);
  oldBin = join(shared.oldDir, "phantom");
  oldSha = sha256(oldBin);
  cert = makeCert(root);
}, 300_000);

beforeAll(async () => {
  srv = await startFileServer(release, cert);
});
afterAll(async () => {
  await srv?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh install: the old binary copied into its own folder, its own PHANTOM_HOME. */
function install(): { bin: string; home: string; env: Record<string, string> } {
  const dir = join(root, `inst-${++n}`);
  fs.mkdirSync(join(dir, "bin"), { recursive: true });
  const bin = join(dir, "bin", "phantom");
  fs.copyFileSync(oldBin, bin);
  fs.chmodSync(bin, 0o755);
  const home = join(dir, "home");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    PHANTOM_HOME: home,
    PHANTOM_UPDATE_URL: `https://127.0.0.1:${srv.port}/latest.json`,
    NODE_EXTRA_CA_CERTS: cert.certFile,
  };
  return { bin, home, env };
}

const run = (i: { bin: string; env: Record<string, string> }, args: string[], env: Record<string, string> = {}) =>
  runProgram([i.bin, ...args], { ...i.env, ...env });

/**
 * A copy of the release folder to tamper with, served instead of the good one for `f`. The
 * archives are symbolic links to the shared ones (48 MB each): a change must remove one first.
 */
async function withRelease<T>(change: (dir: string) => void, f: () => Promise<T>): Promise<T> {
  const dir = join(root, `rel-${++n}`);
  fs.mkdirSync(dir);
  for (const name of fs.readdirSync(release)) {
    if (name.endsWith(".tar.xz") || name.endsWith(".zip")) fs.symlinkSync(join(release, name), join(dir, name));
    else fs.copyFileSync(join(release, name), join(dir, name));
  }
  change(dir);
  srv.dir = dir;
  try {
    return await f();
  } finally {
    srv.dir = release;
  }
}

async function expectRefused(
  i: { bin: string; env: Record<string, string> },
  pattern: RegExp,
  args = ["update", "--yes"],
) {
  const r = await run(i, args);
  expect(expectOneLineError(r)).toMatch(pattern);
  expect(sha256(i.bin)).toBe(oldSha);
  expect(fs.readdirSync(join(i.bin, ".."))).toEqual(["phantom"]); // no .old, no temp file left
}

describe("phantom update", () => {
  test("--check sees 9.0.0; --yes replaces the binary; --rollback restores it", async () => {
    const i = install();
    const c = await run(i, ["update", "--check", "--yes"]);
    expect(c.stderr).toBe("");
    expect(c.stdout).toContain("Phantom 9.0.0 is available (this is 0.1.0)");
    expect(sha256(i.bin)).toBe(oldSha);
    const pins = JSON.parse(fs.readFileSync(join(i.home, "update-pins.json"), "utf8"));
    expect(Object.keys(pins)).toEqual([`127.0.0.1:${srv.port}`]);
    expect(fs.statSync(join(i.home, "update-pins.json")).mode & 0o777).toBe(0o600);

    const u = await run(i, ["update", "--yes"]);
    expect(u.stderr).toBe("");
    expect(u.code).toBe(0);
    expect((await run(i, ["--version"])).stdout.trim()).toBe("phantom 9.0.0");
    expect(sha256(`${i.bin}.old`)).toBe(oldSha);
    expect(fs.readdirSync(join(i.bin, "..")).sort()).toEqual(["phantom", "phantom.old"]);

    const b = await runProgram([i.bin, "update", "--rollback"], i.env);
    expect(b.code).toBe(0);
    expect(sha256(i.bin)).toBe(oldSha);
    expect((await run(i, ["--version"])).stdout.trim()).toBe("phantom 0.1.0");
  }, 60_000);

  test("on a terminal, a first-seen server key is shown and trusted only after a yes", async () => {
    const i = install();
    const tmux = new Tmux("update");
    try {
      const der = Buffer.from(cert.cert.replace(/-----[^-]+-----|\s/g, ""), "base64");
      const pane = tmux.start("no", [i.bin, "update", "--check"], { env: i.env });
      let s = await pane.waitFor("Trust this key");
      expect(s).toContain(`The update server 127.0.0.1:${srv.port} shows the key sha256/${spkiPin(der)}`);
      pane.type("n");
      pane.keys("Enter");
      s = await pane.waitFor(EXIT_MARK);
      expect(s).toContain("is not trusted yet");
      expect(fs.existsSync(join(i.home, "update-pins.json"))).toBe(false);
      const yes = tmux.start("yes", [i.bin, "update", "--check"], { env: i.env });
      await yes.waitFor("Trust this key");
      yes.type("y");
      yes.keys("Enter");
      s = await yes.waitFor(EXIT_MARK);
      expect(s).toContain("Phantom 9.0.0 is available");
      expect(s).toContain(`${EXIT_MARK} 0`);
    } finally {
      tmux.kill();
    }
  }, 30_000);

  test("without --yes and no terminal, a first-seen server key is not trusted (nothing installed)", async () => {
    await expectRefused(install(), /is not trusted yet: run again on a terminal or with --yes/, ["update"]);
  });

  test("a manifest signed with another key is refused", async () => {
    await withRelease(
      (d) => sign(other.keyFile, join(d, "latest.json"), `version:9.0.0 file:latest.json timestamp:1`),
      () => expectRefused(install(), /signature|key/),
    );
  });

  test("a tampered manifest is refused", async () => {
    await withRelease(
      (d) => {
        const p = join(d, "latest.json");
        const text = fs.readFileSync(p, "utf8");
        const changed = text.replace("{", "{ ");
        expect(changed).not.toBe(text); // one byte more, the same JSON
        fs.writeFileSync(p, changed);
      },
      () => expectRefused(install(), /signature/),
    );
  });

  test("a manifest whose version is not the signed one is refused", async () => {
    await withRelease(
      (d) => {
        const m = JSON.parse(fs.readFileSync(join(d, "latest.json"), "utf8"));
        writeManifest(d, key.keyFile, { ...m, version: "9.0.1" }, "9.0.0");
      },
      () => expectRefused(install(), /says version 9\.0\.1 but its signature says 9\.0\.0/),
    );
  });

  test("a tampered archive is refused (SHA-256)", async () => {
    await withRelease(
      (d) => {
        const p = join(d, `phantom-${hostPlatform()}.tar.xz`);
        const b = fs.readFileSync(p);
        b[b.length >> 1] = b[b.length >> 1]! ^ 1;
        fs.rmSync(p); // the link, not the good archive
        fs.writeFileSync(p, b);
      },
      () => expectRefused(install(), /does not match its SHA-256/),
    );
  });

  test("an archive whose own .minisig is from another key is refused", async () => {
    await withRelease(
      (d) => {
        const name = `phantom-${hostPlatform()}.tar.xz`;
        sign(other.keyFile, join(d, name), `file:${name} timestamp:1`);
      },
      () => expectRefused(install(), /signature|key/),
    );
  });

  test("a truncated download is refused", async () => {
    srv.truncate = 0.5;
    try {
      await expectRefused(install(), /failed|truncated|closed/);
    } finally {
      srv.truncate = null;
    }
  });

  test("an older or equal version (an old manifest replayed) is refused", async () => {
    const i = install();
    expect((await run(i, ["update", "--check", "--yes"])).code).toBe(0); // 9.0.0 seen
    for (const v of ["0.0.9", "8.9.9"]) {
      await withRelease(
        (d) => {
          const m = JSON.parse(fs.readFileSync(join(d, "latest.json"), "utf8"));
          writeManifest(d, key.keyFile, { ...m, version: v });
        },
        () => expectRefused(i, v === "0.0.9" ? /refusing a downgrade/ : /9\.0\.0 was already seen/),
      );
    }
    const j = install();
    await withRelease(
      (d) => {
        const m = JSON.parse(fs.readFileSync(join(d, "latest.json"), "utf8"));
        writeManifest(d, key.keyFile, { ...m, version: "0.1.0" });
      },
      async () => {
        const r = await run(j, ["update", "--yes"]);
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe("phantom 0.1.0 is up to date");
        expect(sha256(j.bin)).toBe(oldSha);
      },
    );
  }, 30_000);

  test("a signed archive whose binary does not start as phantom 9.0.0 is refused", async () => {
    await withRelease(
      (d) => {
        const stage = join(d, "stage");
        fs.mkdirSync(stage);
        fs.writeFileSync(join(stage, "phantom"), "#!/bin/sh\necho phantom 6.6.6\n", { mode: 0o755 });
        const name = `phantom-${hostPlatform()}.tar.xz`;
        fs.rmSync(join(d, name));
        Bun.spawnSync(["tar", "-cJf", join(d, name), "-C", stage, "phantom"]);
        sign(key.keyFile, join(d, name), `file:${name} timestamp:1`);
        const m = JSON.parse(fs.readFileSync(join(d, "latest.json"), "utf8"));
        m.files[`phantom-${hostPlatform()}`] = {
          name,
          sha256: sha256(join(d, name)),
          size: fs.statSync(join(d, name)).size,
        };
        writeManifest(d, key.keyFile, m);
      },
      () => expectRefused(install(), /does not start as phantom 9\.0\.0 \(it says 'phantom 6\.6\.6'\)/),
    );
  });

  test("a changed server key is refused, and the server gets zero bytes after the handshake", async () => {
    const i = install();
    expect((await run(i, ["update", "--check", "--yes"])).code).toBe(0);
    const port = srv.port;
    await srv.close();
    const cert2 = makeCert(root, "cert2");
    const bundle = join(root, "both.pem");
    fs.writeFileSync(bundle, cert.cert + cert2.cert);
    const other2 = await startFileServer(release, cert2, port);
    try {
      const r = await run(i, ["update", "--yes"], { NODE_EXTRA_CA_CERTS: bundle });
      const line = expectOneLineError(r);
      expect(line).toMatch(/now shows key sha256\/\S+, not the pinned sha256\/\S+: refusing/);
      expect(line).toContain("phantom update --reset-pin");
      expect(other2.connections).toBeGreaterThan(0); // it did connect…
      expect(other2.received.every((b) => b === 0)).toBe(true); // …and sent no application byte
      expect(sha256(i.bin)).toBe(oldSha);
      // --reset-pin, then the new key is trusted again on consent.
      expect((await run(i, ["update", "--reset-pin"])).code).toBe(0);
      const c = await run(i, ["update", "--check", "--yes"], { NODE_EXTRA_CA_CERTS: bundle });
      expect(c.stdout).toContain("Phantom 9.0.0 is available");
    } finally {
      await other2.close();
      srv = await startFileServer(release, cert, port);
    }
  }, 30_000);

  test("http:// to a remote host is refused in one line", async () => {
    const i = install();
    const r = await run(i, ["update", "--yes"], { PHANTOM_UPDATE_URL: "http://example.com/latest.json" });
    expect(expectOneLineError(r)).toBe("refusing an update over http:// from example.com: use an https:// URL");
    expect(sha256(i.bin)).toBe(oldSha);
  });

  test("settings updates on: whoami says a release is available (once a day), and installs nothing", async () => {
    const relay = await startRelay();
    try {
      const i = install();
      const env = { PHANTOM_RELAY: relay.url, PHANTOM_PASSWORD: PASSWORD };
      expect((await run(i, ["init"], env)).code).toBe(0);
      let w = await run(i, ["whoami"], env);
      expect(w.stdout).not.toContain("is available"); // checks are off by default
      expect(fs.existsSync(join(i.home, "update-state.json"))).toBe(false);
      expect((await run(i, ["settings", "updates", "on"])).code).toBe(0);
      // The background check never asks: the server's key must be pinned first.
      expect((await run(i, ["update", "--check", "--yes"])).code).toBe(0);
      fs.rmSync(join(i.home, "update-state.json"));
      const before = srv.connections;
      w = await run(i, ["whoami"], env);
      expect(w.stdout).toContain("Phantom 9.0.0 is available — run `phantom update`");
      expect(srv.connections).toBe(before + 2);
      w = await run(i, ["whoami", "--json"], env);
      expect(w.json()[0]!.update).toBe("Phantom 9.0.0 is available — run `phantom update`");
      expect(srv.connections).toBe(before + 2); // not again the same day
      expect(sha256(i.bin)).toBe(oldSha);
      const bad = await run(i, ["settings", "update-url", "http://example.com/rel/"]);
      expect(expectOneLineError(bad)).toBe("refusing an update over http:// from example.com: use an https:// URL");
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  }, 30_000);

  test("no update URL at all is one line", async () => {
    const i = install();
    const { PHANTOM_UPDATE_URL: _, ...env } = i.env;
    const r = await runProgram([i.bin, "update", "--check"], env);
    expect(expectOneLineError(r)).toMatch(/has no update URL: set one with 'phantom settings update-url/);
  });

  test("with Tor on, the update goes through the SOCKS5 proxy", async () => {
    const proxy = await startProxy();
    try {
      const i = install();
      const r = await run(i, ["update", "--yes"], {
        PHANTOM_TOR: "always",
        PHANTOM_TOR_PROXY: `127.0.0.1:${proxy.port}`,
        PHANTOM_UPDATE_URL: `https://localhost:${srv.port}/latest.json`,
      });
      expect(r.stderr).toBe("");
      expect((await run(i, ["--version"])).stdout.trim()).toBe("phantom 9.0.0");
      expect(await proxy.waitForConnects(`localhost:${srv.port}`, 4)).toBeGreaterThanOrEqual(4);
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});

/**
 * The release with stand-in archives for the platforms this machine cannot build in a test: a
 * tar.xz holding a `phantom` script, a zip (the release's own writer) holding `phantom.exe`, each
 * signed, and latest.json re-signed listing them beside the real archive for this machine.
 */
async function addOtherPlatforms(d: string): Promise<Map<string, Uint8Array>> {
  const { zip } = await import("../release/zip.ts");
  const manifest = JSON.parse(fs.readFileSync(join(d, "latest.json"), "utf8"));
  const made = new Map<string, Uint8Array>();
  for (const platform of ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"]) {
    if (platform === hostPlatform()) continue;
    const windows = platform.startsWith("windows");
    const name = `phantom-${platform}${windows ? ".zip" : ".tar.xz"}`;
    fs.rmSync(join(d, name), { force: true }); // a link to the shared release's archive
    fs.rmSync(join(d, `${name}.minisig`), { force: true });
    const bin = new TextEncoder().encode(`#!/bin/sh\necho "stand-in phantom for ${platform}"\n`);
    made.set(platform, bin);
    if (windows) {
      fs.writeFileSync(join(d, name), await zip([{ name: "phantom.exe", data: bin, mode: 0o755 }]));
    } else {
      const stage = mkdir(join(root, `stage-${++n}`));
      fs.writeFileSync(join(stage, "phantom"), bin, { mode: 0o755 });
      const t = Bun.spawnSync(["tar", "-cJf", join(d, name), "-C", stage, "phantom"]);
      if (t.exitCode !== 0) throw new Error(`tar failed: ${t.stderr}`);
    }
    sign(key.keyFile, join(d, name), `file:${name} timestamp:1`);
    manifest.files[`phantom-${platform}`] = {
      name,
      sha256: sha256(join(d, name)),
      size: fs.statSync(join(d, name)).size,
    };
  }
  writeManifest(d, key.keyFile, manifest);
  return made;
}

describe("phantom usb with a release", () => {
  test("the bundle holds this binary and the release's other four, each checked; and it runs", async () => {
    const relay = await startRelay();
    try {
      const i = install();
      const env = { PHANTOM_RELAY: relay.url, PHANTOM_PASSWORD: PASSWORD };
      const uid = (await run(i, ["init", "--json"], env)).json()[0]!.uid;
      let made = new Map<string, Uint8Array>();
      const folder = join(root, `usb-${++n}`);
      const r = await withRelease(
        () => {},
        async () => {
          made = await addOtherPlatforms(srv.dir);
          return await run(i, ["usb", folder, "--yes", "--json"]);
        },
      );
      expect(r.code).toBe(0);
      expect(r.json()[0]).toMatchObject({ usb: folder, version: "0.1.0", release: "9.0.0" });
      expect(fs.readdirSync(join(folder, "bin")).sort()).toEqual(
        ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64", "windows-x64"]
          .map((p) => `phantom-${p}${p.startsWith("windows") ? ".exe" : ""}`)
          .sort(),
      );
      expect(sha256(join(folder, `bin/phantom-${hostPlatform()}`))).toBe(oldSha); // this binary
      for (const [platform, bytes] of made) {
        const f = join(folder, "bin", `phantom-${platform}${platform.startsWith("windows") ? ".exe" : ""}`);
        expect(fs.readFileSync(f).equals(bytes)).toBe(true);
      }
      const who = await runProgram(["sh", join(folder, "run-linux.sh"), "whoami", "--json"], {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: join(root, "away"),
        ...env,
      });
      expect(who.json()[0]!.uid).toBe(uid);
    } finally {
      await relay.stop();
      relay.cleanup();
    }
  }, 60_000);

  test("a tampered archive of another platform is refused and no bundle is written", async () => {
    const i = install();
    fs.mkdirSync(i.home, { mode: 0o700 });
    fs.writeFileSync(join(i.home, "identity.json"), "{}"); // usb copies it as it is, never opens it
    const folder = join(root, `usb-${++n}`);
    const r = await withRelease(
      () => {},
      async () => {
        await addOtherPlatforms(srv.dir);
        const p = join(srv.dir, "phantom-windows-x64.zip");
        const b = fs.readFileSync(p);
        fs.rmSync(p);
        b[40] = (b[40] ?? 0) ^ 1;
        fs.writeFileSync(p, b);
        return await run(i, ["usb", folder, "--yes"]);
      },
    );
    expect(expectOneLineError(r)).toBe(
      "phantom-windows-x64.zip does not match its SHA-256 in latest.json: not installed",
    );
    expect(fs.existsSync(folder)).toBe(false);
  });
});
