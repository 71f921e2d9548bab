/**
 * `mkdir -p` that always ends. Node's `mkdirSync(path, { recursive: true })` spins forever
 * on Linux when a parent exists but cannot hold children: /proc answers ENOENT for any new
 * name, Node then creates the parent (EEXIST, fine) and retries the child, forever, blocking
 * the event loop (see https://github.com/nodejs/node/issues/27198 for the same loop on
 * Windows, and https://github.com/Kewton/CommandMate/issues/1774 for /proc on Linux).
 * Here each missing folder is created once, from the top down; an error is final.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Creates `path` and any missing parents with `mode`; throws the file system's error otherwise. */
export function makeDirs(path: string, mode = 0o777): void {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      statSync(current); // exists (a file in the way is reported below)
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      // Another process made it in the meantime: fine, if it is a folder.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw error;
    }
  }
  if (missing.length === 0 && !statSync(resolve(path)).isDirectory()) {
    mkdirSync(resolve(path)); // throws EEXIST naming the path: a file is in the way
  }
}
