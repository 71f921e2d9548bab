/** Where the run's primary + standby pair lives (shared by standby-setup.ts and standby.ts). */
import { join } from 'node:path';
import { DEFAULT_POOL, type EmbeddedTarget } from '../../src/db/config.js';

export interface StandbyRoot {
  /** Folder holding primary/, standby/, pair.json and the start lock. */
  root: string;
  /** The vitest main process: the servers stop by themselves when it dies. */
  ownerPid: number;
  serverUser: string | undefined;
}

/** What the file that started the pair tells the others. */
export interface PairInfo {
  primaryPort: number;
  standbyPort: number;
  password: string;
  /** Seconds the start took (copies of the initdb template, the primary's and the standby's starts). */
  startSeconds: number;
}

export const PAIR_FILE = 'pair.json';
export const SLOT_NAME = 'pgstore_test_standby';
export const STANDBY_NAME = 'pgstore_test_standby';

/** The primary's and the standby's embedded targets (ports are filled in once known). */
export function pairTargets(
  info: StandbyRoot,
  ports: { primary: number; standby: number } = { primary: 0, standby: 0 },
): [EmbeddedTarget, EmbeddedTarget] {
  const target = (name: string, port: number): EmbeddedTarget => ({
    kind: 'embedded',
    source: 'embedded',
    home: join(info.root, name),
    port,
    database: 'postgres',
    pool: DEFAULT_POOL,
    serverUser: info.serverUser,
  });
  return [target('primary', ports.primary), target('standby', ports.standby)];
}

declare module 'vitest' {
  export interface ProvidedContext {
    standbyRoot: StandbyRoot;
  }
}
