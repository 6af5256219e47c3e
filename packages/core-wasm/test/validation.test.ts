// Input validation of @spikewasm/core-wasm (docs/input-validation.md): the Arena/Tensor helpers, the ops (rank,
// shape, dtype, other Wasm instance) and the shared model-input checks with the non-finite policy. Each bad input
// gets its typed error; a failed check changes nothing, so the op then gives a fresh run's output bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, instantiate, packDense, linear, meanAxis, add, ArgumentError, DTypeError, NonFiniteError, ShapeError, SpikewasmError,
  checkBatchInput, checkFinite, firstNonFinite, type Arena, type Core, type Tensor,
} from '@spikewasm/core-wasm';
import { randomF32 } from './random.js';
import { withArena, bits } from './arena.js';

let core: Core, other: Core;
beforeAll(async () => {
  core = await init();
  other = await instantiate();
});

describe('Arena and Tensor', () => {
  it.each([[-1], [1.5], [NaN], [Infinity], [2 ** 53]])('a dimension of %s → ShapeError naming the tensor', (d) => withArena((a) => {
    expect(() => a.tensor([2, d], 'f32', 'x')).toThrow(/^x: shape \[2, .*\] has a dimension that is not a non-negative integer/);
    expect(() => a.tensor([2, d])).toThrow(ShapeError);
  }));

  it('too large for Wasm memory → ArgumentError; a disposed arena → ArgumentError; the core stays usable', () => {
    const a = core.arena();
    expect(() => a.tensor([2 ** 20, 2 ** 20])).toThrow(/out of Wasm memory/);
    const t = a.from([1, 2, 3], [3]);
    expect(() => t.set([1, 2])).toThrow(/^tensor: expected 3 values for shape \[3\] \(f32\), got 2/);
    expect(() => t.reshape([2, 2])).toThrow(/cannot reshape \[3\] to \[2, 2\]/);
    expect(() => a.tensor([2], 'i32').f32).toThrow(/f32 view requested of a i32 tensor/);
    a.dispose();
    expect(() => a.tensor([1])).toThrow(/arena is disposed/);
    const b = core.arena();
    expect(Array.from(b.from([4, 5], [2]).f32)).toEqual([4, 5]);
    b.dispose();
  });
});

describe('ops: linear, add, meanAxis', () => {
  const W = randomF32(6 * 5, 1, 0.5), X = randomF32(4 * 5, 2, 1);
  const bad: [string, (a: ReturnType<Core['arena']>) => () => unknown, new (...args: never[]) => Error, RegExp][] = [
    ['linear: wrong input width', (a) => { const w = packDense(a, W, 6, 5); return () => linear(a.tensor([4, 4]), w, a.tensor([4, 6])); }, ShapeError, /^linear: input expected shape \[4, 5\], got \[4, 4\]/],
    ['linear: wrong output batch', (a) => { const w = packDense(a, W, 6, 5); return () => linear(a.from(X, [4, 5]), w, a.tensor([3, 6])); }, ShapeError, /^linear: output expected shape \[4, 6\], got \[3, 6\]/],
    ['linear: named input of the wrong dtype', (a) => { const w = packDense(a, W, 6, 5); return () => linear(a.tensor([4, 5], 'i32', 'frames'), w, a.tensor([4, 6])); }, DTypeError, /^linear: input \("frames"\) must be f32, got i32/],
    ['linear: a bias of the wrong length', (a) => { const w = packDense(a, W, 6, 5); return () => linear(a.from(X, [4, 5]), w, a.tensor([4, 6]), { bias: a.tensor([5]) }); }, ShapeError, /^linear: bias expected shape \[6\], got \[5\]/],
    ['linear: output of another instance', (a) => { const w = packDense(a, W, 6, 5); return () => linear(a.from(X, [4, 5]), w, other.arena().tensor([4, 6])); }, ArgumentError, /^linear: tensors come from different Wasm instances/],
    ['packDense: too few weights', (a) => () => packDense(a, W.subarray(1), 6, 5, 'fc.weight'), ShapeError, /^packDense: fc\.weight expected 6×5 = 30 values, got 29/],
    ['add: shapes differ', (a) => () => add(a.tensor([4, 5]), a.tensor([5, 4]), a.tensor([4, 5])), ShapeError, /^add: /],
    ['meanAxis: axis out of range', (a) => () => meanAxis(a.tensor([4, 5]), 2, a.tensor([4])), SpikewasmError, /^meanAxis: /],
  ];
  it.each(bad)('%s → its typed error; then the op gives the fresh output', (_what, make, Err, re) => withArena((a) => {
    const w = packDense(a, W, 6, 5), x = a.from(X, [4, 5]), y = a.tensor([4, 6]);
    const want = bits(linear(x, w, y).toArray());
    const bad = () => make(a)();
    expect(bad).toThrow(Err);
    expect(bad).toThrow(re);
    y.f32.fill(NaN);
    expect(bits(linear(x, w, y).toArray())).toEqual(want);
  }));
});

