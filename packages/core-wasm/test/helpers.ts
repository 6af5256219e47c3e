import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type SafetensorsFile } from '../src/safetensors.js';
import type { Arena, DType, Tensor } from '../src/core.js';

export { rng, randomF32, randomSpikes } from './random.js';

export const BACKENDS = ['scalar', 'simd'] as const;

/** The shape grid that brackets the vector width (4) and the unrolls (8, 16, 32). */
export const GRID = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65];

const GUARD = 16;
const SENTINEL = 0x7fc0dead; // a NaN payload no kernel produces

/**
 * An output tensor with guard regions of 16 scalars on both sides, everything pre-filled with a NaN sentinel.
 * `check()` throws if a guard was written; `unwritten()` counts output scalars still holding the sentinel.
 */
export function guarded(arena: Arena, shape: number[], dtype: DType = 'f32', name = 'out'): { t: Tensor; check(): void; unwritten(): number } {
  const probe = arena.core.view(0, shape, dtype);
  const n = probe.storageLength;
  const block = arena.tensor([n + 2 * GUARD], 'i32', `${name}+guards`);
  (block.data as Int32Array).fill(SENTINEL);
  const t = arena.core.view(block.ptr + GUARD * 4, shape, dtype, name);
  return {
    t,
    check() {
      const d = block.data as Int32Array;
      for (let i = 0; i < GUARD; i++) {
        if (d[i] !== SENTINEL) throw new Error(`${name}: guard before the output overwritten at -${GUARD - i}`);
        if (d[GUARD + n + i] !== SENTINEL) throw new Error(`${name}: guard after the output overwritten at +${i}`);
      }
    },
    unwritten() {
      const d = block.data as Int32Array;
      let k = 0;
      for (let i = 0; i < n; i++) if (d[GUARD + i] === SENTINEL) k++;
      return k;
    },
  };
}

/** Max over elements of |got − want| / bound (pass when ≤ 1). */
export function worstRatio(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): { ratio: number; at: number } {
  let ratio = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    const r = Number.isNaN(got[i]) ? Infinity : e / bound(i);
    if (r > ratio || Number.isNaN(r)) { ratio = Number.isNaN(r) ? Infinity : r; at = i; }
  }
  return { ratio, at };
}

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

export function loadFixture(name: string): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(FIXTURES + name)));
}

export function bytesEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
