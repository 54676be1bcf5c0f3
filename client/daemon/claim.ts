// Taking the daemon's files (files.ts names them): daemon.pid for this process, the socket
// path (a stale one of ours removed, anything else refused), the --http token.

import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import { PhantomError } from "../../lib/errors.ts";
import { b64uencode } from "../../lib/encoding.ts";
import { ensureHome } from "../state/home.ts";
import { myUid, pidPath, runningPid, socketProblem, tokenPath } from "./files.ts";

/**
 * Take daemon.pid for this process, or refuse: another daemon for this home is running.
 * A file left by a daemon that died (kill -9) names a process that is gone: it is replaced.
 * Returns the function that gives it back.
 */
export function claimDaemon(home: string): () => void {
  ensureHome(home);
  const path = pidPath(home);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(path, "utf8").trim() === String(process.pid)) fs.unlinkSync(path);
        } catch {
          // gone already
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw ioError("create", path, e);
    }
    const pid = runningPid(home);
    if (pid !== null) {
      throw new PhantomError(
        "daemon-running",
        `a daemon already runs for ${home} (pid ${pid}): phantom status says more`,
      );
    }
    fs.rmSync(path, { force: true }); // a dead daemon's
  }
  throw new PhantomError("daemon-running", `another daemon is starting for ${home}`);
}

/** Before listening: a stale socket of ours is removed; anything else there is refused. */
export function prepareSocketPath(path: string): void {
  const problem = socketProblem(path);
  if (problem === "missing") return;
  if (problem !== null) throw new PhantomError("daemon-socket", `refusing to start: ${problem}; remove it yourself`);
  fs.rmSync(path, { force: true });
}

/** The bearer token of --http: read it, or make one (32 random bytes, base64url, 0600). */
export function loadToken(home: string, fresh = false): string {
  const path = tokenPath(home);
  if (!fresh) {
    try {
      const st = fs.lstatSync(path);
      const uid = myUid();
      if (!st.isFile() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) {
        throw new PhantomError(
          "daemon-token",
          `refusing ${path}: not a private file of yours (make a new one: phantom daemon --new-token)`,
        );
      }
      const t = fs.readFileSync(path, "utf8").trim();
      if (/^[A-Za-z0-9_-]{43}$/.test(t)) return t;
      throw new PhantomError(
        "daemon-token",
        `${path} does not hold a token (make a new one: phantom daemon --new-token)`,
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  ensureHome(home);
  const token = b64uencode(new Uint8Array(randomBytes(32)));
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: "wx" });
  fs.renameSync(tmp, path);
  return token;
}

function ioError(what: string, path: string, cause: unknown): PhantomError {
  return new PhantomError("state-io", `cannot ${what} ${path}: ${(cause as Error).message}`, { cause });
}
