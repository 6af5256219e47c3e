// Input validation of @spikewasm/spikformer's entry points (docs/input-validation.md): Spikformer.forward and the input
// pipelines. Each bad input gets its typed error naming the tensor and the expected and actual shape or value; then
// a good input gives exactly (bit for bit) the output of a fresh model: a rejected input leaves the state usable.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, instantiate, ArgumentError, DTypeError, NonFiniteError, ShapeError, type Arena, type Core, type SafetensorsFile,
} from '@spikewasm/core-wasm';
import { Spikformer, cifarNormalize, imagenetPreprocess, imagenetPreprocessBatch, spikformerMetadata } from '@spikewasm/spikformer';
import { loadFixture, notStateDict } from './helpers.js';
import { withArena, bits } from '../../core-wasm/test/arena.js';

let core: Core, other: Core, file: SafetensorsFile, x: Float32Array, shape: number[], reference: Uint32Array;
const build = (a: Arena) => Spikformer.fromCheckpoint(a, file, spikformerMetadata(file)!.config, { ignore: notStateDict });

beforeAll(async () => {
  core = await init();
  other = await instantiate();
  file = loadFixture('spikformer_tiny');
  const t = file.tensors.get('input')!;
  x = t.data as Float32Array;
  shape = [...t.shape];
  const a = core.arena();
  reference = bits(build(a).forward(x).toArray());
  a.dispose();
});

type Bad = [string, (a: Arena) => unknown, new (...args: never[]) => Error, () => RegExp];
const BAD: Bad[] = [
  ['NaN', () => { const y = x.slice(); y[17] = NaN; return y; }, NonFiniteError, () => new RegExp(`^Spikformer: input element 17 \\(index \\[0, 0, 1, 1\\]\\) is NaN; values must be finite`)],
  ['+Infinity (Tensor)', (a) => { const y = x.slice(); y[y.length - 1] = Infinity; return a.from(y, shape); }, NonFiniteError, () => new RegExp(`^Spikformer: input element ${x.length - 1} \\(index \\[${shape.map((d) => d - 1).join(', ')}\\]\\) is Infinity`)],
  ['wrong rank', (a) => a.tensor([3, 16, 16]), ShapeError, () => /^Spikformer: input expected f32 \[B, 3, 16, 16\], got f32 \[3, 16, 16\]/],
  ['wrong image size', (a) => a.tensor([1, 3, 16, 8]), ShapeError, () => /^Spikformer: input expected f32 \[B, 3, 16, 16\], got f32 \[1, 3, 16, 8\]/],
  ['channels last', (a) => a.tensor([1, 16, 16, 3]), ShapeError, () => /got f32 \[1, 16, 16, 3\]/],
  ['i32 tensor', (a) => a.tensor([1, 3, 16, 16], 'i32'), ShapeError, () => /expected f32 \[B, 3, 16, 16\], got i32 \[1, 3, 16, 16\]/],
  ['batch 0', (a) => a.tensor([0, 3, 16, 16]), ShapeError, () => /^Spikformer: input has batch size 0 \(shape \[0, 3, 16, 16\]\); expected B ≥ 1/],
  ['Uint8Array (unnormalised pixels)', () => new Uint8Array(768), DTypeError, () => /^Spikformer: input must be a Float32Array or an f32 Tensor, got Uint8Array/],
  ['a number', () => 3, DTypeError, () => /got number$/],
  ['empty', () => new Float32Array(0), ShapeError, () => /^Spikformer: input holds 0 values, not a multiple of \[3, 16, 16\] = 768/],
  ['half an image', () => x.subarray(0, 384), ShapeError, () => /holds 384 values, not a multiple of \[3, 16, 16\] = 768/],
  ['another Wasm instance', () => other.arena().from(x, shape), ArgumentError, () => /^Spikformer: the input tensor comes from another Wasm instance/],
];

describe('Spikformer.forward', () => {
  it.each(BAD)('%s → its typed error; then a good input gives the fresh output bit for bit', (_what, make, Err, msg) => withArena((a) => {
    const m = build(a);
    m.forward(x);
    const bad = () => m.forward(make(a) as Float32Array);
    expect(bad).toThrow(Err);
    expect(bad).toThrow(msg());
    expect(bits(m.forward(x).toArray())).toEqual(reference);
    expect(bits(m.forward(a.from(x, shape)).toArray())).toEqual(reference);
  }));

  it('allowNonFinite: true runs a NaN input; the next good input is unchanged', () => withArena((a) => {
    const m = build(a);
    const y = x.slice(); y.fill(NaN, 0, 100);
    m.allowNonFinite = true;
    expect(() => m.forward(y)).not.toThrow();
    m.allowNonFinite = false;
    expect(bits(m.forward(x).toArray())).toEqual(reference);
  }));
});

