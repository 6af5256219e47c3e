// FFT form of the parallel LMU memory (shared/spec/lmuformer.md §1): m_t = Σ_{s≤t} u_s·H[:, t−s] for t < L is the
// first L samples of the linear convolution of u and H[i, ·], both zero-padded to N = 2L, so
//     M_i = irfft_N( rfft_N(u) · rfft_N(H[i, ·]) )[0..L).
// The spectra rfft_N(H[i, ·])/N are prepared once per model on the TS side (src/ops.ts prepareLmuFft), in float64,
// rounded once, laid out [group g = i/4][bin k = 0..L][re: 4 channels][im: 4 channels] (32 bytes per bin; the
// channels past d in the last group are zero). Both real transforms of size N go through complex transforms of size
// L (even samples in the real part, odd samples in the imaginary part):
//  - forward (once per sequence, scalar, shared by both kernels): z_n = x_{2n} + i·x_{2n+1}, Z = FFT_L(z),
//    X_k = ½(Z_k + Z̄_{L−k}) + w^k·(−½i)(Z_k − Z̄_{L−k}), w = e^{−iπ/L}, k = 0..L;
//  - inverse (per channel): with Y_k = X_k·S_k/N, Z_k = (Y_k + Ȳ_{L−k}) + i·c_k·(Y_k − Ȳ_{L−k}), c_k = e^{+iπk/L},
//    z = IFFT_L(Z) (unnormalised: the 1/N lives in the spectrum), and x_{2n} = Re z_n, x_{2n+1} = Im z_n.
//    Only n < L/2 is kept (x_0..x_{L−1}).
// Decimation in time: Z is written in bit-reversed order and transformed in place (radix 2 for the forward
// transform, radix 2² passes for the inverse, see below). The SIMD kernel runs the inverse of 4 channels at once (one
// f32x4 lane per channel); the scalar kernel runs each channel alone with the same operations in the same order, so
// the two agree bit for bit (f32x4 add/sub/mul round per lane like f32; baseline Wasm SIMD has no FMA).
//
// `tab` (f32 words, prepared once by the TS op for a given L; 5L words):
//   [0, 2L+2)      c_k = (cos πk/L, sin πk/L), k = 0..L
//   [2L+2, 4L)     stage twiddles: for half-size m = 1, 2, …, L/2, the m values e^{+iπj/m} (j < m) at complex
//                  offset m − 1
//   [4L, 5L)       bit reversal of log2 L bits, as i32
// `work` (16-byte aligned, f32 words): U = rfft_N(u) [L+1 complex] at 0, then the transform buffer Z at zOffset(L):
//   L complex × 4 lanes (re v128, im v128 per point) for the SIMD kernel, L complex for the scalar one.
import { storePartial } from './simd';

/** Word offset of the Z buffer in `work` (after the L+1 complex values of U, rounded up to 16 bytes). */
@inline function zOffset(L: i32): usize {
  return <usize>((2 * L + 2 + 3) & ~3);
}

