import { describe, expect, it } from 'vitest';
import { critical, criticalSectionsDone } from '../../src/util/critical.js';

describe('critical sections', () => {
  it('resolves at once when none runs, and when the last one ends', async () => {
    await criticalSectionsDone(10);
    let release!: () => void;
    const section = critical(() => new Promise<string>((resolve) => (release = () => resolve('done'))));
    let settled = false;
    const waiting = criticalSectionsDone(5_000).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    expect(await section).toBe('done');
    await waiting;
    expect(settled).toBe(true);
  });

  it('gives up waiting after the timeout, and a failing section still ends', async () => {
    let release!: () => void;
    const section = critical(() => new Promise<void>((_, reject) => (release = () => reject(new Error('boom')))));
    const started = Date.now();
    await criticalSectionsDone(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    release();
    await expect(section).rejects.toThrow('boom');
    await criticalSectionsDone(10);
  });

  // Last: it leaves the module stopping.
  it('once stopping, no new section starts (it never settles; the process exits around it)', async () => {
    await criticalSectionsDone(10, { stopping: true });
    let ran = false;
    const section = critical(async () => {
      ran = true;
    });
    const state = await Promise.race([
      section.then(() => 'settled'),
      new Promise((resolve) => setTimeout(() => resolve('pending'), 50)),
    ]);
    expect(state).toBe('pending');
    expect(ran).toBe(false);
  });
});
