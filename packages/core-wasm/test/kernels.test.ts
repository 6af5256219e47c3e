// One table per kernel, every backend (scalar Wasm, SIMD Wasm) against the plain-TS oracle (src/oracle.ts), over
// shape grids bracketing the vector width and unrolls; outputs pre-filled with a NaN sentinel, guards checked.
// Float kernels must stay under the rigorous float32 summation bound γ_n·Σ|terms| (plus the final rounding);
// integer kernels must be equal. The scalar and SIMD paths sum in the same order, so they must agree bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Core, Arena } from '../src/index.js';
import * as ops from '../src/ops.js';
import * as ref from '../src/oracle.js';
import { BACKENDS, GRID, bytesEqual, guarded, randomF32, randomSpikes, worstRatio } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

/** Runs `fn` on each backend into fresh guarded outputs; returns the outputs' bytes per backend. */
function onBackends<T extends ArrayBufferView>(fn: (arena: Arena) => T): Record<string, T> {
  const res: Record<string, T> = {};
  for (const b of BACKENDS) {
    core.backend = b;
    const arena = core.arena();
    try {
      res[b] = fn(arena);
    } finally {
      arena.dispose();
      core.backend = 'simd';
    }
  }
  return res;
}

function expectBound(name: string, got: ArrayLike<number>, r: ref.RefResult, nTerms: number): void {
  const u = ref.F32_U;
  const { ratio, at } = worstRatio(got, r.y, (i) => ref.sumErrorBound(nTerms + 1, r.mag[i]) + u * Math.abs(r.y[i]) + 1e-30);
  if (ratio > 1) throw new Error(`${name}: element ${at} = ${got[at]}, oracle ${r.y[at]} (error ${ratio.toFixed(2)}× the float32 bound)`);
}

/** Runs an op into a guarded output and returns a copy, after checking guards and that every element was written. */
function runGuarded(arena: Arena, shape: number[], dtype: 'f32' | 'i32' | 'bits', run: (out: ReturnType<typeof guarded>['t']) => void) {
  const g = guarded(arena, shape, dtype);
  run(g.t);
  g.check();
  const missing = g.unwritten();
  if (missing) throw new Error(`${missing} output elements were not written`);
  return g.t.toArray();
}

describe('linear (f32 GEMM / GEMV, packed weights)', () => {
  const cases: [number, number, number][] = [];
  for (const M of [1, 3, 4, 5, 17]) for (const N of GRID) for (const K of [1, 4, 5, 16, 17, 64, 65]) cases.push([M, N, K]);
  it.each([false, true])('all %s-ReLU shapes: oracle bound, guards, scalar ≡ SIMD', (relu) => {
    for (const [M, N, K] of cases) {
      const a = randomF32(M * K, M * 1000 + K), w = randomF32(N * K, N * 7 + K), bias = randomF32(N, N + 3);
      const want = ref.linearRef(a, w, bias, M, N, K, relu);
      const out = onBackends((arena) => {
        const x = arena.from(a, [M, K]);
        const pw = ops.packDense(arena, w, N, K);
        const bt = arena.from(bias, [N]);
        const y = runGuarded(arena, [M, N], 'f32', (o) => ops.linear(x, pw, o, { bias: bt, relu }));
        expectBound(`linear M=${M} N=${N} K=${K} ${core.backend}`, y, want, K);
        return y;
      });
      expect(bytesEqual(out.scalar, out.simd), `scalar ≡ SIMD at M=${M} N=${N} K=${K}`).toBe(true);
    }
  });

  it('spike-input GEMM adds weights where bits are set, equal to the dense GEMM on 0/1 input', () => {
    for (const M of [1, 3, 5]) for (const N of [1, 5, 8, 17, 33, 65]) for (const K of [1, 5, 31, 32, 33, 64, 65, 100]) {
      const s = randomSpikes(M * K, M * 31 + K * 7 + N);
      const w = randomF32(N * K, N * 13 + K), bias = randomF32(N, K);
      const want = ref.linearRef(s, w, bias, M, N, K);
      const outs = onBackends((arena) => {
        const x = arena.from(s, [M, K]);
        const bits = arena.tensor([M, K], 'bits');
        ops.packSpikes(x, bits);
        const pw = ops.packDense(arena, w, N, K);
        const bt = arena.from(bias, [N]);
        const dense = runGuarded(arena, [M, N], 'f32', (o) => ops.linear(x, pw, o, { bias: bt }));
        const spike = runGuarded(arena, [M, N], 'f32', (o) => ops.linearSpike(bits, pw, o, { bias: bt }));
        expectBound(`linearSpike ${M}x${N}x${K}`, spike, want, K);
        expect(bytesEqual(dense, spike), `spike ≡ dense at ${M}x${N}x${K} (${core.backend})`).toBe(true);
        return spike;
      });
      expect(bytesEqual(outs.scalar, outs.simd)).toBe(true);
    }
  });
});

