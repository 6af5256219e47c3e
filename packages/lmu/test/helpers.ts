import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type SafetensorsFile } from '@spikewasm/core-wasm';

export { rng, randomF32, randomSpikes } from '../../core-wasm/test/random.js';
export { maxErr, fixtureTol, countAllocations } from '../../core-wasm/test/compare.js';

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
