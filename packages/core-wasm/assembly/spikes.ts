// Spike tensors in bits and integer spiking attention (shared/spec/spikformer.md §3).
// A bit-packed row of `cols` spikes is ⌈cols/32⌉ u32 words; bit c of the row is bit (c & 31) of word c >> 5; bits
// past `cols` are 0. All counts are exact integers (i32).
import { popcnt32x4 } from './simd';

@inline function wordsOf(n: i32): i32 {
  return (n + 31) >> 5;
}

/** src f32 [rows, cols] (row stride srcStride) → bits [rows, ⌈cols/32⌉]: bit = (x ≠ 0). */
export function spike_pack_f32_simd128(src: usize, rows: i32, cols: i32, srcStride: i32, dst: usize): void {
  const words = wordsOf(cols);
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const s = src + ((<usize>r * <usize>srcStride) << 2);
    const d = dst + ((<usize>r * <usize>words) << 2);
    for (let w = 0; w < words; w++) {
      const c0 = w << 5;
      const n = min(32, cols - c0);
      let word: u32 = 0;
      let k = 0;
      for (; k + 4 <= n; k += 4) {
        word |= i32x4.bitmask(f32x4.ne(v128.load(s + (<usize>(c0 + k) << 2)), zero)) << <u32>k;
      }
      for (; k < n; k++) if (load<f32>(s + (<usize>(c0 + k) << 2)) != 0) word |= <u32>1 << <u32>k;
      store<u32>(d + (<usize>w << 2), word);
    }
  }
}

export function spike_pack_f32_scalar(src: usize, rows: i32, cols: i32, srcStride: i32, dst: usize): void {
  const words = wordsOf(cols);
  for (let r = 0; r < rows; r++) {
    const s = src + ((<usize>r * <usize>srcStride) << 2);
    const d = dst + ((<usize>r * <usize>words) << 2);
    for (let w = 0; w < words; w++) {
      let word: u32 = 0;
      const c0 = w << 5;
      const n = min(32, cols - c0);
      for (let k = 0; k < n; k++) if (load<f32>(s + (<usize>(c0 + k) << 2)) != 0) word |= <u32>1 << <u32>k;
      store<u32>(d + (<usize>w << 2), word);
    }
  }
}

/** Transposed pack (columns over rows): src f32 [rows, cols] → bits [cols, ⌈rows/32⌉], bit r of row c = src[r, c] ≠ 0. */
export function spike_pack_f32_t_simd128(src: usize, rows: i32, cols: i32, srcStride: i32, dst: usize): void {
  const words = wordsOf(rows);
  const zero = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    for (let w = 0; w < words; w++) {
      const r0 = w << 5;
      const n = min(32, rows - r0);
      let acc = i32x4.splat(0);
      for (let k = 0; k < n; k++) {
        const m = f32x4.ne(v128.load(src + ((<usize>(r0 + k) * <usize>srcStride + <usize>c) << 2)), zero);
        acc = v128.or(acc, v128.and(m, i32x4.splat(1 << k)));
      }
      const d = dst + ((<usize>c * <usize>words + <usize>w) << 2);
      const ws = <usize>words << 2;
      store<i32>(d, i32x4.extract_lane(acc, 0));
      store<i32>(d + ws, i32x4.extract_lane(acc, 1));
      store<i32>(d + 2 * ws, i32x4.extract_lane(acc, 2));
      store<i32>(d + 3 * ws, i32x4.extract_lane(acc, 3));
    }
  }
  if (c < cols) packTCols(src, rows, cols, srcStride, dst, c);
}

@inline function packTCols(src: usize, rows: i32, cols: i32, srcStride: i32, dst: usize, c0: i32): void {
  const words = wordsOf(rows);
  for (let c = c0; c < cols; c++) {
    for (let w = 0; w < words; w++) {
      const r0 = w << 5;
      const n = min(32, rows - r0);
      let word: u32 = 0;
      for (let k = 0; k < n; k++) {
        if (load<f32>(src + ((<usize>(r0 + k) * <usize>srcStride + <usize>c) << 2)) != 0) word |= <u32>1 << <u32>k;
      }
      store<u32>(dst + ((<usize>c * <usize>words + <usize>w) << 2), word);
    }
  }
}

export function spike_pack_f32_t_scalar(src: usize, rows: i32, cols: i32, srcStride: i32, dst: usize): void {
  packTCols(src, rows, cols, srcStride, dst, 0);
}

/** bits [rows, ⌈cols/32⌉] → f32 [rows, cols] of 1/0. */
export function spike_unpack_f32_simd128(bits: usize, rows: i32, cols: i32, dst: usize): void {
  const words = wordsOf(cols);
  const one = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const b = bits + ((<usize>r * <usize>words) << 2);
    const d = dst + ((<usize>r * <usize>cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const nib = (load<u32>(b + (<usize>(c >>> 5) << 2)) >>> <u32>(c & 31)) & 0xf;
      const m = i32x4.ne(v128.and(i32x4.splat(nib), i32x4(1, 2, 4, 8)), i32x4.splat(0));
      v128.store(d + (<usize>c << 2), v128.and(m, one));
    }
    for (; c < cols; c++) store<f32>(d + (<usize>c << 2), <f32>((load<u32>(b + (<usize>(c >>> 5) << 2)) >>> <u32>(c & 31)) & 1));
  }
}

