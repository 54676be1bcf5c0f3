// `./build.sh release` and `./build.sh release-key` (run by Bun at build time, never part of the binaries).
//   bun release/cli.ts release           reads the PHANTOM_RELEASE_* variables (build.sh's header)
//   bun release/cli.ts key [dir] [-W]    a new key pair: dir/phantom-release.key (0600) and .pub
// Errors are one line, `build.sh: error: …`, exit 1.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { keyIdHex, parsePublicKey, publicKeyLine } from "../lib/minisign.ts";
import { ALL_TARGETS, archiveName, pack, platformOf, PROGRAMS, isWindows } from "./package.ts";
import { checkKeyMatches, generateKeyPair, isEncrypted, parseSecretKey } from "./secret-key.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;

class UsageError extends Error {}

function warn(message: string): void {
  process.stderr.write(`build.sh: warning: ${message}\n`);
}

/** A password read from the terminal without echo; refuses when stdin is not a terminal. */
async function askPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new UsageError("the release key is encrypted: set PHANTOM_RELEASE_KEY_PASSWORD or run on a terminal");
  }
  process.stderr.write(prompt);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  try {
    return await new Promise<string>((done, fail) => {
      let text = "";
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") {
            process.stdin.off("data", onData);
            return done(text);
          }
          if (ch === "\u0003") {
            process.stdin.off("data", onData);
            return fail(new UsageError("interrupted"));
          }
          if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
          else text += ch;
        }
      };
      process.stdin.on("data", onData);
    });
  } finally {
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stderr.write("\n");
  }
}

