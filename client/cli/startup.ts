// `phantom startup`: start the interactive client at login, pointing at the installed binary.
// Linux: an XDG autostart entry; macOS: a LaunchAgent that opens the binary in Terminal; Windows: a
// .cmd in the Startup folder. Everything the files depend on comes in as parameters (testable).
import { existsSync, mkdirSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";

export interface StartupHost {
  platform: NodeJS.Platform;
  home: string;
  env: Record<string, string | undefined>;
  /** The installed binary (process.execPath of the compiled client). */
  execPath: string;
  /** PHANTOM_HOME when it was set: the login start uses the same state (Linux and Windows). */
  phantomHome?: string;
}

export const LAUNCH_AGENT_ID = "org.phantom.client";

/** Where the login entry lives on this host. */
export function startupFile(h: StartupHost): string {
  switch (h.platform) {
    case "darwin":
      return join(h.home, "Library/LaunchAgents", `${LAUNCH_AGENT_ID}.plist`);
    case "win32": {
      const appData = h.env.APPDATA ?? join(h.home, "AppData", "Roaming");
      return join(appData, "Microsoft", "Windows", "Start Menu", "Programs", "Startup", "phantom.cmd");
    }
    default:
      return join(h.env.XDG_CONFIG_HOME || join(h.home, ".config"), "autostart", "phantom.desktop");
  }
}

/** An argument of a desktop entry's Exec key, quoted per the Desktop Entry Specification. */
export function desktopExecArg(path: string): string {
  if (!/[\s"'\\><~|&;$*?#()`%=]/.test(path)) return path;
  const inner = path.replace(/[\\"`$]/g, (c) => `\\${c}`);
  // The whole value is also a string value, where a backslash is itself escaped.
  return `"${inner}"`.replace(/\\/g, "\\\\").replace(/%/g, "%%");
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The content of the login entry for this host. */
export function startupContent(h: StartupHost): string {
  switch (h.platform) {
    case "darwin":
      return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCH_AGENT_ID}</string>
  <key>ProgramArguments</key>
  <array>
    <string>/usr/bin/open</string>
    <string>-a</string>
    <string>Terminal</string>
    <string>${xmlEscape(h.execPath)}</string>
  </array>
  <key>RunAtLoad</key>
  <true/>
</dict>
</plist>
`;
    case "win32": {
      const home = h.phantomHome === undefined ? "" : `set "PHANTOM_HOME=${h.phantomHome.replace(/%/g, "%%")}"\r\n`;
      return `@echo off\r\nrem Phantom at login (phantom startup disable removes this file)\r\n${home}start "Phantom" "${h.execPath.replace(/%/g, "%%")}"\r\n`;
    }
    default:
      return `[Desktop Entry]
Type=Application
Name=Phantom
Comment=End-to-end encrypted messaging (phantom startup disable removes this file)
Exec=${h.phantomHome === undefined ? "" : `env ${desktopExecArg(`PHANTOM_HOME=${h.phantomHome}`)} `}${desktopExecArg(h.execPath)}
Terminal=true
X-GNOME-Autostart-enabled=true
`;
  }
}

export function startupStatus(h: StartupHost): { enabled: boolean; file: string } {
  const file = startupFile(h);
  return { enabled: existsSync(file), file };
}

export function enableStartup(h: StartupHost): string {
  const file = startupFile(h);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, startupContent(h), { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}

export function disableStartup(h: StartupHost): { file: string; removed: boolean } {
  const file = startupFile(h);
  const removed = existsSync(file);
  rmSync(file, { force: true });
  return { file, removed };
}
