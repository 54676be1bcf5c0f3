// Settings from the menu: theme (and the custom colours), mascot, message of the
// day, the no-Tor warning. The same changes as `phantom settings …`, saved the same way.
import * as p from "@clack/prompts";
import { applySetting, type SettingKey } from "../core/settings.ts";
import { colorSpec, DEFAULT_CUSTOM, MASCOTS, MOTDS, THEMES, type Settings } from "../state/settings.ts";
import { mascot } from "./mascots.ts";
import { MOTD_LISTS } from "./motd.ts";
import { errorText, themeFor, type Ui } from "./ui.ts";

type Entry = "theme" | "mascot" | "motd" | "tor" | "back";

function apply(ui: Ui, key: SettingKey, values: string[]): void {
  const s: Settings = applySetting(ui.home, key, values);
  ui.settings = s;
  ui.theme = themeFor(s, ui.config.color);
}

/** One of `values` (labelled by themselves), starting at the current one; null on Esc. */
async function pickOne<T extends string>(
  message: string,
  current: T,
  values: readonly T[],
  hint: (v: T) => string | undefined = () => undefined,
): Promise<T | null> {
  // clack's Option<T> is a conditional type, which TypeScript cannot resolve for a generic T.
  const options = values.map((value) => ({ value, label: value, hint: hint(value) })) as unknown as p.Option<T>[];
  const v = await p.select<T>({ message, initialValue: current, options });
  return p.isCancel(v) ? null : v;
}

async function chooseTheme(ui: Ui): Promise<void> {
  const theme = await pickOne("Theme", ui.settings.theme, THEMES, (v) =>
    v === "custom" ? "your own colours" : undefined,
  );
  if (theme === null) return;
  if (theme === "custom") {
    const current = ui.settings.customTheme ?? DEFAULT_CUSTOM;
    for (const slot of ["accent", "dim", "mine", "peer"] as const) {
      const v = await p.text({
        message: `Colour for ${slot} (name like cyan, brightgreen, or #rrggbb)`,
        initialValue: current[slot],
        validate: (x) => {
          try {
            colorSpec(x ?? "");
            return undefined;
          } catch (e) {
            return errorText(e);
          }
        },
      });
      if (p.isCancel(v)) return;
      apply(ui, "color", [slot, v]);
    }
  }
  apply(ui, "theme", [theme]);
  const t = ui.theme;
  p.log.success(`Theme ${theme}: ${t.accent("accent")} ${t.dim("dim")} ${t.mine("you")} ${t.peer("peer")}`);
}

async function chooseMascot(ui: Ui): Promise<void> {
  const m = await pickOne("Mascot beside the menu", ui.settings.mascot, MASCOTS);
  if (m === null) return;
  apply(ui, "mascot", [m]);
  if (m !== "none") p.note(mascot(m).join("\n"), m);
  else p.log.success("No mascot.");
}

async function chooseMotd(ui: Ui): Promise<void> {
  const kind = await pickOne("Message of the day", ui.settings.motd, MOTDS, (k) =>
    k === "off" ? "none" : k === "custom" ? "your own lines" : MOTD_LISTS[k][0],
  );
  if (kind === null) return;
  if (kind === "custom") {
    const lines = ui.settings.motdCustom;
    if (lines.length > 0) p.note(lines.join("\n"), "Your lines");
    const what = await p.select({
      message: "Custom lines",
      options: [
        { value: "add", label: "Add a line" },
        { value: "clear", label: "Remove all lines", hint: `${lines.length} now` },
        { value: "keep", label: "Keep them" },
      ],
    });
    if (p.isCancel(what)) return;
    if (what === "add") {
      const line = await p.text({ message: "New line", validate: (v) => (v?.trim() ? undefined : "Type something") });
      if (p.isCancel(line)) return;
      apply(ui, "motd-add", [line]);
    } else if (what === "clear") apply(ui, "motd-clear", []);
  }
  apply(ui, "motd", [kind]);
  p.log.success(`Message of the day: ${kind}`);
}

async function chooseTorWarning(ui: Ui): Promise<void> {
  const on = await p.confirm({
    message: "Warn before connecting to a relay without Tor (your IP visible)?",
    initialValue: ui.settings.torWarning,
  });
  if (p.isCancel(on)) return;
  apply(ui, "tor-warning", [on ? "on" : "off"]);
  p.log.success(`No-Tor warning ${on ? "on" : "off"}.`);
}

export async function runSettings(ui: Ui): Promise<void> {
  for (;;) {
    const s = ui.settings;
    const entry = await p.select<Entry>({
      message: "Settings",
      options: [
        { value: "theme", label: "Theme", hint: s.theme },
        { value: "mascot", label: "Mascot", hint: s.mascot },
        { value: "motd", label: "Message of the day", hint: s.motd },
        { value: "tor", label: "No-Tor warning", hint: s.torWarning ? "on" : "off" },
        { value: "back", label: "Back" },
      ],
    });
    if (p.isCancel(entry) || entry === "back") return;
    try {
      if (entry === "theme") await chooseTheme(ui);
      else if (entry === "mascot") await chooseMascot(ui);
      else if (entry === "motd") await chooseMotd(ui);
      else await chooseTorWarning(ui);
    } catch (e) {
      p.log.error(errorText(e));
    }
  }
}
