/**
 * A vitest reporter that writes each test file's CPU time (its own, its child programs' and the
 * servers', when they all live in one cgroup) and wall time to a TSV file: how the CPU shares in
 * test/helpers/sequencer.ts were measured. The counter is a cgroup's cpuacct.usage (cgroup v1;
 * on v2, point it at a file holding nanoseconds), read at each file's start and end, so run one
 * file at a time and put the run in that cgroup first:
 *
 *   mkdir /sys/fs/cgroup/cpuacct/tests; echo $$ > /sys/fs/cgroup/cpuacct/tests/tasks
 *   PGSTORE_TEST_WORKERS=1 CPU_USAGE_FILE=/sys/fs/cgroup/cpuacct/tests/cpuacct.usage \
 *     CPU_REPORT=/tmp/cpu.tsv npx vitest run --reporter=default --reporter=./scripts/test-cpu-reporter.mjs
 *
 * Lines: file, CPU ms, wall ms (and `gap-before:<file>` for what ran between two files).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const usageFile = process.env.CPU_USAGE_FILE || '/sys/fs/cgroup/cpuacct/cpuacct.usage';
const out = process.env.CPU_REPORT || 'test-cpu.tsv';
const usage = () => Number(readFileSync(usageFile, 'utf8')) / 1e6;
const name = (m) => m.moduleId.replace(/.*\/test\//, '');
let last = 0;
let lastT = 0;

export default class CpuReporter {
  onInit() {
    writeFileSync(out, '');
    last = usage();
    lastT = Date.now();
  }
  onTestModuleQueued(m) {
    this.note(`gap-before:${name(m)}`);
  }
  onTestModuleEnd(m) {
    this.note(name(m));
  }
  note(label) {
    const u = usage();
    appendFileSync(out, `${label}\t${(u - last).toFixed(0)}\t${Date.now() - lastT}\n`);
    last = u;
    lastT = Date.now();
  }
}
