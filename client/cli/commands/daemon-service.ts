// phantom daemon --install-service --password-file PATH: write the user service that starts the
// daemon at login (client/daemon/service.ts), after checking the password file is private.
import * as fs from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { PhantomError } from "../../../lib/errors.ts";
import { serviceContent, serviceFile, type ServiceHost, serviceNextSteps } from "../../daemon/service.ts";
import { printWarning } from "../errors.ts";
import { type Ctx, needCompiled } from "./context.ts";

export async function installService(ctx: Ctx, passwordFile: string | undefined): Promise<void> {
  needCompiled("daemon --install-service");
  if (passwordFile === undefined) {
    throw new PhantomError(
      "bad-arguments",
      "--install-service needs --password-file PATH: a file of yours (mode 0600) holding the password, read at each start",
    );
  }
  const path = isAbsolute(passwordFile) ? passwordFile : resolve(passwordFile);
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    throw new PhantomError("bad-password-file", `no such file: ${path}`);
  }
  const uid = process.getuid?.() ?? -1;
  if (!st.isFile() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new PhantomError(
      "bad-password-file",
      `${path} must be a file of yours that no one else can read (chmod 600)`,
    );
  }
  const h: ServiceHost = {
    platform: process.platform,
    home: process.env.HOME || homedir(),
    xdgConfigHome: process.env.XDG_CONFIG_HOME || undefined,
    execPath: process.execPath,
    phantomHome: resolve(ctx.home),
    passwordFile: path,
  };
  for (const p of [h.execPath, h.phantomHome, h.passwordFile]) {
    if (/[\n\r]/.test(p)) throw new PhantomError("bad-path", "a path with a line break cannot go in a service file");
  }
  const file = serviceFile(h);
  if (file === null)
    throw new PhantomError("unsupported", `--install-service knows Linux and macOS, not ${process.platform}`);
  fs.mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, serviceContent(h), { mode: 0o600 });
  fs.renameSync(tmp, file);
  if (ctx.json) ctx.jsonLine({ file, next: serviceNextSteps(h, file) });
  else {
    ctx.line(`wrote ${file}`);
    ctx.line("start it now and at every login:");
    for (const l of serviceNextSteps(h, file)) ctx.line(`  ${l}`);
  }
  printWarning(`${path} holds your password in clear: anyone who can read it as you can unlock your identity`);
}
