// Element-wise and reduction kernels: per-channel affine (batch norm in eval mode, y = x·scale[c] + shift[c]),
// ReLU, GELU (exact-erf form), 3×3 stride-2 pad-1 max-pool (and its OR form on bit-packed spikes), mean over an axis.
import { loadPadded, storePartial } from './simd';

// ---------------------------------------------------------------- affine

/** y[o, c, i] = x[o, c, i]·scale[c] + shift[c] for x of shape [outer, C, inner]; in place allowed. With inner = 1
 *  (channels last) the lanes run over c, otherwise over i. relu: apply max(·, 0) after. */
export function f32_affine_simd128(x: usize, y: usize, outer: i32, C: i32, inner: i32, scale: usize, shift: usize, relu: i32): void {
  const zero = f32x4.splat(0);
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const base = <usize>o * <usize>C << 2;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const off = base + (<usize>c << 2);
        let v = f32x4.add(f32x4.mul(v128.load(x + off), v128.load(scale + (<usize>c << 2))), v128.load(shift + (<usize>c << 2)));
        if (relu) v = f32x4.max(v, zero);
        v128.store(y + off, v);
      }
      for (; c < C; c++) {
        const off = base + (<usize>c << 2);
        let v = load<f32>(x + off) * load<f32>(scale + (<usize>c << 2)) + load<f32>(shift + (<usize>c << 2));
        if (relu) v = max<f32>(v, 0);
        store<f32>(y + off, v);
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const base = (<usize>(o * C + c) * <usize>inner) << 2;
      const s = load<f32>(scale + (<usize>c << 2));
      const h = load<f32>(shift + (<usize>c << 2));
      const sv = f32x4.splat(s), hv = f32x4.splat(h);
      let i = 0;
      for (; i + 8 <= inner; i += 8) {
        const p = base + (<usize>i << 2);
        let v0 = f32x4.add(f32x4.mul(v128.load(x + p), sv), hv);
        let v1 = f32x4.add(f32x4.mul(v128.load(x + p, 16), sv), hv);
        if (relu) { v0 = f32x4.max(v0, zero); v1 = f32x4.max(v1, zero); }
        v128.store(y + p, v0);
        v128.store(y + p, v1, 16);
      }
      for (; i + 4 <= inner; i += 4) {
        const p = base + (<usize>i << 2);
        let v0 = f32x4.add(f32x4.mul(v128.load(x + p), sv), hv);
        if (relu) v0 = f32x4.max(v0, zero);
        v128.store(y + p, v0);
      }
      for (; i < inner; i++) {
        const p = base + (<usize>i << 2);
        let v = load<f32>(x + p) * s + h;
        if (relu) v = max<f32>(v, 0);
        store<f32>(y + p, v);
      }
    }
  }
}

export function f32_affine_scalar(x: usize, y: usize, outer: i32, C: i32, inner: i32, scale: usize, shift: usize, relu: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = load<f32>(scale + (<usize>c << 2));
      const h = load<f32>(shift + (<usize>c << 2));
      const base = (<usize>(o * C + c) * <usize>inner) << 2;
      for (let i = 0; i < inner; i++) {
        const p = base + (<usize>i << 2);
        let v = load<f32>(x + p) * s + h;
        if (relu) v = max<f32>(v, 0);
        store<f32>(y + p, v);
      }
    }
  }
}

// ---------------------------------------------------------------- ReLU

export function f32_relu_simd128(x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = <usize>i << 2;
    v128.store(y + p, f32x4.max(v128.load(x + p), zero));
    v128.store(y + p, f32x4.max(v128.load(x + p, 16), zero), 16);
    v128.store(y + p, f32x4.max(v128.load(x + p, 32), zero), 32);
    v128.store(y + p, f32x4.max(v128.load(x + p, 48), zero), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    v128.store(y + p, f32x4.max(v128.load(x + p), zero));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, max<f32>(load<f32>(x + p), 0));
  }
}

export function f32_relu_scalar(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, max<f32>(load<f32>(x + p), 0));
  }
}

// ---------------------------------------------------------------- GELU

