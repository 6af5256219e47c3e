// Dense layers: C[M, N] = A[M, K] · Wᵀ + bias, optional ReLU, with W given in PyTorch's [N, K] layout and packed
// into panels of 8 outputs: wp[(p·K + k)·8 + c] = W[8p + c, k] (zero for 8p + c ≥ N).
// Every path accumulates each output as acc = 0; for k ascending: acc += a_k·w_k (f32 mul then add, never fused),
// then + bias, then ReLU — so the scalar, SIMD, GEMV and spike-input paths agree bit for bit.
import { loadBias, reluIf, reluIfScalar, storePartial } from './simd';

@inline function panelPtr(wp: usize, p: i32, K: i32): usize {
  return wp + ((<usize>p * <usize>K) << 5);
}


/** f32 GEMM, register tile 4 rows × 8 columns. `lda`, `ldc` are row strides in elements. bias: ptr or 0. */
export function f32_gemm_4x8_simd128(a: usize, lda: i32, wp: usize, bias: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, relu: i32): void {
  const panels = (N + 7) >> 3;
  const sa = <usize>lda << 2;
  const sc = <usize>ldc << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>i * sa;
    const a1 = a0 + sa;
    const a2 = a1 + sa;
    const a3 = a2 + sa;
    const c0 = c + <usize>i * sc;
    for (let p = 0; p < panels; p++) {
      let w = panelPtr(wp, p, K);
      let x00 = f32x4.splat(0), x01 = f32x4.splat(0);
      let x10 = f32x4.splat(0), x11 = f32x4.splat(0);
      let x20 = f32x4.splat(0), x21 = f32x4.splat(0);
      let x30 = f32x4.splat(0), x31 = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const wl = v128.load(w);
        const wh = v128.load(w, 16);
        w += 32;
        const off = <usize>k << 2;
        const b0 = v128.load32_splat(a0 + off);
        const b1 = v128.load32_splat(a1 + off);
        const b2 = v128.load32_splat(a2 + off);
        const b3 = v128.load32_splat(a3 + off);
        x00 = f32x4.add(x00, f32x4.mul(b0, wl));
        x01 = f32x4.add(x01, f32x4.mul(b0, wh));
        x10 = f32x4.add(x10, f32x4.mul(b1, wl));
        x11 = f32x4.add(x11, f32x4.mul(b1, wh));
        x20 = f32x4.add(x20, f32x4.mul(b2, wl));
        x21 = f32x4.add(x21, f32x4.mul(b2, wh));
        x30 = f32x4.add(x30, f32x4.mul(b3, wl));
        x31 = f32x4.add(x31, f32x4.mul(b3, wh));
      }
      const n0 = p << 3;
      const bl = loadBias(bias, n0, N);
      const bh = loadBias(bias, n0 + 4, N);
      const rem = N - n0;
      const cp = c0 + (<usize>n0 << 2);
      storePartial(cp, reluIf(f32x4.add(x00, bl), relu), rem);
      storePartial(cp + 16, reluIf(f32x4.add(x01, bh), relu), rem - 4);
      storePartial(cp + sc, reluIf(f32x4.add(x10, bl), relu), rem);
      storePartial(cp + sc + 16, reluIf(f32x4.add(x11, bh), relu), rem - 4);
      storePartial(cp + 2 * sc, reluIf(f32x4.add(x20, bl), relu), rem);
      storePartial(cp + 2 * sc + 16, reluIf(f32x4.add(x21, bh), relu), rem - 4);
      storePartial(cp + 3 * sc, reluIf(f32x4.add(x30, bl), relu), rem);
      storePartial(cp + 3 * sc + 16, reluIf(f32x4.add(x31, bh), relu), rem - 4);
    }
  }
  for (; i < M; i++) f32_gemv_simd128(a + <usize>i * sa, wp, bias, c + <usize>i * sc, N, K, relu);
}

