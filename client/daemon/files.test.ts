// The daemon's files: the socket check (a real UNIX socket: ours and private, or a reason),
// daemon.pid (taken with O_EXCL, a live holder refused, a dead one's file taken over), the
// socket path before listening, and the --http token (43 base64url characters, 0600, private).
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { errorOf } from "../../tests/helpers/errors.ts";
import { tempDir } from "../../tests/helpers/relay.ts";
import { DAEMON_PID_FILE, DAEMON_SOCKET_FILE, DAEMON_TOKEN_FILE } from "../state/names.ts";
import { claimDaemon, loadToken, prepareSocketPath } from "./claim.ts";
import { pidPath, runningPid, socketPath, socketProblem, tokenPath } from "./files.ts";

const root = tempDir("phantom-daemon-files-");
const listeners: { stop: (closeActive?: boolean) => void }[] = [];
afterAll(() => {
  for (const l of listeners) l.stop(true);
  rmSync(root, { recursive: true, force: true });
});

const IS_ROOT = process.getuid?.() === 0;
/** A uid that is not ours (nobody). */
const OTHER_UID = 65534;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

let n = 0;
const fresh = (name = "x") => join(root, `${name}-${++n}`);

/** A real UNIX socket at `path`, listening until the tests end (Bun removes the file on stop), with `mode`. */
function makeSocket(path: string, mode = 0o600): string {
  listeners.push(Bun.listen({ unix: path, socket: { data() {} } }));
  chmodSync(path, mode);
  return path;
}

