// Convolutions, stride 1, zero padding K/2, PyTorch weight layouts:
//   conv1d: x [B, Cin, L], w [Cout, Cin, K] (K = 1 or 3), y [B, Cout, L]
//   conv2d: x [B, Cin, H, W], w [Cout, Cin, 3, 3], y [B, Cout, H, W]
// Per output: acc = 0; for ci, (ky,) kx ascending: acc += w·x (taps in the padding skipped); + bias; ReLU.
// SIMD tiles: 4 output channels × 8 positions. Spike-input variants take x bit-packed along the last axis
// (rows of `words` u32) and add w where a spike is set (w AND lane-mask), never multiply; they equal the dense
// kernels on 0/1 inputs bit for bit.
import { bit1, bits4, loadBias, loadPadded, maskFromBits4, reluIf, reluIfScalar, storePartial } from './simd';

@inline function wOffset(co: i32, ci: i32, Cin: i32, taps: i32): usize {
  return (<usize>(co * Cin + ci) * <usize>taps) << 2;
}

// ---------------------------------------------------------------- conv1d

export function f32_conv1d_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  const pad = K >> 1;
  const rowB = <usize>L << 2;
  for (let b = 0; b < B; b++) {
    const xb = x + <usize>b * <usize>Cin * rowB;
    const yb = y + <usize>b * <usize>Cout * rowB;
    for (let co = 0; co < Cout; co += 4) {
      const nco = min(4, Cout - co);
      // Rows beyond Cout reuse the last valid channel's weights; their results are not stored.
      const c1 = min(co + 1, Cout - 1), c2 = min(co + 2, Cout - 1), c3 = min(co + 3, Cout - 1);
      for (let t = 0; t < L; t += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        for (let ci = 0; ci < Cin; ci++) {
          const xr = xb + <usize>ci * rowB;
          const w0 = w + wOffset(co, ci, Cin, K), w1 = w + wOffset(c1, ci, Cin, K);
          const w2 = w + wOffset(c2, ci, Cin, K), w3 = w + wOffset(c3, ci, Cin, K);
          for (let j = 0; j < K; j++) {
            const v0 = loadPadded(xr, t + j - pad, L);
            const v1 = loadPadded(xr, t + 4 + j - pad, L);
            const o = <usize>j << 2;
            let s = v128.load32_splat(w0 + o);
            a00 = f32x4.add(a00, f32x4.mul(s, v0)); a01 = f32x4.add(a01, f32x4.mul(s, v1));
            s = v128.load32_splat(w1 + o);
            a10 = f32x4.add(a10, f32x4.mul(s, v0)); a11 = f32x4.add(a11, f32x4.mul(s, v1));
            s = v128.load32_splat(w2 + o);
            a20 = f32x4.add(a20, f32x4.mul(s, v0)); a21 = f32x4.add(a21, f32x4.mul(s, v1));
            s = v128.load32_splat(w3 + o);
            a30 = f32x4.add(a30, f32x4.mul(s, v0)); a31 = f32x4.add(a31, f32x4.mul(s, v1));
          }
        }
        storeTile(yb, rowB, co, nco, t, L, bias, relu, a00, a01, a10, a11, a20, a21, a30, a31);
      }
    }
  }
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

export function f32_conv1d_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  const pad = K >> 1;
  for (let b = 0; b < B; b++) {
    const xb = x + ((<usize>b * <usize>Cin * <usize>L) << 2);
    const yb = y + ((<usize>b * <usize>Cout * <usize>L) << 2);
    for (let co = 0; co < Cout; co++) {
      for (let t = 0; t < L; t++) {
        let acc: f32 = 0;
        for (let ci = 0; ci < Cin; ci++) {
          const xr = xb + ((<usize>ci * <usize>L) << 2);
          const wr = w + wOffset(co, ci, Cin, K);
          for (let j = 0; j < K; j++) {
            const p = t + j - pad;
            if (p >= 0 && p < L) acc += load<f32>(wr + (<usize>j << 2)) * load<f32>(xr + (<usize>p << 2));
          }
        }
        if (bias) acc += load<f32>(bias + (<usize>co << 2));
        store<f32>(yb + ((<usize>co * <usize>L + <usize>t) << 2), reluIfScalar(acc, relu));
      }
    }
  }
}

