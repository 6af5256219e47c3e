// The LMU memory and cell in their three forms (fft, fir, recurrent) and two streaming steppers: equivalence tests
// (keras-lmu style), a float64 oracle of the cell, and the kernel_lmu_matrices fixture.
//
// Error bounds used below (u = 2⁻²⁴, γ_n = nu/(1 − nu)); m denotes the exact memory Σ_{s≤t} H64[:, t−s]·u_s with
// H64 = Āᵗ B̄ computed in float64 from the float32 Ā, B̄ (the fixtures' convention), |·| elementwise:
//  - FIR (lmuFir, H rounded once to f32): |m̂ − m| ≤ γ_{t+1}·Σ_s |H[:, t−s] u_s| + u·Σ_s |H64 u_s| + u·|m|.
//  - FFT (lmuFft, size 2P): per channel i, ≤ 16·log2(2P)·u·‖u_b‖₂·Σ_t |H[i, t]| (core-wasm's derivation, with
//    max_k |Ŝ_i[k]| ≤ Σ_t |H[i, t]|), plus the FIR terms (the spectra come from the f32 H).
//  - Recurrence (lmuStep: d-term GEMM, then B̄·u added): m̂_t = Ā m̂_{t−1} + B̄ u_t + r_t with
//    ‖r_t‖_∞ ≤ γ_{d+2}·max_i(Σ_j |Ā_ij m̂_{t−1,j}| + |B̄_i u_t|), so m̂_t − m_t = Σ_{k≤t} Ā^{t−k} r_k and
//    ‖m̂_t − m_t‖_∞ ≤ c_A·Σ_{k≤t} ‖r_k‖_∞, c_A = max_{j<L} ‖Āʲ‖_∞ (computed in float64). First order, rigorous.
//  - h = ReLU(W_h [m ; x] + b): ReLU is 1-Lipschitz, so |Δh_j| ≤ Σ_i |W_h[j, i]|·Δm_i + 2γ_{K+1}·Σ_k |W_h[j, k]·cat_k|
//    (K = d + C; the two GEMMs' own rounding).
// The worst measured ratios error/bound are printed at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, lmuFir, ArgumentError, ShapeError, type Arena, type Core, type Tensor } from '@spikewasm/core-wasm';
import { F32_U } from '@spikewasm/core-wasm/oracle';
import { LMU, LMUMemory, lmuBuffers, type LMUMode } from '../src/index.js';
import { countAllocations, loadFixture, randomF32, tensorOf } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const U = F32_U;
const gamma = (n: number) => (n * U) / (1 - n * U);

interface Case { d: number; C: number; hidden: number; seqLen: number; L: number; theta: number }

/** Cases bracketing the f32x4 width, the GEMM panels of 8, FFT padding (seqLen not a power of two) and L < seqLen. */
const CASES: Case[] = [
  { d: 1, C: 1, hidden: 1, seqLen: 1, L: 1, theta: 1 },
  { d: 4, C: 3, hidden: 5, seqLen: 16, L: 16, theta: 4 },
  { d: 17, C: 5, hidden: 9, seqLen: 33, L: 33, theta: 20 },
  { d: 24, C: 3, hidden: 16, seqLen: 96, L: 96, theta: 96 },
  { d: 32, C: 16, hidden: 32, seqLen: 128, L: 128, theta: 128 },
  { d: 65, C: 8, hidden: 17, seqLen: 128, L: 100, theta: 128 },
  { d: 256, C: 256, hidden: 256, seqLen: 128, L: 128, theta: 128 },
];

const worst = new Map<string, number>();
function record(key: string, ratio: number): void {
  worst.set(key, Math.max(worst.get(key) ?? 0, ratio));
}
afterAll(() => {
  for (const [k, v] of worst) console.log(`LMU ${k}: worst |error|/bound ${v.toExponential(2)}`);
});

function randomCell(c: Case, seed: number) {
  const { d, C, hidden } = c;
  const su = 1 / Math.sqrt(C), sh = 1 / Math.sqrt(d + C);
  return {
    W_u: { weight: randomF32(C, seed, -su, su), bias: randomF32(1, seed + 1, 0, 0.2) },
    W_h: { weight: randomF32(hidden * (d + C), seed + 2, -sh, sh), bias: randomF32(hidden, seed + 3, -0.1, 0.1) },
  };
}

