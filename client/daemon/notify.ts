// Desktop notifications of `phantom daemon` (setting `notify`, off by default): notify-send on
// Linux, osascript on macOS. The title names the sender (nickname, else the UID's start); the
// text is shown only with `notify-preview on`. Run without a shell, with only the variables a
// desktop session needs (never PHANTOM_PASSWORD), and never more than a few at once.

import { cleanText, oneLine } from "../text/sanitise.ts";

/** Notifications waiting or running at once; more are dropped (a flood is not worth a fork each). */
const MAX_RUNNING = 4;
const PREVIEW_CHARS = 200;
const KEEP_ENV = ["PATH", "HOME", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "LANG"];

/** AppleScript string literal. */
function appleString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** notify-send bodies take a little markup: peers' text is shown as text. */
function markupSafe(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The command line of one notification on this platform, or null where there is none. */
export function notifyCommand(platform: NodeJS.Platform, title: string, body: string | null): string[] | null {
  // Cut by code point: never half an emoji.
  const cut = (s: string, n: number) => Array.from(s).slice(0, n).join("");
  const t = markupSafe(cut(oneLine(cleanText(title)), 100));
  const b = body === null ? "new message" : cut(oneLine(cleanText(body)), PREVIEW_CHARS);
  if (platform === "linux" || platform === "freebsd" || platform === "openbsd") {
    return ["notify-send", "--app-name=Phantom", "--", t, markupSafe(b)];
  }
  if (platform === "darwin") {
    return ["osascript", "-e", `display notification ${appleString(b)} with title ${appleString(t)}`];
  }
  return null;
}

/** A notifier for this platform (undefined where there is none); failures are said once in the log. */
export function desktopNotifier(
  platform: NodeJS.Platform,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): ((title: string, body: string | null) => void) | undefined {
  if (notifyCommand(platform, "t", null) === null) return undefined;
  const childEnv: Record<string, string> = {};
  for (const k of KEEP_ENV) if (env[k] !== undefined) childEnv[k] = env[k]!;
  let running = 0;
  let warned = false;
  return (title, body) => {
    const argv = notifyCommand(platform, title, body)!;
    if (running >= MAX_RUNNING) return;
    running++;
    let proc;
    try {
      proc = Bun.spawn(argv, { env: childEnv, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    } catch {
      running--;
      if (!warned) log(`notifications: ${argv[0]} could not be started (is it installed?)`);
      warned = true;
      return;
    }
    void proc.exited.then((code) => {
      running--;
      if (code !== 0 && !warned) {
        warned = true;
        log(`notifications: ${argv[0]} exited with ${code}`);
      }
    });
  };
}