/** Spike-input conv1d: x bit-packed [B, Cin, words], words = ceil(L/32). */
export function f32_conv1d_spike_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  const pad = K >> 1;
  const words = (L + 31) >> 5;
  const rowB = <usize>L << 2;
  const xrowB = <usize>words << 2;
  for (let b = 0; b < B; b++) {
    const xb = x + <usize>b * <usize>Cin * xrowB;
    const yb = y + <usize>b * <usize>Cout * rowB;
    for (let co = 0; co < Cout; co += 4) {
      const nco = min(4, Cout - co);
      const c1 = min(co + 1, Cout - 1), c2 = min(co + 2, Cout - 1), c3 = min(co + 3, Cout - 1);
      for (let t = 0; t < L; t += 8) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        for (let ci = 0; ci < Cin; ci++) {
          const xr = xb + <usize>ci * xrowB;
          const w0 = w + wOffset(co, ci, Cin, K), w1 = w + wOffset(c1, ci, Cin, K);
          const w2 = w + wOffset(c2, ci, Cin, K), w3 = w + wOffset(c3, ci, Cin, K);
          for (let j = 0; j < K; j++) {
            const lo = bits4(xr, t + j - pad, words);
            const hi = bits4(xr, t + 4 + j - pad, words);
            if ((lo | hi) == 0) continue;
            const m0 = maskFromBits4(lo);
            const m1 = maskFromBits4(hi);
            const o = <usize>j << 2;
            let s = v128.load32_splat(w0 + o);
            a00 = f32x4.add(a00, v128.and(s, m0)); a01 = f32x4.add(a01, v128.and(s, m1));
            s = v128.load32_splat(w1 + o);
            a10 = f32x4.add(a10, v128.and(s, m0)); a11 = f32x4.add(a11, v128.and(s, m1));
            s = v128.load32_splat(w2 + o);
            a20 = f32x4.add(a20, v128.and(s, m0)); a21 = f32x4.add(a21, v128.and(s, m1));
            s = v128.load32_splat(w3 + o);
            a30 = f32x4.add(a30, v128.and(s, m0)); a31 = f32x4.add(a31, v128.and(s, m1));
          }
        }
        storeTile(yb, rowB, co, nco, t, L, bias, relu, a00, a01, a10, a11, a20, a21, a30, a31);
      }
    }
  }
}

export function f32_conv1d_spike_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, L: i32, K: i32, relu: i32): void {
  const pad = K >> 1;
  const words = (L + 31) >> 5;
  for (let b = 0; b < B; b++) {
    const xb = x + ((<usize>b * <usize>Cin * <usize>words) << 2);
    const yb = y + ((<usize>b * <usize>Cout * <usize>L) << 2);
    for (let co = 0; co < Cout; co++) {
      for (let t = 0; t < L; t++) {
        let acc: f32 = 0;
        for (let ci = 0; ci < Cin; ci++) {
          const xr = xb + ((<usize>ci * <usize>words) << 2);
          const wr = w + wOffset(co, ci, Cin, K);
          for (let j = 0; j < K; j++) {
            if (bit1(xr, t + j - pad, words)) acc += load<f32>(wr + (<usize>j << 2));
          }
        }
        if (bias) acc += load<f32>(bias + (<usize>co << 2));
        store<f32>(yb + ((<usize>co * <usize>L + <usize>t) << 2), reluIfScalar(acc, relu));
      }
    }
  }
}

// ---------------------------------------------------------------- conv2d 3×3

