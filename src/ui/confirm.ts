/**
 * Confirmation for destructive commands: print the target, ask on a terminal (default no),
 * require --yes without one. @inquirer/prompts is loaded only when a question is asked.
 */
import type { Confirm, DestructivePlan } from '../types/confirm.js';
import { CancelledError, UsageError } from '../errors.js';
import type { Output } from './output.js';

/** A Confirm for this run: `yes` skips the question. */
export function confirmer(out: Output, yes: boolean): Confirm {
  return async (plan: DestructivePlan) => {
    const env = plan.environment ? ` (${plan.environment})` : '';
    if (!(yes && out.options.quiet)) {
      out.stderr.write(`${out.c.bold('About to')} ${plan.action} on ${out.c.bold(plan.target)}${env}\n`);
      for (const line of plan.details) out.stderr.write(`  ${line}\n`);
    }
    if (yes) return;
    if (!out.interactive) {
      throw new UsageError(`refusing to ${plan.action} without confirmation: there is no terminal to ask on`, {
        hint: 'Pass --yes to confirm.',
      });
    }
    const { confirm } = await import('@inquirer/prompts');
    const ok = await confirm({ message: `Really ${plan.action}?`, default: false });
    if (!ok) throw new CancelledError();
  };
}