/** Refuses a key file readable by others (warns when only the group may read it). */
function checkKeyFile(path: string): string {
  if (!existsSync(path)) throw new UsageError(`the release key ${path} does not exist (PHANTOM_RELEASE_KEY_FILE)`);
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== "win32" && mode & 0o077) {
    warn(`the release key ${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
  }
  return readFileSync(path, "utf8");
}

async function spawnOk(argv: string[], env: Record<string, string | undefined>, what: string): Promise<void> {
  const p = Bun.spawn(argv, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "inherit", stderr: "inherit" });
  const code = await p.exited;
  if (code !== 0) throw new UsageError(`${what} failed (exit ${code})`);
}

/** Every file name a release of any targets writes. */
function releaseFileNames(): string[] {
  const archives = ALL_TARGETS.flatMap((t) => PROGRAMS.map((p) => archiveName(p, platformOf(t))));
  return [...archives, "SHA256SUMS", "latest.json"].flatMap((n) => [n, `${n}.minisig`]);
}

async function release(): Promise<void> {
  const env = process.env;
  const keyPath = env.PHANTOM_RELEASE_KEY_FILE;
  if (!keyPath)
    throw new UsageError("PHANTOM_RELEASE_KEY_FILE is not set: the minisign secret key releases are signed with");
  const pubPath = env.PHANTOM_RELEASE_PUB_FILE || join(ROOT, "release/phantom-release.pub");
  const version =
    env.PHANTOM_VERSION || (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string);
  const targets = (env.PHANTOM_RELEASE_TARGETS || ALL_TARGETS.join(",")).split(",").map((t) => t.trim());
  const platforms = targets.map((t) => {
    try {
      return platformOf(t);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  const xzLevel = Number(env.PHANTOM_RELEASE_XZ_LEVEL ?? "9");
  if (!Number.isInteger(xzLevel) || xzLevel < 0 || xzLevel > 9)
    throw new UsageError(`PHANTOM_RELEASE_XZ_LEVEL must be 0 to 9, not '${env.PHANTOM_RELEASE_XZ_LEVEL}'`);
  const outDir = resolve(env.PHANTOM_RELEASE_DIR || join(ROOT, "dist/release", version));

  // The key first: nothing is built with a key that cannot sign for the binaries' public key.
  const keyText = checkKeyFile(keyPath);
  if (!existsSync(pubPath)) throw new UsageError(`cannot read the release public key ${pubPath}`);
  const pub = parsePublicKey(readFileSync(pubPath, "utf8"));
  let password: string | undefined;
  if (isEncrypted(keyText))
    password = env.PHANTOM_RELEASE_KEY_PASSWORD ?? (await askPassword("release key password: "));
  const key = parseSecretKey(keyText, password);
  checkKeyMatches(key, pub);

  const stage = mkdtempSync(join(tmpdir(), "phantom-release-"));
  try {
    const bins = new Map<string, string>();
    for (const [i, target] of targets.entries()) {
      const out = join(stage, "bin", platforms[i]!);
      process.stderr.write(`== build ${target}\n`);
      await spawnOk(
        ["./build.sh", "build"],
        {
          PHANTOM_BUILD_TARGET: target,
          PHANTOM_BUILD_OUT: out,
          PHANTOM_VERSION: version,
          PHANTOM_RELEASE_PUB_FILE: pubPath,
        },
        `building ${target}`,
      );
      bins.set(platforms[i]!, out);
    }
    const docsDir = join(stage, "docs");
    process.stderr.write("== man pages and completions\n");
    await spawnOk(
      [BUN, "--define", `__PHANTOM_VERSION__:${JSON.stringify(version)}`, "docs/generate.ts", docsDir],
      {},
      "docs/generate.ts",
    );
    process.stderr.write(`== archives (xz -${xzLevel}) and signatures into ${outDir}\n`);
    // Only the files a release writes are replaced (PHANTOM_RELEASE_DIR may be any folder).
    for (const name of releaseFileNames()) rmSync(join(outDir, name), { force: true });
    const packed = await pack({
      version,
      key,
      bins,
      docsDir,
      stageDir: join(stage, "pkg"),
      root: ROOT,
      outDir,
      xzLevel,
      notes: env.PHANTOM_RELEASE_NOTES ?? "",
    });
    key.seed.fill(0);
    console.log(`release ${version} in ${outDir}`);
    console.log("binaries:");
    for (const platform of platforms) {
      for (const program of PROGRAMS) {
        const name = program + (isWindows(platform) ? ".exe" : "");
        const size = statSync(join(bins.get(platform)!, name)).size;
        console.log(`  ${`${platform}/${name}`.padEnd(32)} ${size.toString().padStart(10)} bytes`);
      }
    }
    console.log("archives:");
    for (const a of packed.archives) console.log(`  ${a.name.padEnd(32)} ${a.size.toString().padStart(10)} bytes`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function newKey(args: string[]): Promise<void> {
  const unencrypted = args.includes("-W");
  const rest = args.filter((a) => a !== "-W");
  if (rest.length > 1 || rest.some((a) => a.startsWith("-")))
    throw new UsageError("usage: ./build.sh release-key [dir] [-W]");
  const dir = resolve(rest[0] ?? join(ROOT, "release"));
  const keyPath = join(dir, "phantom-release.key");
  const pubPath = join(dir, "phantom-release.pub");
  if (existsSync(keyPath)) throw new UsageError(`${keyPath} already exists: not overwritten`);
  let password: string | undefined;
  if (!unencrypted) {
    password = process.env.PHANTOM_RELEASE_KEY_PASSWORD;
    if (password === undefined) {
      password = await askPassword("password for the new release key: ");
      if ((await askPassword("the same password again: ")) !== password) throw new UsageError("the passwords differ");
    }
    if (password === "") throw new UsageError("an empty password: use -W for a key without one");
  }
  const pair = generateKeyPair(password);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, pair.secretText, { mode: 0o600, flag: "wx" });
  writeFileSync(pubPath, pair.publicText, { mode: 0o644 });
  const line = publicKeyLine(parsePublicKey(pair.publicText));
  console.log(`secret key ${keyPath} (${unencrypted ? "NOT encrypted" : "encrypted"}, mode 600)`);
  console.log(`public key ${pubPath}, key id ${keyIdHex(pair.keyId)}`);
  console.log(`check a file with: minisign -Vm <file> -P ${line}`);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === "release") return release();
  if (cmd === "key") return newKey(args);
  throw new UsageError("usage: bun release/cli.ts release | key [dir] [-W]");
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`build.sh: error: ${message.split("\n")[0]}\n`);
  process.exit(1);
}
