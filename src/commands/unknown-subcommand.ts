/**
 * `pgstore backup lst`, `pgstore hosts lst`, `pgstore bakup` and `pgstore migrate sideways`: a
 * word where a subcommand belongs is an unknown command, reported one way at every depth (the
 * parent named, the nearest command, a hint listing its commands; exit 2; JSON with --json),
 * not commander's generic line, nor "too many arguments" for the parent's own action
 * (`backup`) or for its default subcommand (`migrate` → `up`).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** Makes `command` (which has subcommands) report a stray word as an unknown subcommand. */
export function reportUnknownSubcommands(command: Command, path: string): void {
  const names = command.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  const fail = (word: string): never => {
    const near = closest(word, names);
    throw new UsageError(`unknown command '${word}' for '${path}'${near ? ` (did you mean '${near}'?)` : ''}`, {
      hint: `Its commands: ${command.commands.map((c) => c.name()).join(', ')}. See \`${path} --help\`.`,
    });
  };
  // No action of its own (hosts, the program itself): commander emits `command:*` for an
  // operand that names no subcommand, before it would print its own generic line.
  command.on('command:*', (operands: string[]) => fail(operands[0]!));
  // Its own action (backup): any operand is a mistyped subcommand.
  command.allowExcessArguments(true);
  command.hook('preAction', (self, action) => {
    if (action !== self || self.args.length <= self.registeredArguments.length) return;
    const word = self.args[self.registeredArguments.length]!;
    // `pgstore backup help`, as `pgstore migrate help` (commander's own help command) works.
    if (word === 'help') self.help();
    fail(word);
  });
  // A default subcommand (migrate → up) receives the stray word when the user did not name it.
  const fallback = command.commands.find(
    (c) => c.name() === (command as unknown as { _defaultCommandName?: string })._defaultCommandName,
  );
  if (!fallback) return;
  fallback.allowExcessArguments(true);
  fallback.hook('preAction', (self) => {
    const extra = self.args.slice(self.registeredArguments.length);
    if (extra.length === 0) return;
    // `migrate --set app status`: the options came before the subcommand's name, so commander
    // gave them (and the name) to the default subcommand. Say where they go.
    if (names.includes(extra[0]!)) misplacedOptions(command, extra[0]!, path);
    const typed = rawWords(self).includes(self.name());
    if (!typed) fail(extra[0]!);
    throw new UsageError(`too many arguments for '${path} ${self.name()}': ${extra.map((a) => `'${a}'`).join(' ')}`, {
      hint: `See \`${path} ${self.name()} --help\`.`,
    });
  });
}

/** A subcommand named after options meant for it: one line, and the command line reordered. */
function misplacedOptions(command: Command, word: string, path: string): never {
  const raw = rawWords(command).slice(2);
  const at = raw.indexOf(command.name());
  const wordAt = raw.indexOf(word, at + 1);
  const reordered =
    at >= 0 && wordAt > at
      ? [...raw.slice(0, at + 1), word, ...raw.slice(at + 1, wordAt), ...raw.slice(wordAt + 1)]
      : undefined;
  throw new UsageError(`'${word}' must come right after '${path}': a subcommand's options follow its name`, {
    hint: reordered ? `Run \`pgstore ${reordered.join(' ')}\`.` : `See \`${path} ${word} --help\`.`,
  });
}

/** The words on the command line (the root program keeps them). */
function rawWords(command: Command): string[] {
  let root = command;
  while (root.parent) root = root.parent;
  return (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
}

/** The name nearest `word` (a prefix first, then edit distance at most 2), if any. */
function closest(word: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = name.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