/** U = rfft_{2L}(u zero-padded), (L+1) complex values at U. Scalar; identical for both kernels. */
function rfftInput(u: usize, L: i32, tab: usize, U: usize): void {
  const rev = tab + (<usize>(4 * L) << 2);
  for (let n = 0; n < L; n++) {
    const m = 2 * n;
    const re: f32 = m < L ? load<f32>(u + (<usize>m << 2)) : 0;
    const im: f32 = m + 1 < L ? load<f32>(u + (<usize>(m + 1) << 2)) : 0;
    const p = U + (<usize>load<i32>(rev + (<usize>n << 2)) << 3);
    store<f32>(p, re);
    store<f32>(p, im, 4);
  }
  const tw = tab + (<usize>(2 * L + 2) << 2);
  for (let m = 1; m < L; m <<= 1) radix2Stage(U, L, tw, m, true);
  // untangle the two real transforms, in place, pairs (k, L−k); X_0 and X_L come from Z_0 alone
  const zr = load<f32>(U), zi = load<f32>(U, 4);
  store<f32>(U, zr + zi);
  store<f32>(U, 0, 4);
  store<f32>(U + (<usize>L << 3), zr - zi);
  store<f32>(U + (<usize>L << 3), 0, 4);
  const half: f32 = 0.5;
  for (let k = 1; k <= L >> 1; k++) {
    const Pk = U + (<usize>k << 3), Pp = U + (<usize>(L - k) << 3);
    const ar = load<f32>(Pk), ai = load<f32>(Pk, 4), br = load<f32>(Pp), bi = load<f32>(Pp, 4);
    const er = half * (ar + br), ei = half * (ai - bi);
    const orr = half * (ai + bi), oi = half * (br - ar); // O = −½i·(Z_k − Z̄_{L−k})
    const cr = load<f32>(tab + (<usize>k << 3)), ci = load<f32>(tab + (<usize>k << 3), 4); // w^k = c̄_k
    const wr = cr * orr + ci * oi, wi = cr * oi - ci * orr;
    store<f32>(Pk, er + wr);
    store<f32>(Pk, ei + wi, 4);
    if (k != L - k) {
      store<f32>(Pp, er - wr); // X_{L−k} = conj(E − w^k O)
      store<f32>(Pp, wi - ei, 4);
    }
  }
}

// The inverse transform of one channel (or 4 in lanes) after the pre-step, in stages of half-size m = 1, 2, …, L/2
// (DIT, input bit-reversed): stages m and 2m are fused into one pass over blocks of 4m points (radix 2², twiddles
// w1 = e^{iπj/m}, w2 = e^{iπj/2m} and i·w2), the first pass (m = 1, 2: twiddles 1, 1, i) without multiplications;
// the last stage (m = L/2) only computes z_n for n < L/2 and writes them to the output rows 2n (re) and 2n+1 (im).

