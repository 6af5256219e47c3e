// The shared checkpoint matcher: module. prefix, ignore rules, and one multi-line CheckpointError listing every problem.
import { describe, expect, it } from 'vitest';
import { CheckpointError, ShapeError, matchStateDict, serializeSafetensors, toStateDict } from '../src/index.js';

const EXPECTED = new Map<string, number[]>([['fc.weight', [2, 3]], ['fc.bias', [2]], ['head.bias', [4]]]);

describe('matchStateDict', () => {
  it('loads bytes, parsed files and plain objects, strips module. and skips ignored keys', () => {
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = serializeSafetensors({ 'module.fc.weight': { dtype: 'F32', shape: [2, 3], data: w }, 'fc.bias': { dtype: 'F32', shape: [2], data: new Float32Array(2) }, 'head.bias': { dtype: 'F32', shape: [4], data: new Float32Array(4) }, step: { dtype: 'F32', shape: [], data: new Float32Array(1) } });
    const sd = matchStateDict(bytes, EXPECTED, { model: 'mlp', ignore: (k) => k === 'step' });
    expect([...sd.keys()]).toEqual(['fc.weight', 'fc.bias', 'head.bias']);
    expect([...sd.get('fc.weight')!.data]).toEqual([...w]);
    expect(matchStateDict({ 'fc.weight': [1, 2, 3, 4, 5, 6], 'fc.bias': [0, 0], 'head.bias': [0, 0, 0, 0] }, EXPECTED, { model: 'mlp' }).get('fc.bias')!.data).toBeInstanceOf(Float32Array);
    expect(toStateDict(bytes)).toBeInstanceOf(Map);
  });

  it('throws one CheckpointError (a ShapeError) with every problem, one per line', () => {
    const sd = { 'fc.weight': { data: new Float32Array(6), shape: [3, 2] }, 'module.fc.weight': new Float32Array(6), 'head.bias': { data: new BigInt64Array(4), shape: [4], dtype: 'I64' }, extra: [1] };
    let err: unknown;
    try {
      matchStateDict(sd, EXPECTED, { model: 'mlp', describe: '(hidden 2)' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err).toBeInstanceOf(ShapeError);
    const e = err as CheckpointError;
    expect(e.model).toBe('mlp');
    expect(e.message.split('\n')).toEqual([
      'checkpoint does not fit mlp (hidden 2): 1 missing, 2 unexpected, 1 mis-shaped, 1 of a wrong dtype',
      '  missing     fc.bias [2]',
      '  unexpected  module.fc.weight (duplicates fc.weight once the module. prefix is stripped)',
      '  unexpected  extra',
      '  mis-shaped  fc.weight: expected [2, 3], got [3, 2]',
      '  wrong dtype head.bias: expected F32, got I64',
    ]);
    class MyError extends Error {}
    expect(() => matchStateDict({}, EXPECTED, { model: 'mlp', error: (missing) => new MyError(missing.join()) })).toThrow(MyError);
  });
});
