// `phantom daemon --install-service`: where the systemd user unit and the LaunchAgent go, what
// they say (the exec path and the two variables quoted, systemd's % made literal, XML escaped),
// checked by systemd-analyze and Python's plistlib when they are here, and the next steps.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../tests/helpers/relay.ts";
import {
  LAUNCH_AGENT_DAEMON_ID,
  serviceContent,
  serviceFile,
  serviceNextSteps,
  SYSTEMD_UNIT,
  type ServiceHost,
} from "./service.ts";

const root = tempDir("phantom-service-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const host = (platform: NodeJS.Platform, o: Partial<ServiceHost> = {}): ServiceHost => ({
  platform,
  home: "/home/ann",
  execPath: "/home/ann/.local/bin/phantom",
  phantomHome: "/home/ann/.phantom",
  passwordFile: "/home/ann/.config/phantom/password",
  ...o,
});

const lines = (s: string) => s.split("\n");

test("where the file goes: the systemd user folder (XDG_CONFIG_HOME first), LaunchAgents; none elsewhere", () => {
  expect(SYSTEMD_UNIT).toBe("phantom-daemon.service");
  expect(LAUNCH_AGENT_DAEMON_ID).toBe("org.phantom.daemon");
  expect(serviceFile(host("linux"))).toBe("/home/ann/.config/systemd/user/phantom-daemon.service");
  expect(serviceFile(host("linux", { xdgConfigHome: "/cfg" }))).toBe("/cfg/systemd/user/phantom-daemon.service");
  expect(serviceFile(host("linux", { xdgConfigHome: "" }))).toBe(
    "/home/ann/.config/systemd/user/phantom-daemon.service",
  );
  expect(serviceFile(host("darwin"))).toBe("/home/ann/Library/LaunchAgents/org.phantom.daemon.plist");
  expect(serviceFile(host("darwin", { xdgConfigHome: "/cfg" }))).toBe(
    "/home/ann/Library/LaunchAgents/org.phantom.daemon.plist",
  );
  for (const p of ["win32", "freebsd", "openbsd", "aix"] as NodeJS.Platform[]) expect(serviceFile(host(p))).toBeNull();
});

test("the systemd unit: ExecStart with the exec path quoted, PHANTOM_HOME and PHANTOM_PASSWORD_FILE, restart on failure, umask 077", () => {
  const unit = serviceContent(host("linux"));
  const l = lines(unit);
  expect(l).toContain('ExecStart="/home/ann/.local/bin/phantom" daemon');
  expect(l).toContain('Environment="PHANTOM_HOME=/home/ann/.phantom"');
  expect(l).toContain('Environment="PHANTOM_PASSWORD_FILE=/home/ann/.config/phantom/password"');
  expect(l).toContain("Restart=on-failure");
  expect(l).toContain("UMask=0077");
  expect(l).toContain("NoNewPrivileges=yes");
  expect(l).toContain("WantedBy=default.target");
  expect(l.filter((x) => x.startsWith("["))).toEqual(["[Unit]", "[Service]", "[Install]"]);
  expect(l.indexOf("[Unit]")).toBeLessThan(l.indexOf("[Service]"));
  expect(l.indexOf("[Service]")).toBeLessThan(l.indexOf("[Install]"));
  expect(l.filter((x) => x.startsWith("ExecStart="))).toHaveLength(1);
  // Never the password itself: only where it is read from.
  expect(unit).not.toContain("PHANTOM_PASSWORD=");
  expect(unit.endsWith("\n")).toBe(true);
});

test("systemd quoting: spaces kept inside the quotes, % doubled (no specifier), quotes and backslashes escaped", () => {
  const unit = serviceContent(
    host("linux", {
      execPath: "/opt/My Apps/100% phantom/phantom",
      phantomHome: "/home/ann/50%h home",
      passwordFile: '/home/ann/a "quoted" \\ file',
    }),
  );
  const l = lines(unit);
  expect(l).toContain('ExecStart="/opt/My Apps/100%% phantom/phantom" daemon');
  expect(l).toContain('Environment="PHANTOM_HOME=/home/ann/50%%h home"');
  expect(l).toContain('Environment="PHANTOM_PASSWORD_FILE=/home/ann/a \\"quoted\\" \\\\ file"');
  // No single % is left anywhere in the values (%h would be the home folder, %% a literal %).
  for (const x of l.filter((y) => y.startsWith("ExecStart=") || y.startsWith("Environment="))) {
    expect(x.replace(/%%/g, "")).not.toContain("%");
  }
});

/** systemd-analyze, when it is on PATH and can verify a user unit here (it needs a runtime folder). */
function systemdAnalyze(): { run: (unit: string) => { ok: boolean; out: string } } | null {
  if (Bun.which("systemd-analyze") === null) return null;
  const runtime = join(root, "runtime");
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const run = (unitFile: string) => {
    const r = Bun.spawnSync(["systemd-analyze", "verify", "--user", unitFile], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, XDG_RUNTIME_DIR: runtime },
      stdout: "pipe",
      stderr: "pipe",
    });
    return { ok: r.exitCode === 0, out: `${r.stdout.toString()}${r.stderr.toString()}` };
  };
  // A unit known to be good, and one known to be bad: if it cannot tell them apart here, skip.
  const probe = join(root, "probe");
  mkdirSync(probe, { recursive: true });
  writeFileSync(join(probe, "good.service"), "[Service]\nExecStart=/bin/sh -c true\n");
  writeFileSync(join(probe, "bad.service"), "[Service]\nExecStart=/nonexistent/phantom-probe daemon\n");
  if (!run(join(probe, "good.service")).ok || run(join(probe, "bad.service")).ok) return null;
  return { run };
}
const analyze = systemdAnalyze();

