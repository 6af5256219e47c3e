import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type SafetensorsFile } from '../src/safetensors.js';
import { expm, lmuContinuous, lmuDiscretize, lmuImpulseResponse, toFloat32 } from '../src/lmu-math.js';
import { ArgumentError, ShapeError } from '../src/errors.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

function loadFixture(): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(`${FIXTURES}kernel_lmu_matrices.safetensors`)));
}

type Arr = ArrayLike<number>;

function maxAbsDiff(a: Arr, b: Arr): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as NaN
  }
  return m;
}

/** Largest |a − b| / |b| (b the expected values); elements with |b| ≤ floor are compared absolutely against floor. */
function maxRelDiff(a: Arr, b: Arr, floor = 1e-30): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor);
    if (!(d <= m)) m = d;
  }
  return m;
}

function maxAbs(a: Arr): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** Plain i-k-j reference product, independent of the module's kernel. */
function mm(X: Arr, Y: Arr, n: number): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const a = X[i * n + k];
      for (let j = 0; j < n; j++) C[i * n + j] += a * Y[k * n + j];
    }
  }
  return C;
}

/** Independent expm reference: Taylor series (40 terms) of M/2^k with ‖M/2^k‖₁ ≤ 1/4, then k squarings. */
function expmTaylor(M: Float64Array, n: number): Float64Array {
  let nrm = 0;
  for (let j = 0; j < n; j++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += Math.abs(M[i * n + j]);
    nrm = Math.max(nrm, c);
  }
  let k = 0;
  while (nrm / 2 ** k > 0.25) k++;
  const X = M.map((v) => v / 2 ** k);
  let R = identity(n);
  for (let t = 40; t >= 1; t--) {
    const XR = mm(X, R, n);
    R = identity(n);
    for (let q = 0; q < n * n; q++) R[q] += XR[q] / t;
  }
  for (let s = 0; s < k; s++) R = mm(R, R, n);
  return R;
}

/** Deterministic pseudo-random matrix with entries in [−1, 1) (LCG), scaled to 1-norm `norm`. */
function randomMatrix(n: number, norm: number, seed: number): Float64Array {
  let x = seed >>> 0;
  const M = new Float64Array(n * n);
  for (let q = 0; q < n * n; q++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    M[q] = x / 2 ** 31 - 1;
  }
  let nrm = 0;
  for (let j = 0; j < n; j++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += Math.abs(M[i * n + j]);
    nrm = Math.max(nrm, c);
  }
  return M.map((v) => (v * norm) / nrm);
}

/** Recurrence m_t = A m_{t−1} + B u_t in float64; returns [T, d] row-major. */
function recurrence(A: Float64Array, B: Float64Array, d: number, u: Arr): Float64Array {
  const T = u.length;
  const out = new Float64Array(T * d);
  let m = new Float64Array(d);
  for (let t = 0; t < T; t++) {
    const next = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let acc = 0;
      for (let j = 0; j < d; j++) acc += A[i * d + j] * m[j];
      next[i] = acc + B[i] * u[t];
    }
    m = next;
    out.set(m, t * d);
  }
  return out;
}

function frobenius(x: Arr): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

