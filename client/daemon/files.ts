// The daemon's files in $PHANTOM_HOME (0700): daemon.pid (one daemon per home, taken with
// O_EXCL), daemon.sock (the API, 0600) and daemon.token (--http's bearer token, 0600). A path
// that is not what we made — another owner, looser permissions, not a socket — is refused,
// by the daemon before it listens and by every command before it connects.

import * as fs from "node:fs";
import { join } from "node:path";
import { DAEMON_PID_FILE, DAEMON_SOCKET_FILE, DAEMON_TOKEN_FILE } from "../state/names.ts";

export function socketPath(home: string): string {
  return join(home, DAEMON_SOCKET_FILE);
}

export function pidPath(home: string): string {
  return join(home, DAEMON_PID_FILE);
}

export function tokenPath(home: string): string {
  return join(home, DAEMON_TOKEN_FILE);
}

export function myUid(): number {
  return process.getuid?.() ?? -1;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid in daemon.pid when that process is alive, else null. */
export function runningPid(home: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(pidPath(home), "utf8");
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
}

/**
 * Why the socket path may not be used, or null when it is ours: a socket owned by this user,
 * reachable by no one else. `missing` when nothing is there.
 */
export function socketProblem(path: string): string | "missing" | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    return `cannot look at ${path}: ${(e as Error).message}`;
  }
  if (!st.isSocket()) return `${path} is not a socket`;
  const uid = myUid();
  if (uid >= 0 && st.uid !== uid) return `${path} belongs to uid ${st.uid}, not to you`;
  if ((st.mode & 0o077) !== 0) {
    return `${path} can be reached by other users (mode ${(st.mode & 0o777).toString(8)})`;
  }
  return null;
}
