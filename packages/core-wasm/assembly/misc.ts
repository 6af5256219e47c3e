/** First byte after the module's static data: the TS arena allocates from here (16-byte aligned). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}

/** Machine f32x4 peak probe: 12 independent f32x4 mul→add chains for `iters` rounds (96 FLOP per round): enough
 *  chains to cover mul + add latency × the FP pipes of current x86 cores (8 are latency-bound on Zen 4), few enough
 *  to stay in 16 vector registers with the two constants (16 chains spill). Returns a lane sum so the work cannot
 *  be optimised away. */
export function f32x4_peak_simd128(iters: i32): f32 {
  const m = f32x4.splat(0.9999999);
  const a = f32x4.splat(1e-7);
  let s0 = f32x4.splat(1), s1 = f32x4.splat(2), s2 = f32x4.splat(3), s3 = f32x4.splat(4);
  let s4 = f32x4.splat(5), s5 = f32x4.splat(6), s6 = f32x4.splat(7), s7 = f32x4.splat(8);
  let s8 = f32x4.splat(9), s9 = f32x4.splat(10), sa = f32x4.splat(11), sb = f32x4.splat(12);
  for (let i = 0; i < iters; i++) {
    s0 = f32x4.add(f32x4.mul(s0, m), a);
    s1 = f32x4.add(f32x4.mul(s1, m), a);
    s2 = f32x4.add(f32x4.mul(s2, m), a);
    s3 = f32x4.add(f32x4.mul(s3, m), a);
    s4 = f32x4.add(f32x4.mul(s4, m), a);
    s5 = f32x4.add(f32x4.mul(s5, m), a);
    s6 = f32x4.add(f32x4.mul(s6, m), a);
    s7 = f32x4.add(f32x4.mul(s7, m), a);
    s8 = f32x4.add(f32x4.mul(s8, m), a);
    s9 = f32x4.add(f32x4.mul(s9, m), a);
    sa = f32x4.add(f32x4.mul(sa, m), a);
    sb = f32x4.add(f32x4.mul(sb, m), a);
  }
  const t0 = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(s4, s5));
  const t1 = f32x4.add(f32x4.add(f32x4.add(s6, s7), f32x4.add(s8, s9)), f32x4.add(sa, sb));
  const t = f32x4.add(t0, t1);
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}