describe('expm', () => {
  it('expm(0) = I exactly', () => {
    for (const n of [1, 2, 5, 17]) {
      expect(Array.from(expm(new Float64Array(n * n), n))).toEqual(Array.from(identity(n)));
    }
  });

  it('n = 0 and n = 1', () => {
    expect(expm(new Float64Array(0), 0).length).toBe(0);
    expect(expm(Float64Array.of(-2.5), 1)[0]).toBe(Math.exp(-2.5));
  });

  it('diagonal matrices (every Padé degree and the scaled path)', () => {
    // max |d| selects Padé 3, 5, 7, 9 and 13 with s = 0, 1, 4.
    for (const diag of [[0.01, -0.005, 0.002], [0.2, -0.1, 0.05], [0.9, -0.3, 0.6], [2.0, -1.5, 0.1],
      [-3, 0.5, 2, 7], [-60, 1, 0, 12.25]]) {
      const n = diag.length;
      const M = new Float64Array(n * n);
      diag.forEach((v, i) => { M[i * n + i] = v; });
      const E = expm(M, n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          // Componentwise relative; the scaled path loses a few digits on strongly negative entries (e^−60: 2e-14).
          if (i === j) expect(Math.abs(E[i * n + j] - Math.exp(diag[i]))).toBeLessThanOrEqual(1e-13 * Math.exp(diag[i]));
          else expect(E[i * n + j]).toBe(0);
        }
      }
    }
  });

  it('nilpotent matrices: exp(N) = I + N + N²/2 + N³/6', () => {
    for (const c of [0.001, 0.3, 1.5, 10, 250]) {
      // N = c · (superdiagonal + 0.5·second superdiagonal), 4 × 4, N⁴ = 0.
      const n = 4;
      const N = new Float64Array(n * n);
      for (let i = 0; i + 1 < n; i++) N[i * n + i + 1] = c;
      for (let i = 0; i + 2 < n; i++) N[i * n + i + 2] = 0.5 * c;
      const N2 = mm(N, N, n);
      const N3 = mm(N2, N, n);
      const want = identity(n);
      for (let q = 0; q < n * n; q++) want[q] += N[q] + N2[q] / 2 + N3[q] / 6;
      const E = expm(N, n);
      expect(maxAbsDiff(E, want)).toBeLessThanOrEqual(1e-14 * maxAbs(want));
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(E[i * n + j]).toBe(0);
    }
  });

  it('rotation generator: exp([[0, −t], [t, 0]]) = [[cos t, −sin t], [sin t, cos t]]', () => {
    for (const t of [0.01, 0.5, 1, 3, 20]) {
      const E = expm(Float64Array.of(0, -t, t, 0), 2);
      const want = [Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)];
      expect(maxAbsDiff(E, want)).toBeLessThanOrEqual(1e-14 * Math.max(1, t));
    }
  });

  it('expm(M) · expm(−M) = I', () => {
    for (const [n, norm, seed] of [[3, 0.1, 1], [6, 1.5, 2], [8, 4, 3], [12, 20, 4], [33, 40, 5]]) {
      const M = randomMatrix(n, norm, seed);
      const E1 = expm(M, n);
      const E2 = expm(M.map((v) => -v), n);
      // Rounding in the product itself scales with n·max|E1|·max|E2| (measured ratio ≤ 4e-17).
      expect(maxAbsDiff(mm(E1, E2, n), identity(n))).toBeLessThanOrEqual(1e-15 * n * maxAbs(E1) * maxAbs(E2));
      expect(maxAbs(E1)).toBeGreaterThan(0.5);
    }
  });

  it('agrees with an independent Taylor/squaring reference at every Padé degree', () => {
    // 1-norms on both sides of θ3 = 0.015, θ5 = 0.25, θ7 = 0.95, θ9 = 2.1, θ13 = 5.37.
    for (const [i, norm] of [0.01, 0.2, 0.9, 2.0, 5, 9, 64].entries()) {
      const n = 7;
      const M = randomMatrix(n, norm, 100 + i);
      const E = expm(M, n);
      const R = expmTaylor(M, n);
      expect(maxAbsDiff(E, R)).toBeLessThanOrEqual(1e-14 * maxAbs(R) * Math.max(1, norm));
    }
  });

  it('rejects bad sizes', () => {
    expect(() => expm(new Float64Array(5), 2)).toThrow(ShapeError);
    expect(() => expm(new Float64Array(4), -2)).toThrow(ArgumentError);
    expect(() => expm(Float64Array.of(1, NaN, 0, 1), 2)).toThrow(ArgumentError);
  });
});