/** Four channels (lanes) of one group: spectrum S [(L+1) bins × (re v128, im v128)], n valid lanes stored. */
function groupSimd(U: usize, L: i32, S: usize, tab: usize, Z: usize, out: usize, ldo: i32, n: i32): void {
  const rev = tab + (<usize>(4 * L) << 2);
  for (let k = 0; k <= L >> 1; k++) {
    const p = L - k;
    const Uk = U + (<usize>k << 3), Up = U + (<usize>p << 3);
    const Sk = S + (<usize>k << 5), Sp = S + (<usize>p << 5);
    const ukr = v128.load32_splat(Uk), uki = v128.load32_splat(Uk, 4);
    const upr = v128.load32_splat(Up), upi = v128.load32_splat(Up, 4);
    const skr = v128.load(Sk), ski = v128.load(Sk, 16), spr = v128.load(Sp), spi = v128.load(Sp, 16);
    const ar = f32x4.sub(f32x4.mul(ukr, skr), f32x4.mul(uki, ski));
    const ai = f32x4.add(f32x4.mul(ukr, ski), f32x4.mul(uki, skr));
    const br = f32x4.sub(f32x4.mul(upr, spr), f32x4.mul(upi, spi));
    const bi = f32x4.add(f32x4.mul(upr, spi), f32x4.mul(upi, spr));
    const er = f32x4.add(ar, br), ei = f32x4.sub(ai, bi);
    const dr = f32x4.sub(ar, br), di = f32x4.add(ai, bi);
    const cr = v128.load32_splat(tab + (<usize>k << 3)), ci = v128.load32_splat(tab + (<usize>k << 3), 4);
    const orr = f32x4.sub(f32x4.mul(dr, cr), f32x4.mul(di, ci));
    const oi = f32x4.add(f32x4.mul(dr, ci), f32x4.mul(di, cr));
    const zk = Z + (<usize>load<i32>(rev + (<usize>k << 2)) << 5);
    v128.store(zk, f32x4.sub(er, oi));
    v128.store(zk, f32x4.add(ei, orr), 16);
    if (k != 0 && k != p) {
      const zp = Z + (<usize>load<i32>(rev + (<usize>p << 2)) << 5);
      v128.store(zp, f32x4.add(er, oi));
      v128.store(zp, f32x4.sub(orr, ei), 16);
    }
  }
  const tw = tab + (<usize>(2 * L + 2) << 2);
  const half = L >> 1;
  let m = 1;
  if (4 <= half) {
    // stages 1 and 2: x0 ± x1, x2 ± x3, then (a0 ± a2), (a1 ± i·a3)
    for (let P = Z, e = Z + (<usize>L << 5); P < e; P += 128) {
      const x0r = v128.load(P), x0i = v128.load(P, 16), x1r = v128.load(P, 32), x1i = v128.load(P, 48);
      const x2r = v128.load(P, 64), x2i = v128.load(P, 80), x3r = v128.load(P, 96), x3i = v128.load(P, 112);
      const a0r = f32x4.add(x0r, x1r), a0i = f32x4.add(x0i, x1i), a1r = f32x4.sub(x0r, x1r), a1i = f32x4.sub(x0i, x1i);
      const a2r = f32x4.add(x2r, x3r), a2i = f32x4.add(x2i, x3i), a3r = f32x4.sub(x2r, x3r), a3i = f32x4.sub(x2i, x3i);
      v128.store(P, f32x4.add(a0r, a2r));
      v128.store(P, f32x4.add(a0i, a2i), 16);
      v128.store(P, f32x4.sub(a1r, a3i), 32);
      v128.store(P, f32x4.add(a1i, a3r), 48);
      v128.store(P, f32x4.sub(a0r, a2r), 64);
      v128.store(P, f32x4.sub(a0i, a2i), 80);
      v128.store(P, f32x4.add(a1r, a3i), 96);
      v128.store(P, f32x4.sub(a1i, a3r), 112);
    }
    m = 4;
  }
  for (; 4 * m <= half; m <<= 2) {
    const t1 = tw + (<usize>(m - 1) << 3), t2 = tw + (<usize>(2 * m - 1) << 3);
    const mB = <usize>m << 5;
    for (let j = 0; j < m; j++) {
      const w1r = v128.load32_splat(t1 + (<usize>j << 3)), w1i = v128.load32_splat(t1 + (<usize>j << 3), 4);
      const w2r = v128.load32_splat(t2 + (<usize>j << 3)), w2i = v128.load32_splat(t2 + (<usize>j << 3), 4);
      for (let q = j; q < L; q += 4 * m) {
        const P0 = Z + (<usize>q << 5), P1 = P0 + mB, P2 = P1 + mB, P3 = P2 + mB;
        const x1r = v128.load(P1), x1i = v128.load(P1, 16), x3r = v128.load(P3), x3i = v128.load(P3, 16);
        const t1r = f32x4.sub(f32x4.mul(w1r, x1r), f32x4.mul(w1i, x1i));
        const t1i = f32x4.add(f32x4.mul(w1r, x1i), f32x4.mul(w1i, x1r));
        const t3r = f32x4.sub(f32x4.mul(w1r, x3r), f32x4.mul(w1i, x3i));
        const t3i = f32x4.add(f32x4.mul(w1r, x3i), f32x4.mul(w1i, x3r));
        const x0r = v128.load(P0), x0i = v128.load(P0, 16), x2r = v128.load(P2), x2i = v128.load(P2, 16);
        const a0r = f32x4.add(x0r, t1r), a0i = f32x4.add(x0i, t1i), a1r = f32x4.sub(x0r, t1r), a1i = f32x4.sub(x0i, t1i);
        const a2r = f32x4.add(x2r, t3r), a2i = f32x4.add(x2i, t3i), a3r = f32x4.sub(x2r, t3r), a3i = f32x4.sub(x2i, t3i);
        const s2r = f32x4.sub(f32x4.mul(w2r, a2r), f32x4.mul(w2i, a2i));
        const s2i = f32x4.add(f32x4.mul(w2r, a2i), f32x4.mul(w2i, a2r));
        // (i·w2)·a3 = i·(w2·a3)
        const s3r = f32x4.sub(f32x4.mul(w2r, a3r), f32x4.mul(w2i, a3i));
        const s3i = f32x4.add(f32x4.mul(w2r, a3i), f32x4.mul(w2i, a3r));
        v128.store(P0, f32x4.add(a0r, s2r));
        v128.store(P0, f32x4.add(a0i, s2i), 16);
        v128.store(P2, f32x4.sub(a0r, s2r));
        v128.store(P2, f32x4.sub(a0i, s2i), 16);
        v128.store(P1, f32x4.sub(a1r, s3i));
        v128.store(P1, f32x4.add(a1i, s3r), 16);
        v128.store(P3, f32x4.add(a1r, s3i));
        v128.store(P3, f32x4.sub(a1i, s3r), 16);
      }
    }
  }
  if (m < half) {
    const ts = tw + (<usize>(m - 1) << 3);
    const mB = <usize>m << 5;
    for (let j = 0; j < m; j++) {
      const wr = v128.load32_splat(ts + (<usize>j << 3)), wi = v128.load32_splat(ts + (<usize>j << 3), 4);
      for (let q = j; q < L; q += 2 * m) {
        const P = Z + (<usize>q << 5), Q = P + mB;
        const qr = v128.load(Q), qi = v128.load(Q, 16);
        const tr = f32x4.sub(f32x4.mul(wr, qr), f32x4.mul(wi, qi));
        const ti = f32x4.add(f32x4.mul(wr, qi), f32x4.mul(wi, qr));
        const pr = v128.load(P), pi = v128.load(P, 16);
        v128.store(Q, f32x4.sub(pr, tr));
        v128.store(Q, f32x4.sub(pi, ti), 16);
        v128.store(P, f32x4.add(pr, tr));
        v128.store(P, f32x4.add(pi, ti), 16);
      }
    }
    m <<= 1;
  }
  const rowB = <usize>ldo << 2;
  if (L == 1) {
    storePartial(out, v128.load(Z), n);
    return;
  }
  // last stage (m = L/2), first half only, straight to the output rows
  const ts = tw + (<usize>(half - 1) << 3);
  const hB = <usize>half << 5;
  let o = out;
  for (let q = 0; q < half; q++, o += 2 * rowB) {
    const wr = v128.load32_splat(ts + (<usize>q << 3)), wi = v128.load32_splat(ts + (<usize>q << 3), 4);
    const P = Z + (<usize>q << 5);
    const qr = v128.load(P + hB), qi = v128.load(P + hB, 16);
    const tr = f32x4.sub(f32x4.mul(wr, qr), f32x4.mul(wi, qi));
    const ti = f32x4.add(f32x4.mul(wr, qi), f32x4.mul(wi, qr));
    const zr = f32x4.add(v128.load(P), tr), zi = f32x4.add(v128.load(P, 16), ti);
    if (n == 4) {
      v128.store(o, zr);
      v128.store(o + rowB, zi);
    } else {
      storePartial(o, zr, n);
      storePartial(o + rowB, zi, n);
    }
  }
}

