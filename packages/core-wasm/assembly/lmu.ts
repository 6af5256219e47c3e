// Legendre Memory Unit kernels (shared/spec/lmuformer.md §1). The discretised Ā, B̄ and the impulse response
// H[:, i] = Āⁱ B̄ are built in float64 on the TS side (src/lmu-math.ts); these kernels run the two forms:
//  - recurrence: m ← Ā m + B̄ u is f32_gemm with packed Ā followed by f32_rank1_add (m[b, i] += u[b]·B̄[i]);
//  - FIR: m_t = Σ_{s=0..t} u_s · Ht[t−s] with Ht = Hᵀ [L, d] (row i = H[:, i]), summed in ascending s. The
//    parallel form (all t of a sequence) and the streaming step (one t, over a window of the last ≤ L inputs,
//    oldest first) run the same loop, so streaming equals the parallel form bit for bit.
// Zero inputs u_s (spiking LMUs have u ∈ {0, 1}) are skipped: adding ±0 would not change the sum.

/** m[b, i] += u[b] · bb[i] for m [batch, d] (row stride ldm). */
export function f32_rank1_add_simd128(m: usize, ldm: i32, bb: usize, u: usize, batch: i32, d: i32): void {
  for (let b = 0; b < batch; b++) {
    const ub = load<f32>(u + (<usize>b << 2));
    const us = f32x4.splat(ub);
    const row = m + ((<usize>b * <usize>ldm) << 2);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const p = <usize>i << 2;
      v128.store(row + p, f32x4.add(v128.load(row + p), f32x4.mul(us, v128.load(bb + p))));
    }
    for (; i < d; i++) {
      const p = <usize>i << 2;
      store<f32>(row + p, load<f32>(row + p) + ub * load<f32>(bb + p));
    }
  }
}

export function f32_rank1_add_scalar(m: usize, ldm: i32, bb: usize, u: usize, batch: i32, d: i32): void {
  for (let b = 0; b < batch; b++) {
    const ub = load<f32>(u + (<usize>b << 2));
    const row = m + ((<usize>b * <usize>ldm) << 2);
    for (let i = 0; i < d; i++) {
      const p = <usize>i << 2;
      store<f32>(row + p, load<f32>(row + p) + ub * load<f32>(bb + p));
    }
  }
}

/** Rows t ∈ [t0, t1) of the FIR memory: out[(t − t0)·ldo + i] = Σ_{s=0..t} u[s]·ht[(t − s)·d + i].
 *  Callers keep t < L (the number of rows of ht). 16 lanes of i per pass over s. */
export function f32_lmu_fir_simd128(u: usize, t0: i32, t1: i32, ht: usize, d: i32, out: usize, ldo: i32): void {
  const rowB = <usize>d << 2;
  for (let t = t0; t < t1; t++) {
    const orow = out + ((<usize>(t - t0) * <usize>ldo) << 2);
    let i = 0;
    for (; i + 16 <= d; i += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let h = ht + <usize>t * rowB + (<usize>i << 2);
      for (let s = 0; s <= t; s++, h -= rowB) {
        const us = load<f32>(u + (<usize>s << 2));
        if (us == 0) continue;
        const uv = f32x4.splat(us);
        a0 = f32x4.add(a0, f32x4.mul(uv, v128.load(h)));
        a1 = f32x4.add(a1, f32x4.mul(uv, v128.load(h, 16)));
        a2 = f32x4.add(a2, f32x4.mul(uv, v128.load(h, 32)));
        a3 = f32x4.add(a3, f32x4.mul(uv, v128.load(h, 48)));
      }
      const p = orow + (<usize>i << 2);
      v128.store(p, a0);
      v128.store(p, a1, 16);
      v128.store(p, a2, 32);
      v128.store(p, a3, 48);
    }
    for (; i + 4 <= d; i += 4) {
      let a0 = f32x4.splat(0);
      let h = ht + <usize>t * rowB + (<usize>i << 2);
      for (let s = 0; s <= t; s++, h -= rowB) {
        const us = load<f32>(u + (<usize>s << 2));
        if (us == 0) continue;
        a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(us), v128.load(h)));
      }
      v128.store(orow + (<usize>i << 2), a0);
    }
    for (; i < d; i++) store<f32>(orow + (<usize>i << 2), firOne(u, t, ht, d, i));
  }
}

@inline function firOne(u: usize, t: i32, ht: usize, d: i32, i: i32): f32 {
  let acc: f32 = 0;
  for (let s = 0; s <= t; s++) {
    const us = load<f32>(u + (<usize>s << 2));
    if (us == 0) continue;
    acc += us * load<f32>(ht + ((<usize>(t - s) * <usize>d + <usize>i) << 2));
  }
  return acc;
}

export function f32_lmu_fir_scalar(u: usize, t0: i32, t1: i32, ht: usize, d: i32, out: usize, ldo: i32): void {
  for (let t = t0; t < t1; t++) {
    const orow = out + ((<usize>(t - t0) * <usize>ldo) << 2);
    for (let i = 0; i < d; i++) store<f32>(orow + (<usize>i << 2), firOne(u, t, ht, d, i));
  }
}