describe('lmuContinuous / lmuDiscretize / lmuImpulseResponse: argument checks', () => {
  it('rejects bad order, theta, shapes', () => {
    expect(() => lmuContinuous(0, 1)).toThrow(ArgumentError);
    expect(() => lmuContinuous(2.5, 1)).toThrow(ArgumentError);
    expect(() => lmuContinuous(4, 0)).toThrow(ArgumentError);
    expect(() => lmuDiscretize(4, -1)).toThrow(ArgumentError);
    expect(() => lmuImpulseResponse(new Float64Array(4), new Float64Array(2), 3, 8)).toThrow(ShapeError);
    expect(() => lmuImpulseResponse(new Float64Array(9), new Float64Array(2), 3, 8)).toThrow(ShapeError);
    expect(() => lmuImpulseResponse(new Float64Array(9), new Float64Array(3), 3, -1)).toThrow(ArgumentError);
  });

  it('continuous matrices follow the sign pattern of the spec', () => {
    const { A, B } = lmuContinuous(4, 2);
    // A_ij = ((2i+1)/2)·(−1 if i<j else (−1)^(i−j+1))
    expect(Array.from(A)).toEqual([
      -0.5, -0.5, -0.5, -0.5,
      1.5, -1.5, -1.5, -1.5,
      -2.5, 2.5, -2.5, -2.5,
      3.5, -3.5, 3.5, -3.5,
    ]);
    expect(Array.from(B)).toEqual([0.5, -1.5, 2.5, -3.5]);
  });

  it('impulse response: H[:,0] = B, H[:,t] = A H[:,t−1], row-major [order, length]', () => {
    const A = Float64Array.of(0.5, 0.25, -1, 2);
    const B = Float64Array.of(1, 3);
    const H = lmuImpulseResponse(A, B, 2, 3);
    // h0 = [1, 3]; h1 = [0.5+0.75, −1+6] = [1.25, 5]; h2 = [0.625+1.25, −1.25+10] = [1.875, 8.75]
    expect(Array.from(H)).toEqual([1, 1.25, 1.875, 3, 5, 8.75]);
    expect(lmuImpulseResponse(A, B, 2, 0).length).toBe(0);
  });

  it('toFloat32 rounds to nearest float32', () => {
    // 1 + 2⁻²⁴ and 1 + 3·2⁻²⁴ are ties: round half to even.
    const x = Float64Array.of(0.1, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1 + 2 ** -23 + 2 ** -25, -3);
    expect(Array.from(toFloat32(x))).toEqual([Math.fround(0.1), 1, 1 + 2 ** -22, 1 + 2 ** -23, -3]);
  });
});

