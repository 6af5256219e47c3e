import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { init, ArgumentError, DTypeError, ShapeError, SpikewasmError, type Arena, type BatchNormParams, type Core, type Tensor } from '@spikewasm/core-wasm';
import {
  linearRef, conv1dRef, conv2d3x3Ref, batchNormRef, maxPool3x3s2Ref, meanAxisRef, sumErrorBound, F32_U, type RefResult,
} from '@spikewasm/core-wasm/oracle';
import { Linear, Conv1d, Conv2d, BatchNorm, MaxPool, ResidualAdd, MeanPool, SpikeTensor } from '../src/index.js';
import { randomF32, randomSpikes } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

/** The shape grid around the f32x4 vector width and the kernels' unrolls (8-output panels, 32-bit spike words). */
const GRID = [1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65];

/** An output tensor pre-filled with NaN, so an element the layer skips fails every comparison. */
function nanOut(a: Arena, shape: number[]): Tensor {
  const t = a.tensor(shape);
  t.f32.fill(NaN);
  return t;
}

/** max_i |got − want| / bound_i (pass ≤ 1); NaN counts as infinitely wrong. */
function worst(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): number {
  let r = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Number.isNaN(got[i]) ? Infinity : Math.abs(got[i] - want[i]) / bound(i);
    if (e > r) r = e;
  }
  return r;
}

/** Float32 bound of an n-term sum against the float64 oracle: γ_{n+1}·Σ|terms| + u·|y|. */
const oracleBound = (r: RefResult, n: number) => (i: number) => sumErrorBound(n + 1, r.mag[i]) + F32_U * Math.abs(r.y[i]) + 1e-30;

const u32 = (t: Tensor) => Array.from(new Uint32Array(t.f32.buffer, t.ptr, t.size));

function randomBn(C: number, seed: number): BatchNormParams {
  return { weight: randomF32(C, seed, 0.25, 2), bias: randomF32(C, seed + 1, -1, 1), runningMean: randomF32(C, seed + 2, -1, 1), runningVar: randomF32(C, seed + 3, 0.05, 3) };
}

/** s = γ/√(σ²+ε) in float64. */
const bnScale = (bn: BatchNormParams, c: number) => bn.weight[c] / Math.sqrt(bn.runningVar[c] + (bn.eps ?? 1e-5));

