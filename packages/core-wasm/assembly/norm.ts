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

// GELU(x) = 0.5·x·(1 + erf(x/√2)) (exact-erf form, PyTorch nn.GELU()), and erf on its own, for float32 arrays.
// Method: promote to float64 (exact), evaluate erf/erfc there to ~5e-12 relative, round to float32 once at the end.
//   |v| < 1:  erf(v) = v·P(v²), P of degree 8, relative minimax with P(0) = 2/√π exactly.
//   |v| ≥ 1:  erfc(a) = e^(−a²)·H(t)/(a+K), a = |v| (clamped to 10.5), t = (a−K)/(a+K), K = 3.1, H a relative
//             minimax polynomial of degree 10 on a ∈ [1, 10.5]: the (x−K)/(x+K) map for erfcx of Schonfelder
//             (Math. Comp. 32, 1978) and Shepherd & Laframboise (Math. Comp. 36, 1981).
//   e^y (y ≤ −1): y = k·ln2 + r, |r| ≤ ln2/2, k rounded by adding 1.5·2⁵², e^r by a degree-8 minimax polynomial,
//             2^k applied by adding k << 52 to the bits. Fitted residuals: P 8.8e-13, H 4.8e-12, e^r 7.9e-13.
// GELU uses 1 + erf(v) = 2 − erfc(v) for v ≥ 1 and erfc(|v|) for v ≤ −1, so the negative tail keeps its relative
// accuracy down to float32 underflow; below v = −10.5 (x < −14.85, true value < 1e−48) it returns −0.
// Specials: NaN in → the same NaN out (bits kept); GELU(+∞) = +∞, GELU(−∞) = −0, GELU(±0) = ±0; erf(±∞) = ±1.
// Measured over every float32 input (erf on [0, 4.5], it is odd; GELU on [−15, 7]) against float64 scipy
// references, worst cases confirmed with mpmath: max error 0.500012 ulp for erf (316 of 1.08e9 results not
// correctly rounded) and 0.500087 ulp for GELU (1215 of 2.19e9; outside [−15, 7] the result is x or −0, exact).
// Only plain f64 +, −, ×, ÷, min, abs, compares and integer bit ops (no FMA, no host Math): the SIMD path (f64x2,
// two per f32x4) performs the same operations in the same order per element, so it equals the scalar path bit
// for bit on every engine (checked on all 2³² inputs).
const ERF_P0: f64 = 1.1283791670955126;
const ERF_P1: f64 = -0.3761263889318133;
const ERF_P2: f64 = 0.1128379135160183;
const ERF_P3: f64 = -0.026866135576566686;
const ERF_P4: f64 = 0.005223790263802126;
const ERF_P5: f64 = -0.0008542750007584986;
const ERF_P6: f64 = 0.00011957618725258485;
const ERF_P7: f64 = -1.3914635814991364e-05;
const ERF_P8: f64 = 1.0600328270856246e-06;
const ERFC_K: f64 = 3.1;
const ERFC_H0: f64 = 1.0770541333579093;
const ERFC_H1: f64 = -0.8958801636301716;
const ERFC_H2: f64 = 0.6133492350813577;
const ERFC_H3: f64 = -0.3368630861897066;
const ERFC_H4: f64 = 0.14023573269056105;
const ERFC_H5: f64 = -0.037950249724641734;
const ERFC_H6: f64 = 0.002314490212047315;
const ERFC_H7: f64 = 0.0029293832542612876;
const ERFC_H8: f64 = -0.0009839642714454338;
const ERFC_H9: f64 = -0.00014267976734821732;
const ERFC_H10: f64 = 0.00013149808032596023;
const EXP_E0: f64 = 0.9999999999997625;
const EXP_E1: f64 = 0.9999999999802394;
const EXP_E2: f64 = 0.5000000000614382;
const EXP_E3: f64 = 0.16666666888019596;
const EXP_E4: f64 = 0.04166666424539672;
const EXP_E5: f64 = 0.008333266602047692;
const EXP_E6: f64 = 0.0013889174437177734;
const EXP_E7: f64 = 0.0001991562702548946;
const EXP_E8: f64 = 2.472921478669324e-05;
const ERF_SPLIT: f64 = 1.0; // |v| below: polynomial; at or above: erfc tail
const ERF_VMAX: f64 = 10.5; // |v| clamp for the tail (erfc(10.5) ≈ 1e−49)
const EXP_INV_LN2: f64 = 1.4426950408889634;
const EXP_LN2: f64 = 0.6931471805599453;
const EXP_ROUND: f64 = 6755399441055744.0; // 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits
const EXP_ROUND_BITS: i64 = 0x4338000000000000;
const FRAC_1_SQRT2_64: f64 = 0.7071067811865476;
const NEG_ZERO_BITS: i64 = 0x8000000000000000;

// ---- scalar float64 helpers

@inline function erfPoly(s: f64): f64 {
  let p = ERF_P8;
  p = p * s + ERF_P7;
  p = p * s + ERF_P6;
  p = p * s + ERF_P5;
  p = p * s + ERF_P4;
  p = p * s + ERF_P3;
  p = p * s + ERF_P2;
  p = p * s + ERF_P1;
  return p * s + ERF_P0;
}