// erf(x) ≈ x·P(x²)/Q(x²) on x clamped to [−4, 4] (|erf(4)| rounds to 1 in float32): the rational minimax form used
// by Eigen and XNNPACK for float32 erf; max error ≈ 2 ulp (measured in the tests against a float64 erf).
// GELU(x) = 0.5·x·(1 + erf(x/√2)). Scalar and SIMD evaluate the same operations in the same order.
const A1: f32 = -1.60960333262415e-02;
const A3: f32 = -2.95459980854025e-03;
const A5: f32 = -7.34990630326855e-04;
const A7: f32 = -5.69250639462346e-05;
const A9: f32 = -2.10102402082508e-06;
const A11: f32 = 2.77068142495902e-08;
const A13: f32 = -2.72614225801306e-10;
const B0: f32 = -1.42647390514189e-02;
const B2: f32 = -7.37332916720468e-03;
const B4: f32 = -1.68282697438203e-03;
const B6: f32 = -2.13374055278905e-04;
const B8: f32 = -1.45660718464996e-05;
const FRAC_1_SQRT2: f32 = 0.7071067811865476;

@inline function erfScalar(a: f32): f32 {
  const x = min<f32>(max<f32>(a, -4), 4);
  const x2 = x * x;
  let p = x2 * A13 + A11;
  p = x2 * p + A9;
  p = x2 * p + A7;
  p = x2 * p + A5;
  p = x2 * p + A3;
  p = x2 * p + A1;
  p = x * p;
  let q = x2 * B8 + B6;
  q = x2 * q + B4;
  q = x2 * q + B2;
  q = x2 * q + B0;
  return p / q;
}

@inline function erfVec(a: v128): v128 {
  const x = f32x4.min(f32x4.max(a, f32x4.splat(-4)), f32x4.splat(4));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(A13)), f32x4.splat(A11));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(A9));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(A7));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(A5));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(A3));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(A1));
  p = f32x4.mul(x, p);
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(B8)), f32x4.splat(B6));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(B4));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(B2));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(B0));
  return f32x4.div(p, q);
}

@inline function geluScalar(x: f32): f32 {
  return (<f32>0.5 * x) * (<f32>1 + erfScalar(x * FRAC_1_SQRT2));
}

@inline function geluVec(x: v128): v128 {
  const e = erfVec(f32x4.mul(x, f32x4.splat(FRAC_1_SQRT2)));
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), e));
}

export function f32_gelu_simd128(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = <usize>i << 2;
    const a = v128.load(x + p), b = v128.load(x + p, 16);
    v128.store(y + p, geluVec(a));
    v128.store(y + p, geluVec(b), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    v128.store(y + p, geluVec(v128.load(x + p)));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, geluScalar(load<f32>(x + p)));
  }
}

export function f32_gelu_scalar(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, geluScalar(load<f32>(x + p)));
  }
}

/** Float32 erf on its own (used by tests to measure the approximation). */
export function f32_erf_scalar(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, erfScalar(load<f32>(x + p)));
  }
}

// ---------------------------------------------------------------- max-pool 3×3, stride 2, pad 1

/** x [planes, H, W] → y [planes, Ho, Wo], Ho = ⌊(H−1)/2⌋+1, Wo likewise; padding never wins (−∞). */
export function f32_maxpool3x3s2_simd128(x: usize, y: usize, planes: i32, H: i32, W: i32): void {
  const Ho = ((H - 1) >> 1) + 1, Wo = ((W - 1) >> 1) + 1;
  const ninf = f32x4.splat(-Infinity);
  for (let pl = 0; pl < planes; pl++) {
    const xp = x + ((<usize>pl * <usize>H * <usize>W) << 2);
    const yp = y + ((<usize>pl * <usize>Ho * <usize>Wo) << 2);
    for (let r = 0; r < Ho; r++) {
      for (let c = 0; c < Wo; c += 4) {
        let m = ninf;
        for (let ky = 0; ky < 3; ky++) {
          const rr = 2 * r + ky - 1;
          if (rr < 0 || rr >= H) continue;
          const xr = xp + ((<usize>rr * <usize>W) << 2);
          // inputs 2c−1 … 2c+7 as two vectors starting at 2c−1 and 2c+3, then deinterleaved
          const start = 2 * c - 1;
          const v0 = loadPaddedNeg(xr, start, W);
          const v1 = loadPaddedNeg(xr, start + 4, W);
          const v2 = loadPaddedNeg(xr, start + 8, W);
          const left = v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);   // 2c−1, 2c+1, 2c+3, 2c+5
          const mid = v128.shuffle<f32>(v0, v1, 1, 3, 5, 7);    // 2c,   2c+2, …
          const right = v128.shuffle<f32>(v0, v1, 2, 4, 6, 0);  // lanes 0..2 = 2c+1, 2c+3, 2c+5
          const right3 = f32x4.replace_lane(right, 3, f32x4.extract_lane(v2, 0)); // 2c+7
          m = f32x4.max(m, f32x4.max(f32x4.max(left, mid), right3));
        }
        storePartial(yp + ((<usize>r * <usize>Wo + <usize>c) << 2), m, Wo - c);
      }
    }
  }
}

