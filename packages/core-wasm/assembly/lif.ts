// Multi-step LIF (spikingjelly MultiStepLIFNode, hard reset), exactly as shared/spec/lif.md, per element:
//   decay_input:  h = v + (x − (v − v_reset)) / τ        else:  h = v − (v − v_reset) / τ + x
//   s = h ≥ v_th (ties fire);  v = s ? v_reset : h
// in float32, in this order, never fused. x [T, N]; v [N] is the state, read and written (streaming: call again
// with the same v). Outputs (each optional, ptr 0 = skip): spikes f32 [T, N] (1/0), bits [T, ⌈N/32⌉] u32 (bit n
// of row t), h [T, N] (charged potential, before reset).
// Dividing by τ is spikingjelly's formula. When 1/τ is a power of two (τ = 2 in both models) the caller passes
// invTau = 1/τ and the kernel multiplies: d·2⁻ᵏ and d/2ᵏ are the same correctly rounded number, so the result is
// identical and the long-latency division leaves the per-step dependency chain. invTau = 0 means divide.
@inline function scaleVec(d: v128, tau: v128, invTau: v128, mul: bool): v128 {
  return mul ? f32x4.mul(d, invTau) : f32x4.div(d, tau);
}

@inline function chargeVec(x: v128, v: v128, tau: v128, invTau: v128, mul: bool, vreset: v128, decayInput: i32): v128 {
  return decayInput
    ? f32x4.add(v, scaleVec(f32x4.sub(x, f32x4.sub(v, vreset)), tau, invTau, mul))
    : f32x4.add(f32x4.sub(v, scaleVec(f32x4.sub(v, vreset), tau, invTau, mul)), x);
}

@inline function charge(x: f32, v: f32, tau: f32, invTau: f32, vreset: f32, decayInput: i32): f32 {
  const mul = invTau != 0;
  return decayInput
    ? v + (mul ? (x - (v - vreset)) * invTau : (x - (v - vreset)) / tau)
    : (v - (mul ? (v - vreset) * invTau : (v - vreset) / tau)) + x;
}

@inline function clearBits(bits: usize, T: i32, N: i32): void {
  if (bits) memory.fill(bits, 0, (<usize>T * <usize>((N + 31) >> 5)) << 2);
}

@inline function lifScalarNeuron(x: usize, v: usize, T: i32, N: i32, n: i32, tau: f32, invTau: f32, vth: f32, vreset: f32, decayInput: i32, spikes: usize, bits: usize, hOut: usize): void {
  const words = (N + 31) >> 5;
  let vn = load<f32>(v + (<usize>n << 2));
  for (let t = 0; t < T; t++) {
    const idx = (<usize>t * <usize>N + <usize>n) << 2;
    const h = charge(load<f32>(x + idx), vn, tau, invTau, vreset, decayInput);
    const s = h >= vth;
    vn = s ? vreset : h;
    if (hOut) store<f32>(hOut + idx, h);
    if (spikes) store<f32>(spikes + idx, s ? 1 : 0);
    if (bits && s) {
      const bp = bits + ((<usize>t * <usize>words + <usize>(n >>> 5)) << 2);
      store<u32>(bp, load<u32>(bp) | (<u32>1 << <u32>(n & 31)));
    }
  }
  store<f32>(v + (<usize>n << 2), vn);
}

export function lif_f32_scalar(x: usize, v: usize, T: i32, N: i32, tau: f32, invTau: f32, vth: f32, vreset: f32, decayInput: i32, spikes: usize, bits: usize, hOut: usize): void {
  clearBits(bits, T, N);
  for (let n = 0; n < N; n++) lifScalarNeuron(x, v, T, N, n, tau, invTau, vth, vreset, decayInput, spikes, bits, hOut);
}

/** Four neurons per vector, the T loop inside with the state in a register. */
export function lif_f32_simd128(x: usize, v: usize, T: i32, N: i32, tau: f32, invTau: f32, vth: f32, vreset: f32, decayInput: i32, spikes: usize, bits: usize, hOut: usize): void {
  if (invTau != 0) lifSimd(x, v, T, N, tau, invTau, vth, vreset, decayInput, spikes, bits, hOut, true);
  else lifSimd(x, v, T, N, tau, invTau, vth, vreset, decayInput, spikes, bits, hOut, false);
}

@inline function lifSimd(x: usize, v: usize, T: i32, N: i32, tau: f32, invTau: f32, vth: f32, vreset: f32, decayInput: i32, spikes: usize, bits: usize, hOut: usize, mul: bool): void {
  clearBits(bits, T, N);
  const words = (N + 31) >> 5;
  const iv = f32x4.splat(invTau);
  const tv = f32x4.splat(tau), thv = f32x4.splat(vth), rv = f32x4.splat(vreset), one = f32x4.splat(1);
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    let vn = v128.load(v + (<usize>n << 2));
    for (let t = 0; t < T; t++) {
      const idx = (<usize>t * <usize>N + <usize>n) << 2;
      const h = chargeVec(v128.load(x + idx), vn, tv, iv, mul, rv, decayInput);
      const s = f32x4.ge(h, thv);
      vn = v128.bitselect(rv, h, s);
      if (hOut) v128.store(hOut + idx, h);
      if (spikes) v128.store(spikes + idx, v128.and(s, one));
      if (bits) {
        const m = i32x4.bitmask(s);
        if (m) {
          const bp = bits + ((<usize>t * <usize>words + <usize>(n >>> 5)) << 2);
          store<u32>(bp, load<u32>(bp) | (m << <u32>(n & 31)));
        }
      }
    }
    v128.store(v + (<usize>n << 2), vn);
  }
  for (; n < N; n++) lifScalarNeuron(x, v, T, N, n, tau, invTau, vth, vreset, decayInput, spikes, bits, hOut);
}
