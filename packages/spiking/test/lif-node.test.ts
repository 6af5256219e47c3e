import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Core } from '@spikewasm/core-wasm';
import { lifRef, packBitsRef } from '@spikewasm/core-wasm/oracle';
import { LIFNode, SpikeTensor, resetNet, walk, type SpikingModule } from '../src/index.js';
import { loadFixture, randomF32 } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

describe('LIFNode', () => {
  it('reproduces the kernel_lif fixture bit for bit (spikes, h, v) at thresholds 1.0 and 0.5, ties fire', () => {
    const f = loadFixture('kernel_lif.safetensors');
    const x = f.tensors.get('input')!;
    const [T, N] = x.shape;
    const configs = JSON.parse(f.metadata.config) as Record<string, { tau: number; v_threshold: number; v_reset: number; decay_input: boolean }>;
    for (const [cfg, c] of Object.entries(configs)) {
      const a = core.arena();
      const node = new LIFNode(a, [N], { tau: c.tau, vThreshold: c.v_threshold, vReset: c.v_reset, decayInput: c.decay_input });
      const xt = a.from(x.data as Float32Array, [T, N]);
      const spikes = SpikeTensor.alloc(a, [T, N]);
      const floats = a.tensor([T, N]), h = a.tensor([T, N]);
      node.forward(xt, { spikes, floats, h });
      expect(Array.from(floats.f32), cfg).toEqual(Array.from(f.tensors.get(`expected.${cfg}.spikes`)!.data as Uint8Array));
      expect(Array.from(new Uint32Array(h.f32.buffer, h.ptr, h.size))).toEqual(Array.from(new Uint32Array((f.tensors.get(`expected.${cfg}.h`)!.data as Float32Array).buffer)));
      const vWant = f.tensors.get(`expected.${cfg}.v`)!.data as Float32Array;
      expect(Array.from(node.v.f32)).toEqual(Array.from(vWant.subarray((T - 1) * N)));
      expect(Array.from(spikes.bits.data)).toEqual(Array.from(packBitsRef(floats.f32, T, N)));
      a.dispose();
    }
  });

  it('multi-step ≡ looped single-step ≡ chunked streaming, bit for bit, for random shapes and parameters', () => {
    for (const [T, N, p] of [[1, 1, {}], [7, 33, { vThreshold: 0.5 }], [16, 64, { tau: 3 }], [5, 100, { decayInput: false, vReset: -0.25 }]] as const) {
      const xv = randomF32(T * N, T * 100 + N, -1, 3);
      const want = lifRef(xv, new Float32Array(N).fill((p as { vReset?: number }).vReset ?? 0), T, N, p); // v starts at V_reset (spikingjelly)
      const a = core.arena();
      const multi = new LIFNode(a, [N], p);
      const single = new LIFNode(a, [N], { ...p, stepMode: 's' });
      const stream = new LIFNode(a, [N], p);
      const x = a.from(xv, [T, N]);
      const sm = SpikeTensor.alloc(a, [T, N]);
      multi.forward(x, { spikes: sm });
      const x1 = a.tensor([N]), s1 = SpikeTensor.alloc(a, [N]), f1 = a.tensor([N]);
      const singleSpikes: number[] = [];
      for (let t = 0; t < T; t++) {
        x1.set(xv.subarray(t * N, (t + 1) * N));
        single.forward(x1, { spikes: s1, floats: f1 });
        singleSpikes.push(...f1.f32);
      }
      // streaming: chunks of 1, 2, 3, … steps through a multi-step node keep the state between calls
      const streamed: number[] = [];
      for (let t = 0, k = 1; t < T; t += k, k++) {
        const n = Math.min(k, T - t);
        const xc = a.from(xv.subarray(t * N, (t + n) * N), [n, N]), fc = a.tensor([n, N]);
        stream.forward(xc, { floats: fc });
        streamed.push(...fc.f32);
      }
      expect(singleSpikes).toEqual(Array.from(want.spikes));
      expect(streamed).toEqual(Array.from(want.spikes));
      expect(Array.from(sm.bits.data)).toEqual(Array.from(packBitsRef(want.spikes, T, N)));
      for (const node of [multi, single, stream]) expect(Array.from(node.v.f32)).toEqual(Array.from(want.v));
      a.dispose();
    }
  });

  it('multi-dimensional neurons with bit output pack each step over the flattened neurons', () => {
    const a = core.arena();
    const T = 3, shape = [2, 64];
    const node = new LIFNode(a, shape);
    const xv = randomF32(T * 128, 5, 0, 3);
    const s = SpikeTensor.alloc(a, [T, ...shape]);
    node.forward(a.from(xv, [T, ...shape]), { spikes: s });
    expect(Array.from(s.bits.data)).toEqual(Array.from(packBitsRef(lifRef(xv, new Float32Array(128), T, 128).spikes, T, 128)));
    expect(() => new LIFNode(a, [2, 5]).forward(a.tensor([T, 2, 5]), { spikes: SpikeTensor.alloc(a, [T, 2, 5]) })).toThrow(/multiple of 32/);
    a.dispose();
  });

  it('reset() and resetNet() restore V_reset everywhere; no shared state between instances', () => {
    const a = core.arena();
    const l1 = new LIFNode(a, [8], { name: 'l1' }), l2 = new LIFNode(a, [8], { name: 'l2', vReset: -0.5 });
    const x = a.from(randomF32(16, 9, 0, 0.9), [2, 8]);
    l1.forward(x, { floats: a.tensor([2, 8]) });
    expect(Array.from(l2.v.f32)).toEqual(new Array(8).fill(-0.5));
    expect(l1.v.f32.some((v) => v !== 0)).toBe(true);
    const model: SpikingModule = { name: 'model', children: () => [{ name: 'block', children: () => [l1, l2] }] };
    l2.forward(x, { floats: a.tensor([2, 8]) });
    resetNet(model);
    expect(Array.from(l1.v.f32)).toEqual(new Array(8).fill(0));
    expect(Array.from(l2.v.f32)).toEqual(new Array(8).fill(-0.5));
    expect([...walk(model)].map((m) => m.name)).toEqual(['model', 'block', 'l1', 'l2']);
    a.dispose();
  });

  it('rejects bad shapes and parameters with typed errors naming the layer', () => {
    const a = core.arena();
    const node = new LIFNode(a, [8], { name: 'block.0.attn.q_lif' });
    expect(() => node.forward(a.tensor([2, 7]), { floats: a.tensor([2, 7]) })).toThrow('block.0.attn.q_lif: input expected shape [T, 8], got [2, 7]');
    expect(() => new LIFNode(a, [8], { tau: -1 })).toThrow(/tau/);
    expect(() => new LIFNode(a, [8], { stepMode: 'x' as 's' })).toThrow(/stepMode/);
    a.dispose();
  });
});

