// phantom startup enable|disable|status: start the interactive client at login (client/cli/startup.ts).
import { homedir } from "node:os";
import { PhantomError } from "../../../lib/errors.ts";
import { disableStartup, enableStartup, startupStatus, type StartupHost } from "../startup.ts";
import { printWarning } from "../errors.ts";
import { Ctx, needCompiled, type Globals } from "./context.ts";

export async function run(g: Globals, action: string): Promise<void> {
  const ctx = new Ctx(g);
  const host: StartupHost = {
    platform: process.platform,
    home: process.env.HOME || homedir(),
    env: process.env,
    execPath: process.execPath,
    phantomHome: process.env.PHANTOM_HOME || undefined,
  };
  needCompiled("startup");
  const say = (state: string, file: string, text: string) =>
    ctx.json ? ctx.jsonLine({ startup: state, file }) : ctx.line(text);
  switch (action) {
    case "enable": {
      const file = enableStartup(host);
      say("enabled", file, `startup: enabled (${file} starts ${host.execPath} at login)`);
      if (host.platform === "darwin" && host.phantomHome !== undefined)
        printWarning("on macOS the login start uses the default home (~/.phantom), not PHANTOM_HOME");
      break;
    }
    case "disable": {
      const { file, removed } = disableStartup(host);
      say("disabled", file, removed ? `startup: disabled (removed ${file})` : `startup: disabled (no ${file})`);
      break;
    }
    case "status": {
      const s = startupStatus(host);
      say(s.enabled ? "enabled" : "disabled", s.file, `startup: ${s.enabled ? "enabled" : "disabled"} (${s.file})`);
      break;
    }
    default:
      throw new PhantomError("usage", `unknown startup action '${action}' (use enable, disable or status)`);
  }
}