/** Float64 powers: c_A = max_{j<L} ‖Āʲ‖_∞. */
function powerNormBound(A: Float32Array, d: number, L: number): number {
  let P = new Float64Array(d * d);
  for (let i = 0; i < d; i++) P[i * d + i] = 1;
  let best = 1;
  const tmp = new Float64Array(d);
  for (let j = 1; j < L; j++) {
    const Q = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      tmp.fill(0);
      for (let k = 0; k < d; k++) {
        const a = A[i * d + k];
        if (a === 0) continue;
        const r = k * d;
        for (let c = 0; c < d; c++) tmp[c] += a * P[r + c];
      }
      Q.set(tmp, i * d);
    }
    P = Q;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += Math.abs(P[i * d + c]);
      best = Math.max(best, s);
    }
  }
  return best;
}

/** Exact memory (float64 H from the f32 Ā, B̄) and the FIR terms' magnitudes, per [b, t, i]. */
function exactMemory(mem: LMUMemory, u: Float32Array, B: number, L: number) {
  const d = mem.order;
  const H64 = new Float64Array(d * L); // H64[i, t] by the float64 recurrence from the f32 Ā, B̄
  let h = Float64Array.from(mem.B);
  for (let t = 0; t < L; t++) {
    for (let i = 0; i < d; i++) H64[i * L + t] = h[i];
    const n = new Float64Array(d);
    for (let i = 0; i < d; i++) { let s = 0; for (let k = 0; k < d; k++) s += mem.A[i * d + k] * h[k]; n[i] = s; }
    h = n;
  }
  const m = new Float64Array(B * L * d), mag = new Float64Array(B * L * d);
  for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) for (let i = 0; i < d; i++) {
    let s = 0, g = 0;
    for (let q = 0; q <= t; q++) { const v = H64[i * L + t - q] * u[b * L + q]; s += v; g += Math.abs(v); }
    m[(b * L + t) * d + i] = s;
    mag[(b * L + t) * d + i] = g;
  }
  return { m, mag };
}

/** The FIR bound on the memory, per element. */
const firBound = (t: number, mag: number, m: number) => gamma(t + 1) * mag * (1 + 2 * U) + U * mag + U * Math.abs(m) + 1e-30;

function runForms(a: Arena, lmu: LMU, x: Tensor, B: number, L: number) {
  const res = {} as Record<LMUMode, { h: Float32Array; m: Float32Array; u: Float32Array; cat: Float32Array }>;
  for (const mode of ['fft', 'fir', 'recurrent'] as const) {
    lmu.mode = mode;
    const out = a.tensor([B, L, lmu.hiddenSize]);
    out.f32.fill(NaN);
    lmu.forward(x, out);
    const { u, cat } = lmu.buffers(B, L);
    res[mode] = { h: out.toArray() as Float32Array, m: lmu.readMemory(B, L), u: u.toArray() as Float32Array, cat: cat.toArray() as Float32Array };
  }
  return res;
}