describe('conv1d (k = 1, 3; dense and spike input)', () => {
  const cases: [number, number, number, number, number][] = [];
  for (const K of [1, 3]) for (const L of GRID) for (const [Cin, Cout] of [[1, 1], [3, 4], [5, 5], [16, 17], [17, 8]]) cases.push([2, Cin, Cout, L, K]);
  it('oracle bound, guards, scalar ≡ SIMD, spike path ≡ dense on 0/1 input', () => {
    for (const [B, Cin, Cout, L, K] of cases) {
      const xv = randomF32(B * Cin * L, L * 3 + Cin), sv = randomSpikes(B * Cin * L, L + Cout * 5);
      const w = randomF32(Cout * Cin * K, Cout + Cin * 11 + K), bias = randomF32(Cout, Cout * 2 + L);
      const want = ref.conv1dRef(xv, w, bias, B, Cin, Cout, L, K, true);
      const wantS = ref.conv1dRef(sv, w, bias, B, Cin, Cout, L, K);
      const out = onBackends((arena) => {
        const x = arena.from(xv, [B, Cin, L]);
        const wt = arena.from(w, [Cout, Cin, K]);
        const bt = arena.from(bias, [Cout]);
        const y = runGuarded(arena, [B, Cout, L], 'f32', (o) => ops.conv1d(x, wt, o, { bias: bt, relu: true }));
        expectBound(`conv1d ${Cin}->${Cout} L=${L} k=${K}`, y, want, Cin * K);
        const s = arena.from(sv, [B, Cin, L]);
        const sb = arena.tensor([B, Cin, L], 'bits');
        ops.packSpikes(s, sb);
        const dense = runGuarded(arena, [B, Cout, L], 'f32', (o) => ops.conv1d(s, wt, o, { bias: bt }));
        const spike = runGuarded(arena, [B, Cout, L], 'f32', (o) => ops.conv1d(sb, wt, o, { bias: bt }));
        expectBound(`conv1d spike ${Cin}->${Cout} L=${L} k=${K}`, spike, wantS, Cin * K);
        expect(bytesEqual(dense, spike), `conv1d spike ≡ dense ${Cin}->${Cout} L=${L} k=${K}`).toBe(true);
        const both = new Float32Array(y.length + spike.length);
        both.set(y as Float32Array);
        both.set(spike as Float32Array, y.length);
        return both;
      });
      expect(bytesEqual(out.scalar, out.simd), `scalar ≡ SIMD ${Cin}->${Cout} L=${L} k=${K}`).toBe(true);
    }
  });
});

