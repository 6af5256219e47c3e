// FFT form of the parallel LMU memory (ops.prepareLmuFft / ops.lmuFft, kernels f32_lmu_fft_{scalar,simd128}) on both
// backends, against the float64 oracle lmuFirRef and against the blocked FIR op, with NaN-prefilled guarded outputs.
//
// Error bound. An FFT does not keep the error of m_t within Σ_s |u_s·h_{t−s}| (the FIR bound): every output mixes
// every input, so its error scales with the norms of the whole sequence and filter. Higham (Accuracy and Stability
// of Numerical Algorithms, 2nd ed., Thm 24.2): a radix-2 FFT of size 2^t with twiddles accurate to μ has
// ‖ŷ − y‖₂ ≤ t·η/(1 − t·η)·‖y‖₂, η = μ + γ₄(√2 + μ) ≈ (1 + 4√2)·u ≈ 6.7u for f32 twiddles (μ ≤ u).
// Per channel i, with N = 2L and Ŝ_i = rfft_N(H[i]) (unscaled):
//   forward  X = rfft_N(u):   size-L complex FFT (log2 L stages) + the untangling step (a few flops per bin),
//                              relative 2-norm error ≲ (6.7·log2 L + 3)·u, and ‖X‖₂ ≤ √N·‖u‖₂ (Parseval);
//   product  X·Ŝ_i/N:          spectrum rounded once to f32 (u) + one complex product (√2·γ₂) ≈ 4u, elementwise;
//   inverse  irfft_N:          the pre-step (≈ 4u) + size-L complex IFFT (log2 L stages of 6.7u).
// The unnormalised inverse transform has 2-norm √N, so with ‖X·Ŝ‖₂ ≤ ‖X‖₂·‖Ŝ_i‖_∞ the errors add up to
//   ‖m̂_i − m_i‖₂ ≤ (13.4·log2 L + 11)·u·‖u‖₂·‖Ŝ_i‖_∞ ≤ C·log2(2L)·u·‖u‖₂·‖Ŝ_i‖_∞ with C = 16 (margin ≈ 1.2× at L = 128
// for the neglected second-order terms), where ‖Ŝ_i‖_∞ = max_k |Ŝ_i[k]| ≤ Σ_t |H[i, t]|.
// Every element obeys the 2-norm bound, which we apply elementwise: that is rigorous to first order but loose by
// about √L for typical (random-walk) rounding; the measured worst ratios are printed. FFT vs FIR: their distance is
// at most this bound plus the FIR's own γ_{L+1}·Σ|terms| + u·|m|.
// Scalar and SIMD: the SIMD kernel runs the same f32 operations in the same order per lane (one channel per lane;
// no FMA in baseline Wasm SIMD), so the two backends agree bit for bit; the test asserts that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, Core, Arena, ArgumentError, ShapeError } from '../src/index.js';
import * as ops from '../src/ops.js';
import * as ref from '../src/oracle.js';
import { BACKENDS, bytesEqual, guarded, randomF32 } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const U = ref.F32_U;
const C = 16;
const fftBound = (L: number, uNorm: number, sInf: number) => C * Math.log2(2 * L) * U * uNorm * sInf;

/** Float64 spectra of each channel's first L taps zero-padded to 2L: re/im [d][L+1] and max_k |Ŝ_i[k]|. */
function spectraRef(ht: Float32Array, L: number, d: number): { re: Float64Array; im: Float64Array; inf: Float64Array } {
  const re = new Float64Array(d * (L + 1)), im = new Float64Array(d * (L + 1)), inf = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k <= L; k++) {
      let sr = 0, si = 0;
      for (let t = 0; t < L; t++) {
        const a = (Math.PI * ((k * t) % (2 * L))) / L;
        sr += ht[t * d + i] * Math.cos(a);
        si -= ht[t * d + i] * Math.sin(a);
      }
      re[i * (L + 1) + k] = sr;
      im[i * (L + 1) + k] = si;
      inf[i] = Math.max(inf[i], Math.hypot(sr, si));
    }
  }
  return { re, im, inf };
}

