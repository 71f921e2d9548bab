/**
 * `pgstore config`: the effective settings and where each came from (environment, the
 * project's pgstore.toml with its line, or the default). Flags override all of them per run.
 */
import { Command } from 'commander';
import { action, type CommandContext, examples } from './context.js';
import { CONFIG_FILE } from './config-file.js';

export function configCommand(ctx: CommandContext): Command {
  const command = new Command('config')
    .description('show the effective settings (environment > pgstore.toml > default) and where each came from')
    .action(
      action(ctx, {
        load: () => import('./project-config.js'),
        call: (config) => {
          const project = ctx.project ?? { path: undefined, config: undefined, env: ctx.env };
          return { file: project.path ?? null, settings: config.effectiveSettings(project.env, project.config) };
        },
        text: async (out, { file, settings }) => {
          out.result(
            file
              ? `Config file: ${file}`
              : `Config file: none (no ${CONFIG_FILE} in this folder or above; PGSTORE_CONFIG can name one)`,
          );
          await out.table({
            head: ['SETTING', 'VALUE', 'FROM'],
            rows: settings.map((s) => [s.key, s.value, s.source]),
          });
          out.result(
            'A flag given on the command line overrides its setting; any --keep-… flag replaces the whole retention policy.',
          );
        },
      }),
    );
  return examples(command, [
    'pgstore config',
    'pgstore config --json',
    'PGSTORE_CONFIG=ci/pgstore.toml pgstore config',
  ]);
}
