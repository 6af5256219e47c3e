// spikewasm bench: a --quick run of one small case in Node prints a result table and exits 0; bad options exit 2.
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuilt, run } from './helpers.js';

describe('spikewasm bench', () => {
  beforeAll(requireBuilt);

  it('runs a filtered --quick suite in Node and prints the table', async () => {
    const r = await run(['bench', '--quick', '--filter', 'gemv', '--runtime', 'node']);
    expect(r.stderr).not.toMatch(/MISMATCH|internal error/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^node \d+\.\d+\.\d+: f32x4 peak \d+(\.\d+)? GFLOP\/s/m);
    const row = r.stdout.split('\n').find((l) => l.startsWith('gemv.'));
    expect(row).toBeDefined();
    // ours, then the peers with their ratio, and the cross-check verdict
    expect(row).toMatch(/\d+(\.\d+)? [nµm]?s .*\d+\.\d+× .*ok$/);
    // not a TTY: plain progress lines on stderr, no bar
    expect(r.stderr).toMatch(/^bench node \d+\/\d+ gemv/m);
  }, 30_000);

  it('has its own help', async () => {
    const h = await run(['bench', '--help']);
    expect(h.code).toBe(0);
    for (const flag of ['--runtime', '--quick', '--filter', '--json', '--output']) expect(h.stdout).toContain(flag);
  });

  it('rejects an unknown runtime and a filter that matches nothing', async () => {
    const a = await run(['bench', '--runtime', 'safari']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown runtime "safari"/);
    const b = await run(['bench', '--quick', '--filter', 'no-such-case', '--runtime', 'node']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/no case matches/);
  }, 30_000);
});
