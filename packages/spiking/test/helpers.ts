import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, type SafetensorsFile } from '@spikewasm/core-wasm';

export { rng, randomF32, randomSpikes } from '../../core-wasm/test/random.js';

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

export function loadFixture(name: string): SafetensorsFile {
  return parseSafetensors(new Uint8Array(readFileSync(FIXTURES + name)));
}