describe('linearWindows (a conv over time as one GEMM on overlapping frame windows)', () => {
  it('equals conv1d on transposed data within the bound; bits ≡ floats; scalar ≡ SIMD', () => {
    for (const [L, C, Cout, k] of [[1, 32, 5, 3], [5, 32, 17, 3], [17, 64, 8, 1], [64, 32, 33, 3], [3, 7, 4, 3]] as const) {
      const pad = k >> 1;
      const xv = randomF32(L * C, L * 7 + C), sv = randomSpikes(L * C, L + C * 3);
      const w = randomF32(Cout * C * k, Cout + k), bias = randomF32(Cout, C);
      // oracle in the conv1d layout [1, C, L]
      const tr = (v: Float32Array) => Float32Array.from(ref.transposeRef(v, L, C));
      const want = ref.conv1dRef(tr(xv), w, bias, 1, C, Cout, L, k);
      const wantS = ref.conv1dRef(tr(sv), w, bias, 1, C, Cout, L, k);
      const out = onBackends((arena) => {
        const padded = arena.tensor([L + 2 * pad, C]);
        padded.f32.set(xv, pad * C);
        const pw = ops.packConv1dAsDense(arena, w, Cout, C, k);
        const bt = arena.from(bias, [Cout]);
        const y = runGuarded(arena, [L, Cout], 'f32', (o) => ops.linearWindows(padded, 0, L, k, pw, o, { bias: bt }));
        const yT = Float32Array.from(ref.transposeRef(y, L, Cout));
        expectBound(`linearWindows L=${L} C=${C} k=${k}`, yT, want, C * k);
        const sp = arena.tensor([L + 2 * pad, C]);
        sp.f32.set(sv, pad * C);
        const dense = runGuarded(arena, [L, Cout], 'f32', (o) => ops.linearWindows(sp, 0, L, k, pw, o, { bias: bt }));
        expectBound(`linearWindows spikes L=${L}`, Float32Array.from(ref.transposeRef(dense, L, Cout)), wantS, C * k);
        if (C % 32 === 0) {
          const bits = arena.tensor([L + 2 * pad, C], 'bits');
          ops.packSpikes(sp, bits);
          const viaBits = runGuarded(arena, [L, Cout], 'f32', (o) => ops.linearWindows(bits, 0, L, k, pw, o, { bias: bt }));
          expect(bytesEqual(viaBits, dense), `bits ≡ floats L=${L} C=${C}`).toBe(true);
        } else {
          expect(() => ops.linearWindows(arena.tensor([L + 2 * pad, C], 'bits'), 0, L, k, pw, arena.tensor([L, Cout]))).toThrow(/multiple of 32/);
        }
        return y;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });
});

describe('conv2d 3×3 (dense and spike input)', () => {
  const cases: [number, number, number, number][] = [];
  for (const [H, W] of [[1, 1], [3, 4], [4, 5], [5, 15], [8, 16], [3, 17], [2, 33], [16, 16]]) for (const [Cin, Cout] of [[1, 1], [3, 5], [4, 8]]) cases.push([Cin, Cout, H, W]);
  it('oracle bound, guards, scalar ≡ SIMD, spike path ≡ dense', () => {
    for (const [Cin, Cout, H, W] of cases) {
      const B = 2;
      const xv = randomF32(B * Cin * H * W, H * 7 + W), sv = randomSpikes(B * Cin * H * W, W * 3 + H);
      const w = randomF32(Cout * Cin * 9, Cout * 5 + Cin), bias = randomF32(Cout, 9);
      const want = ref.conv2d3x3Ref(xv, w, bias, B, Cin, Cout, H, W);
      const wantS = ref.conv2d3x3Ref(sv, w, bias, B, Cin, Cout, H, W, true);
      const out = onBackends((arena) => {
        const x = arena.from(xv, [B, Cin, H, W]);
        const wt = arena.from(w, [Cout, Cin, 3, 3]);
        const bt = arena.from(bias, [Cout]);
        const y = runGuarded(arena, [B, Cout, H, W], 'f32', (o) => ops.conv2d3x3(x, wt, o, { bias: bt }));
        expectBound(`conv2d ${Cin}->${Cout} ${H}x${W}`, y, want, Cin * 9);
        const s = arena.from(sv, [B, Cin, H, W]);
        const sb = arena.tensor([B, Cin, H, W], 'bits');
        ops.packSpikes(s, sb);
        const dense = runGuarded(arena, [B, Cout, H, W], 'f32', (o) => ops.conv2d3x3(s, wt, o, { bias: bt, relu: true }));
        const spike = runGuarded(arena, [B, Cout, H, W], 'f32', (o) => ops.conv2d3x3(sb, wt, o, { bias: bt, relu: true }));
        expectBound(`conv2d spike ${Cin}->${Cout} ${H}x${W}`, spike, wantS, Cin * 9);
        expect(bytesEqual(dense, spike)).toBe(true);
        const both = new Float32Array(y.length + spike.length);
        both.set(y as Float32Array);
        both.set(spike as Float32Array, y.length);
        return both;
      });
      expect(bytesEqual(out.scalar, out.simd), `scalar ≡ SIMD ${Cin}->${Cout} ${H}x${W}`).toBe(true);
    }
  });
});

describe('batch norm: affine kernel and folding', () => {
  it('channelAffine over channels-first and channels-last layouts matches the oracle (2 roundings)', () => {
    for (const [outer, C, inner] of [[1, 1, 1], [2, 3, 1], [3, 5, 1], [2, 17, 1], [1, 64, 1], [2, 65, 1], [2, 3, 4], [1, 5, 15], [2, 4, 17], [1, 3, 65]]) {
      const xv = randomF32(outer * C * inner, C * 3 + inner), sc = randomF32(C, C, 0.5, 2), sh = randomF32(C, C + 1);
      const want = ref.affineRef(xv, outer, C, inner, sc, sh, true);
      const out = onBackends((arena) => {
        const shape = [outer, C, inner];
        const x = arena.from(xv, shape), s = arena.from(sc, [C]), h = arena.from(sh, [C]);
        const y = runGuarded(arena, shape, 'f32', (o) => ops.channelAffine(x, s, h, o, 1, { relu: true }));
        const { ratio } = worstRatio(y, want, (i) => 2 * ref.F32_U * (Math.abs(xv[i] * sc[Math.floor(i / inner) % C]) + Math.abs(want[i])) + 1e-30);
        expect(ratio).toBeLessThanOrEqual(1);
        return y;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });

  it('batchNormAffine and foldBatchNorm reproduce PyTorch eval BN within float32 rounding', () => {
    const C = 17, K = 12, B = 3;
    const bn = { weight: randomF32(C, 1, 0.5, 1.5), bias: randomF32(C, 2), runningMean: randomF32(C, 3), runningVar: randomF32(C, 4, 0.1, 2) };
    const x = randomF32(B * K, 5), w = randomF32(C * K, 6), b = randomF32(C, 7);
    const lin = ref.linearRef(x, w, b, B, C, K);
    const want = ref.batchNormRef(lin.y, B, C, 1, bn.weight, bn.bias, bn.runningMean, bn.runningVar);
    const folded = ops.foldBatchNorm(w, b, bn);
    const got = ref.linearRef(x, folded.weight, folded.bias, B, C, K);
    const { scale, shift } = ops.batchNormAffine(bn);
    const viaAffine = ref.affineRef(lin.y, B, C, 1, scale, shift);
    for (let i = 0; i < want.length; i++) {
      const tol = 8 * ref.F32_U * (got.mag[i] + Math.abs(want[i]) + 1);
      expect(Math.abs(got.y[i] - want[i])).toBeLessThanOrEqual(tol);
      expect(Math.abs(viaAffine[i] - want[i])).toBeLessThanOrEqual(tol);
    }
  });
});

describe('ReLU and add', () => {
  it('are max(x, 0) and fround(a + b) exactly; scalar ≡ SIMD', () => {
    for (const n of [...GRID, 1000]) {
      const xv = randomF32(n, n, -6, 6), bv = randomF32(n, n + 1, -3, 3);
      const out = onBackends((arena) => {
        const x = arena.from(xv, [n]);
        const r = runGuarded(arena, [n], 'f32', (o) => ops.relu(x, o));
        expect(Array.from(r)).toEqual(Array.from(xv, (v) => Math.max(v, 0)));
        const s = runGuarded(arena, [n], 'f32', (o) => ops.add(x, arena.from(bv, [n]), o));
        expect(Array.from(s)).toEqual(Array.from(xv, (v, i) => Math.fround(v + bv[i])));
        return s;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });
});

describe('max-pool 3×3 stride 2 (f32 and OR on bits)', () => {
  it('matches the oracle exactly, OR-pool on bits equals max-pool on 0/1 floats', () => {
    for (const H of [1, 2, 3, 4, 5, 8, 16, 17]) for (const W of [1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96]) {
      const P = 3;
      const xv = randomF32(P * H * W, H * 100 + W), sv = randomSpikes(P * H * W, H + W * 13, 0.15);
      const Ho = ops.pool3x3s2Size(H), Wo = ops.pool3x3s2Size(W);
      const want = ref.maxPool3x3s2Ref(xv, P, H, W);
      const wantS = ref.maxPool3x3s2Ref(sv, P, H, W);
      const out = onBackends((arena) => {
        const x = arena.from(xv, [P, H, W]);
        const y = runGuarded(arena, [P, Ho, Wo], 'f32', (o) => ops.maxPool3x3s2(x, o));
        expect(Array.from(y)).toEqual(Array.from(want));
        const s = arena.from(sv, [P, H, W]);
        const sb = arena.tensor([P, H, W], 'bits');
        ops.packSpikes(s, sb);
        const yb = runGuarded(arena, [P, Ho, Wo], 'bits', (o) => ops.maxPool3x3s2(sb, o));
        expect(Array.from(yb), `OR-pool ${H}x${W}`).toEqual(Array.from(ref.packBitsRef(wantS, P * Ho, Wo)));
        return y;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });
});

describe('mean over an axis', () => {
  it('matches the oracle within the summation bound for every axis position', () => {
    for (const [outer, n, inner] of [[1, 1, 1], [5, 3, 1], [4, 17, 1], [9, 64, 1], [2, 5, 3], [3, 4, 16], [2, 65, 17], [1, 128, 35]]) {
      const xv = randomF32(outer * n * inner, n * 5 + inner);
      const want = ref.meanAxisRef(xv, outer, n, inner);
      const out = onBackends((arena) => {
        const x = arena.from(xv, [outer, n, inner]);
        const y = runGuarded(arena, [outer, inner], 'f32', (o) => ops.meanAxis(x, 1, o));
        expectBound(`mean ${outer}x${n}x${inner}`, y, want, n + 1);
        return y;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });
});

describe('LIF multi-step', () => {
  it('equals the float32 oracle exactly (spikes, h, bits, state) for every N and parameter set', () => {
    const params = [{}, { vThreshold: 0.5 }, { tau: 3, vThreshold: 0.7, vReset: -0.2 }, { decayInput: false, tau: 1.5 }, { tau: 4, vThreshold: 0.3 }, { tau: 0.5, decayInput: false }];
    for (const p of params) for (const N of GRID) {
      const T = 7;
      const xv = randomF32(T * N, N * 17 + T, -0.5, 2.5);
      const v0 = randomF32(N, N, -0.2, 0.4);
      const want = ref.lifRef(xv, v0, T, N, p);
      const out = onBackends((arena) => {
        const x = arena.from(xv, [T, N]);
        const v = arena.from(v0, [N]);
        const sp = guarded(arena, [T, N]), hh = guarded(arena, [T, N]), bb = guarded(arena, [T, N], 'bits');
        ops.lif(x, v, { spikes: sp.t, h: hh.t, bits: bb.t }, p);
        for (const g of [sp, hh, bb]) { g.check(); expect(g.unwritten()).toBe(0); }
        expect(Array.from(sp.t.f32)).toEqual(Array.from(want.spikes));
        expect(bytesEqual(hh.t.f32, want.h)).toBe(true);
        expect(bytesEqual(v.f32, want.v)).toBe(true);
        expect(Array.from(bb.t.data)).toEqual(Array.from(ref.packBitsRef(want.spikes, T, N)));
        return sp.t.toArray();
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });

  it('a T-step call equals T single-step calls bit for bit (streaming keeps state)', () => {
    const T = 9, N = 37;
    const xv = randomF32(T * N, 4, -1, 3);
    for (const b of BACKENDS) {
      core.backend = b;
      const arena = core.arena();
      const x = arena.from(xv, [T, N]);
      const v1 = arena.tensor([N]), s1 = arena.tensor([T, N]);
      ops.lif(x, v1, { spikes: s1 });
      const v2 = arena.tensor([N]), s2 = arena.tensor([N]), x1 = arena.tensor([N]), b1 = arena.tensor([N], 'bits');
      const b2 = arena.tensor([T, N], 'bits');
      ops.lif(x, arena.tensor([N]), { bits: b2 });
      const seq: number[] = [];
      const bitSeq: number[] = [];
      for (let t = 0; t < T; t++) {
        x1.set(xv.subarray(t * N, (t + 1) * N)); // single-step mode: x has v's shape
        ops.lif(x1, v2, { spikes: s2, bits: b1 });
        seq.push(...s2.f32);
        bitSeq.push(...b1.data);
      }
      expect(seq).toEqual(Array.from(s1.f32));
      expect(bitSeq).toEqual(Array.from(b2.data));
      expect(bytesEqual(v1.f32, v2.f32)).toBe(true);
      arena.dispose();
    }
    core.backend = 'simd';
  });
});

describe('LMU: recurrence step and FIR (parallel / streaming)', () => {
  it('lmuStep = Ā m + B̄ u within the bound; FIR parallel within the bound; streaming FIR ≡ parallel', () => {
    for (const d of [1, 3, 4, 5, 16, 17, 33, 64]) for (const L of [1, 5, 17, 40]) {
      const B = 3;
      const A = randomF32(d * d, d, -0.3, 0.3), bb = randomF32(d, d + 1), m = randomF32(B * d, d + 2), u = randomF32(B, d + 3);
      const ht = randomF32(L * d, d * L), us = randomF32(B * L, L + d, 0, 1);
      for (let i = 0; i < us.length; i += 3) us[i] = 0; // zero inputs are skipped by the kernel: must not matter
      const out = onBackends((arena) => {
        const mt = arena.from(m, [B, d]), ut = arena.from(u, [B]), bt = arena.from(bb, [d]);
        const ap = ops.packDense(arena, A, d, d);
        const y = runGuarded(arena, [B, d], 'f32', (o) => ops.lmuStep(mt, ap, bt, ut, o));
        const want = ref.linearRef(m, A, null, B, d, d);
        for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) {
          want.y[b * d + i] += bb[i] * u[b];
          want.mag[b * d + i] += Math.abs(bb[i] * u[b]);
        }
        expectBound(`lmuStep d=${d}`, y, want, d + 1);
        const utt = arena.from(us, [B, L]), htt = arena.from(ht, [L, d]);
        const D = d + 3; // room for a concatenated [m ; x]
        const par = guarded(arena, [B, L, D]);
        ops.lmuFir(utt, htt, par.t);
        par.check();
        expect(par.unwritten()).toBe(B * L * 3);
        const pv = par.t.f32;
        for (let b = 0; b < B; b++) {
          const r = ref.lmuFirRef(us.subarray(b * L, (b + 1) * L), ht, L, d);
          const rows = new Float32Array(L * d);
          for (let t = 0; t < L; t++) rows.set(pv.subarray((b * L + t) * D, (b * L + t) * D + d), t * d);
          expectBound(`lmuFir d=${d} L=${L}`, rows, r, L);
          // streaming: at step t the window holds u[0..t]
          const win = arena.from(us.subarray(b * L, (b + 1) * L), [L]);
          const step = arena.tensor([d]);
          for (let t = 0; t < L; t++) {
            ops.lmuFirStep(win, t + 1, htt, step);
            expect(bytesEqual(step.f32, rows.subarray(t * d, (t + 1) * d)), `stream ≡ parallel d=${d} t=${t}`).toBe(true);
          }
        }
        const both = new Float32Array(y.length + pv.length);
        both.set(y as Float32Array);
        both.set(pv, y.length);
        return both;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });
});

describe('spikes: pack / unpack and bit-packed attention counts', () => {
  it('pack, transposed pack and unpack round-trip exactly', () => {
    for (const rows of [1, 3, 5, 17, 64, 65]) for (const cols of [1, 3, 4, 5, 31, 32, 33, 63, 64, 65, 100]) {
      const sv = randomSpikes(rows * cols, rows * 101 + cols, 0.4);
      const out = onBackends((arena) => {
        const x = arena.from(sv, [rows, cols]);
        const bits = runGuarded(arena, [rows, cols], 'bits', (o) => ops.packSpikes(x, o));
        expect(Array.from(bits)).toEqual(Array.from(ref.packBitsRef(sv, rows, cols)));
        const bt = runGuarded(arena, [cols, rows], 'bits', (o) => ops.packSpikesTransposed(x, 0, cols, o));
        expect(Array.from(bt)).toEqual(Array.from(ref.packBitsRef(ref.transposeRef(sv, rows, cols), cols, rows)));
        const b = arena.from(bits, [rows, cols], 'bits');
        const back = runGuarded(arena, [rows, cols], 'f32', (o) => ops.unpackSpikes(b, o));
        expect(Array.from(back)).toEqual(Array.from(sv));
        return bits;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });

  it('Q Kᵀ, (Q Kᵀ) V and Q (Kᵀ V) are exactly the integer products for head dims 16, 32, 64 (and odd sizes)', () => {
    for (const d of [16, 32, 64, 1, 5, 33, 65, 100]) for (const N of [1, 3, 4, 5, 16, 17, 64, 65]) {
      const q = randomSpikes(N * d, d * 7 + N, 0.3), k = randomSpikes(N * d, d + N * 3, 0.3), v = randomSpikes(N * d, d * 5 + N, 0.3);
      const A = ref.intMatmulRef(q, ref.transposeRef(k, N, d), N, d, N);
      const C = ref.intMatmulRef(A, v, N, N, d);
      const out = onBackends((arena) => {
        const qt = arena.from(q, [N, d]), kt = arena.from(k, [N, d]), vt = arena.from(v, [N, d]);
        const qb = arena.tensor([N, d], 'bits'), kb = arena.tensor([N, d], 'bits'), vb = arena.tensor([N, d], 'bits');
        ops.packSpikes(qt, qb); ops.packSpikes(kt, kb); ops.packSpikes(vt, vb);
        const scores = runGuarded(arena, [N, N], 'i32', (o) => ops.spikeAndPopcount(qb, kb, o));
        expect(Array.from(scores)).toEqual(Array.from(A));
        const At = arena.from(scores, [N, N], 'i32');
        const c1 = runGuarded(arena, [N, d], 'i32', (o) => ops.matmulCountsBits(At, vb, o));
        expect(Array.from(c1), `(QKᵀ)V d=${d} N=${N}`).toEqual(Array.from(C));
        const kT = arena.tensor([d, N], 'bits'), vT = arena.tensor([d, N], 'bits');
        ops.packSpikesTransposed(kt, 0, d, kT);
        ops.packSpikesTransposed(vt, 0, d, vT);
        const M = runGuarded(arena, [d, d], 'i32', (o) => ops.spikeAndPopcount(kT, vT, o));
        const Mt = arena.from(M, [d, d], 'i32');
        const c2 = runGuarded(arena, [N, d], 'i32', (o) => ops.matmulBitsCounts(qb, Mt, o));
        expect(Array.from(c2), `Q(KᵀV) d=${d} N=${N}`).toEqual(Array.from(C));
        const f = runGuarded(arena, [N, d], 'f32', (o) => ops.countsToF32(arena.from(c2, [N, d], 'i32'), 0.125, o));
        expect(Array.from(f)).toEqual(Array.from(C, (c) => c * 0.125));
        return c1;
      });
      expect(bytesEqual(out.scalar, out.simd)).toBe(true);
    }
  });
});
