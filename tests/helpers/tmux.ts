// Test helper: drive programs in a real terminal with tmux. Each test file uses its
// own tmux server (`tmux -L <socket>`), killed in afterAll. No fixed sleeps: every
// wait polls capture-pane until the expected text shows, with a deadline.
import { rmSync } from "node:fs";
import { PASSWORD } from "./cli.ts";
import { tail } from "./deadline.ts";
import { startRelay, tempDir, type RunningRelay } from "./relay.ts";

export interface PaneOptions {
  cols?: number;
  rows?: number;
  env?: Record<string, string>;
  cwd?: string;
}

function run(args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Quote one word for /bin/sh. */
function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export const EXIT_MARK = "__EXIT__";

export class Tmux {
  readonly socket: string;

  constructor(name: string) {
    this.socket = `phantom-${name}-${process.pid}`;
  }

  private tmux(...args: string[]): string {
    const r = run(["-L", this.socket, "-f", "/dev/null", ...args]);
    if (r.code !== 0) throw new Error(`tmux ${args.join(" ")} failed: ${r.err.trim()}`);
    return r.out;
  }

  /**
   * Start `argv` in a new window of a fixed size. When it exits, the pane prints
   * `__EXIT__ <code>` and stays open so the last screen can still be read.
   */
  start(name: string, argv: string[], o: PaneOptions = {}): Pane {
    const env = { TERM: "xterm-256color", LANG: "C.UTF-8", ...o.env };
    const assigns = Object.entries(env).map(([k, v]) => sh(`${k}=${v}`));
    const cmd = `env -i ${assigns.join(" ")} ${argv.map(sh).join(" ")}; echo "${EXIT_MARK} $?"; exec sleep 100000`;
    this.tmux(
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(o.cols ?? 100),
      "-y",
      String(o.rows ?? 40),
      ...(o.cwd ? ["-c", o.cwd] : []),
      "sh",
      "-c",
      cmd,
    );
    // The server may inherit a different size: force the one asked for.
    this.tmux("resize-window", "-t", name, "-x", String(o.cols ?? 100), "-y", String(o.rows ?? 40));
    return new Pane(this, name);
  }

  /** @internal */ exec(...args: string[]): string {
    return this.tmux(...args);
  }

  kill(): void {
    run(["-L", this.socket, "kill-server"]);
  }
}

/**
 * What each tmux test file sets up: its own tmux server, a temporary folder for the
 * users' homes, and relays. The file calls start() in beforeAll (the file's shared relay)
 * or relay() in each test that needs a relay of its own, and stop() in afterAll.
 */
export class TmuxSuite {
  readonly tmux: Tmux;
  readonly root: string;
  private readonly relays: RunningRelay[] = [];

  constructor(name: string) {
    this.tmux = new Tmux(name);
    this.root = tempDir(`phantom-tmux-${name}-`);
  }

  /** Start the file's relay (dist/phantom-relay on an ephemeral port). */
  async start(): Promise<RunningRelay> {
    return await this.relay();
  }

  /** Start one more relay, stopped with the others by stop(): a test's own, so that no state is shared. */
  async relay(): Promise<RunningRelay> {
    const relay = await startRelay();
    this.relays.push(relay);
    return relay;
  }

  /** Kill the tmux server, stop the relays and remove their data, remove the homes. */
  async stop(): Promise<void> {
    this.tmux.kill();
    for (const relay of this.relays) {
      await relay.stop();
      relay.cleanup();
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

export class Pane {
  constructor(
    private readonly t: Tmux,
    readonly name: string,
  ) {}

  /** Keys by tmux name (Enter, Escape, Up, C-c, BSpace…). */
  keys(...keys: string[]): void {
    this.t.exec("send-keys", "-t", this.name, ...keys);
  }

  /** Literal text, typed as is (no key names). */
  type(text: string): void {
    this.t.exec("send-keys", "-t", this.name, "-l", text);
  }

  /** The visible screen; with `history`, the scrollback too. Trailing spaces trimmed. */
  screen(o: { history?: boolean; escapes?: boolean } = {}): string {
    const args = ["capture-pane", "-p", "-t", this.name];
    if (o.history) args.push("-S", "-");
    if (o.escapes) args.push("-e");
    return this.t
      .exec(...args)
      .split("\n")
      .map((l) => l.replace(/\s+$/, ""))
      .join("\n")
      .replace(/\n+$/, "");
  }

  /** The line the cursor is on, and the cursor column. */
  cursor(): { x: number; y: number; line: string } {
    const [x, y] = this.t.exec("display-message", "-p", "-t", this.name, "#{cursor_x} #{cursor_y}").trim().split(" ");
    const lines = this.t.exec("capture-pane", "-p", "-t", this.name).split("\n");
    return { x: Number(x), y: Number(y), line: (lines[Number(y)] ?? "").replace(/\s+$/, "") };
  }

  /**
   * Poll until `what` is on screen (string or RegExp, or a predicate on the screen);
   * returns the screen. Throws with the last screen after the deadline.
   */
  async waitFor(
    what: string | RegExp | ((screen: string) => boolean),
    o: { timeoutMs?: number; history?: boolean } = {},
  ): Promise<string> {
    const deadline = Date.now() + (o.timeoutMs ?? 15_000);
    const test =
      typeof what === "function"
        ? what
        : typeof what === "string"
          ? (s: string) => s.includes(what)
          : (s: string) => what.test(s);
    let screen = "";
    for (;;) {
      screen = this.screen({ history: o.history });
      if (test(screen)) return screen;
      if (Date.now() > deadline) {
        const ms = o.timeoutMs ?? 15_000;
        throw new Error(
          `no ${typeof what === "function" ? "expected screen" : JSON.stringify(String(what))} in pane ${this.name} after ${ms / 1000} s; pane shows:\n${tail(screen, 25)}`,
        );
      }
      await Bun.sleep(40);
    }
  }

  /** Wait for the program to end; returns its exit code. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    const re = new RegExp(`${EXIT_MARK} (\\d+)`);
    const screen = await this.waitFor(re, { timeoutMs, history: true });
    return Number(re.exec(screen)![1]);
  }
}

/** The option lines of the select prompt lowest on the screen: [label text, active]. */
export function selectOptions(screen: string): { text: string; active: boolean }[] {
  const lines = screen.split("\n");
  const block: { text: string; active: boolean }[] = [];
  let i = lines.length - 1;
  const re = /^│\s+([●○])\s(.*)$/;
  while (i >= 0 && !re.test(lines[i]!)) i--;
  for (; i >= 0; i--) {
    const m = re.exec(lines[i]!);
    if (!m) break;
    block.unshift({ text: m[2]!, active: m[1] === "●" });
  }
  return block;
}

/** In the select prompt on screen, move to the option containing `label` and press Enter. */
export async function choose(pane: Pane, label: string, timeoutMs = 15_000): Promise<void> {
  let opts: { text: string; active: boolean }[] = [];
  await pane.waitFor(
    (s) => {
      opts = selectOptions(s);
      return opts.some((o) => o.text.includes(label)) && opts.some((o) => o.active);
    },
    { timeoutMs },
  );
  const from = opts.findIndex((o) => o.active);
  const to = opts.findIndex((o) => o.text.includes(label));
  if (to !== from) pane.keys(...Array<string>(Math.abs(to - from)).fill(to > from ? "Down" : "Up"));
  await pane.waitFor(
    (s) =>
      selectOptions(s)
        .find((o) => o.active)
        ?.text.includes(label) === true,
    { timeoutMs },
  );
  pane.keys("Enter");
}

/** Answer the unlock prompt: wait for "Password", type the test users' password, Enter. */
export async function enterPassword(pane: Pane): Promise<void> {
  await pane.waitFor("Password");
  pane.type(PASSWORD);
  pane.keys("Enter");
}

/** Occurrences of `text` in `screen`. */
export function count(screen: string, text: string): number {
  return screen.split(text).length - 1;
}