export function f32_conv2d3x3_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  const rowB = <usize>W << 2;
  const planeB = <usize>H * rowB;
  for (let b = 0; b < B; b++) {
    const xb = x + <usize>b * <usize>Cin * planeB;
    const yb = y + <usize>b * <usize>Cout * planeB;
    for (let co = 0; co < Cout; co += 4) {
      const nco = min(4, Cout - co);
      const c1 = min(co + 1, Cout - 1), c2 = min(co + 2, Cout - 1), c3 = min(co + 3, Cout - 1);
      for (let r = 0; r < H; r++) {
        for (let t = 0; t < W; t += 8) {
          let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
          let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
          for (let ci = 0; ci < Cin; ci++) {
            const xp = xb + <usize>ci * planeB;
            const w0 = w + wOffset(co, ci, Cin, 9), w1 = w + wOffset(c1, ci, Cin, 9);
            const w2 = w + wOffset(c2, ci, Cin, 9), w3 = w + wOffset(c3, ci, Cin, 9);
            for (let ky = 0; ky < 3; ky++) {
              const rr = r + ky - 1;
              if (rr < 0 || rr >= H) continue;
              const xr = xp + <usize>rr * rowB;
              for (let kx = 0; kx < 3; kx++) {
                const v0 = loadPadded(xr, t + kx - 1, W);
                const v1 = loadPadded(xr, t + 4 + kx - 1, W);
                const o = <usize>(ky * 3 + kx) << 2;
                let s = v128.load32_splat(w0 + o);
                a00 = f32x4.add(a00, f32x4.mul(s, v0)); a01 = f32x4.add(a01, f32x4.mul(s, v1));
                s = v128.load32_splat(w1 + o);
                a10 = f32x4.add(a10, f32x4.mul(s, v0)); a11 = f32x4.add(a11, f32x4.mul(s, v1));
                s = v128.load32_splat(w2 + o);
                a20 = f32x4.add(a20, f32x4.mul(s, v0)); a21 = f32x4.add(a21, f32x4.mul(s, v1));
                s = v128.load32_splat(w3 + o);
                a30 = f32x4.add(a30, f32x4.mul(s, v0)); a31 = f32x4.add(a31, f32x4.mul(s, v1));
              }
            }
          }
          storeTile(yb + <usize>r * rowB, planeB, co, nco, t, W, bias, relu, a00, a01, a10, a11, a20, a21, a30, a31);
        }
      }
    }
  }
}

export function f32_conv2d3x3_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  const plane = <usize>H * <usize>W;
  for (let b = 0; b < B; b++) {
    const xb = x + ((<usize>b * <usize>Cin * plane) << 2);
    const yb = y + ((<usize>b * <usize>Cout * plane) << 2);
    for (let co = 0; co < Cout; co++) {
      for (let r = 0; r < H; r++) {
        for (let t = 0; t < W; t++) {
          let acc: f32 = 0;
          for (let ci = 0; ci < Cin; ci++) {
            const xp = xb + ((<usize>ci * plane) << 2);
            const wr = w + wOffset(co, ci, Cin, 9);
            for (let ky = 0; ky < 3; ky++) {
              const rr = r + ky - 1;
              if (rr < 0 || rr >= H) continue;
              for (let kx = 0; kx < 3; kx++) {
                const cc = t + kx - 1;
                if (cc < 0 || cc >= W) continue;
                acc += load<f32>(wr + (<usize>(ky * 3 + kx) << 2)) * load<f32>(xp + ((<usize>rr * <usize>W + <usize>cc) << 2));
              }
            }
          }
          if (bias) acc += load<f32>(bias + (<usize>co << 2));
          store<f32>(yb + ((<usize>co * plane + <usize>r * <usize>W + <usize>t) << 2), reluIfScalar(acc, relu));
        }
      }
    }
  }
}