describe('layers vs the core-wasm oracle', () => {
  it('Linear (f32 input, with and without bias) over the shape grid', () => {
    for (const K of GRID) for (const N of [1, 3, 8, 9, 17, 64]) for (const M of [1, 2, 5]) {
      const a = core.arena();
      const w = randomF32(N * K, K * 131 + N), b = N % 2 ? randomF32(N, N + 7) : null, x = randomF32(M * K, M + K * 3, -2, 2);
      const lin = new Linear(a, { weight: w, bias: b, outFeatures: N, inFeatures: K });
      const y = lin.forward(a.from(x, [M, K]), nanOut(a, [M, N]));
      const want = linearRef(x, w, b, M, N, K);
      expect(worst(y.f32, want.y, oracleBound(want, K)), `linear ${M}x${K}->${N}`).toBeLessThanOrEqual(1);
      a.dispose();
    }
  });

  it('Conv1d k ∈ {1, 3} over the shape grid', () => {
    for (const L of GRID) for (const [Cin, Cout] of [[1, 1], [3, 5], [16, 8], [17, 9]]) for (const k of [1, 3] as const) {
      const a = core.arena();
      const B = 2;
      const w = randomF32(Cout * Cin * k, L * 7 + Cin), b = randomF32(Cout, Cout), x = randomF32(B * Cin * L, L + Cout * 3, -2, 2);
      const conv = new Conv1d(a, { weight: w, bias: b, outChannels: Cout, inChannels: Cin, kernelSize: k });
      const y = conv.forward(a.from(x, [B, Cin, L]), nanOut(a, [B, Cout, L]));
      const want = conv1dRef(x, w, b, B, Cin, Cout, L, k);
      expect(worst(y.f32, want.y, oracleBound(want, Cin * k)), `conv1d ${Cin}->${Cout} L=${L} k=${k}`).toBeLessThanOrEqual(1);
      a.dispose();
    }
  });

  it('Conv2d 3×3 over the shape grid', () => {
    for (const W of [1, 3, 4, 5, 16, 17, 33]) for (const H of [1, 4, 5]) for (const [Cin, Cout] of [[1, 1], [3, 9], [8, 4]]) {
      const a = core.arena();
      const B = 2;
      const w = randomF32(Cout * Cin * 9, W * 5 + H), b = randomF32(Cout, Cin), x = randomF32(B * Cin * H * W, W + H * 11, -2, 2);
      const conv = new Conv2d(a, { weight: w, bias: b, outChannels: Cout, inChannels: Cin });
      const y = conv.forward(a.from(x, [B, Cin, H, W]), nanOut(a, [B, Cout, H, W]));
      const want = conv2d3x3Ref(x, w, b, B, Cin, Cout, H, W);
      expect(worst(y.f32, want.y, oracleBound(want, Cin * 9)), `conv2d ${Cin}->${Cout} ${H}x${W}`).toBeLessThanOrEqual(1);
      a.dispose();
    }
  });

  it('BatchNorm (eval) on channels-first and channels-last layouts, in place too', () => {
    for (const [outer, C, inner] of [[1, 1, 1], [2, 3, 5], [3, 4, 1], [2, 17, 4], [1, 64, 3], [2, 65, 1], [4, 5, 16]]) {
      const a = core.arena();
      const bn = randomBn(C, C * 3 + inner);
      const x = randomF32(outer * C * inner, outer + C, -3, 3);
      const want = batchNormRef(x, outer, C, inner, bn.weight, bn.bias, bn.runningMean, bn.runningVar);
      // scale and shift rounded once each, then one multiply and one add in float32: ≤ 4u of the terms' magnitude
      const bound = (i: number) => {
        const c = Math.floor(i / inner) % C, s = bnScale(bn, c);
        return 4 * F32_U * (Math.abs(x[i] * s) + Math.abs(bn.runningMean[c] * s) + Math.abs(bn.bias[c])) + 1e-30;
      };
      const first = new BatchNorm(a, bn, { name: 'bn1' });
      const y = first.forward(a.from(x, [outer, C, inner]), nanOut(a, [outer, C, inner]));
      expect(worst(y.f32, want, bound), `bn [${outer}, ${C}, ${inner}]`).toBeLessThanOrEqual(1);
      if (inner === 1) {
        const last = new BatchNorm(a, bn, { axis: -1 });
        const t = a.from(x, [outer, C]);
        last.forward(t, t);
        expect(u32(t)).toEqual(u32(y.reshape([outer, C])));
      }
      a.dispose();
    }
  });

  it('MaxPool (f32) and MeanPool over the grid; MaxPool.outputShape', () => {
    for (const H of [1, 2, 3, 4, 5, 16, 17]) for (const W of [1, 2, 3, 5, 16, 17, 33, 65]) {
      const a = core.arena();
      const P = 3;
      const x = randomF32(P * H * W, H * 31 + W, -5, 5);
      const [Ho, Wo] = MaxPool.outputShape([H, W]);
      const y = new MaxPool().forward(a.from(x, [P, H, W]), nanOut(a, [P, Ho, Wo]));
      expect(Array.from(y.f32)).toEqual(Array.from(maxPool3x3s2Ref(x, P, H, W)));
      a.dispose();
    }
    expect(MaxPool.outputShape([4, 2, 32, 32])).toEqual([4, 2, 16, 16]);
    expect(MaxPool.outputShape([7, 8])).toEqual([4, 4]);
    for (const [d0, d1, d2] of [[1, 1, 1], [2, 3, 4], [4, 64, 5], [3, 65, 17], [2, 16, 33]]) {
      const a = core.arena();
      const x = randomF32(d0 * d1 * d2, d0 + d1 * 5 + d2, -4, 4);
      for (const [axis, outer, n, inner] of [[0, 1, d0, d1 * d2], [1, d0, d1, d2], [-1, d0 * d1, d2, 1]]) {
        const outShape = [d0, d1, d2].filter((_, i) => i !== (axis < 0 ? 3 + axis : axis));
        const y = new MeanPool(axis).forward(a.from(x, [d0, d1, d2]), nanOut(a, outShape));
        const want = meanAxisRef(x, outer, n, inner);
        expect(worst(y.f32, want.y, (i) => sumErrorBound(n + 1, want.mag[i]) + F32_U * Math.abs(want.y[i]) + 1e-30), `mean axis ${axis}`).toBeLessThanOrEqual(1);
      }
      a.dispose();
    }
  });
});

