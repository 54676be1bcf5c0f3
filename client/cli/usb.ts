// `phantom usb <folder>`: a portable bundle (issue 11, parity with the original client).
//
//   <folder>/bin/phantom-<os>-<arch>[.exe]   this binary, and the other platforms' from the release
//   <folder>/home/                            a copy of $PHANTOM_HOME (encrypted identity, contacts…)
//   <folder>/run-linux.sh, run-macos.sh, run-windows.bat
//                                             set PHANTOM_HOME to <folder>/home and start the right binary
//   <folder>/README.txt                       what the bundle is and holds
//
// Nothing already in the folder is overwritten: a folder that has any of these names is refused, so
// the root of a USB stick with other files on it is fine. What this module writes is removed again
// when making the bundle fails half-way.

import * as fs from "node:fs";
import { join } from "node:path";
import { PhantomError } from "../../lib/errors.ts";
import { describeErrno } from "../text/format.ts";
import {
  DIR_MODE,
  FILE_MODE,
  IDENTITY_FILE,
  STATE_DB_FILE,
  STATE_DB_SIDE_FILES,
  STATE_FILES,
  DAEMON_FILES,
  STATE_LOCK_FILE,
} from "../state/home.ts";
import { copyStateDb } from "../state/state-db.ts";
import { withStateLock } from "../state/lock.ts";

/** Every platform a release carries, as latest.json names them ("phantom-<key>"). */
export const PLATFORMS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"] as const;

export const LAUNCHERS = ["run-linux.sh", "run-macos.sh", "run-windows.bat"] as const;
/** What a bundle adds to its folder. */
export const BUNDLE_ENTRIES = ["bin", "home", ...LAUNCHERS, "README.txt"] as const;

/** The file name of a platform's binary inside bin/. */
export function bundledBinary(platform: string): string {
  return `phantom-${platform}${platform.startsWith("windows-") ? ".exe" : ""}`;
}

function ioError(what: string, path: string, cause: unknown): PhantomError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new PhantomError("usb-io", `cannot ${what} ${path}: ${describeErrno(code)}`, { cause });
}

/** A POSIX launcher for one OS: picks the binary by `uname -m`, sets PHANTOM_HOME inside the bundle. */
export function posixLauncher(os: "linux" | "darwin"): string {
  const name = os === "linux" ? "run-linux.sh" : "run-macos.sh";
  return `#!/bin/sh
# Phantom portable bundle (made by 'phantom usb'): starts the bundled phantom with its state in
# this folder's home/. Usage: sh ${name} [phantom arguments]
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "${name}: no Phantom binary for $(uname -m)" >&2; exit 1 ;;
esac
bin="$here/bin/phantom-${os}-$arch"
if [ ! -f "$bin" ]; then
  echo "${name}: this bundle has no bin/phantom-${os}-$arch (it was made without the release)" >&2
  exit 1
fi
PHANTOM_HOME="$here/home"
export PHANTOM_HOME
if [ -x "$bin" ]; then
  exec "$bin" "$@"
fi
# A stick formatted FAT/exFAT is often mounted without execute permission: run a private copy.
tmp=$(mktemp -d "\${TMPDIR:-/tmp}/phantom-usb.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
cp "$bin" "$tmp/phantom" && chmod 700 "$tmp/phantom" || exit 1
"$tmp/phantom" "$@"
`;
}

/** The Windows launcher (cmd.exe): %~dp0 is the folder of the .bat, with a trailing backslash. */
export function windowsLauncher(): string {
  return [
    "@echo off",
    "rem Phantom portable bundle (made by 'phantom usb'): starts the bundled phantom with its state",
    "rem in this folder's home\\. Usage: run-windows.bat [phantom arguments]",
    "setlocal",
    'if not exist "%~dp0bin\\phantom-windows-x64.exe" (',
    "  echo run-windows.bat: this bundle has no bin\\phantom-windows-x64.exe ^(it was made without the release^) 1>&2",
    "  exit /b 1",
    ")",
    'set "PHANTOM_HOME=%~dp0home"',
    '"%~dp0bin\\phantom-windows-x64.exe" %*',
    "",
  ].join("\r\n");
}

