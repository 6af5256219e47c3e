import { beforeAll, describe, expect, it } from 'vitest';
import { init, ArgumentError, ShapeError, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import { profile, resetNet, walk } from '@spikewasm/spiking';
import {
  Spikformer, cifarNormalize, randomSpikformerStateDict, spikformerMetadata, spikformerPreset, CIFAR_MEAN, CIFAR_STD,
  type SpikformerConfig, type SpikformerVariant,
} from '../src/index.js';
import { compareSpikes, countAllocations, fixtureTol, loadFixture, maxErr, notStateDict, officialLif, tensorOf } from './helpers.js';
import { spikformerOracle } from './oracle.js';

let core: Core;
let tiny: SafetensorsFile;
let small: SafetensorsFile;
beforeAll(async () => {
  core = await init();
  tiny = loadFixture('spikformer_tiny');
  small = loadFixture('spikformer_small');
});

/** A deterministic pseudo-image: normalised-pixel-like values. */
function image(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

describe('Spikformer forward', () => {
  it('allocates no Wasm memory once a batch size is warmed up (Float32Array and Tensor inputs, both BN modes)', () => {
    for (const fold of [true, false]) {
      const a = core.arena();
      try {
        const cfg = spikformerMetadata(small)!.config;
        const m = Spikformer.fromCheckpoint(a, small, cfg, { ignore: notStateDict, foldBatchNorm: fold });
        const x = tensorOf(small, 'input');
        const first = countAllocations(core, () => m.forward(x).toArray());
        expect(first.count).toBeGreaterThan(0); // the batch size's buffers
        const again = countAllocations(core, () => m.forward(x).toArray());
        expect(again.count).toBe(0);
        expect(again.result).toEqual(first.result); // membranes are reset for every forward
        const xt = a.from(x, [2, 3, 16, 16]);
        const viaTensor = countAllocations(core, () => m.forward(xt).toArray());
        expect(viaTensor.count).toBe(0);
        expect(viaTensor.result).toEqual(first.result);
        // a new batch size allocates once, then not again
        const one = x.subarray(0, 3 * 16 * 16);
        expect(countAllocations(core, () => m.forward(one)).count).toBeGreaterThan(0);
        expect(countAllocations(core, () => m.forward(one)).count).toBe(0);
        expect(countAllocations(core, () => m.forward(x)).count).toBe(0);
      } finally {
        a.dispose();
      }
    }
  });

  it('a batch is its images run one by one, bit for bit', () => {
    const a = core.arena();
    try {
      const m = Spikformer.fromCheckpoint(a, small, spikformerMetadata(small)!.config, { ignore: notStateDict });
      const x = tensorOf(small, 'input');
      const both = m.forward(x).toArray();
      const per = 3 * 16 * 16;
      const each = [...m.forward(x.subarray(0, per)).toArray(), ...m.forward(x.subarray(per)).toArray()];
      expect(Array.from(both)).toEqual(each);
      // a batch of 5 (repeats) as well
      const five = new Float32Array(5 * per);
      for (let i = 0; i < 5; i++) five.set(x.subarray((i % 2) * per, (i % 2 + 1) * per), i * per);
      const y5 = m.forward(five).toArray();
      for (let i = 0; i < 5; i++) expect(Array.from(y5.subarray(i * 10, i * 10 + 10))).toEqual(each.slice((i % 2) * 10, (i % 2) * 10 + 10));
    } finally {
      a.dispose();
    }
  });

  it('rejects inputs of the wrong size, shape, dtype or Wasm instance', async () => {
    const a = core.arena();
    try {
      const m = Spikformer.fromCheckpoint(a, tiny, spikformerMetadata(tiny)!.config, { ignore: notStateDict });
      expect(() => m.forward(new Float32Array(100))).toThrow(ShapeError);
      expect(() => m.forward(new Float32Array(0))).toThrow(/not a multiple of \[3, 16, 16\]/);
      expect(() => m.forward(a.tensor([1, 3, 16, 8]))).toThrow(/expected f32 \[B, 3, 16, 16\], got f32 \[1, 3, 16, 8\]/);
      expect(() => m.forward(a.tensor([1, 3, 16, 16], 'i32'))).toThrow(ShapeError);
      const other = await (await import('@spikewasm/core-wasm')).instantiate();
      const b = other.arena();
      expect(() => m.forward(b.tensor([1, 3, 16, 16]))).toThrow(/another Wasm instance/);
      expect(() => m.buffers(0)).toThrow(ArgumentError);
    } finally {
      a.dispose();
    }
  });

  it('stageTimes accumulates the time of SPS, SSA, MLP and head; resetNet and walk reach every LIF', () => {
    const a = core.arena();
    try {
      const m = Spikformer.fromCheckpoint(a, small, spikformerMetadata(small)!.config, { ignore: notStateDict });
      m.stageTimes = { sps: 0, ssa: 0, mlp: 0, head: 0 };
      m.forward(tensorOf(small, 'input'));
      for (const v of Object.values(m.stageTimes)) expect(v).toBeGreaterThan(0);
      const names = [...walk(m)].map((x) => x.name);
      expect(names).toContain('block.1.mlp.fc2_linear');
      expect(names).toContain('block.1.attn.attn_lif');
      expect(names.filter((n) => n.endsWith('_lif') || /_lif\d$/.test(n))).toHaveLength(5 + 7 * 2);
      resetNet(m);
      for (const l of m.buffers(2).lifs) expect(l.node.v.f32.every((v) => v === 0)).toBe(true);
    } finally {
      a.dispose();
    }
  });
});

/** Runs the model and the float64 oracle on random weights; logits at the fixture tolerance, spikes flip-free. */
function againstOracle(config: Partial<SpikformerConfig>, variant: SpikformerVariant, B: number, seed: number, options: { fold?: boolean } = {}) {
  const sd = randomSpikformerStateDict(config, variant, seed);
  const a = core.arena();
  try {
    const m = new Spikformer(a, config, sd, { variant, keepIntermediates: true, foldBatchNorm: options.fold ?? true });
    const c = m.config;
    const per = variant === 'dvs' ? c.T * c.in_channels * c.img_size_h * c.img_size_w : c.in_channels * c.img_size_h * c.img_size_w;
    const x = variant === 'dvs' ? Float32Array.from(image(B * per, seed), (v) => Math.floor(Math.abs(v) * 2)) : image(B * per, seed);
    const logits = m.forward(x).toArray();
    const ref = spikformerOracle(sd, config, variant, x, B);
    const { err, scale } = maxErr(logits, ref.logits);
    expect(err, 'logits').toBeLessThanOrEqual(fixtureTol(scale));
    let flips = 0, spikes = 0;
    for (const rec of m.buffers(B).lifs) {
      let got = officialLif(a, rec);
      if (rec.name === 'patch_embed.rpe_lif') {
        const [T, Bb, N, D] = rec.spikes.shape;
        const maps = new Float32Array(got.length);
        for (let tb = 0; tb < T * Bb; tb++) for (let n = 0; n < N; n++) for (let ch = 0; ch < D; ch++) maps[(tb * D + ch) * N + n] = got[(tb * N + n) * D + ch];
        got = maps;
      }
      const want = ref.spikes.get(rec.name)!;
      const cmp = compareSpikes(got, want, ref.margins.get(rec.name));
      expect(cmp.flips - cmp.tolerable, rec.name).toBe(0);
      flips += cmp.flips;
      for (const s of want) spikes += s;
    }
    expect(spikes).toBeGreaterThan(0);
    return { flips, logits, m };
  } finally {
    a.dispose();
  }
}

describe('variants against the float64 oracle (random weights)', () => {
  it('ImageNet: Conv1d q/k/v without bias, Conv2d 1×1 MLP, max-pool after every SPS stage', () => {
    const { flips } = againstOracle({ img_size_h: 64, img_size_w: 64, embed_dims: 64, num_heads: 2, depths: 2, num_classes: 7 }, 'imagenet', 2, 11);
    expect(flips).toBe(0);
  });

  it('CIFAR10-DVS: T = 6 event-count frames [B, T, 2, 128, 128], s = 0.25', () => {
    const { flips } = againstOracle({ embed_dims: 32, num_heads: 2, depths: 1, T: 6 }, 'dvs', 2, 12);
    expect(flips).toBe(0);
  });

  it('CIFAR, widths that are not multiples of 32 (D = 40, 5 heads of 8, MLP 120): the f32-then-pack paths', () => {
    for (const fold of [true, false]) {
      const { flips } = againstOracle({ img_size_h: 12, img_size_w: 20, embed_dims: 40, num_heads: 5, mlp_ratios: 3, depths: 2, T: 3 }, 'cifar', 2, 13, { fold });
      expect(flips).toBe(0);
    }
  });
});

describe('profile()', () => {
  it('CIFAR 4-384 (random weights): first conv charged as MACs, everything else as SOPs; energy = 4.6 pJ·MAC + 0.9 pJ·SOP', () => {
    const { variant, config } = spikformerPreset('spikformer-4-384');
    const a = core.arena();
    try {
      const m = new Spikformer(a, config, randomSpikformerStateDict(config, variant, 1), { variant });
      const x = image(3 * 32 * 32, 5);
      const table = profile(m, () => m.forward(x), { chargeAsMAC: (r) => r.name === 'patch_embed.proj_conv' });
      const rows = new Map(table.rows.map((r) => [r.name, r]));
      expect(table.rows).toHaveLength(5 + 4 * 7 + 1);
      const first = rows.get('patch_embed.proj_conv')!;
      expect(first).toMatchObject({ charge: 'MAC', analog: true, macs: 48 * 3 * 9 * 32 * 32, sops: 0 }); // once, not T times
      expect(rows.get('patch_embed.proj_conv1')!.macs).toBe(4 * 96 * 48 * 9 * 32 * 32);
      expect(rows.get('block.0.attn.q_linear')!.macs).toBe(4 * 64 * 384 * 384);
      expect(rows.get('block.3.mlp.fc1_linear')!.macs).toBe(4 * 64 * 384 * 1536);
      expect(rows.get('block.0.attn.attention')!.macs).toBe(4 * 12 * 2 * 64 * 32 * 32); // Q (Kᵀ V): 2·N·d² per head
      let sops = 0;
      for (const r of table.rows) {
        if (r.name === 'patch_embed.proj_conv') continue;
        expect(r.charge, r.name).toBe('SOP');
        expect(r.firingRate, r.name).toBeGreaterThan(0);
        expect(r.firingRate, r.name).toBeLessThanOrEqual(1);
        sops += r.sops;
      }
      expect(table.totals.sops).toBeCloseTo(sops, 0);
      expect(table.totals.energyPJ).toBeCloseTo(4.6 * first.macs + 0.9 * sops, 0);
      expect(table.totals.macs).toBe(3_706_998_528);
      console.log(`Spikformer-4-384 CIFAR, T = 4, random weights (randomSpikformerStateDict seed 1), one image:\n${table.format()}`);
      // profiling is off again and the forward is unchanged by it
      expect([...walk(m)].every((x) => !x.profiling)).toBe(true);
    } finally {
      a.dispose();
    }
  });
});

describe('cifarNormalize', () => {
  it('(u − 255·mean) / (255·std) in float32 (timm prefetcher), channel-first, for HWC, RGBA and CHW bytes', () => {
    const H = 4, W = 5, B = 2, n = H * W;
    const hwc = Uint8Array.from({ length: B * n * 3 }, (_, i) => (i * 37 + 11) % 256);
    const x = cifarNormalize(hwc, { height: H, width: W });
    expect(x.length).toBe(B * 3 * n);
    const f = Math.fround;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < n; i++) {
          const u = hwc[(b * n + i) * 3 + c];
          expect(x[(b * 3 + c) * n + i]).toBe(f(f(u - f(CIFAR_MEAN[c] * 255)) / f(CIFAR_STD[c] * 255)));
        }
      }
    }
    const rgba = new Uint8Array(B * n * 4);
    const chw = new Uint8Array(B * n * 3);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) {
          rgba[(b * n + i) * 4 + c] = hwc[(b * n + i) * 3 + c];
          chw[(b * 3 + c) * n + i] = hwc[(b * n + i) * 3 + c];
        }
        rgba[(b * n + i) * 4 + 3] = 255;
      }
    }
    expect(cifarNormalize(rgba, { height: H, width: W, layout: 'rgba' })).toEqual(x);
    expect(cifarNormalize(chw, { height: H, width: W, layout: 'chw' })).toEqual(x);
    // torchvision's ToTensor + Normalize rounds differently, by less than 1e-6
    const tv = cifarNormalize(hwc, { height: H, width: W, rounding: 'totensor' });
    let differ = 0;
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(tv[i] - x[i])).toBeLessThan(1e-6);
      if (tv[i] !== x[i]) differ++;
    }
    expect(differ).toBeGreaterThan(0);
    expect(cifarNormalize(new Uint8Array(3072)).length).toBe(3072); // default 32×32
  });

  it('rejects partial images and non-byte values', () => {
    expect(() => cifarNormalize(new Uint8Array(100))).toThrow(/not a whole number of 32×32 hwc images/);
    expect(() => cifarNormalize([1.5, 0, 0], { height: 1, width: 1 })).toThrow(/not an integer in \[0, 255\]/);
    expect(() => cifarNormalize(new Uint8Array(3), { height: 1, width: 1, out: new Float32Array(2) })).toThrow(ShapeError);
    expect(() => cifarNormalize(new Uint8Array(3), { height: 1, width: 1, layout: 'bgr' as never })).toThrow(ArgumentError);
  });

  it('feeds the model: normalised bytes → logits', () => {
    const a = core.arena();
    try {
      const m = Spikformer.fromCheckpoint(a, tiny, spikformerMetadata(tiny)!.config, { ignore: notStateDict });
      const bytes = Uint8Array.from({ length: 3 * 16 * 16 * 3 }, (_, i) => (i * 7) % 256);
      const y = m.forward(cifarNormalize(bytes, { height: 16, width: 16 }));
      expect(y.shape).toEqual([3, 10]);
      expect(y.toArray().every(Number.isFinite)).toBe(true);
    } finally {
      a.dispose();
    }
  });
});