describe('layer properties (fast-check)', () => {
  const density = fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true }));

  it('Linear: SpikeTensor input ≡ 0/1 float input, bit for bit', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 40 }), density, fc.boolean(), fc.integer({ min: 0, max: 1e6 }),
      (M, K, N, p, bias, seed) => {
        const a = core.arena();
        try {
          const lin = new Linear(a, { weight: randomF32(N * K, seed), bias: bias ? randomF32(N, seed + 1) : null, outFeatures: N, inFeatures: K });
          const xf = a.from(randomSpikes(2 * M * K, seed + 2, p), [2, M, K]);
          const dense = lin.forward(xf, nanOut(a, [2, M, N]));
          const spike = lin.forward(SpikeTensor.alloc(a, [2, M, K]).pack(xf), nanOut(a, [2, M, N]));
          expect(u32(spike)).toEqual(u32(dense));
        } finally {
          a.dispose();
        }
      }), { numRuns: 150, seed: 11 });
  });

  it('Conv1d and Conv2d: SpikeTensor input ≡ 0/1 float input, bit for bit', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 70 }),
      fc.constantFrom(1 as const, 3 as const), density, fc.integer({ min: 0, max: 1e6 }),
      (B, Cin, Cout, L, k, p, seed) => {
        const a = core.arena();
        try {
          const conv = new Conv1d(a, { weight: randomF32(Cout * Cin * k, seed), bias: randomF32(Cout, seed + 1), outChannels: Cout, inChannels: Cin, kernelSize: k });
          const xf = a.from(randomSpikes(B * Cin * L, seed + 2, p), [B, Cin, L]);
          const dense = conv.forward(xf, nanOut(a, [B, Cout, L]));
          const spike = conv.forward(SpikeTensor.alloc(a, [B, Cin, L]).pack(xf), nanOut(a, [B, Cout, L]));
          expect(u32(spike)).toEqual(u32(dense));
        } finally {
          a.dispose();
        }
      }), { numRuns: 100, seed: 12 });
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }),
      density, fc.integer({ min: 0, max: 1e6 }),
      (B, Cin, Cout, H, W, p, seed) => {
        const a = core.arena();
        try {
          const conv = new Conv2d(a, { weight: randomF32(Cout * Cin * 9, seed), bias: null, outChannels: Cout, inChannels: Cin });
          const xf = a.from(randomSpikes(B * Cin * H * W, seed + 2, p), [B, Cin, H, W]);
          const dense = conv.forward(xf, nanOut(a, [B, Cout, H, W]));
          const spike = conv.forward(SpikeTensor.alloc(a, [B, Cin, H, W]).pack(xf), nanOut(a, [B, Cout, H, W]));
          expect(u32(spike)).toEqual(u32(dense));
        } finally {
          a.dispose();
        }
      }), { numRuns: 100, seed: 13 });
  });

  // Folded vs unfolded BN. With s = γ/√(σ²+ε) and S = |s|·(Σ_k |x_k W_k| + |b|) + |s·μ| + |β| per output, each path is
  // within γ_{n+4}·S of the exact BN(x Wᵀ + b) (n = taps per output: a float32 sum of n + 1 terms; the rounded
  // scale/shift or folded weights; one multiply and one add), so |folded − unfolded| ≤ 2·γ_{n+4}·S.
  const gamma = (n: number) => (n * F32_U) / (1 - n * F32_U);

  it('BN folded into Linear / Conv1d / Conv2d ≡ unfolded within 2·γ_{n+4}·S', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1e6 }),
      (B, K, C, Wd, seed) => {
        const a = core.arena();
        try {
          const bn = randomBn(C, seed + 5);
          const check = (got: Tensor, want: Tensor, mag: RefResult, n: number, inner: number, b: ArrayLike<number> | null, label: string) => {
            const r = worst(got.f32, want.f32, (i) => {
              const c = Math.floor(i / inner) % C, s = bnScale(bn, c);
              const S = Math.abs(s) * mag.mag[i] + Math.abs(s * bn.runningMean[c]) + Math.abs(bn.bias[c]);
              return 2 * gamma(n + 4) * S + 1e-30;
            });
            expect(r, label).toBeLessThanOrEqual(1);
            expect(b === null || b.length === C).toBe(true);
          };
          // Linear [B, K] → [B, C], BN over axis 1
          {
            const w = randomF32(C * K, seed), b = randomF32(C, seed + 1), x = randomF32(B * K, seed + 2, -2, 2);
            const xt = a.from(x, [B, K]);
            const plain = new Linear(a, { weight: w, bias: b, outFeatures: C, inFeatures: K });
            const unfolded = new BatchNorm(a, bn).forward(plain.forward(xt, a.tensor([B, C])), nanOut(a, [B, C]));
            const folded = Linear.withBatchNorm(a, { weight: w, bias: b, outFeatures: C, inFeatures: K }, bn).forward(xt, nanOut(a, [B, C]));
            check(folded, unfolded, linearRef(x, w, b, B, C, K), K, 1, b, 'linear');
          }
          // Conv1d k = 3 [B, K, Wd] → [B, C, Wd], no bias
          {
            const w = randomF32(C * K * 3, seed + 3), x = randomF32(B * K * Wd, seed + 4, -2, 2);
            const xt = a.from(x, [B, K, Wd]);
            const p = { weight: w, outChannels: C, inChannels: K, kernelSize: 3 as const };
            const unfolded = new BatchNorm(a, bn).forward(new Conv1d(a, p).forward(xt, a.tensor([B, C, Wd])), nanOut(a, [B, C, Wd]));
            const folded = Conv1d.withBatchNorm(a, p, bn).forward(xt, nanOut(a, [B, C, Wd]));
            check(folded, unfolded, conv1dRef(x, w, null, B, K, C, Wd, 3), K * 3, Wd, null, 'conv1d');
          }
          // Conv2d [B, Cin, 3, Wd] → [B, C, 3, Wd], Cin = K mod 6 + 1
          {
            const Cin = (K % 6) + 1, H = 3;
            const w = randomF32(C * Cin * 9, seed + 6), b = randomF32(C, seed + 7), x = randomF32(B * Cin * H * Wd, seed + 8, -2, 2);
            const xt = a.from(x, [B, Cin, H, Wd]);
            const p = { weight: w, bias: b, outChannels: C, inChannels: Cin };
            const unfolded = new BatchNorm(a, bn).forward(new Conv2d(a, p).forward(xt, a.tensor([B, C, H, Wd])), nanOut(a, [B, C, H, Wd]));
            const folded = Conv2d.withBatchNorm(a, p, bn).forward(xt, nanOut(a, [B, C, H, Wd]));
            check(folded, unfolded, conv2d3x3Ref(x, w, b, B, Cin, C, H, Wd), Cin * 9, H * Wd, b, 'conv2d');
          }
        } finally {
          a.dispose();
        }
      }), { numRuns: 80, seed: 14 });
  });

  it('folding moves outputs (the bound is not vacuous): a skipped fold is caught', () => {
    const a = core.arena();
    const C = 4, K = 8;
    const bn = randomBn(C, 3);
    const w = randomF32(C * K, 1), x = a.from(randomF32(K, 2), [1, K]);
    const folded = Linear.withBatchNorm(a, { weight: w, outFeatures: C, inFeatures: K }, bn).forward(x, a.tensor([1, C]));
    const plain = new Linear(a, { weight: w, outFeatures: C, inFeatures: K }).forward(x, a.tensor([1, C]));
    const want = new BatchNorm(a, bn).forward(plain, a.tensor([1, C]));
    const mag = linearRef(x.f32, w, null, 1, C, K);
    for (let c = 0; c < C; c++) {
      const s = bnScale(bn, c), S = Math.abs(s) * mag.mag[c] + Math.abs(s * bn.runningMean[c]) + Math.abs(bn.bias[c]);
      expect(Math.abs(folded.f32[c] - want.f32[c])).toBeLessThanOrEqual(2 * gamma(K + 4) * S);
      expect(Math.abs(plain.f32[c] - want.f32[c])).toBeGreaterThan(2 * gamma(K + 4) * S);
    }
    a.dispose();
  });

  it('MaxPool: OR on SpikeTensor ≡ max on 0/1 floats', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 80 }), density, fc.integer({ min: 0, max: 1e6 }),
      (P, H, W, p, seed) => {
        const a = core.arena();
        try {
          const pool = new MaxPool({ name: 'sps.pool' });
          const xf = a.from(randomSpikes(P * H * W, seed, p), [P, H, W]);
          const outShape = MaxPool.outputShape([P, H, W]);
          const yf = pool.forward(xf, nanOut(a, outShape));
          const yb = pool.forward(SpikeTensor.alloc(a, [P, H, W]).pack(xf), SpikeTensor.alloc(a, outShape));
          expect(Array.from(yb.toFloat(a.tensor(outShape)).f32)).toEqual(Array.from(yf.f32));
          expect(Array.from(yf.f32)).toEqual(Array.from(maxPool3x3s2Ref(xf.f32, P, H, W)));
        } finally {
          a.dispose();
        }
      }), { numRuns: 120, seed: 15 });
  });

  it('ResidualAdd: f32 add is fround(a + b); a SpikeTensor branch ≡ its 0/1 floats', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 70 }), density, fc.integer({ min: 0, max: 1e6 }), (R, C, p, seed) => {
      const a = core.arena();
      try {
        const stream = Float32Array.from(randomF32(R * C, seed, 0, 5), Math.floor);
        const sf = a.from(randomSpikes(R * C, seed + 1, p), [R, C]);
        const res = new ResidualAdd({ arena: a, spikeShape: [R, C] });
        const viaFloat = res.forward(a.from(stream, [R, C]), sf, nanOut(a, [R, C]));
        expect(Array.from(viaFloat.f32)).toEqual(Array.from(stream, (v, i) => Math.fround(v + sf.f32[i])));
        const x = a.from(stream, [R, C]);
        res.forward(x, SpikeTensor.alloc(a, [R, C]).pack(sf), x); // in place
        expect(Array.from(x.f32)).toEqual(Array.from(viaFloat.f32));
      } finally {
        a.dispose();
      }
    }), { numRuns: 60, seed: 16 });
  });
});

