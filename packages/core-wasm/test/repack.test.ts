import { describe, expect, it } from 'vitest';
import { init, Arena, packDense, repackDense, linear, ShapeError } from '../src/index.js';
import { randomF32 } from './random.js';

describe('repackDense', () => {
  it('rewrites packed weights in place: the same bytes as a fresh packDense, the same GEMM results', async () => {
    const a = new Arena(await init());
    for (const [N, K] of [[1, 1], [3, 5], [8, 16], [17, 63], [65, 4]]) {
      const w1 = randomF32(N * K, N + K), w2 = randomF32(N * K, N * K + 1);
      const p = packDense(a, w1, N, K);
      const ptr = p.packed.ptr;
      repackDense(p, w2);
      expect(p.packed.ptr).toBe(ptr);
      expect(p.packed.f32).toEqual(packDense(a, w2, N, K).packed.f32);
      const x = a.from(randomF32(3 * K, 9), [3, K]);
      const y1 = linear(x, p, a.tensor([3, N])).toArray(), y2 = linear(x, packDense(a, w2, N, K), a.tensor([3, N])).toArray();
      expect(y1).toEqual(y2);
    }
    const p = packDense(a, new Float32Array(6), 2, 3);
    expect(() => repackDense(p, new Float32Array(5), 'W')).toThrow(ShapeError);
    expect(() => repackDense(p, new Float32Array(5), 'W')).toThrow('repackDense: W expected 2×3 = 6 values, got 5');
  });
});