describe('LMU: the three forms agree', () => {
  it.each(CASES)('d=$d C=$C hidden=$hidden seqLen=$seqLen L=$L: fft ≈ fir ≈ recurrent within the bounds; same u', (c) => {
    const a = core.arena();
    try {
      const B = 2, { d, C, hidden, L } = c;
      const p = randomCell(c, 7 * d + C);
      const lmu = new LMU(a, { inputSize: C, hiddenSize: hidden, order: d, theta: c.theta, seqLen: c.seqLen }, p);
      const xs = randomF32(B * L * C, 11 * d + L, -1, 1);
      const x = a.from(xs, [B, L, C]);
      const r = runForms(a, lmu, x, B, L);
      expect(r.fft.u).toEqual(r.fir.u);
      expect(r.recurrent.u).toEqual(r.fir.u);
      const { m: mEx, mag } = exactMemory(lmu.memory, r.fir.u, B, L);
      const cA = powerNormBound(lmu.memory.A, d, L);
      const P = lmu.memory.fftLength;
      const hAbs = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let t = 0; t < c.seqLen; t++) hAbs[i] += Math.abs(lmu.memory.H[i * c.seqLen + t]);
      const dmBound: Record<'fft' | 'recurrent', Float64Array> = { fft: new Float64Array(B * L * d), recurrent: new Float64Array(B * L * d) };
      let rFir = 0, rFft = 0, rRec = 0;
      for (let b = 0; b < B; b++) {
        let uNorm = 0;
        for (let t = 0; t < L; t++) uNorm += r.fir.u[b * L + t] ** 2;
        uNorm = Math.sqrt(uNorm);
        let rSum = 0; // Σ_k ‖r_k‖_∞ of the recurrence
        for (let t = 0; t < L; t++) {
          let rk = 0;
          for (let i = 0; i < d; i++) {
            let s = Math.abs(lmu.memory.B[i] * r.fir.u[b * L + t]);
            if (t > 0) for (let j = 0; j < d; j++) s += Math.abs(lmu.memory.A[i * d + j] * r.recurrent.m[(b * L + t - 1) * d + j]);
            rk = Math.max(rk, gamma(d + 2) * s);
          }
          rSum += rk;
          for (let i = 0; i < d; i++) {
            const k = (b * L + t) * d + i;
            const fb = firBound(t, mag[k], mEx[k]);
            const ffb = 16 * Math.log2(2 * P) * U * uNorm * hAbs[i] + fb;
            const rb = cA * rSum + fb;
            dmBound.fft[k] = ffb + fb;
            dmBound.recurrent[k] = rb + fb;
            rFir = Math.max(rFir, Math.abs(r.fir.m[k] - mEx[k]) / fb);
            rFft = Math.max(rFft, Math.abs(r.fft.m[k] - mEx[k]) / ffb);
            rRec = Math.max(rRec, Math.abs(r.recurrent.m[k] - mEx[k]) / rb);
          }
        }
      }
      record('fir memory vs float64', rFir);
      record('fft memory vs float64', rFft);
      record('recurrent memory vs float64', rRec);
      expect(rFir).toBeLessThanOrEqual(1);
      expect(rFft).toBeLessThanOrEqual(1);
      expect(rRec).toBeLessThanOrEqual(1);
      // h: propagate the memory differences through W_h, plus both GEMMs' rounding
      const W = p.W_h.weight;
      const K = d + C;
      for (const mode of ['fft', 'recurrent'] as const) {
        let ratio = 0;
        for (let row = 0; row < B * L; row++) for (let j = 0; j < hidden; j++) {
          let bound = 0;
          for (let i = 0; i < K; i++) {
            const w = Math.abs(W[j * K + i]);
            if (i < d) bound += w * dmBound[mode][row * d + i];
            bound += 2 * gamma(K + 1) * w * Math.abs(r.fir.cat[row * K + i]);
          }
          const e = Math.abs(r[mode].h[row * hidden + j] - r.fir.h[row * hidden + j]);
          ratio = Math.max(ratio, e / (bound + 2 * U * Math.abs(r.fir.h[row * hidden + j]) + 1e-30));
        }
        record(`${mode} h vs fir h`, ratio);
        expect(ratio, mode).toBeLessThanOrEqual(1);
      }
    } finally {
      a.dispose();
    }
  });

  it.each(CASES.filter((c) => c.d <= 65))('d=$d C=$C: the cell against a float64 oracle (memory first in [m ; x])', (c) => {
    const a = core.arena();
    try {
      const B = 2, { d, C, hidden, L } = c;
      const p = randomCell(c, 5 * d + 3 * C);
      const lmu = new LMU(a, { inputSize: C, hiddenSize: hidden, order: d, theta: c.theta, seqLen: c.seqLen, mode: 'fir' }, p);
      const xs = randomF32(B * L * C, 3 * d + L, -1, 1);
      const out = a.tensor([B, L, hidden]);
      lmu.forward(a.from(xs, [B, L, C]), out);
      const u = new Float64Array(B * L);
      for (let r = 0; r < B * L; r++) {
        let s = p.W_u.bias[0];
        for (let k = 0; k < C; k++) s += p.W_u.weight[k] * xs[r * C + k];
        u[r] = Math.max(s, 0);
      }
      const { m } = exactMemory(lmu.memory, Float32Array.from(u), B, L);
      let worstNorm = 0;
      for (let r = 0; r < B * L; r++) for (let j = 0; j < hidden; j++) {
        let s = p.W_h.bias[j], g = Math.abs(p.W_h.bias[j]);
        for (let i = 0; i < d; i++) { const v = p.W_h.weight[j * (d + C) + i] * m[r * d + i]; s += v; g += Math.abs(v); }
        for (let k = 0; k < C; k++) { const v = p.W_h.weight[j * (d + C) + d + k] * xs[r * C + k]; s += v; g += Math.abs(v); }
        worstNorm = Math.max(worstNorm, Math.abs(out.f32[r * hidden + j] - Math.max(s, 0)) / (1 + g));
      }
      record('cell (fir) vs float64 oracle, |Δh|/(1 + Σ|W_h·[m;x]|)', worstNorm / 1e-5);
      expect(worstNorm).toBeLessThanOrEqual(1e-5);
    } finally {
      a.dispose();
    }
  });
});

