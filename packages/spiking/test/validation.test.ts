// Input validation of @spikewasm/spiking's layers (docs/input-validation.md): bad inputs get typed errors that name
// the layer, the tensor and the expected and actual shape; the layer (and a LIF's membrane state) stays usable, and a
// good input then gives the output of a fresh layer bit for bit. Layers do not check values: NaN/±Infinity propagate
// by IEEE rules (the models check their inputs).
import { beforeAll, describe, expect, it } from 'vitest';
import { init, instantiate, ArgumentError, DTypeError, ShapeError, type Arena, type Core, type Tensor } from '@spikewasm/core-wasm';
import { LIFNode, Linear, SpikeTensor } from '@spikewasm/spiking';
import { randomF32 } from '../../core-wasm/test/random.js';
import { withArena, bits } from '../../core-wasm/test/arena.js';

let core: Core, other: Core;
beforeAll(async () => {
  core = await init();
  other = await instantiate();
});

const W = randomF32(5 * 7, 1, 0.5), B = randomF32(5, 2, 0.1), X = randomF32(3 * 7, 3, 1);

describe('Linear.forward', () => {
  const bad: [string, (a: Arena) => [unknown, Tensor], new (...args: never[]) => Error, RegExp][] = [
    ['a Float32Array', (a) => [X, a.tensor([3, 5])], DTypeError, /^fc: input must be a Tensor or a SpikeTensor, got Float32Array/],
    ['null', (a) => [null, a.tensor([3, 5])], DTypeError, /^fc: input must be a Tensor or a SpikeTensor, got null/],
    ['input of the wrong width', (a) => [a.tensor([3, 6]), a.tensor([3, 5])], ShapeError, /^fc: linear: input expected shape \[3, 7\], got \[3, 6\]/],
    ['output of the wrong width', (a) => [a.from(X, [3, 7]), a.tensor([3, 4])], ShapeError, /^fc: linear: output expected shape \[3, 5\], got \[3, 4\]/],
    ['output of another batch', (a) => [a.from(X, [3, 7]), a.tensor([2, 5])], ShapeError, /output expected shape \[3, 5\], got \[2, 5\]/],
    ['rank-0 input', (a) => [a.tensor([]), a.tensor([5])], ShapeError, /^fc: linear: input expected rank ≥ 1, got shape \[\]/],
    ['an i32 input', (a) => [a.tensor([3, 7], 'i32'), a.tensor([3, 5])], DTypeError, /^fc: linear: input must be f32, got i32/],
    ['an i32 output', (a) => [a.from(X, [3, 7]), a.tensor([3, 5], 'i32')], DTypeError, /output must be f32, got i32/],
    ['an input of another Wasm instance', (a) => [other.arena().from(X, [3, 7]), a.tensor([3, 5])], ArgumentError, /^fc: linear: tensors come from different Wasm instances/],
  ];
  it.each(bad)('%s → its typed error; then the fresh output bit for bit', (_what, make, Err, re) => withArena((a) => {
    const fc = new Linear(a, { weight: W, bias: B, outFeatures: 5, inFeatures: 7 }, { name: 'fc' });
    const x = a.from(X, [3, 7]), y = a.tensor([3, 5]);
    const want = bits(fc.forward(x, y).toArray());
    const [bx, by] = make(a);
    const bad = () => fc.forward(bx as Tensor, by);
    expect(bad).toThrow(Err);
    expect(bad).toThrow(re);
    y.f32.fill(NaN);
    expect(bits(fc.forward(x, y).toArray())).toEqual(want);
    const fresh = new Linear(a, { weight: W, bias: B, outFeatures: 5, inFeatures: 7 });
    expect(bits(fresh.forward(x, a.tensor([3, 5])).toArray())).toEqual(want);
  }));

  it('constructor: weights of the wrong size, non-integer sizes → typed errors', () => withArena((a) => {
    expect(() => new Linear(a, { weight: W.subarray(1), outFeatures: 5, inFeatures: 7 })).toThrow(ShapeError);
    expect(() => new Linear(a, { weight: W, outFeatures: 5.5, inFeatures: 7 })).toThrow(ArgumentError);
    expect(() => new Linear(a, { weight: W, outFeatures: 0, inFeatures: 7 })).toThrow(ArgumentError);
  }));
});

describe('LIFNode.forward (state kept between calls)', () => {
  const bad: [string, (a: Arena) => [unknown, object], new (...args: never[]) => Error, RegExp][] = [
    ['a Float32Array', () => [X.subarray(0, 8), {}], DTypeError, /^lif1: input must be an f32 Tensor, got Float32Array/],
    ['wrong neuron shape', (a) => [a.tensor([2, 9]), {}], ShapeError, /^lif1: input expected shape \[T, 8\], got \[2, 9\]/],
    ['no time axis', (a) => [a.tensor([8]), {}], ShapeError, /^lif1: input expected shape \[T, 8\], got \[8\]/],
    ['spikes of another shape', (a) => [a.tensor([2, 8]), { spikes: SpikeTensor.alloc(a, [3, 8]) }], ShapeError, /^lif1: spikes expected shape \[2, 8\], got \[3, 8\]/],
    ['an i32 input', (a) => [a.tensor([2, 8], 'i32'), { floats: a.tensor([2, 8]) }], DTypeError, /must be f32, got i32/],
  ];
  it.each(bad)('%s → its typed error; the membrane is untouched (the next steps equal a fresh node\'s)', (_what, make, Err, re) => withArena((a) => {
    const x1 = a.from(randomF32(16, 4, 2), [2, 8]), x2 = a.from(randomF32(16, 5, 2), [2, 8]);
    const run = (n: LIFNode, x: Tensor) => { const f = a.tensor([2, 8]); n.forward(x, { floats: f }); return [...f.toArray()]; };
    const ref = new LIFNode(a, [8], { name: 'lif1' });
    const want = bits([...run(ref, x1), ...run(ref, x2), ...ref.v.toArray()]);
    const node = new LIFNode(a, [8], { name: 'lif1' });
    const first = run(node, x1);
    const [bx, out] = make(a);
    const bad = () => node.forward(bx as Tensor, out);
    expect(bad).toThrow(Err);
    expect(bad).toThrow(re);
    expect(bits([...first, ...run(node, x2), ...node.v.toArray()])).toEqual(want);
  }));

  it('options and SpikeTensor: typed errors', () => withArena((a) => {
    expect(() => new LIFNode(a, [8], { tau: 0 })).toThrow(/tau must be a positive finite number, got 0/);
    expect(() => new LIFNode(a, [8], { tau: NaN })).toThrow(ArgumentError);
    expect(() => new LIFNode(a, [])).toThrow(/neuron shape must have at least one dimension/);
    expect(() => new SpikeTensor(a.tensor([4]))).toThrow(/SpikeTensor: expected a tensor of dtype bits, got f32/);
    expect(() => SpikeTensor.alloc(a, [2, 40]).reshape([80])).toThrow(/the last dimension holds the packing and must stay 40/);
  }));
});
