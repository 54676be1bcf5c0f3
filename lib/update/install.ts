// Putting a verified archive's binary in place of the running one (issue 11):
// unpack only the binary member with the system tar (no shell), run it with --version and
// require exactly "<program> <version>", then rename it over the binary (same folder: atomic),
// keeping the previous one as "<binary>.old" for --rollback.
//
// Windows cannot replace a running .exe, but it can rename it: the running exe is renamed to
// .old first, then the new one is moved to its name (two renames; between them the name is free
// for a moment, which is why the .old step comes first and is undone if the second fails).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { UpdateError } from "./pinned-get.ts";

/** A private temp folder beside the binary (same file system, so the final rename is atomic). */
export function tempBeside(binary: string): string {
  try {
    return fs.mkdtempSync(join(dirname(binary), `.${basename(binary)}-update-`));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "error";
    throw new UpdateError("not-writable", `cannot write beside ${binary} (${code}): update it as its owner`, {
      cause,
    });
  }
}

/** Extract only `member` of the archive into `dir`; its path. */
export function unpackBinary(archive: string, dir: string, member: string): string {
  const windows = process.platform === "win32";
  const args = windows ? ["-xf", archive, "-C", dir, member] : ["-xJf", archive, "-C", dir, member];
  const r = spawnSync(windows ? "tar.exe" : "tar", args, { shell: false, stdio: ["ignore", "ignore", "pipe"] });
  const out = join(dir, member);
  if (r.error) throw new UpdateError("no-tar", `cannot run tar to unpack the update (${r.error.message})`);
  if (r.status !== 0 || !fs.existsSync(out))
    throw new UpdateError("bad-archive", `the update archive has no ${member} (tar: ${firstLine(r.stderr)})`);
  fs.chmodSync(out, 0o755);
  return out;
}

/** Run the new binary with --version: it must start and say exactly "<program> <version>". */
export function checkStarts(binary: string, program: string, version: string): void {
  const r = spawnSync(binary, ["--version"], { shell: false, timeout: 20_000, encoding: "utf8", stdio: "pipe" });
  const said = (r.stdout ?? "").trim();
  if (r.error || r.status !== 0 || said !== `${program} ${version}`) {
    const why = r.error
      ? r.error.message
      : said === ""
        ? `exit ${r.status ?? r.signal}`
        : `it says '${firstLine(said)}'`;
    throw new UpdateError(
      "does-not-start",
      `the new ${program} does not start as ${program} ${version} (${why}): not installed`,
    );
  }
}

/** Move `fresh` over `binary`, keeping the old one as `<binary>.old`. */
export function replaceBinary(fresh: string, binary: string): void {
  const old = `${binary}.old`;
  if (process.platform === "win32") {
    fs.rmSync(old, { force: true });
    fs.renameSync(binary, old);
    try {
      fs.renameSync(fresh, binary);
    } catch (e) {
      fs.renameSync(old, binary);
      throw e;
    }
    return;
  }
  // Keep a copy first (the running binary stays in place until the one atomic rename).
  const keep = `${old}.tmp`;
  fs.copyFileSync(binary, keep);
  fs.chmodSync(keep, fs.statSync(binary).mode & 0o777);
  fs.renameSync(keep, old);
  fs.renameSync(fresh, binary);
}

/** Put `<binary>.old` back. */
export function rollbackBinary(binary: string, program: string): void {
  const old = `${binary}.old`;
  if (!fs.existsSync(old)) throw new UpdateError("no-old", `no previous ${program} to go back to (${old} is missing)`);
  if (process.platform === "win32") {
    const cur = `${binary}.rollback`;
    fs.rmSync(cur, { force: true });
    fs.renameSync(binary, cur);
  }
  fs.renameSync(old, binary);
}

function firstLine(s: unknown): string {
  return (
    String(s ?? "")
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim()
      .slice(0, 200) ?? ""
  );
}