describe('LMU: streaming steppers', () => {
  it.each(CASES)('d=$d seqLen=$seqLen L=$L: the FIR stepper equals the parallel fir form bit for bit (u, m, h) for t < L', (c) => {
    const a = core.arena();
    try {
      const B = 3, { d, C, hidden, L } = c;
      const lmu = new LMU(a, { inputSize: C, hiddenSize: hidden, order: d, theta: c.theta, seqLen: c.seqLen, mode: 'fir' }, randomCell(c, d + 13));
      const xs = randomF32(B * L * C, 17 * d + L, -1, 1);
      const ref = runForms(a, lmu, a.from(xs, [B, L, C]), B, L);
      for (const mode of ['fir', 'recurrent'] as const) {
        const s = lmu.stepper(B, mode);
        const xt = a.tensor([B, C]), ht = a.tensor([B, hidden]);
        const want = ref[mode];
        let bad = 0;
        for (let t = 0; t < L; t++) {
          for (let b = 0; b < B; b++) xt.f32.set(xs.subarray((b * L + t) * C, (b * L + t + 1) * C), b * C);
          ht.f32.fill(NaN);
          s.step(xt, ht);
          for (let b = 0; b < B; b++) {
            if (s.u.f32[b] !== want.u[b * L + t]) bad++;
            for (let i = 0; i < d; i++) if (s.cat.f32[b * (d + C) + i] !== want.m[(b * L + t) * d + i]) bad++;
            for (let j = 0; j < hidden; j++) if (!Object.is(ht.f32[b * hidden + j], want.h[(b * L + t) * hidden + j])) bad++;
          }
        }
        expect(bad, `${mode} stepper mismatches`).toBe(0);
        expect(s.t).toBe(L);
      }
    } finally {
      a.dispose();
    }
  });

  it('past seqLen the FIR stepper is the FIR over the last seqLen inputs; reset() starts over', () => {
    const a = core.arena();
    try {
      const d = 12, L = 16, B = 2, T = 3 * L + 5;
      const mem = new LMUMemory(a, { order: d, theta: 10, seqLen: L });
      const us = randomF32(B * T, 99, -1, 1);
      const s = mem.stepper(B, 'fir');
      const ut = a.tensor([B]), out = a.tensor([B, d + 2]);
      const win = a.tensor([1, L]), firOut = a.tensor([1, L, d]);
      const run = () => {
        let bad = 0;
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) ut.f32[b] = us[b * T + t];
          out.f32.fill(NaN);
          s.step(ut, out);
          for (let b = 0; b < B; b++) {
            const n = Math.min(t + 1, L);
            win.f32.fill(0);
            win.f32.set(us.subarray(b * T + t + 1 - n, b * T + t + 1), 0);
            lmuFir(core.view(win.ptr, [1, n]), mem.ht, core.view(firOut.ptr, [1, n, d]));
            for (let i = 0; i < d; i++) if (out.f32[b * (d + 2) + i] !== firOut.f32[(n - 1) * d + i]) bad++;
            expect(Number.isNaN(out.f32[b * (d + 2) + d])).toBe(true); // columns past d untouched
          }
        }
        return bad;
      };
      expect(run()).toBe(0);
      s.reset();
      expect(s.t).toBe(0);
      expect(run()).toBe(0);
    } finally {
      a.dispose();
    }
  });

  it('nothing is allocated in Wasm memory by a forward or a step once warmed up', () => {
    const a = core.arena();
    try {
      const c = CASES[5], B = 2;
      const lmu = new LMU(a, { inputSize: c.C, hiddenSize: c.hidden, order: c.d, theta: c.theta, seqLen: c.seqLen }, randomCell(c, 1));
      const x = a.from(randomF32(B * c.L * c.C, 2), [B, c.L, c.C]);
      const out = a.tensor([B, c.L, c.hidden]);
      const xt = a.tensor([B, c.C]), ht = a.tensor([B, c.hidden]);
      for (const mode of ['fft', 'fir', 'recurrent'] as const) {
        lmu.mode = mode;
        lmu.forward(x, out);
        expect(countAllocations(core, () => lmu.forward(x, out)).count, mode).toBe(0);
      }
      for (const mode of ['fir', 'recurrent'] as const) {
        const s = lmu.stepper(B, mode);
        s.step(xt, ht);
        expect(countAllocations(core, () => { for (let t = 0; t < 40; t++) s.step(xt, ht); }).count, mode).toBe(0);
      }
    } finally {
      a.dispose();
    }
  });
});

