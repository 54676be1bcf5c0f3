// A select prompt (clack's SelectPrompt with our own frame) whose labels can be
// refreshed while it is on screen: the unread counts of the menu. A refresh
// re-renders only the lines that changed, through clack's own diffing renderer,
// and keeps the highlighted entry, so nothing the user does is disturbed. Art (the
// mascot) can stand beside the options.
import { Writable } from "node:stream";
import { SelectPrompt } from "@clack/core";
import {
  S_BAR,
  S_BAR_END,
  S_RADIO_ACTIVE,
  S_RADIO_INACTIVE,
  S_STEP_ACTIVE,
  S_STEP_CANCEL,
  S_STEP_SUBMIT,
} from "@clack/prompts";
import { padEnd, sideBySide, stripAnsi, truncate, width } from "./term.ts";
import type { Theme } from "./themes.ts";

export interface LiveOption<T> {
  value: T;
  label: string;
  hint?: string;
  danger?: boolean;
}

export interface LiveView<T> {
  message: string;
  options: LiveOption<T>[];
  /** A line under the title (e.g. "alice wrote"), or "" for none. */
  notice?: string;
}

export interface LiveSelectOptions<T> extends LiveView<T> {
  theme: Theme;
  initialValue?: T;
  /** Lines drawn to the right of the options when the terminal is wide enough. */
  side?: string[];
  /** Called every `refreshMs` while the prompt is shown; null means nothing changed. */
  refresh?: () => Promise<LiveView<T> | null>;
  refreshMs?: number;
  footer?: string;
  /** Whether up from the first option goes to the last and down from the last to the first (default true). */
  wrap?: boolean;
}

/** stdout seen through a stream of our own, so that we can ask clack to redraw. */
class PromptOutput extends Writable {
  constructor(private readonly target: NodeJS.WriteStream) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.target.write(chunk, cb);
  }
  get columns(): number {
    return this.target.columns ?? 80;
  }
  get rows(): number {
    return this.target.rows ?? 24;
  }
  get isTTY(): boolean {
    return this.target.isTTY === true;
  }
}

/** Show the menu; resolves with the chosen value, or null on Esc / Ctrl-C. */
export async function liveSelect<T>(o: LiveSelectOptions<T>): Promise<T | null> {
  const t = o.theme;
  const out = new PromptOutput(process.stdout);
  const view: LiveView<T> = { message: o.message, options: o.options, notice: o.notice ?? "" };
  const onResize = (): void => void out.emit("resize");
  process.stdout.on("resize", onResize);

  const prompt = new SelectPrompt<LiveOption<T>>({
    options: view.options,
    initialValue: o.initialValue,
    output: out,
    render(this: SelectPrompt<LiveOption<T>>) {
      const chosen = view.options[this.cursor];
      if (this.state === "submit") return `${t.dim(S_STEP_SUBMIT)}  ${view.message}  ${t.dim(chosen?.label ?? "")}`;
      if (this.state === "cancel") return `${t.dim(S_STEP_CANCEL)}  ${t.dim(view.message)}`;
      const bar = t.accent(S_BAR);
      const rows = view.options.map((opt, i) => {
        const active = i === this.cursor;
        const paint = opt.danger ? t.danger : active ? t.accent : (s: string) => s;
        const radio = active ? paint(S_RADIO_ACTIVE) : t.dim(S_RADIO_INACTIVE);
        const label = active || opt.danger ? paint(opt.label) : opt.label;
        const hint = opt.hint ? `  ${t.dim(opt.hint)}` : "";
        return `${radio} ${label}${hint}`;
      });
      const cols = out.columns;
      const side = o.side ?? [];
      // The art stays at a fixed column while labels change length.
      const optW = Math.max(32, ...rows.map(width));
      const body =
        side.length > 0 && optW + 3 + 4 + Math.max(...side.map(width)) < cols
          ? sideBySide(
              rows.map((r) => padEnd(r, optW)),
              side.map(t.dim),
              4,
            )
          : rows;
      const lines = [`${t.accent(S_STEP_ACTIVE)}  ${t.bold(view.message)}`];
      // With refreshes the notice line is always there, so lines do not jump.
      const notice = view.notice ? truncate(stripAnsi(view.notice), cols - 4) : "";
      const painted = notice === stripAnsi(view.notice ?? "") ? view.notice : notice; // cut text loses its colour
      if (view.notice || o.refresh) lines.push(notice ? `${bar}  ${painted}` : bar);
      for (const row of body) lines.push(`${bar}  ${row}`);
      lines.push(`${t.accent(S_BAR_END)}  ${t.dim(o.footer ?? "↑/↓ choose · enter open · esc back")}`);
      return lines.join("\n");
    },
  });

  // The highlighted option before the key being handled (kept in step by refreshes too).
  let at = prompt.cursor;
  if (o.wrap === false) {
    // clack's select always wraps; this listener runs after its own and undoes a wrap.
    prompt.on("cursor", (action) => {
      const last = view.options.length - 1;
      if ((action === "up" || action === "left") && at === 0) prompt.cursor = 0;
      if ((action === "down" || action === "right") && at === last) prompt.cursor = last;
      prompt.value = view.options[prompt.cursor]?.value;
      at = prompt.cursor;
    });
  }

  let timer: ReturnType<typeof setInterval> | null = null;
  let busy = false;
  if (o.refresh) {
    const refresh = o.refresh;
    timer = setInterval(() => {
      if (busy || prompt.state === "submit" || prompt.state === "cancel") return;
      busy = true;
      refresh()
        .then((next) => {
          if (!next || prompt.state === "submit" || prompt.state === "cancel") return;
          const current = view.options[prompt.cursor]?.value;
          view.message = next.message;
          view.notice = next.notice ?? "";
          view.options = next.options;
          prompt.options = next.options;
          const idx = next.options.findIndex((x) => x.value === current);
          prompt.cursor = idx >= 0 ? idx : Math.min(prompt.cursor, next.options.length - 1);
          at = prompt.cursor;
          out.emit("resize"); // clack redraws the changed lines only
        })
        .catch(() => {}) // a failed refresh keeps the old counts; the next one retries
        .finally(() => {
          busy = false;
        });
    }, o.refreshMs ?? 5000);
  }

  try {
    const result = await prompt.prompt();
    if (typeof result === "symbol" || result === undefined) return null;
    return prompt.state === "submit" ? (view.options[prompt.cursor]?.value ?? null) : null;
  } finally {
    if (timer) clearInterval(timer);
    process.stdout.off("resize", onResize);
  }
}