export function bundleReadme(o: { version: string; platforms: string[] }): string {
  return `Phantom ${o.version} portable bundle (made by 'phantom usb')

Start it with the launcher of the computer you are on:
  Linux:   sh run-linux.sh
  macOS:   sh run-macos.sh
  Windows: run-windows.bat
Any phantom command works after it, e.g. 'sh run-linux.sh whoami'.

Binaries in bin/: ${o.platforms.map(bundledBinary).join(", ")}

WARNING: home/ holds your identity and your contacts, encrypted with your password.
Whoever has this bundle can try to guess your password offline. Keep it as safe as the
computer it came from, and use a long password. 'phantom panic' on the computer does not
erase this copy: run it through the launcher too, or destroy the stick.

Messages and settings changed through the bundle stay in the bundle; they are not copied back.
`;
}

/** The folder is new, or has none of the bundle's names (a stick with other files is fine). */
export function checkBundleFolder(folder: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw ioError("read", folder, e);
  }
  if (!st.isDirectory()) throw new PhantomError("usb-exists", `${folder} exists and is not a folder`);
  const taken = BUNDLE_ENTRIES.filter((n) => fs.existsSync(join(folder, n)));
  if (taken.length > 0)
    throw new PhantomError(
      "usb-exists",
      `${folder} already has ${taken.join(", ")}: choose an empty folder (nothing was changed)`,
    );
}

/** Everything a bundle is made of; the binaries are files to copy (already checked). */
export interface BundleParts {
  folder: string;
  home: string;
  version: string;
  /** platform key → the binary file to copy into bin/. */
  binaries: Map<string, string>;
}

/**
 * Write the bundle. The state files are copied under the home's state lock (a consistent copy,
 * 0600 in a 0700 folder); the binaries keep mode 0755. On any failure what was written is removed.
 */
export function writeBundle(p: BundleParts): string[] {
  checkBundleFolder(p.folder);
  if (!fs.existsSync(join(p.home, IDENTITY_FILE)))
    throw new PhantomError("no-identity", `no identity in ${p.home}: run 'phantom init' first`);
  const created: string[] = [];
  const folderIsNew = !fs.existsSync(p.folder);
  const mk = (dir: string, mode: number) => {
    fs.mkdirSync(dir, { mode });
    created.push(dir);
  };
  const write = (name: string, text: string, mode: number) => {
    const path = join(p.folder, name);
    created.push(path);
    fs.writeFileSync(path, text, { flag: "wx", mode });
  };
  try {
    try {
      if (folderIsNew) {
        fs.mkdirSync(p.folder, { mode: 0o755 });
      }
    } catch (e) {
      throw ioError("create", p.folder, e);
    }
    mk(join(p.folder, "bin"), 0o755);
    for (const [platform, file] of p.binaries) {
      const to = join(p.folder, "bin", bundledBinary(platform));
      try {
        fs.copyFileSync(file, to, fs.constants.COPYFILE_EXCL);
        fs.chmodSync(to, 0o755);
      } catch (e) {
        throw ioError("write", to, e);
      }
    }
    const home = join(p.folder, "home");
    mk(home, DIR_MODE);
    withStateLock(p.home, () => {
      for (const name of STATE_FILES) {
        if (name === STATE_LOCK_FILE || STATE_DB_SIDE_FILES.includes(name) || DAEMON_FILES.includes(name)) continue;
        const from = join(p.home, name);
        if (!fs.existsSync(from)) continue;
        const to = join(home, name);
        // state.db is written in its own transactions, not under the lock: one snapshot of it, sealed as it is.
        if (name === STATE_DB_FILE) {
          copyStateDb(from, to);
          continue;
        }
        try {
          fs.writeFileSync(to, fs.readFileSync(from), { flag: "wx", mode: FILE_MODE });
        } catch (e) {
          throw ioError("copy", `${from} to ${to}`, e);
        }
      }
    });
    write("run-linux.sh", posixLauncher("linux"), 0o755);
    write("run-macos.sh", posixLauncher("darwin"), 0o755);
    write("run-windows.bat", windowsLauncher(), 0o644);
    write("README.txt", bundleReadme({ version: p.version, platforms: [...p.binaries.keys()] }), 0o644);
  } catch (e) {
    for (const path of created.reverse()) fs.rmSync(path, { recursive: true, force: true });
    if (folderIsNew) fs.rmSync(p.folder, { recursive: true, force: true });
    if (e instanceof PhantomError) throw e;
    throw ioError("write", p.folder, e);
  }
  return [...p.binaries.keys()];
}
