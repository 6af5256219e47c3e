// Checkpoint loading: the expected state dicts match the fixtures' official key names and shapes; `module.`
// prefixes, num_batches_tracked and fft_H are handled; every problem is reported in one CheckpointError.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, serializeSafetensors, ShapeError, SpikewasmError, type Core, type TensorToWrite } from '@spikewasm/core-wasm';
import {
  CheckpointError, LMUFormer, PsMnistLMU, checkpointMetadata, expectedStateDict, loadCheckpoint,
  type LMUFormerFactory, type LMUFormerConfig, type PsMnistConfig,
} from '../src/index.js';
import { loadFixture, notStateDict, tensorOf } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const MODEL_FIXTURES: [string, LMUFormerFactory][] = [
  ['lmuformer_nonspiking_small.safetensors', 'lmu_rnn_conv1d'],
  ['lmuformer_spiking_small.safetensors', 'slmu_rnn_ms_conv1d'],
  ['lmuformer_psmnist_nonspiking_small.safetensors', 'psmnist_lmu'],
  ['lmuformer_psmnist_spiking_small.safetensors', 'psmnist_slmu'],
];

/** The state dict of a fixture rewritten as an official DataParallel checkpoint: `module.` prefix, BN counters, fft_H. */
function asOfficialFile(name: string): Uint8Array {
  const f = loadFixture(name);
  const out: Record<string, TensorToWrite> = {};
  for (const [k, t] of f.tensors) {
    if (notStateDict(k)) continue;
    out[`module.${k}`] = t;
    if (k.endsWith('.running_var')) out[`module.${k.replace(/running_var$/, 'num_batches_tracked')}`] = { shape: [], data: BigInt64Array.of(123n) };
    if (/(^|\.)H$/.test(k)) out[`module.${k.replace(/H$/, 'fft_H')}`] = { shape: [t.shape[0], t.shape[1] + 1, 2], data: new Float32Array(t.shape[0] * (t.shape[1] + 1) * 2) };
  }
  return serializeSafetensors(out);
}

describe('expectedStateDict', () => {
  it.each(MODEL_FIXTURES)('%s: the names and shapes of the fixture state dict (%s), in any order', (name, factory) => {
    const f = loadFixture(name);
    const meta = checkpointMetadata(f)!;
    expect(meta.factory).toBe(factory);
    const want = new Map<string, number[]>();
    for (const [k, t] of f.tensors) if (!notStateDict(k)) want.set(k, t.shape);
    const got = expectedStateDict(factory, meta.config);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, s] of got) expect(s, k).toEqual(want.get(k));
  });
});

