// The strict .npy reader: what numpy.save writes (versions 1–3) is read; everything else is an NpyError.
import { describe, expect, it } from 'vitest';
import { SpikewasmError } from '@spikewasm/core-wasm';
import { readNpy, isNpy, NpyError } from '../src/npy.js';
import { npyBytes } from './helpers.js';

const f32 = Float32Array.from({ length: 24 }, (_, i) => i / 7);

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    readNpy(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NpyError);
  expect(caught).toBeInstanceOf(SpikewasmError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('readNpy', () => {
  it('reads <f4, <f8 and <i4 in C order, versions 1.0, 2.0 and 3.0', () => {
    for (const version of [1, 2, 3] as const) {
      const a = readNpy(npyBytes('<f4', [2, 3, 4], f32, { version }));
      expect(a).toMatchObject({ dtype: '<f4', shape: [2, 3, 4] });
      expect(a.data).toEqual(f32);
    }
    const d = readNpy(npyBytes('<f8', [4, 6], Float64Array.from(f32)));
    expect(d.data).toBeInstanceOf(Float64Array);
    expect(Array.from(d.data)).toEqual(Array.from(f32));
    const i = readNpy(npyBytes('<i4', [5], Int32Array.from([1, -2, 3, 4, 2 ** 31 - 1])));
    expect(i).toMatchObject({ dtype: '<i4', shape: [5] });
    expect(Array.from(i.data)).toEqual([1, -2, 3, 4, 2 ** 31 - 1]);
  });

  it('reads scalars, empty arrays, double-quoted and reordered headers, and unaligned buffers', () => {
    expect(readNpy(npyBytes('<f4', [], Float32Array.of(3.5)))).toMatchObject({ shape: [], data: Float32Array.of(3.5) });
    expect(readNpy(npyBytes('<f4', [0, 3], new Float32Array(0))).shape).toEqual([0, 3]);
    const h = `{"shape": (2, 12), "fortran_order": False, "descr": "<f4"}`;
    expect(readNpy(npyBytes('', [], f32, { header: h })).shape).toEqual([2, 12]);
    const b = npyBytes('<f4', [24], f32);
    const shifted = new Uint8Array(b.length + 1).subarray(1);
    shifted.set(b);
    expect(readNpy(shifted).data).toEqual(f32);
    expect(isNpy(b)).toBe(true);
    expect(isNpy(new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it('rejects other dtypes, big-endian data and Fortran order', () => {
    rejects(npyBytes('>f4', [24], f32), /">f4" \(big-endian\) is not supported/);
    rejects(npyBytes('<f2', [24], new Uint16Array(24)), /"<f2" is not supported/);
    rejects(npyBytes('|u1', [24], new Uint8Array(24)), /"\|u1" is not supported/);
    rejects(npyBytes('<i8', [24], new BigInt64Array(24)), /"<i8" is not supported/);
    rejects(npyBytes('|O', [1], new Uint8Array(8)), /"\|O" is not supported/);
    rejects(npyBytes('<f4', [2, 12], f32, { fortran: true }), /Fortran order/);
  });

  it('rejects malformed files with a message saying what is wrong', () => {
    rejects(new TextEncoder().encode('hello world'), /magic string/);
    rejects(npyBytes('<f4', [24], f32).subarray(0, 9), /too short/);
    const v9 = npyBytes('<f4', [24], f32); v9[6] = 9;
    rejects(v9, /version 9\.0/);
    const long = npyBytes('<f4', [24], f32); new DataView(long.buffer).setUint16(8, 60000, true);
    rejects(long, /runs past the end/);
    rejects(npyBytes('<f4', [24], f32.subarray(0, 20)), /needs 96 data bytes, the file holds 80/);
    rejects(npyBytes('<f4', [20], f32), /needs 80 data bytes, the file holds 96/);
    rejects(npyBytes('', [], f32, { header: `{'descr': '<f4', 'shape': (24,), }` }), /missing key fortran_order/);
    rejects(npyBytes('', [], f32, { header: `{'descr': '<f4', 'fortran_order': False, 'shape': (24,), 'extra': 1}` }), /unexpected key "extra"/);
    rejects(npyBytes('', [], f32, { header: `{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (24,)}` }), /duplicate key 'descr'/);
    rejects(npyBytes('', [], f32, { header: `{'descr': '<f4', 'fortran_order': false, 'shape': (24,)}` }), /expected True or False/);
    rejects(npyBytes('', [], f32, { header: `{'descr': '<f4', 'fortran_order': False, 'shape': (-24,)}` }), /non-negative integer/);
    rejects(npyBytes('', [], f32, { header: `{'descr': '<f4', 'fortran_order': False, 'shape': (24,)} x` }), /trailing characters/);
    const noNewline = npyBytes('<f4', [24], f32);
    noNewline[noNewline.length - 96 - 1] = 0x20;
    rejects(noNewline, /does not end with a newline/);
  });

  it('rejects NaN and infinities in float arrays', () => {
    rejects(npyBytes('<f4', [3], Float32Array.of(1, NaN, 2)), /non-finite value \(NaN\) at flat index 1/);
    rejects(npyBytes('<f8', [2], Float64Array.of(Infinity, 0)), /non-finite value \(Infinity\) at flat index 0/);
  });
});
