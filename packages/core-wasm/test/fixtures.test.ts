// The kernel-level golden fixtures (shared/fixtures/kernel_*.safetensors) through the Wasm kernels, on both
// backends, at the tolerances of shared/fixtures/README.md.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Core } from '../src/index.js';
import { BACKENDS, bytesEqual, loadFixture } from './helpers.js';
import { runLifFixture, runLmuFixture, runSsaFixture } from './conformance/pipelines.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

function exp<T>(file: ReturnType<typeof loadFixture>, name: string): T {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t.data as T;
}

/** Spike tensors must be equal; a flip is tolerated only where |margin| < 1e-5 (README), and counted. */
function expectSpikes(name: string, got: Float32Array, want: Uint8Array, margin: Float32Array): void {
  const flips: number[] = [];
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) flips.push(i);
  const bad = flips.filter((i) => !(Math.abs(margin[i]) < 1e-5));
  expect(bad.map((i) => `${name}[${i}] got ${got[i]} want ${want[i]} (margin ${margin[i]})`)).toEqual([]);
}

describe.each(BACKENDS)('kernel fixtures (%s)', (backend) => {
  it('kernel_lif: spikes, h and v bit-exact at thresholds 1.0 and 0.5, exact ties fire', () => {
    core.backend = backend;
    const file = loadFixture('kernel_lif.safetensors');
    const res = runLifFixture(core, file);
    core.backend = 'simd';
    expect(Object.keys(res).sort()).toEqual(['thr0.5', 'thr1']);
    for (const [cfg, r] of Object.entries(res)) {
      expect(Array.from(r.spikes)).toEqual(Array.from(exp<Uint8Array>(file, `expected.${cfg}.spikes`)));
      expect(bytesEqual(r.h, exp<Float32Array>(file, `expected.${cfg}.h`)), `${cfg} h`).toBe(true);
      expect(bytesEqual(r.v, exp<Float32Array>(file, `expected.${cfg}.v`)), `${cfg} v`).toBe(true);
    }
  });

  it('kernel_lmu_matrices: recurrent and FIR memory within 1e-5 of the float64 trajectory', () => {
    core.backend = backend;
    const file = loadFixture('kernel_lmu_matrices.safetensors');
    const r = runLmuFixture(core, file);
    core.backend = 'simd';
    const want = exp<Float64Array>(file, 'expected.memory');
    expect(r.shape).toEqual(file.tensors.get('expected.memory')!.shape);
    let er = 0, ef = 0;
    for (let i = 0; i < want.length; i++) {
      er = Math.max(er, Math.abs(r.recurrent[i] - want[i]));
      ef = Math.max(ef, Math.abs(r.fir[i] - want[i]));
    }
    expect(er).toBeLessThanOrEqual(1e-5);
    expect(ef).toBeLessThanOrEqual(1e-5);
  });

  it('kernel_ssa: q/k/v spikes, integer scores and both attention orders exact, attn_out exact, output spikes', () => {
    core.backend = backend;
    const file = loadFixture('kernel_ssa.safetensors');
    const r = runSsaFixture(core, file);
    core.backend = 'simd';
    for (const n of ['q', 'k', 'v'] as const) {
      expectSpikes(`${n}_lif`, r[n], exp(file, `expected.${n}_lif.spikes`), exp(file, `expected.${n}_lif.margin`));
    }
    expect(Array.from(r.scores)).toEqual(Array.from(exp<Float32Array>(file, 'expected.attn_scores')));
    expect(Array.from(r.qkV)).toEqual(Array.from(exp<Float32Array>(file, 'expected.qk_v')));
    expect(Array.from(r.qkVAlt)).toEqual(Array.from(r.qkV));
    expect(bytesEqual(r.attnOut, exp<Float32Array>(file, 'expected.attn_out'))).toBe(true);
    expectSpikes('attn_lif', r.attnSpikes, exp(file, 'expected.attn_lif.spikes'), exp(file, 'expected.attn_lif.margin'));
    const ties = Array.from(exp<Float32Array>(file, 'expected.attn_lif.margin')).filter((m) => m === 0).length;
    expect(ties, 'the fixture holds exact ties at 0.5').toBeGreaterThan(0);
    expect(Array.from(r.attnMargin.filter((m) => m === 0)).length).toBe(ties);
    expectSpikes('proj_lif', r.output, exp(file, 'expected.proj_lif.spikes'), exp(file, 'expected.proj_lif.margin'));
    const outWant = exp<Float32Array>(file, 'expected.output');
    expect(Array.from(r.output)).toEqual(Array.from(outWant));
  });
});
