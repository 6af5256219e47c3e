// Convolutions, stride 1, zero padding K/2, PyTorch weight layouts:
//   conv1d: x [B, Cin, L], w [Cout, Cin, K] (K = 1 or 3), y [B, Cout, L]
//   conv2d: x [B, Cin, H, W], w [Cout, Cin, 3, 3], y [B, Cout, H, W]
// Per output: acc = 0; for ci, (ky,) kx ascending: acc += w·x (taps in the padding skipped); + bias; ReLU.
// SIMD tiles: 4 output channels × 8 positions. Spike-input variants take x bit-packed along the last axis
// (rows of ⌈len/32⌉ u32 words) and add w where a spike is set (w AND lane-mask), never multiply; they equal the
// dense kernels on 0/1 inputs bit for bit. A 1-D conv is the 2-D loop with one row and K taps, so both share it.
import { bit1, bitsWindow, loadMasked, maskFromBits4, reluIf, reluIfScalar, storePartial } from './simd';

@inline function wOffset(co: i32, ci: i32, Cin: i32, taps: i32): usize {
  return (<usize>(co * Cin + ci) * <usize>taps) << 2;
}

/** Stores a 4-channel × 8-position tile (channels ≥ nco and positions ≥ len dropped), adding bias and ReLU. */
@inline function storeTile(yb: usize, rowB: usize, co: i32, nco: i32, t: i32, len: i32, bias: usize, relu: i32,
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128): void {
  const rem = len - t;
  let yp = yb + <usize>co * rowB + (<usize>t << 2);
  let bv = bias ? v128.load32_splat(bias + (<usize>co << 2)) : f32x4.splat(0);
  storePartial(yp, reluIf(f32x4.add(a00, bv), relu), rem);
  storePartial(yp + 16, reluIf(f32x4.add(a01, bv), relu), rem - 4);
  if (nco > 1) {
    yp += rowB;
    bv = bias ? v128.load32_splat(bias + (<usize>(co + 1) << 2)) : f32x4.splat(0);
    storePartial(yp, reluIf(f32x4.add(a10, bv), relu), rem);
    storePartial(yp + 16, reluIf(f32x4.add(a11, bv), relu), rem - 4);
  }
  if (nco > 2) {
    yp += rowB;
    bv = bias ? v128.load32_splat(bias + (<usize>(co + 2) << 2)) : f32x4.splat(0);
    storePartial(yp, reluIf(f32x4.add(a20, bv), relu), rem);
    storePartial(yp + 16, reluIf(f32x4.add(a21, bv), relu), rem - 4);
  }
  if (nco > 3) {
    yp += rowB;
    bv = bias ? v128.load32_splat(bias + (<usize>(co + 3) << 2)) : f32x4.splat(0);
    storePartial(yp, reluIf(f32x4.add(a30, bv), relu), rem);
    storePartial(yp + 16, reluIf(f32x4.add(a31, bv), relu), rem - 4);
  }
}

/** One tap into an accumulator: w·x (dense) or w AND mask (spike input). */
@inline function tap(acc: v128, w: v128, x: v128, spike: bool): v128 {
  return f32x4.add(acc, spike ? v128.and(w, x) : f32x4.mul(w, x));
}

/**
 * One 4-channel × 8-position output tile of the shared SIMD convolution: all Cin × KH × KW taps, then bias, ReLU
 * and the store. `spike` (bit-packed input, weights masked in) and `interior` (every tap of the tile inside the
 * row: plain loads, no padding checks) are compile-time constants at each call site, so each instantiation keeps
 * only its own branches; KH and KW are constants too, so the tap loops unroll.
 */
