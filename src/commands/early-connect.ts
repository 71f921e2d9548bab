/**
 * `pgstore health` opens its socket to the server before its command is built and the driver
 * loaded (db/early-socket.ts; issue 15: the server starts its backend meanwhile). Only when the
 * target is certain at that point: no --database-url on the command line (the only flag that
 * changes it), the target resolved by the same resolver from the same environment (with the
 * project config's variables) the command uses, and a server named by a URL or PG* variables:
 * the embedded server's port is known only once its files are read, so it is left out. The pool
 * takes the socket only if it goes to the same place; else it is closed unused.
 */
import type { Env } from '../db/config.js';

/** Global options that take a value (the value is not the command's name). */
const VALUE_OPTIONS = new Set(['--progress']);

/** True when the words (before any `--`) run `health` with the target from the environment. */
export function wantsEarlyConnect(args: string[]): boolean {
  const end = args.indexOf('--');
  const words = end === -1 ? args : args.slice(0, end);
  // -d, --database-url, and short flags written together (-qd): the target may be another.
  if (words.some((w) => w.startsWith('--database-url') || /^-[a-zA-Z]*d/.test(w))) return false;
  if (words.some((w) => w === '--help' || w === '-h')) return false;
  const command = words.find((w, i) => !w.startsWith('-') && !VALUE_OPTIONS.has(words[i - 1] ?? ''));
  return command === 'health';
}

/**
 * Opens the early socket when `args` ask for it and the environment names a server, and returns
 * what closes it if the run did not use it (the CLI calls that when the run ends). Never throws.
 */
export async function connectEarly(args: string[], env: Env): Promise<(() => void) | undefined> {
  if (!wantsEarlyConnect(args)) return undefined;
  try {
    const { resolveConnection } = await import('../db/config.js');
    const target = resolveConnection({ env });
    if (target.kind === 'embedded') return undefined;
    const { closeEarlySocket, openEarlySocket } = await import('../db/early-socket.js');
    openEarlySocket(target);
    return closeEarlySocket;
  } catch {
    return undefined; // a bad setting: the command resolves it again and reports it
  }
}
