/** First byte after the module's static data: the TS arena allocates from here (16-byte aligned). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}

/** Machine f32x4 peak probe: 8 independent mul+add chains for `iters` rounds (64 FLOP per round). Returns a lane
 *  sum so the work cannot be optimised away. */
export function f32x4_peak_simd128(iters: i32): f32 {
  const m = f32x4.splat(0.9999999);
  const a = f32x4.splat(1e-7);
  let s0 = f32x4.splat(1), s1 = f32x4.splat(2), s2 = f32x4.splat(3), s3 = f32x4.splat(4);
  let s4 = f32x4.splat(5), s5 = f32x4.splat(6), s6 = f32x4.splat(7), s7 = f32x4.splat(8);
  for (let i = 0; i < iters; i++) {
    s0 = f32x4.add(f32x4.mul(s0, m), a);
    s1 = f32x4.add(f32x4.mul(s1, m), a);
    s2 = f32x4.add(f32x4.mul(s2, m), a);
    s3 = f32x4.add(f32x4.mul(s3, m), a);
    s4 = f32x4.add(f32x4.mul(s4, m), a);
    s5 = f32x4.add(f32x4.mul(s5, m), a);
    s6 = f32x4.add(f32x4.mul(s6, m), a);
    s7 = f32x4.add(f32x4.mul(s7, m), a);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(s4, s5), f32x4.add(s6, s7)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}
