/**
 * The text view of `pgstore migrate plan`: each pending file with its SQL (numbered as in the
 * file), the locks its statements take, its lint findings, then the rehearsal.
 */
import type { MigrationPlan } from '../types/migrate-plan.js';
import type { Output } from './output.js';
import { plural } from '../util/format.js';

export function showPlan(out: Output, plan: MigrationPlan): void {
  if (plan.pending.length === 0) out.result(`No pending migrations on database ${plan.database}.`);
  else out.result(`${plural(plan.pending.length, 'pending migration')} on database ${plan.database}:`);
  for (const m of plan.pending) {
    out.result('');
    out.result(
      `${out.c.bold(`${m.filename}`)} (${m.set} set, ${m.transactional ? 'in a transaction' : 'transaction:false: no transaction'})`,
    );
    m.sql.split('\n').forEach((line, i) => out.result(`  ${String(m.firstLine + i).padStart(4)} | ${line}`));
    const locked = m.locks.filter((l) => l.lock);
    if (locked.length) {
      out.result('  Locks:');
      for (const l of locked)
        out.result(`    line ${l.line}: ${l.kind}${l.table ? ` on ${l.table}` : ''}: ${l.lock} (blocks ${l.blocks})`);
    } else out.result('  Locks: none on existing tables');
    if (m.findings.length) {
      out.result('  Lint:');
      for (const f of m.findings) {
        out.result(
          `    line ${f.line}: ${f.level === 'error' ? out.c.red('error') : out.c.yellow('warning')} ${f.rule}: ${f.message}`,
        );
        out.result(`      instead: ${f.alternative}`);
      }
    }
  }
  const r = plan.rehearsal;
  if (!r) return;
  out.result('');
  out.result(`Rehearsal on backup ${r.backup.id ?? r.backup.path} (scratch database ${r.scratchDatabase}, dropped):`);
  if (r.migrations.length === 0) out.result('  nothing to apply: the backup is up to date with the files');
  for (const m of r.migrations) {
    const time = m.durationMs === null ? '' : ` in ${(m.durationMs / 1000).toFixed(2)} s`;
    const state =
      m.status === 'applied'
        ? out.c.green('applied')
        : m.status === 'failed'
          ? out.c.red('FAILED')
          : out.c.dim('not run');
    out.result(
      `  ${state} ${m.filename} (${m.set})${time}${m.pendingOnLive ? '' : ' (already applied on the live database)'}`,
    );
    if (m.error) out.result(`    ${m.error}`);
    if (m.locksHeld?.length)
      out.result(`    locks held: ${m.locksHeld.map((l) => `${l.mode} on ${l.relation}`).join(', ')}`);
    else if (m.status === 'applied' && m.locksHeld === null)
      out.result('    locks held: not measured (runs without a transaction); see Locks above');
  }
  out.result(r.ok ? 'Rehearsal passed.' : 'Rehearsal failed: the live database was not touched.');
}
