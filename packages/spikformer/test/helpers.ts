import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type Arena, type SafetensorsFile, type Tensor } from '@spikewasm/core-wasm';
import { SpikeTensor } from '@spikewasm/spiking';
import type { SpikformerLifRecord } from '../src/index.js';

export { maxErr, fixtureTol, countAllocations } from '../../core-wasm/test/compare.js';

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

/** The two Spikformer model fixtures of shared/fixtures. */
export const SPIKFORMER_FIXTURES = ['spikformer_tiny', 'spikformer_small'] as const;

/** A fixture file of shared/fixtures, parsed. */
export function loadFixture(name: string): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(`${FIXTURES}${name}.safetensors`)));
}

/** The data of a fixture tensor (throws if absent): Float32Array, or the given type (e.g. Uint8Array for spikes). */
export function tensorOf(file: SafetensorsFile, name: string): Float32Array;
export function tensorOf<T extends ArrayLike<number>>(file: SafetensorsFile, name: string): T;
export function tensorOf<T extends ArrayLike<number>>(file: SafetensorsFile, name: string): T {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t.data as unknown as T;
}

/** Fixture keys that are not part of the state dict. */
export const notStateDict = (k: string): boolean => k === 'input' || k.startsWith('expected.');

/** A tensor's values as plain numbers (bits unpacked to 0/1 through a scratch of `arena`). */
export function valuesOf(arena: Arena, x: Tensor | SpikeTensor): Float32Array {
  if (x instanceof SpikeTensor) return x.toFloat(arena.tensor(x.shape)).f32.slice();
  if (x.dtype === 'bits') return new SpikeTensor(x).toFloat(arena.tensor(x.shape)).f32.slice();
  return Float32Array.from(x.data as ArrayLike<number>);
}

/** [G, H, W, C] (any leading dims multiplying to G) → [G, C, H, W]. */
export function channelsFirst(x: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [H, W, C] = shape.slice(-3);
  const G = x.length / (H * W * C);
  const y = new Float32Array(x.length);
  for (let g = 0; g < G; g++) for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) for (let ch = 0; ch < C; ch++) y[((g * C + ch) * H + r) * W + c] = x[((g * H + r) * W + c) * C + ch];
  return y;
}

/** A LIF record's spikes (or h, `which = 'h'`) in the official layout: [T, B, C, H, W] for SPS maps, else as stored. */
export function officialLif(arena: Arena, rec: SpikformerLifRecord, which: 'spikes' | 'h' = 'spikes'): Float32Array {
  const t = which === 'spikes' ? rec.spikes : rec.h!;
  const v = valuesOf(arena, t);
  return rec.layout === 'THWC' ? channelsFirst(v, t.shape) : v;
}

/**
 * Compares spikes with the expected ones: mismatches, and how many of them sit at a near tie (|margin| < 1e-5, the
 * only tolerable flips per shared/fixtures/README.md; without margins none is tolerable).
 */
export function compareSpikes(got: ArrayLike<number>, want: ArrayLike<number>, margin?: ArrayLike<number>): { flips: number; tolerable: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let flips = 0, tolerable = 0;
  for (let i = 0; i < want.length; i++) {
    if ((got[i] !== 0 ? 1 : 0) !== (want[i] !== 0 ? 1 : 0)) {
      flips++;
      if (margin && Math.abs(margin[i]) < 1e-5) tolerable++;
    }
  }
  return { flips, tolerable };
}