/** The pid of a process that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  await p.exited;
  return p.pid;
}

test("the files' names in the home", () => {
  expect(socketPath("/h")).toBe(join("/h", DAEMON_SOCKET_FILE));
  expect(pidPath("/h")).toBe(join("/h", DAEMON_PID_FILE));
  expect(tokenPath("/h")).toBe(join("/h", DAEMON_TOKEN_FILE));
  expect([DAEMON_SOCKET_FILE, DAEMON_PID_FILE, DAEMON_TOKEN_FILE]).toEqual([
    "daemon.sock",
    "daemon.pid",
    "daemon.token",
  ]);
});

test("socketProblem: nothing there is 'missing'; a private socket of ours (0600, 0700) is fine", () => {
  const dir = fresh("sock");
  mkdirSync(dir);
  expect(socketProblem(join(dir, "nothing.sock"))).toBe("missing");
  const s = makeSocket(join(dir, "a.sock"));
  expect(statSync(s).isSocket()).toBe(true);
  expect(socketProblem(s)).toBeNull();
  chmodSync(s, 0o700);
  expect(socketProblem(s)).toBeNull();
  chmodSync(s, 0o400);
  expect(socketProblem(s)).toBeNull();
});

test("socketProblem: any group or other bit is refused, with the mode", () => {
  const dir = fresh("sock");
  mkdirSync(dir);
  const s = makeSocket(join(dir, "a.sock"));
  for (const mode of [0o601, 0o602, 0o604, 0o610, 0o620, 0o640, 0o666, 0o777]) {
    chmodSync(s, mode);
    expect(socketProblem(s)).toBe(`${s} can be reached by other users (mode ${mode.toString(8)})`);
  }
});

test("socketProblem: a file, a folder or a symlink (even to a good socket) is not a socket", () => {
  const dir = fresh("sock");
  mkdirSync(dir);
  const file = join(dir, "file");
  writeFileSync(file, "", { mode: 0o600 });
  expect(socketProblem(file)).toBe(`${file} is not a socket`);
  const folder = join(dir, "folder");
  mkdirSync(folder, { mode: 0o700 });
  expect(socketProblem(folder)).toBe(`${folder} is not a socket`);
  const good = makeSocket(join(dir, "good.sock"));
  const link = join(dir, "link.sock");
  symlinkSync(good, link);
  expect(socketProblem(link)).toBe(`${link} is not a socket`);
});

test("socketProblem: a path it cannot look at says why", () => {
  const dir = fresh("sock");
  mkdirSync(dir);
  writeFileSync(join(dir, "file"), "");
  const under = join(dir, "file", "daemon.sock");
  const p = socketProblem(under);
  expect(p).not.toBe("missing");
  expect(p).not.toBeNull();
  expect(p!.startsWith(`cannot look at ${under}: `)).toBe(true);
  expect(p).toContain("ENOTDIR");
});

test.skipIf(!IS_ROOT)("socketProblem: a private socket of another user is refused (run as root: chown)", () => {
  const dir = fresh("sock");
  mkdirSync(dir);
  const s = makeSocket(join(dir, "theirs.sock"));
  chownSync(s, OTHER_UID, OTHER_UID);
  expect(socketProblem(s)).toBe(`${s} belongs to uid ${OTHER_UID}, not to you`);
  expect(() => prepareSocketPath(s)).toThrow(`refusing to start: ${s} belongs to uid ${OTHER_UID}, not to you`);
  expect(existsSync(s)).toBe(true);
});

test("prepareSocketPath: nothing there is fine; a stale socket of ours is removed; anything else stays, refused", () => {
  const dir = fresh("prep");
  mkdirSync(dir);
  prepareSocketPath(join(dir, "none.sock"));
  expect(readdirSync(dir)).toEqual([]);

  const stale = makeSocket(join(dir, "stale.sock"));
  prepareSocketPath(stale);
  expect(existsSync(stale)).toBe(false);

  const open = makeSocket(join(dir, "open.sock"), 0o666);
  const e = errorOf(() => prepareSocketPath(open));
  expect(e.code).toBe("daemon-socket");
  expect(e.message).toBe(`refusing to start: ${open} can be reached by other users (mode 666); remove it yourself`);
  expect(existsSync(open)).toBe(true);

  const file = join(dir, "file.sock");
  writeFileSync(file, "mine", { mode: 0o600 });
  expect(errorOf(() => prepareSocketPath(file)).message).toBe(
    `refusing to start: ${file} is not a socket; remove it yourself`,
  );
  expect(readFileSync(file, "utf8")).toBe("mine");
});

test("runningPid: the pid in daemon.pid when it is alive; else (absent, dead, not a pid) null", async () => {
  const home = fresh("pid");
  mkdirSync(home);
  expect(runningPid(home)).toBeNull();
  writeFileSync(pidPath(home), `${process.pid}\n`);
  expect(runningPid(home)).toBe(process.pid);
  writeFileSync(pidPath(home), `  ${process.pid}  `);
  expect(runningPid(home)).toBe(process.pid);
  writeFileSync(pidPath(home), `${await deadPid()}\n`);
  expect(runningPid(home)).toBeNull();
  // Never 0 or a negative number (kill(0) and kill(-1) would ask about a whole group or everyone).
  for (const text of ["", "0", "-1", `-${process.pid}`, "abc", `${process.pid}x`, "1.5", "\n"]) {
    writeFileSync(pidPath(home), text);
    expect(runningPid(home)).toBeNull();
  }
});

test("claimDaemon: daemon.pid (0600, our pid) in a 0700 home it creates; the release removes it", () => {
  const home = fresh("claim");
  const release = claimDaemon(home);
  expect(statSync(home).mode & 0o777).toBe(0o700);
  expect(readFileSync(pidPath(home), "utf8")).toBe(`${process.pid}\n`);
  expect(statSync(pidPath(home)).mode & 0o777).toBe(0o600);
  expect(runningPid(home)).toBe(process.pid);
  release();
  expect(existsSync(pidPath(home))).toBe(false);
  release(); // twice: nothing to do
  expect(existsSync(pidPath(home))).toBe(false);
  // And it can be claimed again.
  claimDaemon(home)();
});

test("claimDaemon: a second claim while the holder is alive is refused, naming its pid; the file is kept", () => {
  const home = fresh("claim");
  const release = claimDaemon(home);
  const e = errorOf(() => claimDaemon(home));
  expect(e.code).toBe("daemon-running");
  expect(e.message).toBe(`a daemon already runs for ${home} (pid ${process.pid}): phantom status says more`);
  expect(readFileSync(pidPath(home), "utf8")).toBe(`${process.pid}\n`);
  release();
});

test("claimDaemon: a file naming a live process other than us is refused too", () => {
  const home = fresh("claim");
  mkdirSync(home, { mode: 0o700 });
  const other = Bun.spawn(["sleep", "30"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  try {
    writeFileSync(pidPath(home), `${other.pid}\n`);
    expect(errorOf(() => claimDaemon(home)).message).toContain(`(pid ${other.pid})`);
    expect(readFileSync(pidPath(home), "utf8")).toBe(`${other.pid}\n`);
  } finally {
    other.kill();
  }
});

test("claimDaemon: a file left by a dead daemon, or not naming a pid, is taken over", async () => {
  const home = fresh("claim");
  mkdirSync(home, { mode: 0o700 });
  const dead = await deadPid();
  writeFileSync(pidPath(home), `${dead}\n`);
  const release = claimDaemon(home);
  expect(readFileSync(pidPath(home), "utf8")).toBe(`${process.pid}\n`);
  expect(statSync(pidPath(home)).mode & 0o777).toBe(0o600);
  release();
  writeFileSync(pidPath(home), "garbage", { mode: 0o644 });
  const again = claimDaemon(home);
  expect(readFileSync(pidPath(home), "utf8")).toBe(`${process.pid}\n`);
  expect(statSync(pidPath(home)).mode & 0o777).toBe(0o600);
  again();
});

test("claimDaemon's release leaves a file that is no longer ours", () => {
  const home = fresh("claim");
  const release = claimDaemon(home);
  writeFileSync(pidPath(home), "999999\n");
  release();
  expect(readFileSync(pidPath(home), "utf8")).toBe("999999\n");
});

test("loadToken: made once (43 base64url characters, 0600), then read back the same", () => {
  const home = fresh("token");
  const t = loadToken(home);
  expect(t).toMatch(TOKEN);
  expect(readFileSync(tokenPath(home), "utf8")).toBe(`${t}\n`);
  expect(statSync(tokenPath(home)).mode & 0o777).toBe(0o600);
  expect(statSync(home).mode & 0o777).toBe(0o700);
  expect(loadToken(home)).toBe(t);
  expect(readdirSync(home)).toEqual([DAEMON_TOKEN_FILE]); // no temporary file left
});

test("loadToken(fresh): a new token replaces the old one, still 0600", () => {
  const home = fresh("token");
  const a = loadToken(home);
  const b = loadToken(home, true);
  expect(b).toMatch(TOKEN);
  expect(b).not.toBe(a);
  expect(loadToken(home)).toBe(b);
  expect(statSync(tokenPath(home)).mode & 0o777).toBe(0o600);
  // A token file readable by others is not read, but --new-token replaces it with a private one.
  chmodSync(tokenPath(home), 0o644);
  const c = loadToken(home, true);
  expect(c).not.toBe(b);
  expect(statSync(tokenPath(home)).mode & 0o777).toBe(0o600);
  expect(readdirSync(home)).toEqual([DAEMON_TOKEN_FILE]);
});

test("loadToken: a token file any other user can reach is refused, and left as it is", () => {
  const home = fresh("token");
  const t = loadToken(home);
  for (const mode of [0o640, 0o604, 0o660, 0o666, 0o601]) {
    chmodSync(tokenPath(home), mode);
    const e = errorOf(() => loadToken(home));
    expect(e.code).toBe("daemon-token");
    expect(e.message).toBe(
      `refusing ${tokenPath(home)}: not a private file of yours (make a new one: phantom daemon --new-token)`,
    );
    expect(readFileSync(tokenPath(home), "utf8")).toBe(`${t}\n`);
  }
  chmodSync(tokenPath(home), 0o400);
  expect(loadToken(home)).toBe(t);
});

test("loadToken: a folder or a symlink in its place is refused; a file without a token is refused", () => {
  const dir = fresh("token");
  mkdirSync(dir, { mode: 0o700 });
  const linked = join(dir, "linked");
  mkdirSync(linked, { mode: 0o700 });
  const real = join(dir, "real-token");
  writeFileSync(real, `${"A".repeat(43)}\n`, { mode: 0o600 });
  symlinkSync(real, tokenPath(linked));
  expect(errorOf(() => loadToken(linked)).message).toContain("not a private file of yours");

  const folder = join(dir, "folder");
  mkdirSync(tokenPath(folder), { recursive: true, mode: 0o700 });
  expect(errorOf(() => loadToken(folder)).message).toContain("not a private file of yours");

  const bad = join(dir, "bad");
  mkdirSync(bad, { mode: 0o700 });
  for (const text of ["", "short", "A".repeat(42), "A".repeat(44), `${"A".repeat(42)}+`, `${"A".repeat(42)}=`]) {
    writeFileSync(tokenPath(bad), text, { mode: 0o600 });
    const e = errorOf(() => loadToken(bad));
    expect(e.code).toBe("daemon-token");
    expect(e.message).toBe(`${tokenPath(bad)} does not hold a token (make a new one: phantom daemon --new-token)`);
  }
  // White space around it is fine (an editor's newline).
  writeFileSync(tokenPath(bad), `  ${"A".repeat(43)}\r\n`, { mode: 0o600 });
  expect(loadToken(bad)).toBe("A".repeat(43));
});

test.skipIf(!IS_ROOT)("loadToken: a private token file of another user is refused (run as root: chown)", () => {
  const home = fresh("token");
  loadToken(home);
  chownSync(tokenPath(home), OTHER_UID, OTHER_UID);
  expect(errorOf(() => loadToken(home)).message).toContain("not a private file of yours");
});