describe('kernel_lmu_matrices fixture', () => {
  const fx = loadFixture();
  const tensor = (name: string) => {
    const t = fx.tensors.get(name);
    if (!t) throw new Error(`fixture tensor ${name} missing`);
    return t;
  };

  const groups: { order: number; theta: number; prefix: string }[] = [];
  for (const name of fx.tensors.keys()) {
    const m = /^expected\.q(\d+)_theta([0-9.]+)\.A$/.exec(name);
    if (m) groups.push({ order: Number(m[1]), theta: Number(m[2]), prefix: `expected.q${m[1]}_theta${m[2]}` });
  }
  groups.sort((a, b) => a.order - b.order);

  it('holds every (order, theta) pair listed in its metadata', () => {
    const pairs = JSON.parse(fx.metadata.pairs) as [number, number][];
    expect(pairs.length).toBe(7);
    expect(groups.map((g) => [g.order, g.theta])).toEqual([...pairs].sort((a, b) => a[0] - b[0]));
  });

  for (const { order, theta, prefix } of groups) {
    describe(`order ${order}, theta ${theta}`, () => {
      let disc: { A: Float64Array; B: Float64Array };
      beforeAll(() => { disc = lmuDiscretize(order, theta); });

      it('continuous A, B equal the fixture (≤ 1e-15)', () => {
        const { A, B } = lmuContinuous(order, theta);
        const eA = tensor(`${prefix}.A_continuous`);
        const eB = tensor(`${prefix}.B_continuous`);
        expect(eA.dtype).toBe('F64');
        expect(eA.shape).toEqual([order, order]);
        expect(eB.shape).toEqual([order, 1]);
        expect(maxAbsDiff(A, eA.data as Float64Array)).toBeLessThanOrEqual(1e-15);
        expect(maxAbsDiff(B, eB.data as Float64Array)).toBeLessThanOrEqual(1e-15);
      });

      it('discrete A, B (ZOH, dt = 1) within 1e-12 absolute', () => {
        const eA = tensor(`${prefix}.A`);
        const eB = tensor(`${prefix}.B`);
        expect(eA.dtype).toBe('F64');
        expect(eA.shape).toEqual([order, order]);
        expect(eB.shape).toEqual([order, 1]);
        expect(maxAbsDiff(disc.A, eA.data as Float64Array)).toBeLessThanOrEqual(1e-12);
        expect(maxAbsDiff(disc.B, eB.data as Float64Array)).toBeLessThanOrEqual(1e-12);
      });

      it('impulse response H [order, 32] within 1e-12 absolute', () => {
        const eH = tensor(`${prefix}.H`);
        expect(eH.shape).toEqual([order, 32]);
        const H = lmuImpulseResponse(disc.A, disc.B, order, 32);
        expect(maxAbsDiff(H, eH.data as Float64Array)).toBeLessThanOrEqual(1e-12);
      });
    });
  }

  describe('LMU cell buffers (memory_size 32, theta 128, seq_len 128)', () => {
    const cfg = JSON.parse(fx.metadata.config) as { memory_size: number; seq_len: number; theta: number };
    const d = cfg.memory_size;
    const L = cfg.seq_len;
    const A32 = tensor('A').data as Float32Array;
    const B32 = tensor('B').data as Float32Array;

    it('config is the one these tests assume', () => {
      expect(cfg).toEqual({ memory_size: 32, seq_len: 128, theta: 128 });
      expect(tensor('A').dtype).toBe('F32');
      expect(tensor('A').shape).toEqual([d, d]);
      expect(tensor('B').shape).toEqual([d, 1]);
      expect(tensor('H').shape).toEqual([d, L]);
    });

    it('float64 discretisation cast to float32 equals the F32 A, B (≤ 1e-6 relative)', () => {
      const { A, B } = lmuDiscretize(d, cfg.theta);
      expect(maxRelDiff(toFloat32(A), A32)).toBeLessThanOrEqual(1e-6);
      expect(maxRelDiff(toFloat32(B), B32)).toBeLessThanOrEqual(1e-6);
    });

    it('H from the F32 A, B (float64 arithmetic) cast to float32 equals the F32 H (≤ 1e-6 relative)', () => {
      const H = lmuImpulseResponse(A32, B32, d, L);
      expect(maxRelDiff(toFloat32(H), tensor('H').data as Float32Array, 1e-12)).toBeLessThanOrEqual(1e-6);
    });

    it('expected.memory [3, 128, 32]: float64 recurrence from the F32 A, B within 1e-10 absolute', () => {
      const u = tensor('input');
      expect(u.shape).toEqual([3, L]);
      const mem = tensor('expected.memory');
      expect(mem.dtype).toBe('F64');
      expect(mem.shape).toEqual([3, L, d]);
      const A = Float64Array.from(A32);
      const B = Float64Array.from(B32);
      for (let b = 0; b < 3; b++) {
        const ub = (u.data as Float32Array).subarray(b * L, (b + 1) * L);
        const got = recurrence(A, B, d, ub);
        const want = (mem.data as Float64Array).subarray(b * L * d, (b + 1) * L * d);
        expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-10);
        expect(maxAbs(want)).toBeGreaterThan(0.01); // the fixture is not trivially zero
      }
    });

    it('the FIR form Σ H[:, i] u_{t−i} (H from F32 A, B) equals expected.memory for t < 128', () => {
      const H = lmuImpulseResponse(A32, B32, d, L);
      const u = tensor('input').data as Float32Array;
      const want = tensor('expected.memory').data as Float64Array;
      let err = 0;
      for (let b = 0; b < 3; b++) {
        for (let t = 0; t < L; t++) {
          for (let i = 0; i < d; i++) {
            let acc = 0;
            for (let k = 0; k <= t; k++) acc += H[i * L + k] * u[b * L + t - k];
            err = Math.max(err, Math.abs(acc - want[(b * L + t) * d + i]));
          }
        }
      }
      expect(err).toBeLessThanOrEqual(1e-10);
    });

    it('ZOH identities: Ā = expm(A), A·B̄ = (Ā − I)·B', () => {
      const cont = lmuContinuous(d, cfg.theta);
      const disc = lmuDiscretize(d, cfg.theta);
      expect(maxAbsDiff(expm(cont.A, d), disc.A)).toBeLessThanOrEqual(1e-13);
      let err = 0;
      for (let i = 0; i < d; i++) {
        let lhs = 0, rhs = 0;
        for (let j = 0; j < d; j++) {
          lhs += cont.A[i * d + j] * disc.B[j];
          rhs += (disc.A[i * d + j] - (i === j ? 1 : 0)) * cont.B[j];
        }
        err = Math.max(err, Math.abs(lhs - rhs));
      }
      expect(err).toBeLessThanOrEqual(1e-14);
    });
  });
});