describe('loadCheckpoint', () => {
  it.each(MODEL_FIXTURES)('%s: bytes, a parsed file and a plain object all load; fixture-only keys must be ignored explicitly', (name, factory) => {
    const f = loadFixture(name);
    const { config } = checkpointMetadata(f)!;
    const sd = loadCheckpoint(f, factory, config, { ignore: notStateDict });
    expect([...sd.keys()]).toEqual([...expectedStateDict(factory, config).keys()]);
    for (const [k, t] of sd) {
      expect(t.name).toBe(k);
      expect(t.data).toEqual(tensorOf(f, k));
    }
    const obj: Record<string, Float32Array> = {};
    for (const [k, t] of sd) obj[k] = t.data;
    expect(loadCheckpoint(obj, factory, config).size).toBe(sd.size);
    const e = (() => { try { loadCheckpoint(f, factory, config); } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).unexpected).toContain('input');
    expect((e as CheckpointError).unexpected).toContain('expected.logits');
    expect((e as CheckpointError).missing).toEqual([]);
  });

  it.each(MODEL_FIXTURES)('%s: an official DataParallel checkpoint (module. prefix, num_batches_tracked, fft_H) loads', (name, factory) => {
    const bytes = asOfficialFile(name);
    const { config } = checkpointMetadata(loadFixture(name))!;
    const sd = loadCheckpoint(bytes, factory, config);
    expect(sd.size).toBe(expectedStateDict(factory, config).size);
  });

  it('the official checkpoint gives the same logits as the fixture state dict, bit for bit', () => {
    const a = core.arena();
    try {
      for (const name of ['lmuformer_nonspiking_small.safetensors', 'lmuformer_psmnist_nonspiking_small.safetensors']) {
        const f = loadFixture(name);
        const { config } = checkpointMetadata(f)!;
        const x = Float32Array.from(tensorOf(f, 'input'));
        const build = (src: Uint8Array | typeof f) => name.includes('psmnist')
          ? PsMnistLMU.fromCheckpoint(a, src, config as PsMnistConfig, { ignore: notStateDict })
          : LMUFormer.fromCheckpoint(a, src, config as LMUFormerConfig, { ignore: notStateDict });
        const want = Array.from(build(f).forward(x).toArray());
        expect(Array.from(build(asOfficialFile(name)).forward(x).toArray()), name).toEqual(want);
      }
    } finally {
      a.dispose();
    }
  });

  it('reports every missing, unexpected, mis-shaped and mistyped key in one multi-line CheckpointError (a ShapeError)', () => {
    const f = loadFixture('lmuformer_nonspiking_small.safetensors');
    const { config } = checkpointMetadata(f)!;
    const sd = new Map<string, { data: Float32Array | BigInt64Array | Float64Array; shape: number[]; dtype?: string }>();
    for (const [k, t] of f.tensors) if (!notStateDict(k)) sd.set(k, { data: t.data as Float32Array, shape: t.shape, dtype: t.dtype });
    sd.delete('head.bias');
    sd.delete('block.1.attn.lmu.W_u.weight');
    sd.set('block.2.attn.lmu.A', { data: new Float32Array(4), shape: [2, 2] });
    sd.set('head.weight', { data: new Float32Array(10 * 32), shape: [10, 32] });
    sd.set('block.0.attn.lmu.W_u.bias', { data: Float64Array.of(0), shape: [1], dtype: 'F64' });
    sd.set('block.0.mlp.fc1_bn.num_batches_tracked', { data: BigInt64Array.of(5n), shape: [], dtype: 'I64' });
    let err: unknown;
    try {
      loadCheckpoint(sd, 'lmu_rnn_conv1d', config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err).toBeInstanceOf(ShapeError);
    expect(err).toBeInstanceOf(SpikewasmError);
    const e = err as CheckpointError;
    expect(e.missing).toEqual(['block.1.attn.lmu.W_u.weight', 'head.bias']);
    expect(e.unexpected).toEqual(['block.2.attn.lmu.A']);
    expect(e.misshaped).toEqual([{ name: 'head.weight', expected: [35, 32], got: [10, 32] }]);
    expect(e.wrongDtype).toEqual(['block.0.attn.lmu.W_u.bias: expected F32, got F64']);
    expect(e.message.split('\n')).toEqual([
      'checkpoint does not fit lmu_rnn_conv1d (embed_dims 32, in_channels 16, depths 2, mlp_ratios 4, num_classes 35): 2 missing, 1 unexpected, 1 mis-shaped, 1 of a wrong dtype',
      '  missing     block.1.attn.lmu.W_u.weight [1, 32]',
      '  missing     head.bias [35]',
      '  unexpected  block.2.attn.lmu.A',
      '  mis-shaped  head.weight: expected [35, 32], got [10, 32]',
      '  wrong dtype block.0.attn.lmu.W_u.bias: expected F32, got F64',
    ]);
  });

  it('a key present with and without the module. prefix is reported; bare arrays are length-checked', () => {
    const f = loadFixture('lmuformer_psmnist_nonspiking_small.safetensors');
    const { config } = checkpointMetadata(f)!;
    const obj: Record<string, Float32Array> = {};
    for (const [k, t] of f.tensors) if (!notStateDict(k)) obj[k] = t.data as Float32Array;
    expect(() => loadCheckpoint({ ...obj, 'module.bn1.bias': obj['bn1.bias'] }, 'psmnist_lmu', config)).toThrow(/unexpected {2}module\.bn1\.bias \(duplicates bn1\.bias/);
    expect(() => loadCheckpoint({ ...obj, 'classifier.bias': new Float32Array(9) }, 'psmnist_lmu', config)).toThrow(/classifier\.bias: expected \[10\], got \[9\]/);
  });

  it('a model constructor names a missing key; checkpointMetadata is null without metadata', () => {
    const a = core.arena();
    try {
      expect(() => new PsMnistLMU(a, {}, {})).toThrow(/lacks bn1\.weight/);
      expect(checkpointMetadata({ metadata: {}, tensors: new Map() })).toBeNull();
    } finally {
      a.dispose();
    }
  });
});
