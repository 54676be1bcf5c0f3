// `phantom daemon --install-service`: the daemon started at login by the system's user service
// manager — a systemd user unit on Linux, a LaunchAgent on macOS — with the password read from
// a file of the user's (PHANTOM_PASSWORD_FILE). Everything the files depend on is a parameter.

import { join } from "node:path";

export interface ServiceHost {
  platform: NodeJS.Platform;
  /** The user's home folder. */
  home: string;
  /** XDG_CONFIG_HOME when set. */
  xdgConfigHome?: string;
  /** The compiled phantom (process.execPath). */
  execPath: string;
  /** PHANTOM_HOME of the daemon. */
  phantomHome: string;
  /** The file holding the password (absolute). */
  passwordFile: string;
}

export const SYSTEMD_UNIT = "phantom-daemon.service";
export const LAUNCH_AGENT_DAEMON_ID = "org.phantom.daemon";

export function serviceFile(h: ServiceHost): string | null {
  if (h.platform === "linux") return join(h.xdgConfigHome || join(h.home, ".config"), "systemd", "user", SYSTEMD_UNIT);
  if (h.platform === "darwin") return join(h.home, "Library", "LaunchAgents", `${LAUNCH_AGENT_DAEMON_ID}.plist`);
  return null;
}

/** A systemd value with spaces, quotes, backslashes or % made literal (systemd.syntax(7), specifiers). */
function systemdQuote(s: string, exec = false): string {
  // ExecStart= also expands $VAR: a literal $ is $$ there.
  const quoted = s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
  const inner = exec ? quoted.replace(/\$/g, "$$$$") : quoted;
  return `"${inner}"`;
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function serviceContent(h: ServiceHost): string {
  if (h.platform === "darwin") {
    return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCH_AGENT_DAEMON_ID}</string>
  <key>ProgramArguments</key>
  <array>
    <string>${xml(h.execPath)}</string>
    <string>daemon</string>
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>PHANTOM_HOME</key>
    <string>${xml(h.phantomHome)}</string>
    <key>PHANTOM_PASSWORD_FILE</key>
    <string>${xml(h.passwordFile)}</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>Umask</key>
  <integer>63</integer>
  <key>StandardErrorPath</key>
  <string>${xml(join(h.home, "Library", "Logs", "phantom-daemon.log"))}</string>
</dict>
</plist>
`;
  }
  return `[Unit]
Description=Phantom daemon: end-to-end encrypted messaging, unlocked once (phantom daemon)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${systemdQuote(h.execPath, true)} daemon
Environment=${systemdQuote(`PHANTOM_HOME=${h.phantomHome}`)}
Environment=${systemdQuote(`PHANTOM_PASSWORD_FILE=${h.passwordFile}`)}
Restart=on-failure
RestartSec=10
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=default.target
`;
}

/** What to run once the file is written. */
export function serviceNextSteps(h: ServiceHost, file: string): string[] {
  const q = `'${file.replace(/'/g, "'\\''")}'`;
  if (h.platform === "darwin") return [`launchctl load -w ${q}`, `and to stop it: launchctl unload -w ${q}`];
  return [
    "systemctl --user daemon-reload",
    `systemctl --user enable --now ${SYSTEMD_UNIT}`,
    `journalctl --user -u ${SYSTEMD_UNIT}   (its log)`,
    "loginctl enable-linger $USER   (to run it without a login session, e.g. on a server)",
  ];
}
