// A real PostgreSQL server for the tests (issue 13): initdb in a temporary folder, started on
// 127.0.0.1 and a free port, stopped and removed afterwards. PostgreSQL refuses to run as root
// (which CI is), so as root the server runs as the `postgres` user the Debian package creates
// (or, when it is missing, a system user made for the tests). The binaries come from
// PHANTOM_PG_BIN (set by ./build.sh test), PATH, or Debian's /usr/lib/postgresql/<major>/bin.
// Durability settings are off (fsync, synchronous_commit): the tests kill servers, not machines.
import { spawnSync, type Subprocess } from "bun";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The folder of initdb and postgres, or null when PostgreSQL is not installed. */
export function pgBinDir(): string | null {
  const candidates = [process.env.PHANTOM_PG_BIN ?? ""];
  for (const dir of (process.env.PATH ?? "").split(":")) candidates.push(dir);
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const majors = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) candidates.push(join(debian, m, "bin"));
  }
  for (const d of candidates) if (d && existsSync(join(d, "initdb")) && existsSync(join(d, "postgres"))) return d;
  return null;
}

export const NO_POSTGRES = pgBinDir() === null ? "PostgreSQL is not installed (./build.sh test installs it)" : null;

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The user the server runs as when we are root: postgres, or one made for the tests. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ["postgres", "phantom-pgtest"]) {
    const r = spawnSync(["id", "-u", name]);
    if (r.exitCode === 0) {
      const uid = Number(r.stdout.toString().trim());
      const gid = Number(spawnSync(["id", "-g", name]).stdout.toString().trim());
      return { name, uid, gid };
    }
  }
  const made = spawnSync(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "phantom-pgtest"]);
  if (made.exitCode !== 0) throw new Error(`could not create a user for PostgreSQL: ${made.stderr.toString()}`);
  return serverUser();
}

/** The postmaster's PID: the first line of postmaster.pid. */
function postmasterPid(data: string): number | null {
  try {
    const n = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Postgres {
  /** postgres://phantom@127.0.0.1:PORT/phantom (trust authentication on loopback). */
  url: string;
  port: number;
  dir: string;
  /** A new empty database on this server, and its URL. */
  newDatabase(): Promise<string>;
  /** Stop the server (fast shutdown: connections are cut). */
  halt(): Promise<void>;
  /** Start it again after halt(), on the same port and folder. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  const bin = pgBinDir();
  if (!bin) throw new Error(NO_POSTGRES!);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "phantom-pg-"));
  const data = join(dir, "data");
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chmodSync(dir, 0o700);
  }
  const as = (argv: string[]) => (user ? ["runuser", "-u", user.name, "--", ...argv] : argv);
  const init = spawnSync(
    as([join(bin, "initdb"), "-D", data, "-U", "phantom", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]),
  );
  if (init.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr.toString().slice(-400)}`);
  }
  const port = await freePort();
  let proc: Subprocess | null = null;
  let log = "";
  const launch = async () => {
    proc = Bun.spawn(
      as([
        join(bin, "postgres"),
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ]),
      { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    void (async () => {
      for await (const chunk of proc!.stderr as ReadableStream<Uint8Array>)
        log = (log + new TextDecoder().decode(chunk)).slice(-4000);
    })();
    for (const end = Date.now() + 15_000; ; await Bun.sleep(50)) {
      if (log.includes("database system is ready to accept connections")) return;
      if (proc.exitCode !== null || Date.now() > end) throw new Error(`postgres did not start: ${log.slice(-600)}`);
    }
  };
  await launch();
  const base = `postgres://phantom@127.0.0.1:${port}`;
  const admin = async (statement: string) => {
    const { SQL } = await import("bun");
    const sql = new SQL(`${base}/postgres`, { max: 1 });
    try {
      await sql.unsafe(statement);
    } finally {
      await sql.close();
    }
  };
  let databases = 0;
  const halt = async () => {
    const p = proc as Subprocess | null;
    if (!p || p.exitCode !== null) return;
    // The postmaster itself (under runuser it is not our child): SIGINT is its fast shutdown.
    const pid = postmasterPid(data);
    const signal = (sig: NodeJS.Signals) => {
      try {
        if (pid) process.kill(pid, sig);
        else p.kill(sig);
      } catch {
        // already gone
      }
    };
    signal("SIGINT");
    for (const end = Date.now() + 10_000; pid && alive(pid) && Date.now() < end;) await Bun.sleep(20);
    if (pid && alive(pid)) signal("SIGKILL");
    await p.exited;
  };
  await admin("CREATE DATABASE phantom");
  return {
    url: `${base}/phantom`,
    port,
    dir,
    async newDatabase() {
      const name = `t${process.pid}_${++databases}`;
      await admin(`CREATE DATABASE ${name}`);
      return `${base}/${name}`;
    },
    halt,
    start: launch,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
