// The channels-last spike conv (im2col of words + spike GEMM) and the word-OR max-pool against core-wasm's NCHW
// kernels and a float64 oracle, on a shape grid around the 32-bit word.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, conv2d3x3, maxPool3x3s2, ShapeError, type Core } from '@spikewasm/core-wasm';
import { SpikeTensor } from '@spikewasm/spiking';
import { SpikeConv3x3, orPoolChannelsLast } from '../src/spike-conv.js';
import { channelsFirst } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SpikeConv3x3', () => {
  const grid: [number, number, number, number, number][] = [
    // G, H, W, Cin, Cout
    [1, 1, 1, 1, 1], [2, 3, 5, 3, 4], [1, 4, 4, 31, 9], [3, 5, 2, 32, 8], [1, 6, 7, 33, 17], [2, 8, 8, 64, 16], [1, 3, 9, 65, 3],
  ];
  for (const [G, H, W, I, O] of grid) {
    it(`G ${G}, ${H}×${W}, ${I} → ${O} channels: the dense conv on the 0/1 floats up to float32 summation order`, () => {
      const a = core.arena();
      try {
        const r = lcg(G * 1000 + H * 100 + W * 10 + I + O);
        const weight = Float32Array.from({ length: O * I * 9 }, () => r() * 2 - 1);
        const bias = Float32Array.from({ length: O }, () => r() - 0.5);
        const conv = new SpikeConv3x3(a, { weight, bias, outChannels: O, inChannels: I }, { name: 'c' });
        const nhwc = a.tensor([G, H, W, I]);
        nhwc.f32.set(Float32Array.from({ length: nhwc.size }, () => (r() < 0.3 ? 1 : 0)));
        const s = SpikeTensor.alloc(a, [G, H, W, I]).pack(nhwc);
        const out = a.tensor([G, H, W, O]);
        out.f32.fill(NaN);
        conv.forward(s, SpikeConv3x3.columns(a, [G, H, W, I]), out);
        const ref = a.tensor([G, O, H, W]);
        conv2d3x3(a.from(channelsFirst(nhwc.f32, [G, H, W, I]), [G, I, H, W]), a.from(weight, [O, I, 3, 3]), ref, { bias: a.from(bias, [O]) });
        const got = channelsFirst(out.f32, [G, H, W, O]);
        for (let i = 0; i < got.length; i++) {
          expect(Number.isNaN(got[i])).toBe(false);
          expect(Math.abs(got[i] - ref.f32[i])).toBeLessThanOrEqual(1e-5 * (9 * I + 1));
        }
      } finally {
        a.dispose();
      }
    });
  }

  it('withBatchNorm folds the BN; profiling counts dense-equivalent MACs and input spikes', () => {
    const a = core.arena();
    try {
      const I = 5, O = 3, G = 2, H = 4, W = 4;
      const weight = Float32Array.from({ length: O * I * 9 }, (_, i) => ((i * 7) % 11) / 11 - 0.5);
      const bn = { weight: [1.5, 0.5, 2], bias: [0.1, -0.2, 0.3], runningMean: [0.2, 0, -0.1], runningVar: [1, 4, 0.25] };
      const folded = SpikeConv3x3.withBatchNorm(a, { weight, outChannels: O, inChannels: I }, bn);
      const plain = new SpikeConv3x3(a, { weight, outChannels: O, inChannels: I });
      const x = a.tensor([G, H, W, I]);
      x.f32.set(Float32Array.from({ length: x.size }, (_, i) => (i % 3 === 0 ? 1 : 0)));
      const s = SpikeTensor.alloc(a, [G, H, W, I]).pack(x);
      const cols = SpikeConv3x3.columns(a, [G, H, W, I]);
      const y1 = a.tensor([G, H, W, O]), y2 = a.tensor([G, H, W, O]);
      folded.profiling = true;
      folded.forward(s, cols, y1);
      plain.forward(s, cols, y2);
      for (let i = 0; i < y1.size; i++) {
        const c = i % O;
        const want = ((y2.f32[i] - bn.runningMean[c]) / Math.sqrt(bn.runningVar[c] + 1e-5)) * bn.weight[c] + bn.bias[c];
        expect(y1.f32[i]).toBeCloseTo(want, 5);
      }
      expect(folded.cost()).toEqual({ macs: G * H * W * O * I * 9, inputs: G * H * W * I, nonZero: s.count(), analog: false });
      expect(() => folded.forward(s, cols, a.tensor([G, H, W, O + 1]))).toThrow(ShapeError);
      expect(() => folded.forward(SpikeTensor.alloc(a, [G, H, W, I + 1]), cols, y1)).toThrow(/input expected spikes \[G, H, W, 5\]/);
      expect(() => new SpikeConv3x3(a, { weight: new Float32Array(3), outChannels: O, inChannels: I })).toThrow(ShapeError);
    } finally {
      a.dispose();
    }
  });
});

describe('orPoolChannelsLast', () => {
  for (const [H, W, C] of [[1, 1, 1], [2, 3, 31], [5, 5, 32], [8, 7, 33], [16, 16, 64], [3, 9, 96]]) {
    it(`${H}×${W}, ${C} channels: equals core-wasm's max-pool on the 0/1 floats`, () => {
      const a = core.arena();
      try {
        const G = 3, r = lcg(H * 100 + W * 10 + C);
        const x = a.tensor([G, H, W, C]);
        x.f32.set(Float32Array.from({ length: x.size }, () => (r() < 0.15 ? 1 : 0)));
        const Ho = ((H - 1) >> 1) + 1, Wo = ((W - 1) >> 1) + 1;
        const out = SpikeTensor.alloc(a, [G, Ho, Wo, C]);
        orPoolChannelsLast(SpikeTensor.alloc(a, [G, H, W, C]).pack(x), out);
        const ref = a.tensor([G, C, Ho, Wo]);
        maxPool3x3s2(a.from(channelsFirst(x.f32, [G, H, W, C]), [G, C, H, W]), ref);
        const got = channelsFirst(out.toFloat(a.tensor([G, Ho, Wo, C])).f32, [G, Ho, Wo, C]);
        expect(Array.from(got)).toEqual(Array.from(ref.f32));
      } finally {
        a.dispose();
      }
    });
  }
});
