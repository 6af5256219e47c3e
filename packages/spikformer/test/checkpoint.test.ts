import { beforeAll, describe, expect, it } from 'vitest';
import { init, ArgumentError, ShapeError, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import {
  CheckpointError, Spikformer, SPIKFORMER_PRESETS, detectSpikformerVariant, expectedStateDict, isUnusedSpikformerKey,
  loadCheckpoint, randomSpikformerStateDict, resolveSpikformerConfig, spikformerGeometry, spikformerMetadata, spikformerPreset,
  type SpikformerPresetName,
} from '../src/index.js';
import { loadFixture, notStateDict, tensorOf } from './helpers.js';

let core: Core;
let tiny: SafetensorsFile;
let small: SafetensorsFile;
beforeAll(async () => {
  core = await init();
  tiny = loadFixture('spikformer_tiny');
  small = loadFixture('spikformer_small');
});

/** Trainable parameters of a state dict (running statistics are buffers, not parameters). */
const params = (sd: Map<string, number[]>) => [...sd].filter(([k]) => !/running_(mean|var)$/.test(k)).reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);

describe('expectedStateDict', () => {
  it('matches the fixtures key for key and shape for shape (minus input, expected.* and the unused norm1/norm2)', () => {
    for (const f of [tiny, small]) {
      const sd = expectedStateDict(spikformerMetadata(f)!.config);
      const keys = [...f.tensors.keys()].filter((k) => !notStateDict(k) && !isUnusedSpikformerKey(k));
      expect([...sd.keys()].sort()).toEqual(keys.sort()); // (safetensors files store keys sorted)
      expect([...sd.keys()].slice(0, 2)).toEqual(['patch_embed.proj_conv.weight', 'patch_embed.proj_bn.weight']); // module order
      for (const [k, shape] of sd) expect(f.tensors.get(k)!.shape, k).toEqual(shape);
      const unused = [...f.tensors.keys()].filter((k) => isUnusedSpikformerKey(k));
      expect(unused.length).toBe(4 * spikformerMetadata(f)!.config.depths!);
    }
  });

  it("reproduces the published parameter counts (spec §2): 4-384 CIFAR 9,330,874 with LayerNorms, 8-768 ImageNet 66,338,632 without", () => {
    const cifar = spikformerPreset('spikformer-4-384');
    const ln = cifar.config.depths * 2 * 2 * cifar.config.embed_dims;
    expect(params(expectedStateDict(cifar.config, 'cifar')) + ln).toBe(9_330_874);
    const inet = spikformerPreset('spikformer-8-768');
    expect(inet.variant).toBe('imagenet');
    expect(params(expectedStateDict(inet.config, 'imagenet'))).toBe(66_338_632);
    // the other published sizes, to the paper's two decimals (with the unused LayerNorms; DVS also pos_embed and norm)
    const paper: Record<SpikformerPresetName, number> = {
      'spikformer-4-256': 4.15, 'spikformer-2-384': 5.76, 'spikformer-4-384': 9.32, 'spikformer-8-384': 16.81,
      'spikformer-8-512': 29.68, 'spikformer-8-768': 66.34, 'spikformer-2-256-dvs': 2.59,
    };
    for (const [name, millions] of Object.entries(paper) as [SpikformerPresetName, number][]) {
      const { variant, config } = spikformerPreset(name);
      const n = params(expectedStateDict(config, variant));
      const withLn = n + config.depths * 4 * config.embed_dims;
      const candidates = [n, withLn, withLn + 2 * config.embed_dims + (variant === 'dvs' ? spikformerGeometry(config, variant).tokens * config.embed_dims : 0)];
      expect(candidates.some((c) => Math.abs(c / 1e6 - millions) < 0.011), `${name}: ${candidates.join(' / ')} vs ${millions}M`).toBe(true);
    }
  });

  it('ImageNet and DVS layouts: Conv1d q/k/v without bias, Conv2d (ImageNet) or Conv1d (DVS) MLP', () => {
    const inet = expectedStateDict({}, 'imagenet');
    expect(inet.get('block.0.attn.q_conv.weight')).toEqual([512, 512, 1]);
    expect(inet.has('block.0.attn.q_conv.bias')).toBe(false);
    expect(inet.get('block.0.attn.proj_conv.bias')).toEqual([512]);
    expect(inet.get('block.7.mlp.fc1_conv.weight')).toEqual([2048, 512, 1, 1]);
    expect(inet.get('head.weight')).toEqual([1000, 512]);
    const dvs = expectedStateDict({}, 'dvs');
    expect(dvs.get('patch_embed.proj_conv.weight')).toEqual([32, 2, 3, 3]);
    expect(dvs.get('block.1.mlp.fc2_conv.weight')).toEqual([256, 1024, 1]);
    expect(spikformerGeometry(resolveSpikformerConfig({}, 'dvs'), 'dvs')).toMatchObject({ tokens: 64, T: 16, scale: 0.25, heads: 16, headDim: 16 });
    expect(spikformerGeometry(resolveSpikformerConfig({}, 'imagenet'), 'imagenet')).toMatchObject({ tokens: 196, tokensH: 14, scale: 0.125 });
    expect(spikformerGeometry(resolveSpikformerConfig()).stages.map((s) => [s.channels, s.height, s.pool])).toEqual([[48, 32, false], [96, 32, false], [192, 32, true], [384, 16, true]]);
  });
});