export function spike_unpack_f32_scalar(bits: usize, rows: i32, cols: i32, dst: usize): void {
  const words = wordsOf(cols);
  for (let r = 0; r < rows; r++) {
    const b = bits + ((<usize>r * <usize>words) << 2);
    const d = dst + ((<usize>r * <usize>cols) << 2);
    for (let c = 0; c < cols; c++) store<f32>(d + (<usize>c << 2), <f32>((load<u32>(b + (<usize>(c >>> 5) << 2)) >>> <u32>(c & 31)) & 1));
  }
}

/** out[i, j] = Σ_w popcount(a[i, w] AND b[j, w]): A = Q Kᵀ on rows packed over d, or M = Kᵀ V on columns
 *  packed over N. a [Na, words], b [Nb, words], out i32 [Na, Nb]. */
export function spike_and_popcount_simd128(a: usize, b: usize, Na: i32, Nb: i32, words: i32, out: usize): void {
  const rowB = <usize>words << 2;
  for (let i = 0; i < Na; i++) {
    const ar = a + <usize>i * rowB;
    const orow = out + ((<usize>i * <usize>Nb) << 2);
    let j = 0;
    if (words == 1) {
      const q = i32x4.splat(load<i32>(ar));
      for (; j + 4 <= Nb; j += 4) {
        v128.store(orow + (<usize>j << 2), popcnt32x4(v128.and(q, v128.load(b + (<usize>j << 2)))));
      }
    } else if (words == 2) {
      const q = i64x2.splat(load<i64>(ar));
      for (; j + 4 <= Nb; j += 4) {
        const p0 = popcnt32x4(v128.and(q, v128.load(b + (<usize>j << 3))));      // rows j, j+1: [w0, w1, w0, w1]
        const p1 = popcnt32x4(v128.and(q, v128.load(b + (<usize>j << 3), 16))); // rows j+2, j+3
        // pairwise lane sums → [j, j+1, j+2, j+3]
        const ev = v128.shuffle<i32>(p0, p1, 0, 2, 4, 6);
        const od = v128.shuffle<i32>(p0, p1, 1, 3, 5, 7);
        v128.store(orow + (<usize>j << 2), i32x4.add(ev, od));
      }
    } else {
      for (; j < Nb; j++) {
        const br = b + <usize>j * rowB;
        let acc = i32x4.splat(0);
        let w = 0;
        for (; w + 4 <= words; w += 4) acc = i32x4.add(acc, popcnt32x4(v128.and(v128.load(ar + (<usize>w << 2)), v128.load(br + (<usize>w << 2)))));
        let s = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
        for (; w < words; w++) s += <i32>popcnt(load<u32>(ar + (<usize>w << 2)) & load<u32>(br + (<usize>w << 2)));
        store<i32>(orow + (<usize>j << 2), s);
      }
    }
    for (; j < Nb; j++) store<i32>(orow + (<usize>j << 2), andPopRow(ar, b + <usize>j * rowB, words));
  }
}

@inline function andPopRow(ar: usize, br: usize, words: i32): i32 {
  let s: i32 = 0;
  for (let w = 0; w < words; w++) s += <i32>popcnt(load<u32>(ar + (<usize>w << 2)) & load<u32>(br + (<usize>w << 2)));
  return s;
}

export function spike_and_popcount_scalar(a: usize, b: usize, Na: i32, Nb: i32, words: i32, out: usize): void {
  const rowB = <usize>words << 2;
  for (let i = 0; i < Na; i++) {
    for (let j = 0; j < Nb; j++) {
      store<i32>(out + ((<usize>i * <usize>Nb + <usize>j) << 2), andPopRow(a + <usize>i * rowB, b + <usize>j * rowB, words));
    }
  }
}

