// Element-wise binary kernels. y = a + b (the residual add of spiking blocks: the stream holds small integers and
// reals, never bits). In place allowed (y may be a or b).

export function f32_add_simd128(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = <usize>i << 2;
    v128.store(y + p, f32x4.add(v128.load(a + p), v128.load(b + p)));
    v128.store(y + p, f32x4.add(v128.load(a + p, 16), v128.load(b + p, 16)), 16);
    v128.store(y + p, f32x4.add(v128.load(a + p, 32), v128.load(b + p, 32)), 32);
    v128.store(y + p, f32x4.add(v128.load(a + p, 48), v128.load(b + p, 48)), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    v128.store(y + p, f32x4.add(v128.load(a + p), v128.load(b + p)));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, load<f32>(a + p) + load<f32>(b + p));
  }
}

export function f32_add_scalar(a: usize, b: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(y + p, load<f32>(a + p) + load<f32>(b + p));
  }
}