/** One channel (S points at its lane of the group spectrum): the same operations as one lane of groupSimd. */
function channelScalar(U: usize, L: i32, S: usize, tab: usize, Z: usize, out: usize, ldo: i32): void {
  const rev = tab + (<usize>(4 * L) << 2);
  for (let k = 0; k <= L >> 1; k++) {
    const p = L - k;
    const Uk = U + (<usize>k << 3), Up = U + (<usize>p << 3);
    const Sk = S + (<usize>k << 5), Sp = S + (<usize>p << 5);
    const ukr = load<f32>(Uk), uki = load<f32>(Uk, 4), upr = load<f32>(Up), upi = load<f32>(Up, 4);
    const skr = load<f32>(Sk), ski = load<f32>(Sk, 16), spr = load<f32>(Sp), spi = load<f32>(Sp, 16);
    const ar = ukr * skr - uki * ski, ai = ukr * ski + uki * skr;
    const br = upr * spr - upi * spi, bi = upr * spi + upi * spr;
    const er = ar + br, ei = ai - bi, dr = ar - br, di = ai + bi;
    const cr = load<f32>(tab + (<usize>k << 3)), ci = load<f32>(tab + (<usize>k << 3), 4);
    const orr = dr * cr - di * ci, oi = dr * ci + di * cr;
    const zk = Z + (<usize>load<i32>(rev + (<usize>k << 2)) << 3);
    store<f32>(zk, er - oi);
    store<f32>(zk, ei + orr, 4);
    if (k != 0 && k != p) {
      const zp = Z + (<usize>load<i32>(rev + (<usize>p << 2)) << 3);
      store<f32>(zp, er + oi);
      store<f32>(zp, orr - ei, 4);
    }
  }
  const tw = tab + (<usize>(2 * L + 2) << 2);
  const half = L >> 1;
  let m = 1;
  if (4 <= half) {
    for (let P = Z, e = Z + (<usize>L << 3); P < e; P += 32) {
      const x0r = load<f32>(P), x0i = load<f32>(P, 4), x1r = load<f32>(P, 8), x1i = load<f32>(P, 12);
      const x2r = load<f32>(P, 16), x2i = load<f32>(P, 20), x3r = load<f32>(P, 24), x3i = load<f32>(P, 28);
      const a0r = x0r + x1r, a0i = x0i + x1i, a1r = x0r - x1r, a1i = x0i - x1i;
      const a2r = x2r + x3r, a2i = x2i + x3i, a3r = x2r - x3r, a3i = x2i - x3i;
      store<f32>(P, a0r + a2r);
      store<f32>(P, a0i + a2i, 4);
      store<f32>(P, a1r - a3i, 8);
      store<f32>(P, a1i + a3r, 12);
      store<f32>(P, a0r - a2r, 16);
      store<f32>(P, a0i - a2i, 20);
      store<f32>(P, a1r + a3i, 24);
      store<f32>(P, a1i - a3r, 28);
    }
    m = 4;
  }
  for (; 4 * m <= half; m <<= 2) {
    const t1 = tw + (<usize>(m - 1) << 3), t2 = tw + (<usize>(2 * m - 1) << 3);
    const mB = <usize>m << 3;
    for (let j = 0; j < m; j++) {
      const w1r = load<f32>(t1 + (<usize>j << 3)), w1i = load<f32>(t1 + (<usize>j << 3), 4);
      const w2r = load<f32>(t2 + (<usize>j << 3)), w2i = load<f32>(t2 + (<usize>j << 3), 4);
      for (let q = j; q < L; q += 4 * m) {
        const P0 = Z + (<usize>q << 3), P1 = P0 + mB, P2 = P1 + mB, P3 = P2 + mB;
        const x1r = load<f32>(P1), x1i = load<f32>(P1, 4), x3r = load<f32>(P3), x3i = load<f32>(P3, 4);
        const t1r = w1r * x1r - w1i * x1i, t1i = w1r * x1i + w1i * x1r;
        const t3r = w1r * x3r - w1i * x3i, t3i = w1r * x3i + w1i * x3r;
        const x0r = load<f32>(P0), x0i = load<f32>(P0, 4), x2r = load<f32>(P2), x2i = load<f32>(P2, 4);
        const a0r = x0r + t1r, a0i = x0i + t1i, a1r = x0r - t1r, a1i = x0i - t1i;
        const a2r = x2r + t3r, a2i = x2i + t3i, a3r = x2r - t3r, a3i = x2i - t3i;
        const s2r = w2r * a2r - w2i * a2i, s2i = w2r * a2i + w2i * a2r;
        const s3r = w2r * a3r - w2i * a3i, s3i = w2r * a3i + w2i * a3r;
        store<f32>(P0, a0r + s2r);
        store<f32>(P0, a0i + s2i, 4);
        store<f32>(P2, a0r - s2r);
        store<f32>(P2, a0i - s2i, 4);
        store<f32>(P1, a1r - s3i);
        store<f32>(P1, a1i + s3r, 4);
        store<f32>(P3, a1r + s3i);
        store<f32>(P3, a1i - s3r, 4);
      }
    }
  }
  if (m < half) {
    radix2Stage(Z, L, tw, m, false);
    m <<= 1;
  }
  const rowB = <usize>ldo << 2;
  if (L == 1) {
    store<f32>(out, load<f32>(Z));
    return;
  }
  const ts = tw + (<usize>(half - 1) << 3);
  const hB = <usize>half << 3;
  let o = out;
  for (let q = 0; q < half; q++, o += 2 * rowB) {
    const wr = load<f32>(ts + (<usize>q << 3)), wi = load<f32>(ts + (<usize>q << 3), 4);
    const P = Z + (<usize>q << 3);
    const qr = load<f32>(P + hB), qi = load<f32>(P + hB, 4);
    const tr = wr * qr - wi * qi, ti = wr * qi + wi * qr;
    store<f32>(o, load<f32>(P) + tr);
    store<f32>(o + rowB, load<f32>(P, 4) + ti);
  }
}

