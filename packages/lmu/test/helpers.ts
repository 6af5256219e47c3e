import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type SafetensorsFile } from '@spikewasm/core-wasm';

export { rng, randomF32, randomSpikes } from '../../core-wasm/test/random.js';

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

/** A fixture file of shared/fixtures, parsed. */
export function loadFixture(name: string): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(FIXTURES + name)));
}

/** The data of a fixture tensor (throws if absent). */
export function tensorOf<T extends ArrayLike<number> = Float32Array>(file: SafetensorsFile, name: string): T {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t.data as unknown as T;
}

/** Fixture keys that are not part of the state dict. */
export const notStateDict = (k: string): boolean => k === 'input' || k.startsWith('expected.');

/** [B, C, N] → [B, N, C] (the official module layout to this package's frame-major layout). */
export function bcnToBnc(x: ArrayLike<number>, B: number, C: number, N: number): Float32Array {
  const out = new Float32Array(B * N * C);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) out[(b * N + n) * C + c] = x[(b * C + c) * N + n];
  return out;
}

/** max |got − want| (NaN counts as infinite) and max |want|. */
export function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; scale: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    err = Number.isNaN(e) ? Infinity : Math.max(err, e);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { err, scale };
}

/** The README's tolerance for real-valued tensors: 1e-4 · max(1, max |expected|). */
export const fixtureTol = (scale: number): number => 1e-4 * Math.max(1, scale);

/** Counts Wasm allocations made by `core` while `fn` runs. */
export function countAllocations<T>(core: { alloc(bytes: number): number }, fn: () => T): { count: number; result: T } {
  const orig = core.alloc;
  let count = 0;
  core.alloc = function (this: unknown, bytes: number) {
    count++;
    return orig.call(core, bytes);
  };
  try {
    const result = fn();
    return { count, result };
  } finally {
    core.alloc = orig;
  }
}
