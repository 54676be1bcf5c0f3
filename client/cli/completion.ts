// The shell completion scripts of `phantom completion <shell>`, generated from the program's
// definition (client/cli/spec.ts): commands, their options and the values of options and
// arguments that have a fixed list or are file names. UIDs and nicknames are not completed:
// that would read the contact book.
import type { OptionSpec, ProgramSpec, Values } from "./spec.ts";

const names = (opts: OptionSpec[]) => opts.flatMap((o) => [o.short, o.long].filter((n) => n !== undefined));
const valued = (opts: OptionSpec[]) => names(opts.filter((o) => o.takesValue));

/** bash: a word between single quotes. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bashValues(v: Values): string {
  if (v.kind === "choices") return `COMPREPLY=($(compgen -W ${shq(v.choices.join(" "))} -- "$cur"))`;
  if (v.kind === "file") return `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`;
  return "COMPREPLY=()";
}

export function bashCompletion(p: ProgramSpec): string {
  const fn = `_${p.name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const valueCases: string[] = [];
  const optCases: string[] = [];
  const argCases: string[] = [];
  const valuedCases: string[] = [];
  for (const c of p.commands) {
    optCases.push(`    ${shq(c.name)}) echo ${shq(names([...c.options, ...c.globals]).join(" "))} ;;`);
    valuedCases.push(`    ${shq(c.name)}) echo ${shq(valued([...c.options, ...c.globals]).join(" "))} ;;`);
    for (const o of c.options.filter((o) => o.takesValue && o.values.kind !== "none"))
      for (const n of names([o])) valueCases.push(`    ${shq(`${c.name} ${n}`)}) ${bashValues(o.values)} ;;`);
    c.arguments.forEach((a, i) => {
      if (a.values.kind === "none") return;
      const pattern = a.variadic ? `${shq(`${c.name} `)}*` : shq(`${c.name} ${i}`);
      argCases.push(`    ${pattern}) ${bashValues(a.values)} ;;`);
    });
  }
  for (const o of p.options.filter((o) => o.takesValue && o.values.kind !== "none"))
    for (const n of names([o])) valueCases.push(`    *' '${shq(n)}) ${bashValues(o.values)} ;;`);
  return `# bash completion for ${p.name}, generated from its command definitions (${p.name} completion bash)
${fn}_opts() {
  case $1 in
${optCases.join("\n")}
    *) echo ${shq(names(p.options).join(" "))} ;;
  esac
}
${fn}_valued() {
  case $1 in
${valuedCases.join("\n")}
    *) echo ${shq(valued(p.options).join(" "))} ;;
  esac
}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd= n=0 i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      [[ " $(${fn}_valued "$cmd") " == *" $w "* ]] && ((i++))
    elif [[ -z $cmd ]]; then
      cmd=$w
    else
      ((n++))
    fi
  done
  if [[ $prev == -* && " $(${fn}_valued "$cmd") " == *" $prev "* ]]; then
    case "$cmd $prev" in
${valueCases.join("\n")}
    *) COMPREPLY=() ;;
    esac
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_opts "$cmd")" -- "$cur"))
  elif [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W ${shq(p.commands.map((c) => c.name).join(" "))} -- "$cur"))
  else
    case "$cmd $n" in
${argCases.join("\n")}
    *) COMPREPLY=() ;;
    esac
  fi
  return 0
}
complete -F ${fn} ${p.name}
`;
}

/** zsh: text inside an _arguments spec (brackets and colons are its syntax), single-quoted. */
const zdesc = (s: string) =>
  s
    .replace(/\\/g, "\\\\")
    .replace(/([[\]:])/g, "\\$1")
    .replace(/'/g, `'\\''`);
/** zsh: text of a _describe entry (a colon ends its name), single-quoted. */
const zentry = (s: string) => s.replace(/\\/g, "\\\\").replace(/:/g, "\\:").replace(/'/g, `'\\''`);

function zshAction(v: Values): string {
  if (v.kind === "choices") return `(${v.choices.join(" ")})`;
  return v.kind === "file" ? "_files" : " ";
}

function zshOption(o: OptionSpec): string {
  const value = o.takesValue ? `:${zdesc(/<([^>]+)>/.exec(o.flags)?.[1] ?? "value")}:${zshAction(o.values)}` : "";
  const spec = `[${zdesc(o.description)}]${value}`;
  const both = o.short !== undefined && o.long !== undefined;
  return both ? `'(${o.short} ${o.long})'{${o.short},${o.long}}'${spec}'` : `'${o.short ?? o.long}${spec}'`;
}

export function zshCompletion(p: ProgramSpec): string {
  const fn = `_${p.name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const cases = p.commands.map((c) => {
    const args = c.arguments.map((a) => {
      const head = a.variadic ? "*" : a.required ? "" : ":";
      return `'${head}:${zdesc(a.name)}:${zshAction(a.values)}'`;
    });
    const specs = [...[...c.options, ...c.globals].map(zshOption), ...args];
    return `      ${c.name}) _arguments -s ${specs.join(" ")} ;;`;
  });
  return `#compdef ${p.name}
# zsh completion for ${p.name}, generated from its command definitions (${p.name} completion zsh)
${fn}() {
  local curcontext=$curcontext state line
  local -a commands
  commands=(
${p.commands.map((c) => `    '${zentry(c.name)}:${zentry(c.description)}'`).join("\n")}
  )
  _arguments -C -s ${p.options.map(zshOption).join(" ")} '1: :->command' '*:: :->args'
  case $state in
    command) _describe -t commands '${p.name} command' commands ;;
    args)
      case $words[1] in
${cases.join("\n")}
      esac
      ;;
  esac
}
if [[ $funcstack[1] == ${fn} ]]; then ${fn} "$@"; else compdef ${fn} ${p.name}; fi
`;
}

/** fish: a word between single quotes. */
const fishq = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

function fishOption(prog: string, cond: string, o: OptionSpec): string {
  const parts = [`complete -c ${prog}`, cond];
  if (o.short !== undefined) parts.push(`-s ${o.short.slice(1)}`);
  if (o.long !== undefined) parts.push(`-l ${o.long.slice(2)}`);
  if (o.takesValue) parts.push(o.values.kind === "file" ? "-r -F" : "-r");
  if (o.values.kind === "choices") parts.push(`-a ${fishq(o.values.choices.join(" "))}`);
  parts.push(`-d ${fishq(o.description)}`);
  return parts.filter((x) => x !== "").join(" ");
}

export function fishCompletion(p: ProgramSpec): string {
  const lines = [
    `# fish completion for ${p.name}, generated from its command definitions (${p.name} completion fish)`,
    `complete -c ${p.name} -f`,
    ...p.options.map((o) => fishOption(p.name, "", o)),
  ];
  for (const c of p.commands) {
    lines.push(`complete -c ${p.name} -n __fish_use_subcommand -a ${fishq(c.name)} -d ${fishq(c.description)}`);
    const cond = `-n ${fishq(`__fish_seen_subcommand_from ${c.name}`)}`;
    for (const o of c.options) lines.push(fishOption(p.name, cond, o));
    for (const a of c.arguments) {
      if (a.values.kind === "choices")
        lines.push(`complete -c ${p.name} ${cond} -a ${fishq(a.values.choices.join(" "))}`);
      if (a.values.kind === "file") lines.push(`complete -c ${p.name} ${cond} -F`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export const COMPLETIONS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;
