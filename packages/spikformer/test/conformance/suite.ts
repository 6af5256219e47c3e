// Cross-runtime conformance for @spikewasm/spikformer: both Spikformer fixtures through the model (BN folded and
// separate), logits reduced to a SHA-256. Runtime-neutral (no node: imports); to be merged into the root conformance
// bundle (conformance/entry.ts).
import type { Core } from '@spikewasm/core-wasm';
import { parseSafetensors } from '@spikewasm/core-wasm';
import { Spikformer, spikformerMetadata } from '../../src/index.js';
import { sha256, bytesOf } from '../../../core-wasm/test/conformance/hash.js';

/** The fixture files this suite reads (names in shared/fixtures). */
export const CONFORMANCE_FIXTURES = ['spikformer_tiny.safetensors', 'spikformer_small.safetensors'] as const;

const notStateDict = (k: string): boolean => k === 'input' || k.startsWith('expected.');

/**
 * Runs every fixture (folded and separate batch norms) and returns, per fixture, the SHA-256 (hex) of the logits
 * bytes of both runs: `{ 'fixture:spikformer_tiny': '…', 'fixture:spikformer_small': '…' }`.
 * @example const hashes = await runConformance(await init(), { 'spikformer_tiny.safetensors': bytes, … });
 */
export async function runConformance(core: Core, fixtures: Record<string, Uint8Array>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of CONFORMANCE_FIXTURES) {
    const file = parseSafetensors(fixtures[name]);
    const config = spikformerMetadata(file)!.config;
    const input = file.tensors.get('input')!;
    const parts: Uint8Array[] = [];
    for (const foldBatchNorm of [true, false]) {
      const a = core.arena();
      try {
        const model = Spikformer.fromCheckpoint(a, file, config, { ignore: notStateDict, foldBatchNorm });
        parts.push(bytesOf(model.forward(a.from(input.data as Float32Array, input.shape)).data));
      } finally {
        a.dispose();
      }
    }
    out[`fixture:${name.replace('.safetensors', '')}`] = await sha256(parts);
  }
  return out;
}