describe('cifarNormalize, imagenetPreprocess', () => {
  const rgb = Uint8Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i * 37) & 255);
  const fresh = () => bits(cifarNormalize(rgb));

  const cifarBad: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
    ['a pixel of 256', () => cifarNormalize([...rgb.subarray(0, 5), 256, ...rgb.subarray(6)]), ArgumentError, /pixel value 256 at index 5 is not an integer in \[0, 255\]/],
    ['a NaN pixel', () => cifarNormalize(Float32Array.from(rgb, (v, i) => (i === 9 ? NaN : v))), ArgumentError, /pixel value NaN at index 9/],
    ['a fractional pixel', () => cifarNormalize(Float32Array.from(rgb, (v, i) => (i === 2 ? 0.5 : v))), ArgumentError, /pixel value 0\.5 at index 2/],
    ['a partial image', () => cifarNormalize(rgb.subarray(1)), ShapeError, /6143 bytes is not a whole number of 32×32 hwc images \(3072 bytes each\)/],
    ['no pixels', () => cifarNormalize(new Uint8Array(0)), ShapeError, /0 bytes is not a whole number/],
    ['null', () => cifarNormalize(null as never), DTypeError, /pixels must be a Uint8Array .*got null/],
    ['out of the wrong size', () => cifarNormalize(rgb, { out: new Float32Array(10) }), ShapeError, /out holds 10 values, expected B·3·H·W = 6144/],
    ['out of the wrong type', () => cifarNormalize(rgb, { out: new Float64Array(6144) as never }), DTypeError, /out must be a Float32Array, got Float64Array/],
    ['height 0', () => cifarNormalize(rgb, { height: 0 }), ArgumentError, /height must be a positive integer, got 0/],
    ['a NaN mean', () => cifarNormalize(rgb, { mean: [0.5, NaN, 0.5] }), ArgumentError, /mean must be finite numbers, got \[0\.5, NaN, 0\.5\]/],
    ['std 0', () => cifarNormalize(rgb, { std: [1, 0, 1] }), ArgumentError, /std must be positive/],
    ['layout nchw', () => cifarNormalize(rgb, { layout: 'nchw' as never }), ArgumentError, /layout must be 'hwc', 'rgba' or 'chw', got nchw/],
    ['ImageNet: data not bytes', () => imagenetPreprocess({ data: new Float32Array(12) as never, width: 2, height: 2, channels: 3 }), ArgumentError, /image\.data must be a Uint8Array/],
    ['ImageNet: size mismatch', () => imagenetPreprocess({ data: new Uint8Array(11), width: 2, height: 2, channels: 3 }), ShapeError, /image\.data holds 11 bytes, expected width·height·channels = 2·2·3 = 12/],
    ['ImageNet: 2 channels', () => imagenetPreprocess({ data: new Uint8Array(8), width: 2, height: 2, channels: 2 as never }), ArgumentError, /image\.channels must be 3 or 4, got 2/],
    ['ImageNet: width 1.5', () => imagenetPreprocess({ data: new Uint8Array(12), width: 1.5, height: 2, channels: 3 }), ArgumentError, /image\.width must be a positive integer, got 1\.5/],
    ['ImageNet: cropPct NaN', () => imagenetPreprocess({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 }, { cropPct: NaN }), ArgumentError, /cropPct must be a positive number, got NaN/],
    ['ImageNet: empty batch', () => imagenetPreprocessBatch([]), ArgumentError, /images must be a non-empty array/],
    ['ImageNet: null image', () => imagenetPreprocess(null as never), ArgumentError, /image must be an object/],
  ];
  it.each(cifarBad)('%s → its typed error; the pipeline then gives the same bytes', (_what, call, Err, re) => {
    const before = fresh();
    const bad = () => call();
    expect(bad).toThrow(Err);
    expect(bad).toThrow(re);
    expect(fresh()).toEqual(before);
  });
});
