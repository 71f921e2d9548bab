/**
 * `npm run lint` (Biome: format and lint, README "Lint and format") as part of every `npm test`,
 * run beside the test server's start instead of before it. The global setups after this one
 * start the server on one core (initdb and the template: ~0.8 s) while the other waits; Biome
 * (~1.2 s of CPU on two threads, ~0.7 s) ran alone before them in the pre-step. The command is
 * the `lint` script of package.json, run as npm runs it (sh, node_modules/.bin on the PATH). A
 * failure fails the run, with Biome's own report, when the tests are done. Only under `npm test`
 * (npm_lifecycle_event): `npx vitest run <file>`, coverage and the stress tier do not lint.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export default function setup(): (() => Promise<void>) | undefined {
  // `npm test` only (and PGSTORE_TEST_LINT=1): a run of one file while editing is not a lint.
  if (process.env.npm_lifecycle_event !== 'test' && process.env.PGSTORE_TEST_LINT !== '1') return undefined;
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { lint: string } }).scripts
    .lint;
  const env = { ...process.env, PATH: [join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter) };
  // Node parses this CA bundle at every start (~60 ms of CPU): Biome's launcher talks to no one.
  delete env.NODE_EXTRA_CA_CERTS;
  // One thread (Biome's pool is rayon's): it then takes the core the server's start leaves idle
  // (~1.4 s), instead of both cores for ~0.7 s beside an initdb that needs one.
  env.RAYON_NUM_THREADS = '1';
  const child = spawn('sh', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const done = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      output += String(error);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  return async () => {
    const code = await done;
    if (code === 0) return;
    // vitest reports an error thrown here but still exits 0: the exit code is set as well.
    process.exitCode = 1;
    throw new Error(`npm run lint (${script}) failed with exit ${code}:\n${output}`);
  };
}