describe('loadCheckpoint / fromCheckpoint', () => {
  it('an official-style state dict (module. prefix, num_batches_tracked, norm1/norm2, pos_embed, norm) gives the same logits', () => {
    const cfg = spikformerMetadata(tiny)!.config;
    const official = new Map<string, { data: ArrayLike<number> | BigInt64Array; shape: number[]; dtype: string }>();
    for (const [k, t] of tiny.tensors) if (!notStateDict(k)) official.set(`module.${k}`, { data: t.data as Float32Array, shape: [...t.shape], dtype: t.dtype });
    for (const k of expectedStateDict(cfg).keys()) if (k.endsWith('running_var')) official.set(`module.${k.replace('running_var', 'num_batches_tracked')}`, { data: BigInt64Array.of(7n), shape: [], dtype: 'I64' });
    official.set('module.pos_embed', { data: new Float32Array(16 * 32), shape: [1, 16, 32], dtype: 'F32' });
    official.set('module.norm.weight', { data: new Float32Array(32), shape: [32], dtype: 'F32' });
    const a = core.arena();
    try {
      const ref = Spikformer.fromCheckpoint(a, tiny, cfg, { ignore: notStateDict }).forward(tensorOf(tiny, 'input')).toArray();
      const got = Spikformer.fromCheckpoint(a, official as never, cfg).forward(tensorOf(tiny, 'input')).toArray();
      expect(got).toEqual(ref);
      expect(loadCheckpoint(official as never, cfg).size).toBe(expectedStateDict(cfg).size);
    } finally {
      a.dispose();
    }
  });

  it('one CheckpointError lists every missing, unexpected, mis-shaped and wrongly typed key', () => {
    const cfg = spikformerMetadata(small)!.config;
    const sd = new Map<string, { data: ArrayLike<number> | BigInt64Array; shape: number[]; dtype?: string }>();
    for (const [k, t] of small.tensors) if (!notStateDict(k)) sd.set(k, { data: t.data as Float32Array, shape: [...t.shape], dtype: t.dtype });
    sd.delete('block.1.attn.k_bn.running_var');
    sd.delete('head.bias');
    sd.set('block.2.attn.q_linear.weight', { data: new Float32Array(64 * 64), shape: [64, 64] });
    sd.set('block.0.attn.q_conv.weight', { data: new Float32Array(64 * 64), shape: [64, 64, 1] });
    sd.set('patch_embed.rpe_conv.weight', { data: new Float32Array(64 * 64 * 9), shape: [64, 64, 9] });
    sd.set('block.0.mlp.fc1_linear.bias', { data: new BigInt64Array(256), shape: [256], dtype: 'I64' });
    let err: unknown;
    try {
      loadCheckpoint(sd as never, cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err).toBeInstanceOf(ShapeError);
    const e = err as CheckpointError;
    expect(e.variant).toBe('cifar');
    expect(e.missing).toEqual(['block.1.attn.k_bn.running_var', 'head.bias']);
    expect(e.unexpected).toEqual(['block.2.attn.q_linear.weight', 'block.0.attn.q_conv.weight']);
    expect(e.misshaped).toEqual([{ name: 'patch_embed.rpe_conv.weight', expected: [64, 64, 3, 3], got: [64, 64, 9] }]);
    expect(e.wrongDtype).toEqual(['block.0.mlp.fc1_linear.bias: expected F32, got I64']);
    const lines = e.message.split('\n');
    expect(lines[0]).toMatch(/^checkpoint does not fit Spikformer \(cifar\) \(embed_dims 64, depths 2, .*\): 2 missing, 2 unexpected, 1 mis-shaped, 1 of a wrong dtype$/);
    expect(lines).toHaveLength(7);
    // the wrong configuration is reported the same way
    expect(() => loadCheckpoint(small, { ...cfg, embed_dims: 32, num_heads: 1 }, { ignore: notStateDict })).toThrow(/mis-shaped  patch_embed\.proj_conv\.weight: expected \[4, 3, 3, 3\], got \[8, 3, 3, 3\]/);
  });

  it('detects the variant from the keys; random ImageNet and DVS dicts load and build', () => {
    expect(detectSpikformerVariant(tiny)).toBe('cifar');
    const small2 = { img_size_h: 32, img_size_w: 32, embed_dims: 32, num_heads: 2, depths: 1, num_classes: 5 };
    const inet = randomSpikformerStateDict(small2, 'imagenet', 3);
    expect(detectSpikformerVariant(inet)).toBe('imagenet');
    const dvsCfg = { embed_dims: 32, num_heads: 2, depths: 1, T: 2 };
    const dvs = randomSpikformerStateDict(dvsCfg, 'dvs', 4);
    expect(detectSpikformerVariant(dvs)).toBe('dvs');
    expect(detectSpikformerVariant(new Map())).toBeNull();
    const a = core.arena();
    try {
      expect(Spikformer.fromCheckpoint(a, inet, small2).variant).toBe('imagenet');
      expect(Spikformer.fromCheckpoint(a, dvs, dvsCfg).variant).toBe('dvs');
      // a CIFAR dict checked as ImageNet fails with the keys named
      expect(() => loadCheckpoint(tiny, spikformerMetadata(tiny)!.config, { variant: 'imagenet', ignore: notStateDict })).toThrow(/checkpoint does not fit Spikformer \(imagenet\)[\s\S]*missing     block\.0\.attn\.q_conv\.weight \[32, 32, 1\][\s\S]*unexpected  block\.0\.attn\.q_linear\.weight/);
    } finally {
      a.dispose();
    }
  });

  it('the constructor names the first missing key; metadata is read from the file', () => {
    const a = core.arena();
    try {
      expect(() => new Spikformer(a, spikformerMetadata(tiny)!.config, new Map())).toThrow(/state dict lacks patch_embed\.proj_conv\.weight/);
    } finally {
      a.dispose();
    }
    expect(spikformerMetadata(tiny)).toEqual({ factory: 'spikformer', config: JSON.parse(tiny.metadata.config) });
    expect(spikformerMetadata({ tensors: new Map(), metadata: { factory: 'lmu_rnn_conv1d', config: '{}' } } as SafetensorsFile)).toBeNull();
    expect(() => spikformerMetadata({ tensors: new Map(), metadata: { factory: 'spikformer', config: '{' } } as SafetensorsFile)).toThrow(ArgumentError);
  });
});

describe('configs', () => {
  it('presets: the published sizes with their variants; overrides apply', () => {
    expect(Object.keys(SPIKFORMER_PRESETS)).toHaveLength(7);
    expect(spikformerPreset('spikformer-4-384', { num_classes: 100 })).toEqual({
      variant: 'cifar',
      config: expect.objectContaining({ embed_dims: 384, num_heads: 12, depths: 4, T: 4, img_size_h: 32, num_classes: 100, in_channels: 3 }),
    });
    expect(spikformerPreset('spikformer-8-512').config).toMatchObject({ img_size_h: 224, num_heads: 8, num_classes: 1000 });
    expect(spikformerPreset('spikformer-2-256-dvs')).toMatchObject({ variant: 'dvs', config: { T: 16, in_channels: 2, img_size_h: 128, num_heads: 16 } });
    expect(() => spikformerPreset('spikformer-9-999' as never)).toThrow(ArgumentError);
  });

  it('validation names the argument', () => {
    expect(() => resolveSpikformerConfig({ embed_dims: 36, num_heads: 1 })).toThrow(/embed_dims must be a multiple of 8/);
    expect(() => resolveSpikformerConfig({ embed_dims: 64, num_heads: 3 })).toThrow(/divisible by num_heads 3/);
    expect(() => resolveSpikformerConfig({ img_size_h: 30 })).toThrow(/multiples of 4/);
    expect(() => resolveSpikformerConfig({ img_size_h: 40, img_size_w: 40 }, 'imagenet')).toThrow(/multiples of 16/);
    expect(() => resolveSpikformerConfig({ img_size_h: 64, img_size_w: 64 }, 'dvs')).toThrow(/hard-codes 128×128/);
    expect(() => resolveSpikformerConfig({ T: 0 })).toThrow(/T must be a positive integer/);
    expect(() => resolveSpikformerConfig({ mlp_ratios: 0 })).toThrow(/mlp_ratios/);
    expect(() => resolveSpikformerConfig({ heads: 2 } as never)).toThrow(/unknown argument "heads"/);
    expect(() => resolveSpikformerConfig({}, 'vit' as never)).toThrow(/variant must be/);
    expect(resolveSpikformerConfig({ qk_scale: null, drop_path_rate: 0.1 }).qk_scale).toBeNull();
  });
});