@inline function convTile(xb: usize, xplaneB: usize, xrowB: usize, w: usize, yb: usize, rowB: usize, planeB: usize,
  bias: usize, relu: i32, Cin: i32, Cout: i32, co: i32, r: i32, t: i32, rows: i32, cols: i32, words: i32,
  KH: i32, KW: i32, spike: bool, interior: bool): void {
  const taps = KH * KW;
  const ph = KH >> 1, pw = KW >> 1;
  const nco = min(4, Cout - co);
  // Channels beyond Cout reuse the last valid channel's weights; their results are not stored.
  const c1 = min(co + 1, Cout - 1), c2 = min(co + 2, Cout - 1), c3 = min(co + 3, Cout - 1);
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  for (let ci = 0; ci < Cin; ci++) {
    const xp = xb + <usize>ci * xplaneB;
    const w0 = w + wOffset(co, ci, Cin, taps), w1 = w + wOffset(c1, ci, Cin, taps);
    const w2 = w + wOffset(c2, ci, Cin, taps), w3 = w + wOffset(c3, ci, Cin, taps);
    for (let ky = 0; ky < KH; ky++) {
      const rr = r + ky - ph;
      if (rr < 0 || rr >= rows) continue;
      const xr = xp + <usize>rr * xrowB;
      // spike input: the 8 + 2·pw bits this row contributes to the tile, fetched once for all kx
      const win: u32 = spike ? bitsWindow(xr, t - pw, words) & ((<u32>1 << <u32>(8 + 2 * pw)) - 1) : 0;
      if (spike && win == 0) continue;
      for (let kx = 0; kx < KW; kx++) {
        let v0: v128, v1: v128;
        const pos = t + kx - pw;
        if (spike) {
          v0 = maskFromBits4((win >>> <u32>kx) & 0xf);
          v1 = maskFromBits4((win >>> <u32>(kx + 4)) & 0xf);
        } else if (interior) {
          v0 = v128.load(xr + (<usize>pos << 2));
          v1 = v128.load(xr + (<usize>pos << 2), 16);
        } else {
          v0 = loadMasked(xr, pos, cols);
          v1 = loadMasked(xr, pos + 4, cols);
        }
        const o = <usize>(ky * KW + kx) << 2;
        let s = v128.load32_splat(w0 + o);
        a00 = tap(a00, s, v0, spike); a01 = tap(a01, s, v1, spike);
        s = v128.load32_splat(w1 + o);
        a10 = tap(a10, s, v0, spike); a11 = tap(a11, s, v1, spike);
        s = v128.load32_splat(w2 + o);
        a20 = tap(a20, s, v0, spike); a21 = tap(a21, s, v1, spike);
        s = v128.load32_splat(w3 + o);
        a30 = tap(a30, s, v0, spike); a31 = tap(a31, s, v1, spike);
      }
    }
  }
  storeTile(yb + <usize>r * rowB, planeB, co, nco, t, cols, bias, relu, a00, a01, a10, a11, a20, a21, a30, a31);
}

/**
 * The shared SIMD convolution: `rows` × `cols` outputs per plane, KH × KW taps (padding KH/2, KW/2); KH = 1 makes
 * it a conv1d. Input rows are f32 (dense) or u32 bit words (spike). Tiles whose taps all fall inside the row take
 * the interior instantiation (plain loads).
 */
@inline function convSimd(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, rows: i32, cols: i32, KH: i32, KW: i32, relu: i32, spike: bool): void {
  const words = (cols + 31) >> 5;
  const xrowB: usize = spike ? <usize>words << 2 : <usize>cols << 2;
  const xplaneB = <usize>rows * xrowB;
  const rowB = <usize>cols << 2;
  const planeB = <usize>rows * rowB;
  const pw = KW >> 1;
  for (let b = 0; b < B; b++) {
    const xb = x + <usize>b * <usize>Cin * xplaneB;
    const yb = y + <usize>b * <usize>Cout * planeB;
    for (let co = 0; co < Cout; co += 4) {
      for (let r = 0; r < rows; r++) {
        for (let t = 0; t < cols; t += 8) {
          if (!spike && t - pw >= 0 && t + 8 + pw <= cols) {
            convTile(xb, xplaneB, xrowB, w, yb, rowB, planeB, bias, relu, Cin, Cout, co, r, t, rows, cols, words, KH, KW, spike, true);
          } else {
            convTile(xb, xplaneB, xrowB, w, yb, rowB, planeB, bias, relu, Cin, Cout, co, r, t, rows, cols, words, KH, KW, spike, false);
          }
        }
      }
    }
  }
}

