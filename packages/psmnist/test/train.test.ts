// The psMNIST trainer: gradients against finite differences of an independent float64 forward, determinism,
// and that training actually lowers the loss.
import { describe, expect, it, beforeAll } from 'vitest';
import { init, Arena, type Core } from '@spikewasm/core-wasm';
import { lmuBuffers, psmnistConfig, type PsMnistConfig } from '@spikewasm/lmu';
import { PsMnistGradient, PsMnistTraining, initialWeights, shiftAndPermute, makePermutation, type TrainableWeights, type Front, PIXELS } from '../src/index.js';
import { rng } from '../../core-wasm/test/random.js';

let core: Core;
beforeAll(async () => { core = await init(); });

const small: PsMnistConfig = psmnistConfig({ hidden_size: 6, memory_size: 10, seq_len: 40, theta: 40 });

/** The model's loss sum in float64, written from the definitions (fixed front: x₃ = p/√(1+1e-5) on 3 channels, u = ReLU(gain·x₃ + bias)). */
function lossOracle(c: PsMnistConfig, w: { wH: ArrayLike<number>; bH: ArrayLike<number>; wC: ArrayLike<number>; bC: ArrayLike<number> }, x: Float32Array, labels: ArrayLike<number>, front: Front): number {
  const { A, B } = lmuBuffers(c.memory_size, c.theta, c.seq_len);
  const d = c.memory_size, N = c.hidden_size, L = c.seq_len, O = c.output_size, D = d + 3;
  let total = 0;
  for (let b = 0; b < labels.length; b++) {
    const m = new Float64Array(d), pooled = new Float64Array(N), z = new Float64Array(D);
    for (let t = 0; t < L; t++) {
      const x3 = x[b * L + t] / Math.sqrt(1 + 1e-5);
      const u = Math.max(0, front.uGain * x3 + front.uBias);
      const next = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = B[i] * u;
        for (let j = 0; j < d; j++) s += A[i * d + j] * m[j];
        next[i] = s;
      }
      m.set(next);
      z.set(m, 0);
      z[d] = z[d + 1] = z[d + 2] = x3;
      for (let j = 0; j < N; j++) {
        let s = w.bH[j];
        for (let k = 0; k < D; k++) s += w.wH[j * D + k] * z[k];
        pooled[j] += Math.max(0, s) / L;
      }
    }
    const logits = Array.from({ length: O }, (_, o) => {
      let s = w.bC[o];
      for (let j = 0; j < N; j++) s += w.wC[o * N + j] * pooled[j];
      return s;
    });
    const mx = Math.max(...logits);
    total += Math.log(logits.reduce((a, v) => a + Math.exp(v - mx), 0)) - (logits[labels[b]] - mx);
  }
  return total;
}

