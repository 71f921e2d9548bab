/**
 * `pgstore config`: the effective settings and where each came from (environment, the
 * project's pgstore.toml with its line, or the default). Flags override all of them per run.
 */
import { Command } from 'commander';
import { type CommandContext, examples } from './context.js';

export function configCommand(app: CommandContext): Command {
  const command = new Command('config')
    .description('show the effective settings (environment > pgstore.toml > default) and where each came from')
    .action(async () => {
      const out = app.makeOutput();
      const { effectiveSettings } = await import('./project-config.js');
      const { CONFIG_FILE } = await import('./config-file.js');
      const project = app.project ?? { path: undefined, config: undefined, env: app.env };
      const settings = effectiveSettings(project.env, project.config);
      if (out.options.json) return out.json({ file: project.path ?? null, settings });
      out.result(project.path ? `Config file: ${project.path}` : `Config file: none (no ${CONFIG_FILE} in this folder or above; PGSTORE_CONFIG can name one)`);
      await out.table({ head: ['SETTING', 'VALUE', 'FROM'], rows: settings.map((s) => [s.key, s.value, s.source]) });
      out.result('A flag given on the command line overrides its setting; any --keep-… flag replaces the whole retention policy.');
    });
  return examples(command, ['pgstore config', 'pgstore config --json', 'PGSTORE_CONFIG=ci/pgstore.toml pgstore config']);
}