/** Worst measured ratios per L (printed at the end). */
const worst = new Map<number, { oracle: number; fir: number; absErr: number; relErr: number }>();

afterAll(() => {
  for (const [L, w] of [...worst].sort((a, b) => a[0] - b[0])) {
    console.log(`lmuFft L=${L}: worst |error|/bound vs float64 oracle ${w.oracle.toExponential(2)}, vs FIR ${w.fir.toExponential(2)}; `
      + `worst |error| ${w.absErr.toExponential(2)}, worst |error|/(‖u‖₂·‖Ŝ_i‖∞) ${(w.relErr / U).toFixed(2)}u`);
  }
});

describe('LMU FFT form (prepareLmuFft / lmuFft)', () => {
  const Ds = [1, 3, 4, 5, 16, 17, 64, 65, 256];
  // 1 and 2: no passes before the last stage; 4, 16, 64: a radix-2 stage after the radix-2² passes; 8, 128: none
  const Ls = [1, 2, 4, 8, 16, 64, 128];
  const cases: [number, number][] = [];
  for (const L of Ls) for (const d of Ds) cases.push([d, L]);

  it.each(cases)('d=%i L=%i: float64 oracle and FIR within the FFT bound; guards; scalar ≡ SIMD', (d, L) => {
    const B = 2;
    const D = d + 3; // room for a concatenated [m ; x]: the 3 extra columns must stay untouched
    const ht = randomF32(L * d, 31 * d + L);
    const us = new Float32Array(B * L);
    us.set(randomF32(L, L + d, 0, 1)); // sequence 0: non-negative, every third input zero (the FIR skips zeros)
    for (let s = 0; s < L; s += 3) us[s] = 0;
    us.set(randomF32(L, 7 * L + d, -1, 1), L); // sequence 1: mixed signs (cancellation)
    const spec = spectraRef(ht, L, d);
    if (!worst.has(L)) worst.set(L, { oracle: 0, fir: 0, absErr: 0, relErr: 0 });
    const w = worst.get(L)!;
    const res: Record<string, Float32Array> = {};
    for (const backend of BACKENDS) {
      core.backend = backend;
      const arena: Arena = core.arena();
      try {
        const ut = arena.from(us, [B, L]), htt = arena.from(ht, [L, d]);
        const plan = ops.prepareLmuFft(arena, htt, L);
        const g = guarded(arena, [B, L, D]);
        ops.lmuFft(ut, plan, g.t);
        g.check();
        expect(g.unwritten()).toBe(B * L * 3);
        const fir = arena.tensor([B, L, d]);
        ops.lmuFir(ut, htt, fir);
        const got = g.t.toArray() as Float32Array, fv = fir.f32;
        for (let b = 0; b < B; b++) {
          const ub = us.subarray(b * L, (b + 1) * L);
          const r = ref.lmuFirRef(ub, ht, L, d);
          const uNorm = Math.hypot(...ub);
          for (let t = 0; t < L; t++) for (let i = 0; i < d; i++) {
            const x = got[(b * L + t) * D + i], y = r.y[t * d + i];
            const bound = fftBound(L, uNorm, spec.inf[i]) + 1e-30;
            const e = Math.abs(x - y);
            if (!(e <= bound)) throw new Error(`${backend} d=${d} L=${L} b=${b} t=${t} i=${i}: ${x} vs oracle ${y}, error ${(e / bound).toFixed(2)}× the bound`);
            const firBound = bound + ref.sumErrorBound(L + 1, r.mag[t * d + i]) + U * Math.abs(y);
            const ef = Math.abs(x - fv[(b * L + t) * d + i]);
            if (!(ef <= firBound)) throw new Error(`${backend} d=${d} L=${L} b=${b} t=${t} i=${i}: ${x} vs FIR ${fv[(b * L + t) * d + i]}, ${(ef / firBound).toFixed(2)}× the bound`);
            w.oracle = Math.max(w.oracle, e / bound);
            w.fir = Math.max(w.fir, ef / firBound);
            w.absErr = Math.max(w.absErr, e);
            if (uNorm * spec.inf[i] > 0) w.relErr = Math.max(w.relErr, e / (uNorm * spec.inf[i]));
          }
        }
        // a second call reuses the plan's scratch: same bytes
        const again = arena.tensor([B, L, D]);
        ops.lmuFft(ut, plan, again);
        for (let r = 0; r < B * L; r++) {
          expect(bytesEqual(again.f32.subarray(r * D, r * D + d), got.subarray(r * D, r * D + d))).toBe(true);
        }
        res[backend] = got;
      } finally {
        arena.dispose();
        core.backend = 'simd';
      }
    }
    expect(bytesEqual(res.scalar, res.simd), 'scalar ≡ SIMD').toBe(true);
  });

  it('the prepared spectra are the float64 rfft of each channel divided by 2L, rounded once', () => {
    for (const [d, L] of [[5, 8], [17, 128]] as const) {
      const ht = randomF32(L * d, d * L + 1);
      const want = spectraRef(ht, L, d);
      const arena = core.arena();
      try {
        const plan = ops.prepareLmuFft(arena, arena.from(ht, [L, d]), L);
        expect(plan.spec.shape).toEqual([Math.ceil(d / 4), L + 1, 2, 4]);
        const s = plan.spec.f32;
        const groups = Math.ceil(d / 4);
        for (let g = 0; g < groups; g++) for (let k = 0; k <= L; k++) for (let c = 0; c < 4; c++) {
          const i = 4 * g + c, o = (g * (L + 1) + k) * 8 + c;
          if (i >= d) {
            expect(s[o]).toBe(0);
            expect(s[o + 4]).toBe(0);
            continue;
          }
          for (const [got, w] of [[s[o], want.re[i * (L + 1) + k]], [s[o + 4], want.im[i * (L + 1) + k]]]) {
            // float64 DFT error (≲ L·2⁻⁵³·Σ|h|) is far below half an f32 ulp of the magnitudes involved
            expect(Math.abs(got - w / (2 * L))).toBeLessThanOrEqual(U * Math.abs(w / (2 * L)) + 1e-12 * want.inf[i] / (2 * L));
          }
        }
      } finally {
        arena.dispose();
      }
    }
  });

  it('L must be a power of two; shapes are checked', () => {
    const arena = core.arena();
    try {
      const ht = arena.from(randomF32(12 * 4, 5), [12, 4]);
      for (const L of [0, 3, 6, 12, 1.5]) {
        expect(() => ops.prepareLmuFft(arena, ht, L)).toThrow(ArgumentError);
      }
      expect(() => ops.prepareLmuFft(arena, ht)).toThrow(ArgumentError); // Lh = 12
      expect(() => ops.prepareLmuFft(arena, ht, 16)).toThrow(ShapeError); // more than the 12 taps
      const plan = ops.prepareLmuFft(arena, ht, 8);
      for (const L of [3, 6, 12]) {
        expect(() => ops.lmuFft(arena.tensor([2, L]), plan, arena.tensor([2, L, 4]))).toThrow(ArgumentError);
        expect(() => ops.lmuFft(arena.tensor([2, L]), plan, arena.tensor([2, L, 4]))).toThrow(/power of two/);
      }
      expect(() => ops.lmuFft(arena.tensor([2, 4]), plan, arena.tensor([2, 4, 4]))).toThrow(ShapeError); // plan is for L = 8
      expect(() => ops.lmuFft(arena.tensor([2, 8]), plan, arena.tensor([2, 8, 3]))).toThrow(ShapeError); // D < d
      expect(() => ops.lmuFft(arena.tensor([2, 8]), plan, arena.tensor([3, 8, 4]))).toThrow(ShapeError); // batch
      expect(() => ops.lmuFft(arena.tensor([2, 8], 'i32'), plan, arena.tensor([2, 8, 4]))).toThrow(/f32/);
    } finally {
      arena.dispose();
    }
  });
});