/** loadPadded with −∞ outside the row. */
@inline function loadPaddedNeg(row: usize, pos: i32, len: i32): v128 {
  if (pos >= 0 && pos + 4 <= len) return v128.load(row + (<usize>pos << 2));
  let v = f32x4.splat(-Infinity);
  if (pos >= 0 && pos < len) v = f32x4.replace_lane(v, 0, load<f32>(row + (<usize>pos << 2)));
  if (pos + 1 >= 0 && pos + 1 < len) v = f32x4.replace_lane(v, 1, load<f32>(row + (<usize>(pos + 1) << 2)));
  if (pos + 2 >= 0 && pos + 2 < len) v = f32x4.replace_lane(v, 2, load<f32>(row + (<usize>(pos + 2) << 2)));
  if (pos + 3 >= 0 && pos + 3 < len) v = f32x4.replace_lane(v, 3, load<f32>(row + (<usize>(pos + 3) << 2)));
  return v;
}

export function f32_maxpool3x3s2_scalar(x: usize, y: usize, planes: i32, H: i32, W: i32): void {
  const Ho = ((H - 1) >> 1) + 1, Wo = ((W - 1) >> 1) + 1;
  for (let pl = 0; pl < planes; pl++) {
    const xp = x + ((<usize>pl * <usize>H * <usize>W) << 2);
    const yp = y + ((<usize>pl * <usize>Ho * <usize>Wo) << 2);
    for (let r = 0; r < Ho; r++) {
      for (let c = 0; c < Wo; c++) {
        let m: f32 = -Infinity;
        for (let ky = 0; ky < 3; ky++) {
          const rr = 2 * r + ky - 1;
          if (rr < 0 || rr >= H) continue;
          for (let kx = 0; kx < 3; kx++) {
            const cc = 2 * c + kx - 1;
            if (cc < 0 || cc >= W) continue;
            m = max<f32>(m, load<f32>(xp + ((<usize>rr * <usize>W + <usize>cc) << 2)));
          }
        }
        store<f32>(yp + ((<usize>r * <usize>Wo + <usize>c) << 2), m);
      }
    }
  }
}

/** OR-pool on bit-packed spikes: x [planes, H, wordsIn] → y [planes, Ho, wordsOut] (rows padded to 32 bits, pad
 *  bits zero). out bit c = OR of the 3×3 window centred on (2r, 2c). */
export function spike_orpool3x3s2_scalar(x: usize, y: usize, planes: i32, H: i32, W: i32): void {
  orpool(x, y, planes, H, W, false);
}

export function spike_orpool3x3s2_simd128(x: usize, y: usize, planes: i32, H: i32, W: i32): void {
  orpool(x, y, planes, H, W, true);
}