describe('profiling', () => {
  it('Linear on a SpikeTensor of known density reports macs, inputs and nonZero exactly', () => {
    const a = core.arena();
    const T = 3, B = 2, K = 70, N = 9;
    const lin = new Linear(a, { weight: randomF32(N * K, 1), bias: randomF32(N, 2), outFeatures: N, inFeatures: K }, { name: 'fc' });
    // exactly every 5th input spikes: 3·2·70 / 5 = 84 spikes (density 20 %)
    const xf = a.from(Float32Array.from({ length: T * B * K }, (_, i) => (i % 5 === 0 ? 1 : 0)), [T, B, K]);
    const xs = SpikeTensor.alloc(a, [T, B, K]).pack(xf);
    const y = a.tensor([T, B, N]);
    expect(lin.cost()).toBeNull();
    lin.forward(xs, y); // not profiling: nothing recorded
    expect(lin.cost()).toBeNull();
    lin.profiling = true;
    expect(lin.cost()).toEqual({ macs: 0, inputs: 0, nonZero: 0, analog: false });
    lin.forward(xs, y);
    expect(lin.cost()).toEqual({ macs: T * B * K * N, inputs: T * B * K, nonZero: 84, analog: false });
    lin.forward(xs, y);
    expect(lin.cost()).toEqual({ macs: 2 * T * B * K * N, inputs: 2 * T * B * K, nonZero: 168, analog: false });
    // a float input (3 non-zeros) marks the layer analog
    const xr = a.from(Float32Array.from({ length: B * K }, (_, i) => (i === 3 ? 0.5 : i === 70 ? -2 : i === 139 ? 7 : 0)), [B, K]);
    lin.forward(xr, a.tensor([B, N]));
    expect(lin.cost()).toEqual({ macs: 2 * T * B * K * N + B * K * N, inputs: 2 * T * B * K + B * K, nonZero: 171, analog: true });
    lin.profiling = false;
    lin.forward(xs, y);
    expect(lin.cost()!.macs).toBe(2 * T * B * K * N + B * K * N);
    lin.profiling = true; // switching on again starts from zero
    expect(lin.cost()).toEqual({ macs: 0, inputs: 0, nonZero: 0, analog: false });
    a.dispose();
  });

  it('Conv1d / Conv2d report dense-equivalent MACs', () => {
    const a = core.arena();
    const c1 = new Conv1d(a, { weight: randomF32(4 * 3 * 3, 1), outChannels: 4, inChannels: 3, kernelSize: 3 });
    const c2 = new Conv2d(a, { weight: randomF32(5 * 2 * 9, 2), outChannels: 5, inChannels: 2 });
    c1.profiling = c2.profiling = true;
    const s1 = SpikeTensor.alloc(a, [2, 3, 40]).pack(a.from(randomSpikes(240, 3, 0.25), [2, 3, 40]));
    c1.forward(s1, a.tensor([2, 4, 40]));
    expect(c1.cost()).toEqual({ macs: 2 * 4 * 40 * 3 * 3, inputs: 240, nonZero: s1.count(), analog: false });
    const img = a.from(randomF32(2 * 7 * 6, 4), [1, 2, 7, 6]);
    c2.forward(img, a.tensor([1, 5, 7, 6]));
    expect(c2.cost()).toEqual({ macs: 5 * 7 * 6 * 2 * 9, inputs: 84, nonZero: 84, analog: true });
    a.dispose();
  });
});