/** Spike-input conv2d 3×3: x bit-packed [B, Cin, H, words], words = ceil(W/32). */
export function f32_conv2d3x3_spike_simd128(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  const words = (W + 31) >> 5;
  const rowB = <usize>W << 2;
  const planeB = <usize>H * rowB;
  const xrowB = <usize>words << 2;
  const xplaneB = <usize>H * xrowB;
  for (let b = 0; b < B; b++) {
    const xb = x + <usize>b * <usize>Cin * xplaneB;
    const yb = y + <usize>b * <usize>Cout * planeB;
    for (let co = 0; co < Cout; co += 4) {
      const nco = min(4, Cout - co);
      const c1 = min(co + 1, Cout - 1), c2 = min(co + 2, Cout - 1), c3 = min(co + 3, Cout - 1);
      for (let r = 0; r < H; r++) {
        for (let t = 0; t < W; t += 8) {
          let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
          let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
          for (let ci = 0; ci < Cin; ci++) {
            const xp = xb + <usize>ci * xplaneB;
            const w0 = w + wOffset(co, ci, Cin, 9), w1 = w + wOffset(c1, ci, Cin, 9);
            const w2 = w + wOffset(c2, ci, Cin, 9), w3 = w + wOffset(c3, ci, Cin, 9);
            for (let ky = 0; ky < 3; ky++) {
              const rr = r + ky - 1;
              if (rr < 0 || rr >= H) continue;
              const xr = xp + <usize>rr * xrowB;
              for (let kx = 0; kx < 3; kx++) {
                const lo = bits4(xr, t + kx - 1, words);
                const hi = bits4(xr, t + 4 + kx - 1, words);
                if ((lo | hi) == 0) continue;
                const m0 = maskFromBits4(lo);
                const m1 = maskFromBits4(hi);
                const o = <usize>(ky * 3 + kx) << 2;
                let s = v128.load32_splat(w0 + o);
                a00 = f32x4.add(a00, v128.and(s, m0)); a01 = f32x4.add(a01, v128.and(s, m1));
                s = v128.load32_splat(w1 + o);
                a10 = f32x4.add(a10, v128.and(s, m0)); a11 = f32x4.add(a11, v128.and(s, m1));
                s = v128.load32_splat(w2 + o);
                a20 = f32x4.add(a20, v128.and(s, m0)); a21 = f32x4.add(a21, v128.and(s, m1));
                s = v128.load32_splat(w3 + o);
                a30 = f32x4.add(a30, v128.and(s, m0)); a31 = f32x4.add(a31, v128.and(s, m1));
              }
            }
          }
          storeTile(yb + <usize>r * rowB, planeB, co, nco, t, W, bias, relu, a00, a01, a10, a11, a20, a21, a30, a31);
        }
      }
    }
  }
}

export function f32_conv2d3x3_spike_scalar(x: usize, w: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, relu: i32): void {
  const words = (W + 31) >> 5;
  const plane = <usize>H * <usize>W;
  const xplane = <usize>H * <usize>words;
  for (let b = 0; b < B; b++) {
    const xb = x + ((<usize>b * <usize>Cin * xplane) << 2);
    const yb = y + ((<usize>b * <usize>Cout * plane) << 2);
    for (let co = 0; co < Cout; co++) {
      for (let r = 0; r < H; r++) {
        for (let t = 0; t < W; t++) {
          let acc: f32 = 0;
          for (let ci = 0; ci < Cin; ci++) {
            const xp = xb + ((<usize>ci * xplane) << 2);
            const wr = w + wOffset(co, ci, Cin, 9);
            for (let ky = 0; ky < 3; ky++) {
              const rr = r + ky - 1;
              if (rr < 0 || rr >= H) continue;
              const xr = xp + ((<usize>rr * <usize>words) << 2);
              for (let kx = 0; kx < 3; kx++) {
                if (bit1(xr, t + kx - 1, words)) acc += load<f32>(wr + (<usize>(ky * 3 + kx) << 2));
              }
            }
          }
          if (bias) acc += load<f32>(bias + (<usize>co << 2));
          store<f32>(yb + ((<usize>co * plane + <usize>r * <usize>W + <usize>t) << 2), reluIfScalar(acc, relu));
        }
      }
    }
  }
}