describe('LMU: buffers and the kernel_lmu_matrices fixture', () => {
  const file = () => loadFixture('kernel_lmu_matrices.safetensors');

  it('lmuBuffers(32, 128, 128) equals the fixture F32 A, B, H (≤ 1e-6 relative to the largest entry)', () => {
    const f = file();
    const { A, B, H } = lmuBuffers(32, 128, 128);
    for (const [name, got] of [['A', A], ['B', B], ['H', H]] as const) {
      const want = tensorOf(f, name);
      let e = 0, s = 0;
      for (let i = 0; i < want.length; i++) { e = Math.max(e, Math.abs(got[i] - want[i])); s = Math.max(s, Math.abs(want[i])); }
      expect(e, name).toBeLessThanOrEqual(1e-6 * s);
    }
  });

  it.each(['fft', 'fir', 'recurrent'] as const)('LMUMemory (%s) on the fixture A, B, H gives expected.memory within 1e-5 absolute', (mode) => {
    const f = file();
    const a = core.arena();
    try {
      const [B, L] = f.tensors.get('input')!.shape;
      const mem = new LMUMemory(a, { order: 32, theta: 128, seqLen: 128, A: tensorOf(f, 'A'), B: tensorOf(f, 'B'), H: tensorOf(f, 'H') });
      const out = a.tensor([B, L, 32]);
      mem.forward(a.from(tensorOf(f, 'input'), [B, L]), out, mode);
      const want = tensorOf<Float64Array>(f, 'expected.memory');
      let e = 0;
      for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(out.f32[i] - want[i]));
      console.log(`kernel_lmu_matrices memory (${mode}): max |error| ${e.toExponential(2)}`);
      expect(e).toBeLessThanOrEqual(1e-5);
    } finally {
      a.dispose();
    }
  });

  it('buffers default to the ZOH discretisation of (order, theta) and H from them', () => {
    const f = file();
    const a = core.arena();
    try {
      const mem = new LMUMemory(a, { order: 32, theta: 128, seqLen: 128 });
      const want = tensorOf(f, 'H');
      let e = 0;
      for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(mem.H[i] - want[i]));
      expect(e).toBeLessThanOrEqual(1e-6);
      // H given without A, B: A, B still come from (order, theta); H is taken as is
      const m2 = new LMUMemory(a, { order: 32, theta: 128, seqLen: 128, H: want });
      expect(m2.H).toEqual(want);
      expect(m2.A).toEqual(mem.A);
    } finally {
      a.dispose();
    }
  });
});

describe('LMU: argument checks', () => {
  it('rejects memoryD ≠ 1, bad sizes, mis-sized weights, one of A/B, long sequences and bad modes', () => {
    const a = core.arena();
    try {
      const c = CASES[1];
      const opts = { inputSize: c.C, hiddenSize: c.hidden, order: c.d, theta: c.theta, seqLen: c.seqLen };
      const p = randomCell(c, 3);
      expect(() => new LMU(a, { ...opts, memoryD: 2 }, p)).toThrow(ArgumentError);
      expect(() => new LMU(a, { ...opts, order: 0 }, p)).toThrow(ArgumentError);
      expect(() => new LMU(a, { ...opts, theta: -1 }, p)).toThrow(ArgumentError);
      expect(() => new LMU(a, opts, { ...p, W_h: { weight: new Float32Array(3) } })).toThrow(/W_h\.weight expected \[5, 7\]/);
      expect(() => new LMU(a, opts, { ...p, A: new Float32Array(16) })).toThrow(/both A and B/);
      expect(() => new LMU(a, { ...opts, mode: 'dft' as LMUMode }, p)).toThrow(ArgumentError);
      const lmu = new LMU(a, opts, p);
      expect(() => lmu.forward(a.tensor([1, c.seqLen + 1, c.C]), a.tensor([1, c.seqLen + 1, c.hidden]))).toThrow(ShapeError);
      expect(() => lmu.forward(a.tensor([1, 4, c.C + 1]), a.tensor([1, 4, c.hidden]))).toThrow(ShapeError);
      expect(() => lmu.memory.forward(a.tensor([1, 4]), a.tensor([1, 4, c.d - 1]))).toThrow(/fewer than d/);
      expect(() => lmu.stepper(1, 'fft' as 'fir')).toThrow(ArgumentError);
    } finally {
      a.dispose();
    }
  });
});