/** f32 GEMV y[N] = W x + bias over packed W; two panels (16 outputs) per pass over x. */
export function f32_gemv_simd128(x: usize, wp: usize, bias: usize, y: usize, N: i32, K: i32, relu: i32): void {
  const panels = (N + 7) >> 3;
  let p = 0;
  for (; p + 2 <= panels; p += 2) {
    let w0 = panelPtr(wp, p, K);
    let w1 = panelPtr(wp, p + 1, K);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      const b = v128.load32_splat(x + (<usize>k << 2));
      s0 = f32x4.add(s0, f32x4.mul(b, v128.load(w0)));
      s1 = f32x4.add(s1, f32x4.mul(b, v128.load(w0, 16)));
      s2 = f32x4.add(s2, f32x4.mul(b, v128.load(w1)));
      s3 = f32x4.add(s3, f32x4.mul(b, v128.load(w1, 16)));
      w0 += 32;
      w1 += 32;
    }
    const n0 = p << 3;
    const rem = N - n0;
    const yp = y + (<usize>n0 << 2);
    storePartial(yp, reluIf(f32x4.add(s0, loadBias(bias, n0, N)), relu), rem);
    storePartial(yp + 16, reluIf(f32x4.add(s1, loadBias(bias, n0 + 4, N)), relu), rem - 4);
    storePartial(yp + 32, reluIf(f32x4.add(s2, loadBias(bias, n0 + 8, N)), relu), rem - 8);
    storePartial(yp + 48, reluIf(f32x4.add(s3, loadBias(bias, n0 + 12, N)), relu), rem - 12);
  }
  if (p < panels) {
    let w0 = panelPtr(wp, p, K);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      const b = v128.load32_splat(x + (<usize>k << 2));
      s0 = f32x4.add(s0, f32x4.mul(b, v128.load(w0)));
      s1 = f32x4.add(s1, f32x4.mul(b, v128.load(w0, 16)));
      w0 += 32;
    }
    const n0 = p << 3;
    const rem = N - n0;
    const yp = y + (<usize>n0 << 2);
    storePartial(yp, reluIf(f32x4.add(s0, loadBias(bias, n0, N)), relu), rem);
    storePartial(yp + 16, reluIf(f32x4.add(s1, loadBias(bias, n0 + 4, N)), relu), rem - 4);
  }
}

/** Scalar reference path of f32_gemm (same packed weights, same order). */
export function f32_gemm_scalar(a: usize, lda: i32, wp: usize, bias: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, relu: i32): void {
  for (let i = 0; i < M; i++) {
    f32_gemv_scalar(a + ((<usize>i * <usize>lda) << 2), wp, bias, c + ((<usize>i * <usize>ldc) << 2), N, K, relu);
  }
}

/** Scalar GEMV over packed W. */
export function f32_gemv_scalar(x: usize, wp: usize, bias: usize, y: usize, N: i32, K: i32, relu: i32): void {
  for (let n = 0; n < N; n++) {
    let w = panelPtr(wp, n >> 3, K) + (<usize>(n & 7) << 2);
    let acc: f32 = 0;
    for (let k = 0; k < K; k++) {
      acc += load<f32>(x + (<usize>k << 2)) * load<f32>(w);
      w += 32;
    }
    if (bias) acc += load<f32>(bias + (<usize>n << 2));
    store<f32>(y + (<usize>n << 2), reluIfScalar(acc, relu));
  }
}

/** Spike-input GEMM: A is binary, bit-packed by row (row i starts `lda` u32 words after row i−1 and holds ⌈K/32⌉
 *  words; bit k of row i = A[i, k]; rows may overlap, e.g. sliding windows of frames). For each row the set bits
 *  are walked in ascending k and the packed weight rows added — no multiplications. 32 outputs (4 panels) per
 *  walk. Equal bit for bit to f32_gemm on the 0/1 floats. Bits past K in a row's last word must be 0. */