/** The scalar path of {@link convSimd}: the same order per output, one output at a time. */
@inline function convScalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, rows: i32, cols: i32, KH: i32, KW: i32, relu: i32, spike: bool): void {
  const words = (cols + 31) >> 5;
  const xrow: usize = spike ? <usize>words : <usize>cols;
  const xplane = <usize>rows * xrow;
  const plane = <usize>rows * <usize>cols;
  const taps = KH * KW;
  const ph = KH >> 1, pw = KW >> 1;
  for (let b = 0; b < B; b++) {
    const xb = x + ((<usize>b * <usize>Cin * xplane) << 2);
    const yb = y + ((<usize>b * <usize>Cout * plane) << 2);
    for (let co = 0; co < Cout; co++) {
      for (let r = 0; r < rows; r++) {
        for (let t = 0; t < cols; t++) {
          let acc: f32 = 0;
          for (let ci = 0; ci < Cin; ci++) {
            const xp = xb + ((<usize>ci * xplane) << 2);
            const wr = w + wOffset(co, ci, Cin, taps);
            for (let ky = 0; ky < KH; ky++) {
              const rr = r + ky - ph;
              if (rr < 0 || rr >= rows) continue;
              const xr = xp + ((<usize>rr * xrow) << 2);
              for (let kx = 0; kx < KW; kx++) {
                const cc = t + kx - pw;
                const wv = load<f32>(wr + (<usize>(ky * KW + kx) << 2));
                if (spike) {
                  if (bit1(xr, cc, words)) acc += wv;
                } else if (cc >= 0 && cc < cols) {
                  acc += wv * load<f32>(xr + (<usize>cc << 2));
                }
              }
            }
          }
          if (bias) acc += load<f32>(bias + (<usize>co << 2));
          store<f32>(yb + ((<usize>co * plane + <usize>r * <usize>cols + <usize>t) << 2), reluIfScalar(acc, relu));
        }
      }
    }
  }
}

export function f32_conv1d_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  if (K == 1) convSimd(x, w, bias, y, B, Cin, Cout, 1, L, 1, 1, relu, false);
  else convSimd(x, w, bias, y, B, Cin, Cout, 1, L, 1, 3, relu, false);
}

export function f32_conv1d_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  convScalar(x, w, bias, y, B, Cin, Cout, 1, L, 1, K, relu, false);
}

/** Spike-input conv1d: x bit-packed [B, Cin, ⌈L/32⌉ words]. */
export function f32_conv1d_spike_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  if (K == 1) convSimd(x, w, bias, y, B, Cin, Cout, 1, L, 1, 1, relu, true);
  else convSimd(x, w, bias, y, B, Cin, Cout, 1, L, 1, 3, relu, true);
}

export function f32_conv1d_spike_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  convScalar(x, w, bias, y, B, Cin, Cout, 1, L, 1, K, relu, true);
}

export function f32_conv2d3x3_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  convSimd(x, w, bias, y, B, Cin, Cout, H, W, 3, 3, relu, false);
}

export function f32_conv2d3x3_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  convScalar(x, w, bias, y, B, Cin, Cout, H, W, 3, 3, relu, false);
}

/** Spike-input conv2d 3×3: x bit-packed [B, Cin, H, ⌈W/32⌉ words]. */
export function f32_conv2d3x3_spike_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  convSimd(x, w, bias, y, B, Cin, Cout, H, W, 3, 3, relu, true);
}

export function f32_conv2d3x3_spike_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  convScalar(x, w, bias, y, B, Cin, Cout, H, W, 3, 3, relu, true);
}
