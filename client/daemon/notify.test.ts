// Desktop notifications: the command line per platform (notify-send, osascript, none), peers'
// text cleaned to one line and cut, markup shown as text for notify-send, AppleScript quoting;
// and the notifier run against a stand-in notify-send: its argv, the few variables it gets
// (never PHANTOM_PASSWORD), at most 4 at once, a failure said once.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../tests/helpers/relay.ts";
import { desktopNotifier, notifyCommand } from "./notify.ts";

const root = tempDir("phantom-notify-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const linux = (title: string, body: string | null) => notifyCommand("linux", title, body)!;
const bodyOf = (title: string, body: string | null) => linux(title, body)[4];
const mac = (title: string, body: string | null) => notifyCommand("darwin", title, body)!;

test("linux and the BSDs: notify-send --app-name=Phantom -- TITLE BODY; no body is 'new message'", () => {
  expect(linux("Phantom: bob", "hello")).toEqual(["notify-send", "--app-name=Phantom", "--", "Phantom: bob", "hello"]);
  expect(linux("Phantom: bob", null)).toEqual([
    "notify-send",
    "--app-name=Phantom",
    "--",
    "Phantom: bob",
    "new message",
  ]);
  expect(notifyCommand("freebsd", "t", "b")).toEqual(linux("t", "b"));
  expect(notifyCommand("openbsd", "t", "b")).toEqual(linux("t", "b"));
  // A title or body that looks like an option stays an operand (after --).
  expect(linux("--urgency=critical", "-t 0")).toEqual([
    "notify-send",
    "--app-name=Phantom",
    "--",
    "--urgency=critical",
    "-t 0",
  ]);
});

test("macOS: one osascript -e line; no body is 'new message'; elsewhere there is no command", () => {
  expect(mac("Phantom: bob", "hello")).toEqual([
    "osascript",
    "-e",
    'display notification "hello" with title "Phantom: bob"',
  ]);
  expect(mac("Phantom: bob", null)).toEqual([
    "osascript",
    "-e",
    'display notification "new message" with title "Phantom: bob"',
  ]);
  for (const p of ["win32", "aix", "sunos", "android", "cygwin"] as NodeJS.Platform[]) {
    expect(notifyCommand(p, "t", "b")).toBeNull();
    expect(notifyCommand(p, "t", null)).toBeNull();
  }
});

test("control characters, bidi marks and line breaks never reach the notification: one line, '?' in their place", () => {
  expect(bodyOf("t", "a\x1b[31mred\x07\nnext\ttab")).toBe("a?[31mred? next tab");
  expect(bodyOf("t", "line one\r\nline two\rthree")).toBe("line one line two three");
  expect(bodyOf("t", "\u202egnp.exe")).toBe("?gnp.exe");
  expect(bodyOf("t", "8-bit CSI \u009b2J")).toBe("8-bit CSI ?2J");
  expect(bodyOf("t", "para\u2028graph\u2029end")).toBe("para graph end");
  expect(bodyOf("t", "  \n  spaced   out \n ")).toBe("spaced out");
  expect(bodyOf("t", "\x00\x7f")).toBe("??");
  expect(linux("Phantom: \x1b]0;evil\x07bob\n", null)[3]).toBe("Phantom: ?]0;evil?bob");
  for (const argv of [linux("a\nb\x1bc", "d\ne\x1bf"), mac("a\nb\x1bc", "d\ne\x1bf")]) {
    for (const arg of argv) expect(arg).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  }
  // Emoji and joiners are text.
  expect(bodyOf("t", "👻 👩‍👩‍👧")).toBe("👻 👩‍👩‍👧");
});

test("notify-send: the body's markup is shown as text (& < > escaped, after cutting)", () => {
  expect(bodyOf("t", "<b>bold</b> & <a href='x'>link</a>")).toBe(
    "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href='x'&gt;link&lt;/a&gt;",
  );
  expect(bodyOf("t", "&amp;")).toBe("&amp;amp;");
  // Cut to 200 characters first, then escaped: no entity is cut in half.
  expect(bodyOf("t", "&".repeat(300))).toBe("&amp;".repeat(200));
  // macOS shows plain text: nothing escaped.
  expect(mac("t", "<b>&</b>")[2]).toBe('display notification "<b>&</b>" with title "t"');
});

test("lengths: the title is cut to 100 characters, the body to 200", () => {
  const argv = linux("T".repeat(150), "b".repeat(300));
  expect(argv[3]).toBe("T".repeat(100));
  expect(argv[4]).toBe("b".repeat(200));
  expect(linux("T".repeat(100), "b".repeat(200)).slice(3)).toEqual(["T".repeat(100), "b".repeat(200)]);
  // Cut after cleaning: 150 escape characters are 150 "?", cut to 100.
  expect(linux("\x1b".repeat(150), null)[3]).toBe("?".repeat(100));
});

test("AppleScript: quotes and backslashes are escaped inside the string literals", () => {
  expect(mac('say "hi"', 'he said "run" \\o/')[2]).toBe(
    'display notification "he said \\"run\\" \\\\o/" with title "say \\"hi\\""',
  );
  // A body trying to end the literal and run a command stays inside it.
  const script = mac("t", '" & (do shell script "id") & "')[2]!;
  expect(script).toBe('display notification "\\" & (do shell script \\"id\\") & \\"" with title "t"');
  // Every quote inside the literals is escaped: unescaped quotes are only the four delimiters.
  expect(script.replace(/\\\\/g, "").replace(/\\"/g, "").split('"').length - 1).toBe(4);
  // A trailing backslash cannot escape the closing quote.
  expect(mac("t", "c:\\")[2]).toBe('display notification "c:\\\\" with title "t"');
});

let fakes = 0;

/** A stand-in notify-send in a new folder: writes its argv and environment, sleeps, exits with `code`. */
function fakeNotifySend(code = 0, sleep = 0): { bin: string; out: string } {
  const dir = join(root, `bin-${++fakes}`);
  const out = join(root, `out-${fakes}`);
  mkdirSync(dir);
  mkdirSync(out);
  const script = `#!/bin/sh
printf '%s\\n' "$@" > "${out}/args.$$"
env > "${out}/env.$$"
sleep ${sleep}
: > "${out}/done.$$"
exit ${code}
`;
  writeFileSync(join(dir, "notify-send"), script);
  chmodSync(join(dir, "notify-send"), 0o755);
  return { bin: dir, out };
}

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const runs = (out: string, kind: "args" | "done") => readdirSync(out).filter((f) => f.startsWith(`${kind}.`));

test("desktopNotifier: none where there is no command; on linux it runs notify-send with only a desktop's variables", async () => {
  expect(desktopNotifier("win32", {}, () => {})).toBeUndefined();
  const { bin, out } = fakeNotifySend();
  const log: string[] = [];
  const notify = desktopNotifier(
    "linux",
    {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: "/home/ann",
      DISPLAY: ":0",
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus",
      XDG_RUNTIME_DIR: "/run/user/1000",
      PHANTOM_PASSWORD: "hunter2-password",
      PHANTOM_PASSWORD_FILE: "/home/ann/.pw",
      PHANTOM_HOME: "/home/ann/.phantom",
      AWS_SECRET_ACCESS_KEY: "aws-secret",
    },
    (l) => log.push(l),
  )!;
  notify("Phantom: bob", "<i>hi</i>\x1b[2J");
  await until("the notification", () => runs(out, "done").length === 1);
  const [args] = runs(out, "args");
  expect(readFileSync(join(out, args!), "utf8")).toBe(
    "--app-name=Phantom\n--\nPhantom: bob\n&lt;i&gt;hi&lt;/i&gt;?[2J\n",
  );
  const env = readFileSync(join(out, args!.replace("args", "env")), "utf8");
  expect(env).toContain("DISPLAY=:0\n");
  expect(env).toContain("HOME=/home/ann\n");
  expect(env).toContain("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus\n");
  expect(env).toContain("XDG_RUNTIME_DIR=/run/user/1000\n");
  for (const never of ["PHANTOM_PASSWORD", "PHANTOM_HOME", "hunter2-password", "AWS_SECRET", "aws-secret"]) {
    expect(env).not.toContain(never);
  }
  expect(log).toEqual([]);
});

test("desktopNotifier: at most 4 run at once, the rest are dropped; a place frees when one ends", async () => {
  const { bin, out } = fakeNotifySend(0, 1);
  const notify = desktopNotifier("linux", { PATH: `${bin}:/usr/bin:/bin` }, () => {})!;
  for (let i = 0; i < 7; i++) notify(`t${i}`, null);
  await until("4 notifications to end", () => runs(out, "done").length === 4);
  expect(runs(out, "args").length).toBe(4);
  const titles = runs(out, "args")
    .map((f) => readFileSync(join(out, f), "utf8").split("\n")[2])
    .sort();
  expect(titles).toEqual(["t0", "t1", "t2", "t3"]);
  // Once they have ended (the notifier hears of it a moment later), another one runs.
  await until("a fifth notification", () => {
    if (runs(out, "args").length > 4) return true;
    notify("t-late", null);
    return false;
  });
}, 20_000);

test("desktopNotifier: a command that fails is said once in the log; a missing one too", async () => {
  const { bin, out } = fakeNotifySend(3);
  const log: string[] = [];
  const notify = desktopNotifier("linux", { PATH: `${bin}:/usr/bin:/bin` }, (l) => log.push(l))!;
  notify("a", null);
  notify("b", null);
  await until("both to end", () => runs(out, "done").length === 2);
  await until("the log line", () => log.length > 0);
  await Bun.sleep(100);
  expect(log).toEqual(["notifications: notify-send exited with 3"]);

  const empty = join(root, "empty-bin");
  mkdirSync(empty);
  const missingLog: string[] = [];
  const missing = desktopNotifier("linux", { PATH: empty }, (l) => missingLog.push(l))!;
  missing("a", null);
  missing("b", null);
  expect(missingLog).toEqual(["notifications: notify-send could not be started (is it installed?)"]);
  expect(existsSync(join(empty, "notify-send"))).toBe(false);
});
