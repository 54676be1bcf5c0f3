// Packing a release folder from built binaries and docs (the release format of issue 11):
// archives, SHA256SUMS, every .minisig and latest.json with its signature.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SecretKey } from "./secret-key.ts";
import { signBytes, signFile } from "./sign.ts";
import { zip } from "./zip.ts";

export const PROGRAMS = ["phantom", "phantom-relay"] as const;
export type Program = (typeof PROGRAMS)[number];
export const ALL_TARGETS = [
  "bun-linux-x64",
  "bun-linux-arm64",
  "bun-darwin-x64",
  "bun-darwin-arm64",
  "bun-windows-x64",
];

/** "bun-linux-arm64" → "linux-arm64"; refuses a target outside the five. */
export function platformOf(target: string): string {
  if (!ALL_TARGETS.includes(target)) {
    throw new Error(`unknown release target '${target}' (one of ${ALL_TARGETS.join(", ")})`);
  }
  return target.slice("bun-".length);
}

export const isWindows = (platform: string) => platform.startsWith("windows-");
export const archiveName = (program: Program, platform: string) =>
  `${program}-${platform}${isWindows(platform) ? ".zip" : ".tar.xz"}`;

/** The flat content of an archive: [path inside the archive, source file, mode]. */
export function archiveContent(
  program: Program,
  platform: string,
  binDir: string,
  docsDir: string,
  root: string,
): [string, string, number][] {
  const exe = program + (isWindows(platform) ? ".exe" : "");
  const files: [string, string, number][] = [
    [exe, join(binDir, exe), 0o755],
    ["README.md", join(root, "README.md"), 0o644],
    ["LICENSE", join(root, "LICENSE"), 0o644],
    [`${program}.1`, join(docsDir, "man", `${program}.1`), 0o644],
  ];
  if (program === "phantom") {
    for (const c of ["phantom.bash", "_phantom", "phantom.fish"])
      files.push([`completions/${c}`, join(docsDir, "completions", c), 0o644]);
  }
  return files;
}

async function run(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "inherit", stderr: "pipe" });
  const [code, err] = [await p.exited, await new Response(p.stderr).text()];
  if (code !== 0) throw new Error(`${argv[0]} failed (exit ${code}): ${err.trim().split("\n").pop() ?? ""}`);
}

let gnuTar: boolean | undefined;
function isGnuTar(): boolean {
  gnuTar ??= Bun.spawnSync(["tar", "--version"]).stdout.toString().includes("GNU tar");
  return gnuTar;
}

/** One archive written from its content folder (tar + xz at `xzLevel`, or zip for windows). */
export async function writeArchive(
  out: string,
  stage: string,
  names: string[],
  windows: boolean,
  xzLevel: number,
): Promise<void> {
  if (windows) {
    const entries = names.map((name) => ({
      name,
      data: new Uint8Array(readFileSync(join(stage, name))),
      mode: statSync(join(stage, name)).mode & 0o777,
    }));
    // zip has no level 0 worth shipping: the fastest deflate for xz level 0 (tests), else the best.
    writeFileSync(out, await zip(entries, xzLevel === 0 ? 1 : 9));
    return;
  }
  const owner = isGnuTar() ? "--owner=0 --group=0 --numeric-owner" : "--uid 0 --gid 0";
  // $1 the folder, $2 the archive, $3 the xz level, the rest the names.
  const script = `set -o pipefail; d=$1 o=$2 l=$3; shift 3; tar ${owner} -C "$d" -cf - "$@" | xz -T1 -"$l" -c > "$o"`;
  await run(["bash", "-c", script, "pack", stage, out, String(xzLevel), ...names]);
}

/** Runs the jobs `limit` at a time. */
async function pool<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await job(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

export interface PackOptions {
  version: string;
  key: SecretKey;
  /** platform → folder holding its phantom and phantom-relay binaries. */
  bins: Map<string, string>;
  docsDir: string;
  /** Where the staged archive contents go. */
  stageDir: string;
  root: string;
  outDir: string;
  xzLevel: number;
  notes: string;
  now?: Date;
}

export interface Packed {
  archives: { name: string; size: number }[];
}

/** Writes every archive, SHA256SUMS, the signatures and latest.json into outDir. */
export async function pack(o: PackOptions): Promise<Packed> {
  const now = o.now ?? new Date();
  const timestamp = Math.floor(now.getTime() / 1000);
  mkdirSync(o.outDir, { recursive: true });
  const jobs: { program: Program; platform: string }[] = [];
  for (const platform of o.bins.keys()) for (const program of PROGRAMS) jobs.push({ program, platform });
  const files: Record<string, { name: string; sha256: string; size: number }> = {};
  const archives: { name: string; size: number }[] = [];
  // Two at a time (tar + xz, or zip), each hashed and signed as soon as it is written.
  await pool(jobs, 2, async ({ program, platform }) => {
    const stage = join(o.stageDir, `${program}-${platform}`);
    const content = archiveContent(program, platform, o.bins.get(platform)!, o.docsDir, o.root);
    for (const [name, src, mode] of content) {
      mkdirSync(dirname(join(stage, name)), { recursive: true });
      copyFileSync(src, join(stage, name));
      chmodSync(join(stage, name), mode);
    }
    const name = archiveName(program, platform);
    const path = join(o.outDir, name);
    const names = content.map(([n]) => n);
    await writeArchive(path, stage, names, isWindows(platform), o.xzLevel);
    files[`${program}-${platform}`] = { name, sha256: sha256File(path), size: statSync(path).size };
    writeFileSync(`${path}.minisig`, await signFile(o.key, path, `file:${name} timestamp:${timestamp}`));
  });
  // In the order of the targets, whatever order the archives were finished in.
  const ordered: typeof files = {};
  const sums: string[] = [];
  for (const { program, platform } of jobs) {
    const f = files[`${program}-${platform}`]!;
    ordered[`${program}-${platform}`] = f;
    archives.push({ name: f.name, size: f.size });
    sums.push(`${f.sha256}  ${f.name}\n`);
  }
  const sumsText = new TextEncoder().encode(sums.join(""));
  writeFileSync(join(o.outDir, "SHA256SUMS"), sumsText);
  writeFileSync(
    join(o.outDir, "SHA256SUMS.minisig"),
    signBytes(o.key, sumsText, `file:SHA256SUMS timestamp:${timestamp}`),
  );
  const manifest = {
    version: o.version,
    published_at: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    notes: o.notes,
    files: ordered,
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
  writeFileSync(join(o.outDir, "latest.json"), manifestBytes);
  writeFileSync(
    join(o.outDir, "latest.json.minisig"),
    signBytes(o.key, manifestBytes, `version:${o.version} file:latest.json timestamp:${timestamp}`),
  );
  return { archives };
}
