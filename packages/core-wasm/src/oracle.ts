// Plain-TypeScript reference implementations of every kernel, on ordinary arrays: float64 accumulation for the
// float kernels (each also returns Σ|terms|, the scale of the rounding error a float32 kernel may make), float32
// to the operation for LIF (its spec fixes the float32 operation order), exact integers for spikes.
// Layouts are the kernels' (see src/ops.ts). Slow on purpose: simple enough to trust.

type Arr = ArrayLike<number>;

// ---------------------------------------------------------------- seeded test data

/** mulberry32: a small seeded PRNG so every case is reproducible everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values uniform in [lo, hi). */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** n 0/1 floats, each 1 with probability p. */
export function randomSpikes(n: number, seed: number, p = 0.3): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() < p ? 1 : 0;
  return out;
}


/** A float64 result with the per-element sum of |terms| (for error bounds). */
export interface RefResult {
  y: Float64Array;
  mag: Float64Array;
}

/** Unit roundoff of float32. */
export const F32_U = 2 ** -24;

/** Rigorous bound for recursive float32 summation of n terms of total magnitude mag: γ_n·mag, γ_n = nu/(1 − nu). */
export function sumErrorBound(n: number, mag: number): number {
  const g = (n * F32_U) / (1 - n * F32_U);
  return g * mag;
}

/** y[i, n] = Σ_k a[i, k]·W[n, k] + b[n], optional ReLU. W in PyTorch [N, K] layout. */
export function linearRef(a: Arr, w: Arr, bias: Arr | null, M: number, N: number, K: number, relu = false): RefResult {
  const y = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let n = 0; n < N; n++) {
      let s = 0, m = 0;
      for (let k = 0; k < K; k++) {
        const t = a[i * K + k] * w[n * K + k];
        s += t;
        m += Math.abs(t);
      }
      if (bias) { s += bias[n]; m += Math.abs(bias[n]); }
      y[i * N + n] = relu ? Math.max(s, 0) : s;
      mag[i * N + n] = m;
    }
  }
  return { y, mag };
}

/** conv1d stride 1, pad (K−1)/2: x [B, Cin, L], w [Cout, Cin, K] → [B, Cout, L]. */
export function conv1dRef(x: Arr, w: Arr, bias: Arr | null, B: number, Cin: number, Cout: number, L: number, K: number, relu = false): RefResult {
  const pad = K >> 1;
  const y = new Float64Array(B * Cout * L);
  const mag = new Float64Array(B * Cout * L);
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      for (let t = 0; t < L; t++) {
        let s = 0, m = 0;
        for (let ci = 0; ci < Cin; ci++) {
          for (let j = 0; j < K; j++) {
            const p = t + j - pad;
            if (p < 0 || p >= L) continue;
            const v = w[(co * Cin + ci) * K + j] * x[(b * Cin + ci) * L + p];
            s += v;
            m += Math.abs(v);
          }
        }
        if (bias) { s += bias[co]; m += Math.abs(bias[co]); }
        const o = (b * Cout + co) * L + t;
        y[o] = relu ? Math.max(s, 0) : s;
        mag[o] = m;
      }
    }
  }
  return { y, mag };
}

/** conv2d 3×3 stride 1 pad 1: x [B, Cin, H, W], w [Cout, Cin, 3, 3] → [B, Cout, H, W]. */
export function conv2d3x3Ref(x: Arr, w: Arr, bias: Arr | null, B: number, Cin: number, Cout: number, H: number, W: number, relu = false): RefResult {
  const y = new Float64Array(B * Cout * H * W);
  const mag = new Float64Array(B * Cout * H * W);
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          let s = 0, m = 0;
          for (let ci = 0; ci < Cin; ci++) {
            for (let ky = 0; ky < 3; ky++) {
              const rr = r + ky - 1;
              if (rr < 0 || rr >= H) continue;
              for (let kx = 0; kx < 3; kx++) {
                const cc = c + kx - 1;
                if (cc < 0 || cc >= W) continue;
                const v = w[((co * Cin + ci) * 3 + ky) * 3 + kx] * x[((b * Cin + ci) * H + rr) * W + cc];
                s += v;
                m += Math.abs(v);
              }
            }
          }
          if (bias) { s += bias[co]; m += Math.abs(bias[co]); }
          const o = ((b * Cout + co) * H + r) * W + c;
          y[o] = relu ? Math.max(s, 0) : s;
          mag[o] = m;
        }
      }
    }
  }
  return { y, mag };
}

/** y = x·scale[c] + shift[c] over x [outer, C, inner]. */
export function affineRef(x: Arr, outer: number, C: number, inner: number, scale: Arr, shift: Arr, relu = false): Float64Array {
  const y = new Float64Array(outer * C * inner);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        const k = (o * C + c) * inner + i;
        const v = x[k] * scale[c] + shift[c];
        y[k] = relu ? Math.max(v, 0) : v;
      }
    }
  }
  return y;
}