describe('the shared model-input checks and the non-finite policy', () => {
  it('firstNonFinite: the first NaN/±Infinity in a range, −1 if none; −0, subnormals and the float32 maxima are finite', () => {
    expect(firstNonFinite(Float32Array.of(0, -0, 1e-45, 3.4028234663852886e38, -3.4028234663852886e38))).toBe(-1);
    expect(firstNonFinite(Float32Array.of(1, NaN, Infinity))).toBe(1);
    expect(firstNonFinite(Float32Array.of(1, NaN, -Infinity), 2)).toBe(2);
    expect(firstNonFinite(Float32Array.of(NaN, 1, 2), 1, 2)).toBe(-1);
    expect(firstNonFinite([])).toBe(-1);
  });

  it('checkFinite: a NonFiniteError (an ArgumentError) naming who, the tensor, the flat and multi-index and the value', () => {
    let e: NonFiniteError | undefined;
    try { checkFinite('M', 'x', Float32Array.of(0, 0, 0, 0, 0, -Infinity), [2, 3]); } catch (err) { e = err as NonFiniteError; }
    expect(e).toBeInstanceOf(NonFiniteError);
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e!.message).toBe('M: x element 5 (index [1, 2]) is -Infinity; values must be finite (pass allowNonFinite: true to accept NaN/±Infinity)');
    expect([e!.tensor, e!.index, e!.value]).toEqual(['x', 5, -Infinity]);
    expect(() => checkFinite('M', 'x', [NaN], undefined, false)).toThrow(/^M: x element 0 is NaN; values must be finite$/);
  });

  it('checkBatchInput: kinds, shapes, batch, instance, values; the batch size on success', () => withArena((a) => {
    const s = [2, 3];
    expect(checkBatchInput('M', 'input', new Float32Array(12), s, ['N', 'C'], core, false)).toBe(2);
    expect(checkBatchInput('M', 'input', a.tensor([3, 2, 3]), s, null, core, false)).toBe(3);
    expect(() => checkBatchInput('M', 'input', new Float32Array(7), s, ['N', 'C'], core, false)).toThrow(/^M: input holds 7 values, not a multiple of N·C = 2·3 = 6/);
    expect(() => checkBatchInput('M', 'input', a.tensor([1, 3, 2]), s, ['N', 'C'], core, false)).toThrow(/^M: input expected f32 \[B, 2, 3\] = \[B, N, C\], got f32 \[1, 3, 2\]/);
    expect(() => checkBatchInput('M', 'input', a.tensor([0, 2, 3]), s, null, core, false)).toThrow(/batch size 0/);
    expect(() => checkBatchInput('M', 'input', [1, 2], s, null, core, false)).toThrow(DTypeError);
    expect(() => checkBatchInput('M', 'input', other.arena().tensor([1, 2, 3]), s, null, core, false)).toThrow(/another Wasm instance/);
    const nan = new Float32Array(12); nan[7] = NaN;
    expect(() => checkBatchInput('M', 'input', nan, s, null, core, false)).toThrow(/^M: input element 7 \(index \[1, 0, 1\]\) is NaN/);
    expect(checkBatchInput('M', 'input', nan, s, null, core, true)).toBe(2);
  }));
});