test.skipIf(analyze === null)(
  "systemd-analyze verify --user takes the unit, with a space and a % in the exec path (skipped without it)",
  () => {
    const dir = join(root, "bin dir 100%h x");
    mkdirSync(dir, { recursive: true });
    const exec = join(dir, "phantom");
    writeFileSync(exec, "#!/bin/sh\nexit 0\n");
    chmodSync(exec, 0o755);
    const unitDir = join(root, "units");
    mkdirSync(unitDir, { recursive: true });
    const unitFile = join(unitDir, SYSTEMD_UNIT);
    const h = host("linux", {
      execPath: exec,
      phantomHome: join(root, "my home 50%"),
      passwordFile: join(root, "pw %n"),
    });
    writeFileSync(unitFile, serviceContent(h));
    const r = analyze!.run(unitFile);
    expect(r.out).toBe("");
    expect(r.ok).toBe(true);
    // The same unit with the % left single fails: the check sees what the quoting does.
    writeFileSync(unitFile, serviceContent(h).replace(/%%/g, "%"));
    expect(analyze!.run(unitFile).ok).toBe(false);
  },
);

test("the LaunchAgent: label, program and argument, both variables, run at load, kept alive on failure, umask 077, a log", () => {
  const plist = serviceContent(host("darwin"));
  expect(plist.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')).toBe(true);
  expect(plist).toContain("<key>Label</key>\n  <string>org.phantom.daemon</string>");
  expect(plist).toContain(
    "<key>ProgramArguments</key>\n  <array>\n    <string>/home/ann/.local/bin/phantom</string>\n    <string>daemon</string>\n  </array>",
  );
  expect(plist).toContain("<key>PHANTOM_HOME</key>\n    <string>/home/ann/.phantom</string>");
  expect(plist).toContain("<key>PHANTOM_PASSWORD_FILE</key>\n    <string>/home/ann/.config/phantom/password</string>");
  expect(plist).toContain("<key>RunAtLoad</key>\n  <true/>");
  expect(plist).toContain("<key>SuccessfulExit</key>\n    <false/>");
  expect(plist).toContain(`<key>Umask</key>\n  <integer>${0o077}</integer>`);
  expect(plist).toContain("<string>/home/ann/Library/Logs/phantom-daemon.log</string>");
  expect(plist).not.toContain("<key>PHANTOM_PASSWORD</key>");
});

test("the LaunchAgent escapes &, <, > and quotes in every path", () => {
  const plist = serviceContent(
    host("darwin", {
      home: "/Users/a&b",
      execPath: "/Apps/R&D <beta>/phantom",
      phantomHome: '/Users/a&b/"ph" <home>',
      passwordFile: "/Users/a&b/pw&<>",
    }),
  );
  expect(plist).toContain("<string>/Apps/R&amp;D &lt;beta&gt;/phantom</string>");
  expect(plist).toContain("<string>/Users/a&amp;b/&quot;ph&quot; &lt;home&gt;</string>");
  expect(plist).toContain("<string>/Users/a&amp;b/pw&amp;&lt;&gt;</string>");
  expect(plist).toContain("<string>/Users/a&amp;b/Library/Logs/phantom-daemon.log</string>");
  // Every & starts an entity; no < or > is left inside a <string>.
  expect(plist.replace(/&(amp|lt|gt|quot);/g, "")).not.toContain("&");
  for (const m of plist.matchAll(/<string>(.*?)<\/string>/g)) expect(m[1]).not.toMatch(/[<>]/);
});

const python = Bun.which("python3");

test.skipIf(python === null)(
  "Python's plistlib reads the LaunchAgent back to the very paths (skipped without python3)",
  () => {
    const h = host("darwin", {
      home: "/Users/ann & bob",
      execPath: "/Apps/R&D <beta> 100%/phantom",
      phantomHome: '/Users/ann & bob/"ph" home',
      passwordFile: "/Users/ann & bob/pw<>&'",
    });
    const r = Bun.spawnSync(
      [python!, "-c", "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"],
      { stdin: Buffer.from(serviceContent(h)), stdout: "pipe", stderr: "pipe" },
    );
    expect(r.stderr.toString()).toBe("");
    expect(JSON.parse(r.stdout.toString())).toEqual({
      Label: "org.phantom.daemon",
      ProgramArguments: [h.execPath, "daemon"],
      EnvironmentVariables: { PHANTOM_HOME: h.phantomHome, PHANTOM_PASSWORD_FILE: h.passwordFile },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 10,
      Umask: 0o077,
      StandardErrorPath: "/Users/ann & bob/Library/Logs/phantom-daemon.log",
    });
  },
);

test("the next steps: systemctl --user on linux, launchctl on macOS, naming the file", () => {
  const linux = serviceNextSteps(host("linux"), "/home/ann/.config/systemd/user/phantom-daemon.service");
  expect(linux[0]).toBe("systemctl --user daemon-reload");
  expect(linux[1]).toBe("systemctl --user enable --now phantom-daemon.service");
  expect(linux.some((s) => s.startsWith("journalctl --user -u phantom-daemon.service"))).toBe(true);
  expect(linux.some((s) => s.startsWith("loginctl enable-linger"))).toBe(true);
  // Quoted for the shell: a home folder with a space or a quote is pasted as it is.
  const file = "/Users/ann o'neil/Library/LaunchAgents/org.phantom.daemon.plist";
  const quoted = `'/Users/ann o'\\''neil/Library/LaunchAgents/org.phantom.daemon.plist'`;
  expect(serviceNextSteps(host("darwin"), file)).toEqual([
    `launchctl load -w ${quoted}`,
    `and to stop it: launchctl unload -w ${quoted}`,
  ]);
});
