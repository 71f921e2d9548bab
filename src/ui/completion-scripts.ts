/**
 * Shell completion scripts for bash, zsh and fish, written from a tree of commands, flags and
 * choices (commands/completion.ts builds it from commander). The tree is written into the
 * script, so a TAB never starts node; only the arguments that name a backup (`restore`,
 * `backup verify|delete`) call back `pgstore completion ids`, which reads the backup folder
 * without connecting to the server.
 */

export interface CompletionOption {
  /** `--keep-last`, `-d`, ... */
  names: string[];
  takesValue: boolean;
  choices?: string[];
  description: string;
}

export interface CompletionNode {
  name: string;
  description: string;
  options: CompletionOption[];
  children: CompletionNode[];
  /** The command's positional argument is a backup ID. */
  backupIds?: boolean;
}

interface Path {
  path: string;
  node: CompletionNode;
}

function paths(root: CompletionNode): Path[] {
  const out: Path[] = [];
  const walk = (node: CompletionNode, path: string) => {
    out.push({ path, node });
    for (const child of node.children) walk(child, path ? `${path} ${child.name}` : child.name);
  };
  walk(root, '');
  return out;
}

const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Options of a node and of every node above it (commander's global options). */
function optionsAt(all: Path[], path: string): CompletionOption[] {
  const parts = path ? path.split(' ') : [];
  const seen = new Set<string>();
  const out: CompletionOption[] = [];
  for (let i = parts.length; i >= 0; i--) {
    const at = all.find((p) => p.path === parts.slice(0, i).join(' '));
    for (const o of at?.node.options ?? []) {
      const key = o.names.join(',');
      if (!seen.has(key)) {
        seen.add(key);
        out.push(o);
      }
    }
  }
  return out;
}

/** bash (and zsh through bashcompinit): `source <(pgstore completion bash)`. */
export function bashScript(root: CompletionNode, program = 'pgstore'): string {
  const all = paths(root);
  const subs = all
    .map((p) => `    ${shellWord(p.path)}) echo ${shellWord(p.node.children.map((c) => c.name).join(' '))} ;;`)
    .join('\n');
  const flags = all
    .map(
      (p) =>
        `    ${shellWord(p.path)}) echo ${shellWord(
          optionsAt(all, p.path)
            .flatMap((o) => o.names.filter((n) => n.startsWith('--')))
            .join(' '),
        )} ;;`,
    )
    .join('\n');
  const valued = [...new Set(all.flatMap((p) => p.node.options.filter((o) => o.takesValue).flatMap((o) => o.names)))];
  const choices = all
    .flatMap((p) =>
      optionsAt(all, p.path)
        .filter((o) => o.choices)
        .flatMap((o) =>
          o.names.map(
            (n) =>
              `    ${shellWord(`${p.path}|${n}`)}) COMPREPLY=( $(compgen -W ${shellWord(o.choices!.join(' '))} -- "$cur") ); return ;;`,
          ),
        ),
    )
    .join('\n');
  const ids = all
    .filter((p) => p.node.backupIds)
    .map((p) => shellWord(p.path))
    .join('|');
  return `# ${program} completion for bash (zsh: autoload -U +X bashcompinit && bashcompinit first)
_${program}_subcommands() {
  case "$1" in
${subs}
  esac
}
_${program}_flags() {
  case "$1" in
${flags}
  esac
}
_${program}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word i skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [[ $skip == 1 ]]; then skip=0; continue; fi
    case "$word" in
      --*=*) ;;
      ${valued.length ? valued.map(shellWord).join('|') : '--never'}) skip=1 ;;
      -*) ;;
      *) if [[ " $(_${program}_subcommands "$path") " == *" $word "* ]]; then path="\${path:+$path }$word"; fi ;;
    esac
  done
  case "$path|$prev" in
${choices}
  esac
  if [[ $skip == 1 ]]; then COMPREPLY=( $(compgen -f -- "$cur") ); return; fi
  local words
  if [[ "$cur" == -* ]]; then
    words="$(_${program}_flags "$path")"
  else
    words="$(_${program}_subcommands "$path")"
    case "$path" in
      ${ids || "''"}) words="$words $(${program} completion ids 2>/dev/null)" ;;
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -F _${program} ${program}
`;
}

/** zsh: the bash function through bashcompinit (zsh's own system would need a second tree walker). */
export function zshScript(root: CompletionNode, program = 'pgstore'): string {
  return `#compdef ${program}\n# ${program} completion for zsh: eval "$(${program} completion zsh)" in ~/.zshrc\nautoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(root, program)}`;
}

/** fish: `pgstore completion fish > ~/.config/fish/completions/pgstore.fish`. */
export function fishScript(root: CompletionNode, program = 'pgstore'): string {
  const all = paths(root);
  const fishWord = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [`# ${program} completion for fish`, `complete -c ${program} -f`];
  // A path is current when its last word was seen and none of its children was.
  const condition = (path: string, children: CompletionNode[]) => {
    if (!path) return children.length ? `__fish_use_subcommand` : 'true';
    const words = path.split(' ');
    const seen = words.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ');
    const notChild = children.length
      ? `; and not __fish_seen_subcommand_from ${children.map((c) => c.name).join(' ')}`
      : '';
    return `${seen}${notChild}`;
  };
  for (const { path, node } of all) {
    const when = fishWord(condition(path, node.children));
    for (const child of node.children)
      lines.push(`complete -c ${program} -n ${when} -a ${fishWord(child.name)} -d ${fishWord(child.description)}`);
    for (const o of node.options) {
      const long = o.names.filter((n) => n.startsWith('--')).map((n) => `-l ${n.slice(2)}`);
      const short = o.names.filter((n) => /^-[^-]$/.test(n)).map((n) => `-s ${n.slice(1)}`);
      const value = o.takesValue ? (o.choices ? ` -x -a ${fishWord(o.choices.join(' '))}` : ' -r') : '';
      lines.push(
        `complete -c ${program}${path ? ` -n ${when}` : ''} ${[...short, ...long].join(' ')}${value} -d ${fishWord(o.description)}`,
      );
    }
    if (node.backupIds)
      lines.push(`complete -c ${program} -n ${when} -a '(${program} completion ids 2>/dev/null)' -d 'backup'`);
  }
  return `${lines.join('\n')}\n`;
}