describe('errors', () => {
  it('core-wasm typed errors propagate with the layer name; constructors check weights', () => {
    const a = core.arena();
    const lin = new Linear(a, { weight: new Float32Array(12), outFeatures: 3, inFeatures: 4 }, { name: 'block.1.mlp.fc1' });
    expect(() => lin.forward(a.tensor([2, 5]), a.tensor([2, 3]))).toThrow(ShapeError);
    expect(() => lin.forward(a.tensor([2, 5]), a.tensor([2, 3]))).toThrow(/^block\.1\.mlp\.fc1: linear: input/);
    expect(() => lin.forward(a.tensor([2, 4], 'i32'), a.tensor([2, 3]))).toThrow(DTypeError);
    expect(() => new Linear(a, { weight: new Float32Array(11), outFeatures: 3, inFeatures: 4 })).toThrow(ShapeError);
    expect(() => new Linear(a, { weight: new Float32Array(12), bias: new Float32Array(4), outFeatures: 3, inFeatures: 4 })).toThrow(/bias/);
    expect(() => new Conv1d(a, { weight: new Float32Array(10), outChannels: 2, inChannels: 1, kernelSize: 5 as 3 })).toThrow(ArgumentError);
    expect(() => Conv2d.withBatchNorm(a, { weight: new Float32Array(18), outChannels: 2, inChannels: 1 }, randomBn(3, 1))).toThrow(ShapeError);
    const pool = new MaxPool({ name: 'pool' });
    expect(() => pool.forward(SpikeTensor.alloc(a, [4, 4]), a.tensor([2, 2]) as unknown as SpikeTensor)).toThrow(ArgumentError);
    expect(() => pool.forward(a.tensor([4, 4]), a.tensor([3, 3]))).toThrow(/^pool: maxPool3x3s2/);
    expect(() => new ResidualAdd().forward(a.tensor([2]), SpikeTensor.alloc(a, [2]), a.tensor([2]))).toThrow(/spikeShape/);
    expect(() => new MeanPool(3, { name: 'mean' }).forward(a.tensor([2, 2]), a.tensor([2]))).toThrow(/^mean: meanAxis/);
    expect(() => new BatchNorm(a, { ...randomBn(3, 1), runningVar: new Float32Array(2) })).toThrow(SpikewasmError);
    a.dispose();
  });
});
