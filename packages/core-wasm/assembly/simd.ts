// Small SIMD helpers shared by the kernels (the ggml `simd-mappings.h` idea): padded loads at row edges, partial
// stores at row tails, and bit-to-lane masks for spike inputs. All are @inline: they cost nothing at the call site.

/** Loads 4 f32 at `row[pos..pos+4)`, with 0 for positions outside [0, len): zero padding without a branch per lane
 *  in the interior. Adding w·0 for a padded tap leaves an accumulator unchanged (accumulators are never −0), so
 *  padded SIMD results equal scalar code that skips the tap, bit for bit. */
@inline export function loadPadded(row: usize, pos: i32, len: i32): v128 {
  if (pos >= 0 && pos + 4 <= len) return v128.load(row + (<usize>pos << 2));
  let v = f32x4.splat(0);
  if (pos >= 0 && pos < len) v = f32x4.replace_lane(v, 0, load<f32>(row + (<usize>pos << 2)));
  if (pos + 1 >= 0 && pos + 1 < len) v = f32x4.replace_lane(v, 1, load<f32>(row + (<usize>(pos + 1) << 2)));
  if (pos + 2 >= 0 && pos + 2 < len) v = f32x4.replace_lane(v, 2, load<f32>(row + (<usize>(pos + 2) << 2)));
  if (pos + 3 >= 0 && pos + 3 < len) v = f32x4.replace_lane(v, 3, load<f32>(row + (<usize>(pos + 3) << 2)));
  return v;
}

/** Loads 4 f32 at `row[pos..pos+4)` and zeroes the lanes outside [0, len) with a mask instead of branches. The load
 *  itself may touch up to 16 bytes before or after the row (neighbouring data, masked away): callers keep that
 *  inside memory (the TS allocator leaves slack at the end of memory; pos ≥ −3 and row ≥ 16 at the start). */
@inline export function loadMasked(row: usize, pos: i32, len: i32): v128 {
  const idx = i32x4.add(i32x4.splat(pos), i32x4(0, 1, 2, 3));
  const ok = v128.and(i32x4.ge_s(idx, i32x4.splat(0)), i32x4.lt_s(idx, i32x4.splat(len)));
  return v128.and(v128.load(row + (<usize>pos << 2)), ok);
}

/** Stores the first min(n, 4) lanes of `v` at `p` (row tails; n ≤ 0 stores nothing). */
@inline export function storePartial(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Bias lanes `bias[pos..pos+4)` (0 beyond n), or zeros when there is no bias (ptr 0). */
@inline export function loadBias(bias: usize, pos: i32, n: i32): v128 {
  return bias ? loadPadded(bias, pos, n) : f32x4.splat(0);
}

/** Epilogue shared by every dense/conv kernel: optional ReLU as f32x4.max(v, 0), the same IEEE maximum as the
 *  scalar `max(x, 0)` (NaN propagates, max(−0, 0) = +0). */
@inline export function reluIf(v: v128, relu: i32): v128 {
  return relu ? f32x4.max(v, f32x4.splat(0)) : v;
}

@inline export function reluIfScalar(x: f32, relu: i32): f32 {
  return relu ? max<f32>(x, 0) : x;
}

/** 16 lane masks: entry b has lane i all-ones where bit i of b is set (256 bytes of static data). */
const MASK4 = memory.data<u32>([
  0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, -1, -1, 0, 0,
  0, 0, -1, 0, -1, 0, -1, 0, 0, -1, -1, 0, -1, -1, -1, 0,
  0, 0, 0, -1, -1, 0, 0, -1, 0, -1, 0, -1, -1, -1, 0, -1,
  0, 0, -1, -1, -1, 0, -1, -1, 0, -1, -1, -1, -1, -1, -1, -1,
], 16);

/** Four bits `b` (0 ≤ b < 16) → an all-ones lane where the bit is set (lane i ← bit i), by table look-up. */
@inline export function maskFromBits4(b: u32): v128 {
  return v128.load(MASK4 + (<usize>b << 4));
}

/** The 4 spike bits at positions pos..pos+3 of a bit-packed row of `words` u32 words (bit i of word w is position
 *  32w + i). Positions outside [0, 32·words) read as 0; bits past the row's logical length must be 0 (pack writes
 *  them so). */
@inline export function bits4(row: usize, pos: i32, words: i32): u32 {
  if (pos < 0) {
    if (pos <= -4) return 0;
    return (load<u32>(row) << <u32>(-pos)) & 0xf;
  }
  const wi = pos >>> 5;
  if (wi >= words) return 0;
  const sh = <u32>(pos & 31);
  let b = load<u32>(row + (<usize>wi << 2)) >>> sh;
  if (sh > 28 && wi + 1 < words) b |= load<u32>(row + (<usize>(wi + 1) << 2)) << (32 - sh);
  return b & 0xf;
}

/** The 32 spike bits starting at position pos (−31 ≤ pos) of a bit-packed row of `words` u32 words: bit i of the
 *  result is position pos + i; positions outside [0, 32·words) read as 0. */
@inline export function bitsWindow(row: usize, pos: i32, words: i32): u32 {
  if (pos < 0) return words > 0 ? load<u32>(row) << <u32>(-pos) : 0;
  const wi = pos >>> 5;
  if (wi >= words) return 0;
  const sh = <u32>(pos & 31);
  let b = load<u32>(row + (<usize>wi << 2)) >>> sh;
  if (sh != 0 && wi + 1 < words) b |= load<u32>(row + (<usize>(wi + 1) << 2)) << (32 - sh);
  return b;
}

/** One spike bit at position pos (0 outside [0, 32·words)). */
@inline export function bit1(row: usize, pos: i32, words: i32): u32 {
  if (pos < 0 || (pos >>> 5) >= words) return 0;
  return (load<u32>(row + (<usize>(pos >>> 5) << 2)) >>> <u32>(pos & 31)) & 1;
}

/** Sum of the four i32 lanes of popcnt(v): number of set bits in each 32-bit lane. */
@inline export function popcnt32x4(v: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v)));
}
