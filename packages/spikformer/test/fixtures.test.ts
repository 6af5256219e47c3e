// The Spikformer fixtures of shared/fixtures (official CIFAR code, float64 reference): logits and every expected.*
// intermediate at the README's tolerances, every LIF layer's spikes exactly (flips tolerable only at |margin| < 1e-5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Arena, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import { Spikformer, spikformerMetadata, type SpikformerBuffers } from '../src/index.js';
import {
  SPIKFORMER_FIXTURES, channelsFirst, compareSpikes, fixtureTol, loadFixture, maxErr, notStateDict, officialLif, tensorOf, valuesOf,
} from './helpers.js';
import { spikformerOracle } from './oracle.js';

let core: Core;
const files = new Map<string, SafetensorsFile>();
const arenas: Arena[] = [];
beforeAll(async () => {
  core = await init();
  for (const n of SPIKFORMER_FIXTURES) files.set(n, loadFixture(n));
});
afterAll(() => {
  for (const a of arenas) a.dispose();
});

function build(name: string, fold: boolean): { model: Spikformer; ws: SpikformerBuffers; arena: Arena; file: SafetensorsFile } {
  const file = files.get(name)!;
  const arena = core.arena();
  arenas.push(arena);
  const meta = spikformerMetadata(file)!;
  const model = Spikformer.fromCheckpoint(arena, file, meta.config, { ignore: notStateDict, foldBatchNorm: fold, keepIntermediates: true });
  model.forward(tensorOf(file, 'input'));
  return { model, ws: model.buffers(file.tensors.get('input')!.shape[0]), arena, file };
}

describe.each(SPIKFORMER_FIXTURES)('%s', (name) => {
  for (const fold of [true, false]) {
    it(`${fold ? 'folded' : 'separate'} BN: logits, every expected.* tensor and every LIF layer's spikes`, () => {
      const { model, ws, arena, file } = build(name, fold);
      const checked = new Set<string>();
      const exp = (key: string) => {
        checked.add(key);
        return tensorOf(file, key);
      };
      const real = (key: string, got: ArrayLike<number>) => {
        const { err, scale } = maxErr(got, exp(key));
        expect(err, key).toBeLessThanOrEqual(fixtureTol(scale));
        return err;
      };
      const exact = (key: string, got: ArrayLike<number>) => {
        const want = exp(key);
        expect(got.length, key).toBe(want.length);
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) bad++;
        expect(bad, `${key}: ${bad} values differ`).toBe(0);
      };

      const logitsErr = real('expected.logits', ws.logits.f32);
      // SPS
      exact('expected.patch_embed.x_feat', channelsFirst(valuesOf(arena, ws.xFeat), ws.xFeat.shape));
      real('expected.patch_embed', ws.patchEmbed.f32);
      exact('expected.patch_embed', ws.patchEmbed.f32); // small integers: exact in float32
      // blocks
      ws.blocks.forEach((b, j) => {
        const p = `expected.block.${j}`;
        exact(`${p}.attn.attn_scores`, b.scores!.data);
        exact(`${p}.attn.attn_out`, b.attnOut.f32);
        if (file.tensors.has(`${p}.attn.qk_v`)) exact(`${p}.attn.qk_v`, b.qkV!.data);
        exact(`${p}.attn`, b.attn.f32);
        exact(`${p}.mlp`, b.mlp.f32);
        real(p, b.out.f32);
      });
      real('expected.features', ws.features.f32);

      // every LIF layer: spikes exact (a flip only at |margin| < 1e-5), h − V_th against the margins where stored
      let flips = 0, near = 0, lifs = 0;
      for (const rec of ws.lifs) {
        const key = `expected.${rec.name}`;
        let got = officialLif(arena, rec);
        if (rec.name === 'patch_embed.rpe_lif') got = tokensToMaps(got, ws);
        const margin = file.tensors.has(`${key}.margin`) ? exp(`${key}.margin`) : undefined;
        const c = compareSpikes(got, exp(`${key}.spikes`), margin);
        expect(c.flips - c.tolerable, `${rec.name}: ${c.flips} flips, ${c.tolerable} at near ties`).toBe(0);
        flips += c.flips;
        near += c.tolerable;
        lifs++;
        if (margin) {
          let h = officialLif(arena, rec, 'h');
          if (rec.name === 'patch_embed.rpe_lif') h = tokensToMaps(h, ws);
          const vth = rec.node.params.vThreshold;
          const { err, scale } = maxErr(h.map((x) => x - vth), margin);
          expect(err, `${rec.name} margin`).toBeLessThanOrEqual(fixtureTol(scale));
        }
      }
      expect(lifs).toBe(5 + 7 * model.config.depths);
      expect(flips).toBe(0);
      // nothing expected was left unchecked
      const all = [...file.tensors.keys()].filter((k) => k.startsWith('expected.'));
      expect(all.filter((k) => !checked.has(k))).toEqual([]);
      console.log(`${name} (${fold ? 'folded BN' : 'separate BN'}): logits max|err| ${logitsErr.toExponential(2)}, ${lifs} LIF layers, ${flips} spike flips (${near} at near ties), ${checked.size} expected.* tensors checked`);
    });
  }

  it('the float64 oracle of the tests reproduces the fixture (validates the oracle used for the other variants)', () => {
    const file = files.get(name)!;
    const meta = spikformerMetadata(file)!;
    const input = file.tensors.get('input')!;
    const ref = spikformerOracle(file.tensors as never, meta.config, 'cifar', input.data as Float32Array, input.shape[0]);
    const { err, scale } = maxErr(ref.logits, tensorOf(file, 'expected.logits'));
    expect(err).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
    for (const [k, s] of ref.spikes) expect(compareSpikes(s, tensorOf(file, `expected.${k}.spikes`)).flips, k).toBe(0);
  });
});

/** rpe_lif is stored as tokens [T, B, N, D]; the fixture has it as maps [T, B, D, h, w]. */
function tokensToMaps(x: Float32Array, ws: SpikformerBuffers): Float32Array {
  const [T, B, N, D] = ws.patchEmbed.shape;
  const y = new Float32Array(x.length);
  for (let tb = 0; tb < T * B; tb++) for (let n = 0; n < N; n++) for (let c = 0; c < D; c++) y[(tb * D + c) * N + n] = x[(tb * N + n) * D + c];
  return y;
}