describe('spec/lmuformer.md §1 test vectors (float64)', () => {
  const cases = [
    {
      d: 256,
      A0: [0.99218886, -0.00775283, -0.00762898],
      A1: [0.02325849, 0.97655936, -0.0230672] as number[] | null,
      B: [0.00781114, -0.02325849, 0.03814491, -0.05216684],
      sumA: 5.9965579349,
      normB: 0.5003770783,
      normH: 11.934314834,
    },
    {
      d: 512,
      A0: [0.99218746],
      A1: null,
      B: [0.00781254, -0.02325427, 0.03815195, -0.05215698],
      sumA: 6.1095291692,
      normB: 0.5384682494,
      normH: 13.1621205003,
    },
  ];
  const theta = 128;
  for (const c of cases) {
    describe(`d = ${c.d}, θ = ${theta}`, () => {
      let A: Float64Array, B: Float64Array;
      beforeAll(() => {
        const t0 = performance.now();
        ({ A, B } = lmuDiscretize(c.d, theta));
        const ms = performance.now() - t0;
        console.info(`lmuDiscretize(${c.d}, ${theta}): ${ms.toFixed(0)} ms`);
      }, 60_000);

      it('Ā and B̄ entries to the printed 8 decimals', () => {
        const half = 5e-9 + 1e-15;
        c.A0.forEach((v, j) => expect(Math.abs(A[j] - v)).toBeLessThanOrEqual(half));
        c.A1?.forEach((v, j) => expect(Math.abs(A[c.d + j] - v)).toBeLessThanOrEqual(half));
        c.B.forEach((v, i) => expect(Math.abs(B[i] - v)).toBeLessThanOrEqual(half));
      });

      it('ΣĀ and ‖B̄‖ to 1e-9', () => {
        let s = 0;
        for (const v of A) s += v;
        expect(Math.abs(s - c.sumA)).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(frobenius(B) - c.normB)).toBeLessThanOrEqual(1e-9);
      });

      it('‖H‖_F over 128 columns to 1e-8', () => {
        const H = lmuImpulseResponse(A, B, c.d, 128);
        expect(Math.abs(frobenius(H) - c.normH)).toBeLessThanOrEqual(1e-8);
      });
    });
  }
});