/** out[t·ldo + i] = Σ_{s≤t} u[s]·H[i, t−s] for t < L, i < d, through the FFT of size 2L (L a power of two).
 *  spec: prepared spectra (⌈d/4⌉ groups of (L+1) bins × 8 f32); tab: twiddles and bit reversal for L; work:
 *  scratch of zOffset(L) + 8L f32, 16-byte aligned. Four channels per pass, one per f32x4 lane. */
/** One radix-2 decimation-in-time stage of span m over the L complex (re, im) f32 pairs at Z, with the stage's
 *  twiddles e^{iπj/m} from the table (conjugated for the forward transform). Shared by the scalar paths. */
@inline function radix2Stage(Z: usize, L: i32, tw: usize, m: i32, conj: bool): void {
  const ts = tw + (<usize>(m - 1) << 3);
  const mB = <usize>m << 3;
  for (let j = 0; j < m; j++) {
    const wr = load<f32>(ts + (<usize>j << 3));
    const wi = conj ? -load<f32>(ts + (<usize>j << 3), 4) : load<f32>(ts + (<usize>j << 3), 4);
    for (let q = j; q < L; q += 2 * m) {
      const P = Z + (<usize>q << 3), Q = P + mB;
      const qr = load<f32>(Q), qi = load<f32>(Q, 4);
      const tr = wr * qr - wi * qi, ti = wr * qi + wi * qr;
      const pr = load<f32>(P), pi = load<f32>(P, 4);
      store<f32>(Q, pr - tr);
      store<f32>(Q, pi - ti, 4);
      store<f32>(P, pr + tr);
      store<f32>(P, pi + ti, 4);
    }
  }
}

export function f32_lmu_fft_simd128(u: usize, L: i32, spec: usize, d: i32, tab: usize, work: usize, out: usize, ldo: i32): void {
  const Z = work + (zOffset(L) << 2);
  rfftInput(u, L, tab, work);
  const gB = <usize>(L + 1) << 5;
  for (let i = 0; i < d; i += 4) {
    groupSimd(work, L, spec + <usize>(i >> 2) * gB, tab, Z, out + (<usize>i << 2), ldo, min(d - i, 4));
  }
}

export function f32_lmu_fft_scalar(u: usize, L: i32, spec: usize, d: i32, tab: usize, work: usize, out: usize, ldo: i32): void {
  const Z = work + (zOffset(L) << 2);
  rfftInput(u, L, tab, work);
  const gB = <usize>(L + 1) << 5;
  for (let i = 0; i < d; i++) {
    channelScalar(work, L, spec + <usize>(i >> 2) * gB + (<usize>(i & 3) << 2), tab, Z, out + (<usize>i << 2), ldo);
  }
}
