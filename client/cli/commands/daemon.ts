// phantom daemon [--http ADDR] [--stdio]: unlock once, then serve the JSON-RPC API on
// $PHANTOM_HOME/daemon.sock (and loopback HTTP, and stdio) while receiving every message
// (client/daemon/). phantom daemon --schema | --new-token | --install-service do one thing and exit.
import { writeSync } from "node:fs";
import { PhantomError } from "../../../lib/errors.ts";
import { apiSchema } from "../../daemon/api.ts";
import { loadToken } from "../../daemon/claim.ts";
import { runningPid, socketPath, tokenPath } from "../../daemon/files.ts";
import { LineReader } from "../../daemon/rpc.ts";
import { printWarning } from "../errors.ts";
import { Ctx, type Globals } from "./context.ts";

interface DaemonFlags {
  http?: string;
  stdio?: boolean;
  schema?: boolean;
  newToken?: boolean;
  installService?: boolean;
  passwordFile?: string;
}

function log(line: string): void {
  process.stderr.write(`phantom daemon: ${line}\n`);
}

export async function run(g: Globals, o: DaemonFlags): Promise<void> {
  const ctx = new Ctx(g);
  if (o.schema) return void writeSync(1, `${JSON.stringify(apiSchema(), null, 2)}\n`);
  if (o.newToken) {
    loadToken(ctx.home, true);
    ctx.line(`a new token is in ${tokenPath(ctx.home)} (the old one no longer works)`);
    return;
  }
  if (o.installService) {
    const { installService } = await import("./daemon-service.ts");
    return await installService(ctx, o.passwordFile);
  }
  if (o.passwordFile !== undefined)
    throw new PhantomError("bad-arguments", "--password-file goes with --install-service");
  const { parseHttpAddress, serveHttp } = await import("../../daemon/http.ts");
  const http = o.http === undefined ? null : parseHttpAddress(o.http);
  if (http !== null) loadToken(ctx.home); // made now when missing, before the password is asked
  // Before the password: a second daemon for this home is refused at once.
  const pid = runningPid(ctx.home);
  if (pid !== null) throw new PhantomError("daemon-running", `a daemon already runs for ${ctx.home} (pid ${pid})`);

  const { Daemon } = await import("../../daemon/server.ts");
  let daemon: InstanceType<typeof Daemon> | null = null;
  const s = await ctx.open({
    onRequest: (r) => daemon?.onRequest(r),
    // Once serving, warnings go to the call that caused them, or to the log.
    onWarning: (m) => (daemon ? daemon.onWarning(m) : printWarning(m)),
  });
  // The password is in the session now: no child process (a notification) inherits it.
  delete process.env.PHANTOM_PASSWORD;
  let httpUrl: string | null = null;
  const { desktopNotifier } = await import("../../daemon/notify.ts");
  daemon = new Daemon({
    home: ctx.home,
    session: s,
    log,
    notify: desktopNotifier(process.platform, process.env, log),
    httpAddress: () => httpUrl,
  });
  await daemon.start();
  let stopHttp = () => {};
  try {
    if (http !== null) {
      const srv = serveHttp(daemon, ctx.home, http);
      httpUrl = srv.url;
      stopHttp = srv.stop;
    }
  } catch (e) {
    await daemon.stop();
    s.close();
    throw e;
  }
  const stop = () => void daemon!.stop();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", () => {}); // a closed terminal does not stop it
  if (o.stdio) serveStdio(daemon);
  log(
    `${s.uid} ready on ${socketPath(ctx.home)}${httpUrl ? ` and ${httpUrl}` : ""}${o.stdio ? " and stdio" : ""} (relay ${s.relayUrl}${s.viaTor ? ", through Tor" : ""})`,
  );
  if (!s.viaTor && !(await ctx.loadConfig()).direct && !isLoopbackRelay(s.relayUrl))
    printWarning("the relay is reached without Tor");
  await daemon.done;
  stopHttp();
  s.close();
  log("stopped");
  process.exit(0);
}

function isLoopbackRelay(url: string): boolean {
  const h = new URL(url).hostname;
  return h === "localhost" || h === "[::1]" || h.startsWith("127.");
}

/** --stdio: the parent process writes requests on our stdin and reads answers on our stdout; its EOF stops us. */
function serveStdio(daemon: import("../../daemon/server.ts").Daemon): void {
  const reader = new LineReader();
  const conn = daemon.attach((line) => {
    const bytes = Buffer.from(line, "utf8");
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(1, bytes, done, bytes.length - done);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
          Bun.sleepSync(2);
          continue;
        }
        void daemon.stop(); // the parent is gone
        break;
      }
    }
    return 0;
  });
  void (async () => {
    try {
      for await (const chunk of Bun.stdin.stream()) daemon.onData(conn, reader, chunk, () => void daemon.stop());
    } catch {
      // stdin failed: as if closed
    }
    void daemon.stop();
  })();
}