/** out[i, c] = Σ_j A[i, j] · V[j, c] for integer A [Nq, Nk] and binary V bit-packed [Nk, ⌈d/32⌉]: (Q Kᵀ) V. */
export function i32_matmul_bits_rhs_simd128(A: usize, v: usize, Nq: i32, Nk: i32, d: i32, out: usize): void {
  const words = wordsOf(d);
  for (let i = 0; i < Nq; i++) {
    const orow = out + ((<usize>i * <usize>d) << 2);
    const arow = A + ((<usize>i * <usize>Nk) << 2);
    let c = 0;
    for (; c + 16 <= d; c += 16) {
      let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
      for (let j = 0; j < Nk; j++) {
        const a = load<i32>(arow + (<usize>j << 2));
        if (a == 0) continue;
        const bits = (load<u32>(v + ((<usize>j * <usize>words + <usize>(c >>> 5)) << 2)) >>> <u32>(c & 31)) & 0xffff;
        if (bits == 0) continue;
        const av = i32x4.splat(a);
        s0 = i32x4.add(s0, v128.and(av, nibMask(bits)));
        s1 = i32x4.add(s1, v128.and(av, nibMask(bits >>> 4)));
        s2 = i32x4.add(s2, v128.and(av, nibMask(bits >>> 8)));
        s3 = i32x4.add(s3, v128.and(av, nibMask(bits >>> 12)));
      }
      const p = orow + (<usize>c << 2);
      v128.store(p, s0);
      v128.store(p, s1, 16);
      v128.store(p, s2, 32);
      v128.store(p, s3, 48);
    }
    for (; c < d; c++) store<i32>(orow + (<usize>c << 2), bitsRhsOne(arow, v, Nk, words, c));
  }
}

@inline function nibMask(b: u32): v128 {
  return i32x4.ne(v128.and(i32x4.splat(b & 0xf), i32x4(1, 2, 4, 8)), i32x4.splat(0));
}

@inline function bitsRhsOne(arow: usize, v: usize, Nk: i32, words: i32, c: i32): i32 {
  let s: i32 = 0;
  for (let j = 0; j < Nk; j++) {
    if ((load<u32>(v + ((<usize>j * <usize>words + <usize>(c >>> 5)) << 2)) >>> <u32>(c & 31)) & 1) s += load<i32>(arow + (<usize>j << 2));
  }
  return s;
}

export function i32_matmul_bits_rhs_scalar(A: usize, v: usize, Nq: i32, Nk: i32, d: i32, out: usize): void {
  const words = wordsOf(d);
  for (let i = 0; i < Nq; i++) {
    const arow = A + ((<usize>i * <usize>Nk) << 2);
    for (let c = 0; c < d; c++) store<i32>(out + ((<usize>i * <usize>d + <usize>c) << 2), bitsRhsOne(arow, v, Nk, words, c));
  }
}

/** out[i, c] = Σ_{a : Q[i, a] = 1} M[a, c] for binary Q bit-packed [N, ⌈d/32⌉] and integer M [d, dm]: Q (Kᵀ V). */
export function i32_matmul_bits_lhs_simd128(q: usize, M: usize, N: i32, d: i32, dm: i32, out: usize): void {
  const words = wordsOf(d);
  for (let i = 0; i < N; i++) {
    const qrow = q + ((<usize>i * <usize>words) << 2);
    const orow = out + ((<usize>i * <usize>dm) << 2);
    let c = 0;
    for (; c + 4 <= dm; c += 4) {
      let s = i32x4.splat(0);
      for (let w = 0; w < words; w++) {
        let bits = load<u32>(qrow + (<usize>w << 2));
        while (bits) {
          const a = (w << 5) + <i32>ctz(bits);
          bits &= bits - 1;
          s = i32x4.add(s, v128.load(M + ((<usize>a * <usize>dm + <usize>c) << 2)));
        }
      }
      v128.store(orow + (<usize>c << 2), s);
    }
    for (; c < dm; c++) store<i32>(orow + (<usize>c << 2), bitsLhsOne(qrow, M, words, dm, c));
  }
}

@inline function bitsLhsOne(qrow: usize, M: usize, words: i32, dm: i32, c: i32): i32 {
  let s: i32 = 0;
  for (let w = 0; w < words; w++) {
    let bits = load<u32>(qrow + (<usize>w << 2));
    while (bits) {
      const a = (w << 5) + <i32>ctz(bits);
      bits &= bits - 1;
      s += load<i32>(M + ((<usize>a * <usize>dm + <usize>c) << 2));
    }
  }
  return s;
}

export function i32_matmul_bits_lhs_scalar(q: usize, M: usize, N: i32, d: i32, dm: i32, out: usize): void {
  const words = wordsOf(d);
  for (let i = 0; i < N; i++) {
    const qrow = q + ((<usize>i * <usize>words) << 2);
    for (let c = 0; c < dm; c++) store<i32>(out + ((<usize>i * <usize>dm + <usize>c) << 2), bitsLhsOne(qrow, M, words, dm, c));
  }
}

/** dst[k] = f32(src[k]) · s (exact for |src| < 2²⁴ and s a power of two, as the attention scale is). */
export function i32_to_f32_scale_simd128(src: usize, dst: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const p = <usize>k << 2;
    v128.store(dst + p, f32x4.mul(f32x4.convert_i32x4_s(v128.load(src + p)), sv));
  }
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), <f32>load<i32>(src + (<usize>k << 2)) * s);
}

export function i32_to_f32_scale_scalar(src: usize, dst: usize, n: i32, s: f32): void {
  for (let k = 0; k < n; k++) store<f32>(dst + (<usize>k << 2), <f32>load<i32>(src + (<usize>k << 2)) * s);
}