export function f32_gemm_spike_simd128(abits: usize, lda: i32, wp: usize, bias: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, relu: i32): void {
  const panels = (N + 7) >> 3;
  const pstride = <usize>K << 5;
  const words = (K + 31) >> 5;
  for (let i = 0; i < M; i++) {
    const row = abits + ((<usize>i * <usize>lda) << 2);
    const crow = c + ((<usize>i * <usize>ldc) << 2);
    let p = 0;
    for (; p < panels; p += 4) {
      const np = min(4, panels - p);
      const w0 = panelPtr(wp, p, K);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
      for (let wi = 0; wi < words; wi++) {
        let bits = load<u32>(row + (<usize>wi << 2));
        while (bits) {
          const k = (wi << 5) + <i32>ctz(bits);
          bits &= bits - 1;
          const w = w0 + (<usize>k << 5);
          s0 = f32x4.add(s0, v128.load(w));
          s1 = f32x4.add(s1, v128.load(w, 16));
          if (np > 1) {
            s2 = f32x4.add(s2, v128.load(w + pstride));
            s3 = f32x4.add(s3, v128.load(w + pstride, 16));
          }
          if (np > 2) {
            s4 = f32x4.add(s4, v128.load(w + 2 * pstride));
            s5 = f32x4.add(s5, v128.load(w + 2 * pstride, 16));
          }
          if (np > 3) {
            s6 = f32x4.add(s6, v128.load(w + 3 * pstride));
            s7 = f32x4.add(s7, v128.load(w + 3 * pstride, 16));
          }
        }
      }
      const n0 = p << 3;
      const rem = N - n0;
      const cp = crow + (<usize>n0 << 2);
      storePartial(cp, reluIf(f32x4.add(s0, loadBias(bias, n0, N)), relu), rem);
      storePartial(cp + 16, reluIf(f32x4.add(s1, loadBias(bias, n0 + 4, N)), relu), rem - 4);
      storePartial(cp + 32, reluIf(f32x4.add(s2, loadBias(bias, n0 + 8, N)), relu), rem - 8);
      storePartial(cp + 48, reluIf(f32x4.add(s3, loadBias(bias, n0 + 12, N)), relu), rem - 12);
      storePartial(cp + 64, reluIf(f32x4.add(s4, loadBias(bias, n0 + 16, N)), relu), rem - 16);
      storePartial(cp + 80, reluIf(f32x4.add(s5, loadBias(bias, n0 + 20, N)), relu), rem - 20);
      storePartial(cp + 96, reluIf(f32x4.add(s6, loadBias(bias, n0 + 24, N)), relu), rem - 24);
      storePartial(cp + 112, reluIf(f32x4.add(s7, loadBias(bias, n0 + 28, N)), relu), rem - 28);
    }
  }
}

/** Scalar spike-input GEMM (set bits walked in ascending k, weights added). */
export function f32_gemm_spike_scalar(abits: usize, lda: i32, wp: usize, bias: usize, c: usize, ldc: i32, M: i32, N: i32, K: i32, relu: i32): void {
  const words = (K + 31) >> 5;
  for (let i = 0; i < M; i++) {
    const row = abits + ((<usize>i * <usize>lda) << 2);
    for (let n = 0; n < N; n++) {
      const wcol = panelPtr(wp, n >> 3, K) + (<usize>(n & 7) << 2);
      let acc: f32 = 0;
      for (let wi = 0; wi < words; wi++) {
        let bits = load<u32>(row + (<usize>wi << 2));
        while (bits) {
          const k = (wi << 5) + <i32>ctz(bits);
          bits &= bits - 1;
          acc += load<f32>(wcol + (<usize>k << 5));
        }
      }
      if (bias) acc += load<f32>(bias + (<usize>n << 2));
      store<f32>(c + ((<usize>i * <usize>ldc + <usize>n) << 2), reluIfScalar(acc, relu));
    }
  }
}