describe('PsMnistGradient', () => {
  it('matches central finite differences of an independent float64 forward', () => {
    const w = initialWeights(small, 7);
    // larger weights than the initialisation, so that the loss is far from flat
    for (const k of ['wH', 'wC'] as const) w[k].forEach((v, i, a) => (a[i] = v * 6));
    const r = rng(3);
    const n = 3, x = Float32Array.from({ length: n * small.seq_len }, () => (r() < 0.4 ? r() : 0));
    const labels = Uint8Array.of(2, 7, 2);
    const front: Front = { uGain: 3, uBias: 0.25 };
    const g = new PsMnistGradient(new Arena(core), small, w, front).compute(w, x, labels);
    expect(g.count).toBe(3);
    expect(g.lossSum).toBeCloseTo(lossOracle(small, w, x, labels, front), 4);
    const w64 = { wH: Float64Array.from(w.wH), bH: Float64Array.from(w.bH), wC: Float64Array.from(w.wC), bC: Float64Array.from(w.bC) };
    const grads = { wH: g.gWH, bH: g.gBH, wC: g.gWC, bC: g.gBC };
    let checked = 0;
    for (const k of ['wH', 'bH', 'wC', 'bC'] as const) {
      const p = w64[k], len = p.length;
      for (let s = 0; s < Math.min(len, 12); s++) {
        const i = Math.floor(r() * len), h = 1e-4, v = p[i];
        p[i] = v + h; const up = lossOracle(small, w64, x, labels, front);
        p[i] = v - h; const down = lossOracle(small, w64, x, labels, front);
        p[i] = v;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(grads[k][i] - fd), `${k}[${i}]: analytic ${grads[k][i]} vs finite difference ${fd}`).toBeLessThan(2e-4 + 2e-3 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBe(12 + 6 + 12 + 10);
    // the gradient is not trivially zero
    expect(Math.max(...Array.from(g.gWH, Math.abs))).toBeGreaterThan(1e-3);
  });
});

describe('PsMnistGradient.compute', () => {
  it('is a pure function of (weights, digits, labels): the first call (which allocates and may grow memory) included', () => {
    // sizes large enough that the first call's allocations grow the Wasm memory
    const cfg = psmnistConfig({ hidden_size: 64, memory_size: 96 });
    const w = initialWeights(cfg, 2);
    const x = (s: number) => Float32Array.from({ length: 12 * PIXELS }, (_, i) => ((i * s) % 17) / 17);
    const labels = Uint8Array.from({ length: 12 }, (_, i) => i % 10);
    const before = core.memory.buffer.byteLength;
    const g = new PsMnistGradient(new Arena(core), cfg, w);
    const first = g.compute(w, x(7), labels);
    expect(core.memory.buffer.byteLength).toBeGreaterThan(before);
    g.compute(w, x(11), labels);
    const again = g.compute(w, x(7), labels);
    expect(first.lossSum).toBe(again.lossSum);
    expect(Array.from(first.gWH)).toEqual(Array.from(again.gWH));
    expect(Array.from(first.gBH)).toEqual(Array.from(again.gBH));
    expect(Math.max(...Array.from(first.gWH, Math.abs))).toBeGreaterThan(0);
  });
});

describe('shiftAndPermute', () => {
  it('translates with zero fill, then reads in permuted order', () => {
    const img = Float32Array.from({ length: PIXELS }, (_, i) => i);
    const perm = makePermutation(5), out = new Float32Array(PIXELS + 2).fill(NaN);
    shiftAndPermute(img, 0, 1, -2, perm, out, 1);
    expect(out[0]).toBeNaN();
    expect(out[PIXELS + 1]).toBeNaN();
    for (let t = 0; t < PIXELS; t++) {
      const p = perm[t], y = Math.floor(p / 28) + 2, xx = (p % 28) - 1;
      expect(out[1 + t]).toBe(y < 28 && xx >= 0 ? y * 28 + xx : 0);
    }
  });
});

describe('PsMnistTraining', () => {
  // 40 synthetic "digits" of two classes: class 0 lights the pixels fed in the first half of the sequence, class 1
  // those of the second half (random intensities) — separable by a memory of low order.
  const cfg = psmnistConfig({ hidden_size: 8, memory_size: 12, output_size: 2 });
  const perm = makePermutation(0);
  function data(): { images: Float32Array; labels: Uint8Array } {
    const r = rng(11), n = 40, images = new Float32Array(n * PIXELS), labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (let t = 0; t < PIXELS; t++) images[i * PIXELS + perm[t]] = ((t < 392) === (i % 2 === 0) ? 0.8 : 0) * r();
    }
    return { images, labels };
  }

  function run(seed: number, epochs: number): { weights: TrainableWeights; losses: number[] } {
    const { images, labels } = data();
    const t = new PsMnistTraining(cfg, images, labels, perm, { epochs, batchSize: 8, lr: 3e-2, warmupSteps: 2, shift: 0, seed });
    const g = new PsMnistGradient(new Arena(core), cfg, t.weights());
    const losses: number[] = [];
    while (!t.done) {
      const b = t.nextBatch();
      losses.push(t.apply(b.shards.map((s) => g.compute(t.weights(), s.x, s.labels))).loss);
    }
    return { weights: t.weights(), losses };
  }

  it('is deterministic for a seed and differs across seeds', () => {
    const a = run(1, 1), b = run(1, 1), c = run(2, 1);
    for (const k of ['wH', 'bH', 'wC', 'bC'] as const) expect(a.weights[k]).toEqual(b.weights[k]);
    expect(a.weights.wH).not.toEqual(c.weights.wH);
  });

  it('lowers the loss on a separable task', () => {
    const { losses } = run(3, 20);
    const first = losses.slice(0, 5).reduce((s, v) => s + v) / 5, last = losses.slice(-5).reduce((s, v) => s + v) / 5;
    expect(last).toBeLessThan(0.5 * first);
  });

  it('rejects a batch size that does not split into the shards', () => {
    const { images, labels } = data();
    expect(() => new PsMnistTraining(cfg, images, labels, makePermutation(0), { batchSize: 7, shards: 2 })).toThrow(/not a multiple of 2 shards/);
  });
});
