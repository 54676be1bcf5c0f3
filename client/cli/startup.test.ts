// The login entries of `phantom startup`, per platform: where they go, what they say (quoting of
// odd paths, PHANTOM_HOME carried), and enable → status → disable on a temp home.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  desktopExecArg,
  disableStartup,
  enableStartup,
  startupContent,
  startupFile,
  startupStatus,
  type StartupHost,
} from "./startup.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const host = (platform: NodeJS.Platform, o: Partial<StartupHost> = {}): StartupHost => ({
  platform,
  home: "/home/ann",
  env: {},
  execPath: "/home/ann/.local/bin/phantom",
  ...o,
});

test("each platform's file: XDG autostart, LaunchAgent, Startup folder", () => {
  expect(startupFile(host("linux"))).toBe("/home/ann/.config/autostart/phantom.desktop");
  expect(startupFile(host("linux", { env: { XDG_CONFIG_HOME: "/cfg" } }))).toBe("/cfg/autostart/phantom.desktop");
  expect(startupFile(host("darwin"))).toBe("/home/ann/Library/LaunchAgents/org.phantom.client.plist");
  expect(
    startupFile(host("win32", { home: "C:\\Users\\ann", env: { APPDATA: "C:\\Users\\ann\\AppData\\Roaming" } })),
  ).toBe(
    join(
      "C:\\Users\\ann\\AppData\\Roaming",
      "Microsoft",
      "Windows",
      "Start Menu",
      "Programs",
      "Startup",
      "phantom.cmd",
    ),
  );
});

test("Exec arguments are quoted as the Desktop Entry Specification says", () => {
  expect(desktopExecArg("/usr/bin/phantom")).toBe("/usr/bin/phantom");
  expect(desktopExecArg("/opt/my apps/phantom")).toBe('"/opt/my apps/phantom"');
  // A literal " or $ is backslash-escaped inside the quotes, and that backslash escaped again as a
  // string value; % is doubled (field codes).
  expect(desktopExecArg('/a"b$c')).toBe('"/a\\\\"b\\\\$c"');
  expect(desktopExecArg("/x/100%/p")).toBe('"/x/100%%/p"');
});

test("the entries start the installed binary in a terminal, with PHANTOM_HOME when it was set", () => {
  const linux = startupContent(host("linux", { phantomHome: "/data/my phantom" }));
  expect(linux).toContain('Exec=env "PHANTOM_HOME=/data/my phantom" /home/ann/.local/bin/phantom\n');
  expect(linux).toContain("Terminal=true\n");
  expect(startupContent(host("linux"))).toContain("Exec=/home/ann/.local/bin/phantom\n");
  const mac = startupContent(host("darwin", { execPath: "/Users/ann/bin/a&b" }));
  expect(mac).toContain("<string>Terminal</string>\n    <string>/Users/ann/bin/a&amp;b</string>");
  expect(mac).toContain("<key>RunAtLoad</key>\n  <true/>");
  const win = startupContent(host("win32", { execPath: "C:\\P\\phantom.exe", phantomHome: "D:\\ph" }));
  expect(win).toBe(
    '@echo off\r\nrem Phantom at login (phantom startup disable removes this file)\r\nset "PHANTOM_HOME=D:\\ph"\r\nstart "Phantom" "C:\\P\\phantom.exe"\r\n',
  );
});

test("enable, status and disable on a real folder", () => {
  const h = host("linux", { home: dir, env: {} });
  expect(startupStatus(h).enabled).toBe(false);
  const file = enableStartup(h);
  expect(file).toBe(join(dir, ".config/autostart/phantom.desktop"));
  expect(readFileSync(file, "utf8")).toBe(startupContent(h));
  // 0644 less the umask (an in-process relay of another test sets 077): never writable by others.
  expect(statSync(file).mode & 0o622).toBe(0o600);
  expect(startupStatus(h)).toEqual({ enabled: true, file });
  enableStartup(h); // again: the same file, replaced
  expect(disableStartup(h)).toEqual({ file, removed: true });
  expect(disableStartup(h)).toEqual({ file, removed: false });
  expect(startupStatus(h).enabled).toBe(false);
});