/** Keeps the even bits of v (bit 2i → bit i), a 32 → 16 bit compaction. */
@inline function evenBits(v: u32): u32 {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

@inline function orpool(x: usize, y: usize, planes: i32, H: i32, W: i32, simd: bool): void {
  const Ho = ((H - 1) >> 1) + 1, Wo = ((W - 1) >> 1) + 1;
  const wi = (W + 31) >> 5, wo = (Wo + 31) >> 5;
  for (let pl = 0; pl < planes; pl++) {
    const xp = x + ((<usize>pl * <usize>H * <usize>wi) << 2);
    const yp = y + ((<usize>pl * <usize>Ho * <usize>wo) << 2);
    for (let r = 0; r < Ho; r++) {
      const r0 = 2 * r - 1;
      const yr = yp + ((<usize>r * <usize>wo) << 2);
      for (let k = 0; k < wo; k++) store<u32>(yr + (<usize>k << 2), 0);
      let prevHi: u32 = 0; // the OR-ed word w−1 (for bit 2c−1 across the word boundary)
      let w = 0;
      if (simd) {
        // vertical OR of the 3 rows, 4 words at a time
        for (; w + 4 <= wi; w += 4) {
          let v = f32x4.splat(0);
          for (let ky = 0; ky < 3; ky++) {
            const rr = r0 + ky;
            if (rr < 0 || rr >= H) continue;
            v = v128.or(v, v128.load(xp + ((<usize>rr * <usize>wi + <usize>w) << 2)));
          }
          const l0 = <u32>i32x4.extract_lane(v, 0), l1 = <u32>i32x4.extract_lane(v, 1);
          const l2 = <u32>i32x4.extract_lane(v, 2), l3 = <u32>i32x4.extract_lane(v, 3);
          emit(yr, w, l0, prevHi);
          emit(yr, w + 1, l1, l0);
          emit(yr, w + 2, l2, l1);
          emit(yr, w + 3, l3, l2);
          prevHi = l3;
        }
      }
      for (; w < wi; w++) {
        const cur = orRows(xp, r0, H, wi, w);
        emit(yr, w, cur, prevHi);
        prevHi = cur;
      }
      // clear bits past Wo in the last word
      const tail = Wo & 31;
      if (tail) {
        const lp = yr + (<usize>(wo - 1) << 2);
        store<u32>(lp, load<u32>(lp) & ((<u32>1 << <u32>tail) - 1));
      }
    }
  }
}

@inline function orRows(xp: usize, r0: i32, H: i32, wi: i32, w: i32): u32 {
  let v: u32 = 0;
  for (let ky = 0; ky < 3; ky++) {
    const rr = r0 + ky;
    if (rr < 0 || rr >= H) continue;
    v |= load<u32>(xp + ((<usize>rr * <usize>wi + <usize>w) << 2));
  }
  return v;
}

/** Horizontal 3-wide OR centred on the even bits of word w, compacted to 16 output bits at 16w. */
@inline function emit(yr: usize, w: i32, cur: u32, prev: u32): void {
  // output bit c sits at the even input bit 2c: OR of bits 2c−1 (bit 31 of the previous word at the word start),
  // 2c and 2c+1 (never in the next word, as 2c+1 ≤ 31)
  const h = cur | (cur << 1) | (prev >>> 31) | (cur >>> 1);
  const out = evenBits(h);
  const bitPos = w << 4;
  const p = yr + (<usize>(bitPos >>> 5) << 2);
  store<u32>(p, load<u32>(p) | (out << <u32>(bitPos & 31)));
}

// ---------------------------------------------------------------- mean over an axis

/** x [outer, n, inner] → y [outer, inner] = (Σ_k x[o, k, i]) / n, summed in ascending k in f32. */
export function f32_mean_axis_simd128(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  const inv = <f32>n;
  if (inner == 1) {
    // lanes over 4 outer rows (strided gather), same per-output order as the scalar path
    let o = 0;
    const rs = <usize>n << 2;
    for (; o + 4 <= outer; o += 4) {
      const p0 = x + <usize>o * rs;
      let s = f32x4.splat(0);
      for (let k = 0; k < n; k++) {
        const q = p0 + (<usize>k << 2);
        let v = v128.load32_zero(q);
        v = v128.load32_lane(q + rs, v, 1);
        v = v128.load32_lane(q + 2 * rs, v, 2);
        v = v128.load32_lane(q + 3 * rs, v, 3);
        s = f32x4.add(s, v);
      }
      v128.store(y + (<usize>o << 2), f32x4.div(s, f32x4.splat(inv)));
    }
    for (; o < outer; o++) meanRow(x, y, o, n, inner, 0, inv);
    return;
  }
  for (let o = 0; o < outer; o++) {
    const base = x + ((<usize>o * <usize>n * <usize>inner) << 2);
    let i = 0;
    for (; i + 4 <= inner; i += 4) {
      let s = f32x4.splat(0);
      for (let k = 0; k < n; k++) s = f32x4.add(s, v128.load(base + ((<usize>k * <usize>inner + <usize>i) << 2)));
      v128.store(y + ((<usize>o * <usize>inner + <usize>i) << 2), f32x4.div(s, f32x4.splat(inv)));
    }
    for (; i < inner; i++) meanRow(x, y, o, n, inner, i, inv);
  }
}

@inline function meanRow(x: usize, y: usize, o: i32, n: i32, inner: i32, i: i32, inv: f32): void {
  const base = x + ((<usize>o * <usize>n * <usize>inner + <usize>i) << 2);
  let s: f32 = 0;
  for (let k = 0; k < n; k++) s += load<f32>(base + ((<usize>k * <usize>inner) << 2));
  store<f32>(y + ((<usize>o * <usize>inner + <usize>i) << 2), s / inv);
}

export function f32_mean_axis_scalar(x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  const inv = <f32>n;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) meanRow(x, y, o, n, inner, i, inv);
  }
}