describe('SpikeTensor', () => {
  it('packs, unpacks and counts exactly', () => {
    const a = core.arena();
    const v = Float32Array.from({ length: 3 * 45 }, (_, i) => (i * 7919) % 5 === 0 ? 1 : 0);
    const s = SpikeTensor.alloc(a, [3, 45]).pack(a.from(v, [3, 45]));
    expect(s.count()).toBe(v.reduce((x, y) => x + y, 0));
    expect(s.firingRate()).toBeCloseTo(s.count() / 135, 12);
    expect(Array.from(s.toFloat(a.tensor([3, 45])).f32)).toEqual(Array.from(v));
    expect(() => s.reshape([135])).toThrow(/last dimension/);
    a.dispose();
  });
});

describe('LIFNode properties (fast-check)', () => {
  it('multi-step ≡ looped single-step ≡ the float32 oracle for random shapes, parameters and input scales', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(0.5, 1, 0.25), fc.constantFrom(2, 3, 1.5, 4), fc.boolean(), fc.double({ min: 0, max: 4, noNaN: true }),
        (T, N, seed, vThreshold, tau, decayInput, scale) => {
          const p = { vThreshold, tau, decayInput };
          const xv = randomF32(T * N, seed, -scale, 2 * scale);
          const want = lifRef(xv, new Float32Array(N), T, N, p);
          const a = core.arena();
          try {
            const multi = new LIFNode(a, [N], p), single = new LIFNode(a, [N], { ...p, stepMode: 's' });
            const fm = a.tensor([T, N]);
            multi.forward(a.from(xv, [T, N]), { floats: fm });
            const x1 = a.tensor([N]), f1 = a.tensor([N]);
            for (let t = 0; t < T; t++) {
              x1.set(xv.subarray(t * N, (t + 1) * N));
              single.forward(x1, { floats: f1 });
              for (let n = 0; n < N; n++) if (f1.f32[n] !== want.spikes[t * N + n]) return false;
            }
            return Array.from(fm.f32).every((s, i) => s === want.spikes[i]) && multi.v.f32.every((v, i) => Object.is(v, want.v[i]) && Object.is(single.v.f32[i], v));
          } finally {
            a.dispose();
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