/** Eval-mode batch norm exactly as PyTorch writes it: (x − mean)/√(var + eps)·w + b, over x [outer, C, inner]. */
export function batchNormRef(x: Arr, outer: number, C: number, inner: number, w: Arr, b: Arr, mean: Arr, variance: Arr, eps = 1e-5): Float64Array {
  const y = new Float64Array(outer * C * inner);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt(variance[c] + eps);
      for (let i = 0; i < inner; i++) {
        const k = (o * C + c) * inner + i;
        y[k] = (x[k] - mean[c]) * inv * w[c] + b[c];
      }
    }
  }
  return y;
}

/**
 * erf in float64 to ~1e-15 relative: Maclaurin series for |x| < 2.5, Lentz continued fraction for erfc above.
 */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  const tiny = 1e-300;
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = ax + an * D;
    D = D === 0 ? tiny : D;
    C = ax + an / C;
    C = C === 0 ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** GELU(x) = 0.5·x·(1 + erf(x/√2)) in float64. */
export function geluRef(x: number): number {
  return 0.5 * x * (1 + erf64(x / Math.SQRT2));
}

/** 3×3 stride-2 pad-1 max-pool over x [planes, H, W]. */
export function maxPool3x3s2Ref(x: Arr, planes: number, H: number, W: number): Float64Array {
  const Ho = ((H - 1) >> 1) + 1, Wo = ((W - 1) >> 1) + 1;
  const y = new Float64Array(planes * Ho * Wo);
  for (let p = 0; p < planes; p++) {
    for (let r = 0; r < Ho; r++) {
      for (let c = 0; c < Wo; c++) {
        let m = -Infinity;
        for (let ky = -1; ky <= 1; ky++) {
          for (let kx = -1; kx <= 1; kx++) {
            const rr = 2 * r + ky, cc = 2 * c + kx;
            if (rr >= 0 && rr < H && cc >= 0 && cc < W) m = Math.max(m, x[(p * H + rr) * W + cc]);
          }
        }
        y[(p * Ho + r) * Wo + c] = m;
      }
    }
  }
  return y;
}

/** Mean over the middle axis of x [outer, n, inner]. */
export function meanAxisRef(x: Arr, outer: number, n: number, inner: number): RefResult {
  const y = new Float64Array(outer * inner);
  const mag = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0, m = 0;
      for (let k = 0; k < n; k++) { const v = x[(o * n + k) * inner + i]; s += v; m += Math.abs(v); }
      y[o * inner + i] = s / n;
      mag[o * inner + i] = m / n;
    }
  }
  return { y, mag };
}

/** Multi-step LIF in float32 exactly as shared/spec/lif.md (Math.fround after every operation). */
export function lifRef(x: Arr, v0: Arr, T: number, N: number, p: { tau?: number; vThreshold?: number; vReset?: number; decayInput?: boolean } = {}): { spikes: Uint8Array; h: Float32Array; v: Float32Array } {
  const f = Math.fround;
  const tau = f(p.tau ?? 2), vth = f(p.vThreshold ?? 1), vr = f(p.vReset ?? 0);
  const decay = p.decayInput !== false;
  const spikes = new Uint8Array(T * N);
  const h = new Float32Array(T * N);
  const v = Float32Array.from(v0);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      const k = t * N + n;
      const vn = v[n];
      const hn = decay ? f(vn + f(f(f(x[k]) - f(vn - vr)) / tau)) : f(f(vn - f(f(vn - vr) / tau)) + f(x[k]));
      h[k] = hn;
      const s = hn >= vth;
      spikes[k] = s ? 1 : 0;
      v[n] = s ? vr : hn;
    }
  }
  return { spikes, h, v };
}

/** LMU FIR memory for one sequence: m[t, i] = Σ_{s ≤ t} u[s]·Ht[t−s, i], t < L. */
export function lmuFirRef(u: Arr, ht: Arr, L: number, d: number): RefResult {
  const y = new Float64Array(L * d);
  const mag = new Float64Array(L * d);
  for (let t = 0; t < L; t++) {
    for (let i = 0; i < d; i++) {
      let s = 0, m = 0;
      for (let q = 0; q <= t; q++) { const v = u[q] * ht[(t - q) * d + i]; s += v; m += Math.abs(v); }
      y[t * d + i] = s;
      mag[t * d + i] = m;
    }
  }
  return { y, mag };
}

/** Bit-pack rows of 0/1 values (non-zero = 1): [rows, cols] → Uint32Array [rows, ⌈cols/32⌉]. */
export function packBitsRef(x: Arr, rows: number, cols: number): Uint32Array {
  const words = Math.ceil(cols / 32);
  const out = new Uint32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (x[r * cols + c] !== 0) out[r * words + (c >> 5)] |= 1 << (c & 31);
  }
  return out;
}

/** Integer matrix product of 0/1 (or integer) matrices: out[i, j] = Σ_k a[i, k]·b[k, j], a [n, m], b [m, p]. */
export function intMatmulRef(a: Arr, b: Arr, n: number, m: number, p: number): Int32Array {
  const out = new Int32Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) {
      const av = a[i * m + k];
      if (av === 0) continue;
      for (let j = 0; j < p; j++) out[i * p + j] += av * b[k * p + j];
    }
  }
  return out;
}

/** Transpose of a [rows, cols] matrix. */
export function transposeRef(a: Arr, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