/** e^y for −111 ≤ y ≤ 0. */
@inline function expNeg(y: f64): f64 {
  const t = y * EXP_INV_LN2 + EXP_ROUND;
  const k = t - EXP_ROUND;
  const r = y - k * EXP_LN2;
  let p = EXP_E8;
  p = p * r + EXP_E7;
  p = p * r + EXP_E6;
  p = p * r + EXP_E5;
  p = p * r + EXP_E4;
  p = p * r + EXP_E3;
  p = p * r + EXP_E2;
  p = p * r + EXP_E1;
  p = p * r + EXP_E0;
  return reinterpret<f64>(reinterpret<i64>(p) + ((reinterpret<i64>(t) - EXP_ROUND_BITS) << 52));
}

/** erfc(a) for 1 ≤ a ≤ ERF_VMAX. */
@inline function erfcTail(a: f64): f64 {
  const d = a + ERFC_K;
  const t = (a - ERFC_K) / d;
  let h = ERFC_H10;
  h = h * t + ERFC_H9;
  h = h * t + ERFC_H8;
  h = h * t + ERFC_H7;
  h = h * t + ERFC_H6;
  h = h * t + ERFC_H5;
  h = h * t + ERFC_H4;
  h = h * t + ERFC_H3;
  h = h * t + ERFC_H2;
  h = h * t + ERFC_H1;
  h = h * t + ERFC_H0;
  return expNeg(-(a * a)) * h / d;
}

function geluScalar(x: f32): f32 {
  if (x != x) return x;
  const xd = <f64>x;
  const v = xd * FRAC_1_SQRT2_64;
  const a = min<f64>(abs<f64>(v), ERF_VMAX);
  let phi2: f64; // 1 + erf(v) = 2·Φ(x)
  if (a < ERF_SPLIT) {
    phi2 = 1.0 + v * erfPoly(v * v);
  } else {
    const q = erfcTail(a);
    phi2 = v > 0 ? 2.0 - q : q;
  }
  const r = v < -ERF_VMAX ? reinterpret<f64>(NEG_ZERO_BITS) : (0.5 * xd) * phi2;
  return <f32>r;
}

function erfScalar(x: f32): f32 {
  if (x != x) return x;
  const v = <f64>x;
  const a = min<f64>(abs<f64>(v), ERF_VMAX);
  const r = a < ERF_SPLIT ? v * erfPoly(v * v) : copysign<f64>(1.0 - erfcTail(a), v);
  return <f32>r;
}

// ---- f64x2 versions: the same operations, lane by lane (both branches computed, then selected)

@inline function erfPolyVec(s: v128): v128 {
  let p = f64x2.splat(ERF_P8);
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P7));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P6));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P5));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P4));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P3));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P2));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P1));
  return f64x2.add(f64x2.mul(p, s), f64x2.splat(ERF_P0));
}

@inline function expNegVec(y: v128): v128 {
  const t = f64x2.add(f64x2.mul(y, f64x2.splat(EXP_INV_LN2)), f64x2.splat(EXP_ROUND));
  const k = f64x2.sub(t, f64x2.splat(EXP_ROUND));
  const r = f64x2.sub(y, f64x2.mul(k, f64x2.splat(EXP_LN2)));
  let p = f64x2.splat(EXP_E8);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E7));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E6));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E4));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E3));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E2));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E1));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(EXP_E0));
  return i64x2.add(p, i64x2.shl(i64x2.sub(t, i64x2.splat(EXP_ROUND_BITS)), 52));
}

@inline function erfcTailVec(a: v128): v128 {
  const K = f64x2.splat(ERFC_K);
  const d = f64x2.add(a, K);
  const t = f64x2.div(f64x2.sub(a, K), d);
  let h = f64x2.splat(ERFC_H10);
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H9));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H8));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H7));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H6));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H5));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H4));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H3));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H2));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H1));
  h = f64x2.add(f64x2.mul(h, t), f64x2.splat(ERFC_H0));
  return f64x2.div(f64x2.mul(expNegVec(f64x2.neg(f64x2.mul(a, a))), h), d);
}

/** geluScalar's float64 part on two lanes (NaN lanes are fixed by the caller). */
@inline function gelu64x2(xd: v128): v128 {
  const v = f64x2.mul(xd, f64x2.splat(FRAC_1_SQRT2_64));
  const a = f64x2.min(f64x2.abs(v), f64x2.splat(ERF_VMAX));
  const small = f64x2.add(f64x2.splat(1.0), f64x2.mul(v, erfPolyVec(f64x2.mul(v, v))));
  const q = erfcTailVec(a);
  const tail = v128.bitselect(f64x2.sub(f64x2.splat(2.0), q), q, f64x2.gt(v, f64x2.splat(0)));
  const phi2 = v128.bitselect(small, tail, f64x2.lt(a, f64x2.splat(ERF_SPLIT)));
  const r = f64x2.mul(f64x2.mul(f64x2.splat(0.5), xd), phi2);
  return v128.bitselect(i64x2.splat(NEG_ZERO_BITS), r, f64x2.lt(v, f64x2.splat(-ERF_VMAX)));
}

@inline function geluVec(x: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(gelu64x2(f64x2.promote_low_f32x4(x)));
  const hi = f32x4.demote_f64x2_zero(gelu64x2(f64x2.promote_low_f32x4(i64x2.shuffle(x, x, 1, 1))));
  return v128.bitselect(x, i64x2.shuffle(lo, hi, 0, 2), f32x4.ne(x, x));
}

export function f32_gelu_simd128(x: usize, y: usize, n: i32): void {
  let i = 0;
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

/** erf on float32 values (float64 evaluation as above, one final rounding); used by tests to measure it. */
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
