// Bit-packed attention against the float path on every fixture: the same scores, the same s·Q Kᵀ V, the same
// attn_lif spikes; every association order gives the same bytes; the model's block equals spiking's SSA module.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Arena, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import { LIFNode, SpikingSelfAttention, SpikeTensor, attentionReference, resetNet } from '@spikewasm/spiking';
import { Spikformer, spikformerMetadata } from '../src/index.js';
import { SPIKFORMER_FIXTURES, loadFixture, notStateDict, tensorOf, valuesOf } from './helpers.js';

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

function run(name: string, options: Parameters<typeof Spikformer.fromCheckpoint>[3] = {}) {
  const file = files.get(name)!;
  const arena = core.arena();
  arenas.push(arena);
  const model = Spikformer.fromCheckpoint(arena, file, spikformerMetadata(file)!.config, { ignore: notStateDict, keepIntermediates: true, ...options });
  const logits = model.forward(tensorOf(file, 'input')).toArray();
  return { model, logits, arena, file, ws: model.buffers(file.tensors.get('input')!.shape[0]) };
}

describe.each(SPIKFORMER_FIXTURES)('%s', (name) => {
  it('bit-packed SSA == float attention (attentionReference): scores, s·Q Kᵀ V and attn_lif spikes identical in every block', () => {
    const { model, ws, arena, file } = run(name);
    const g = model.geometry, [T, B] = [g.T, ws.batch];
    ws.blocks.forEach((b, j) => {
      const ref = attentionReference(b.q.f32, b.k.f32, b.v.f32, T * B, g.tokens, g.heads, g.headDim, g.scale);
      expect(Array.from(b.scores!.data), `block ${j} scores`).toEqual(Array.from(ref.scores));
      expect(Array.from(b.qkV!.data), `block ${j} Q Kᵀ V`).toEqual(Array.from(ref.qkV));
      expect(Array.from(b.attnOut.f32), `block ${j} s·Q Kᵀ V`).toEqual(Array.from(Float32Array.from(ref.out)));
      // the float path's attn_lif: a fresh LIF (V_th 0.5) on the float64 product
      const lif = new LIFNode(arena, [B, g.tokens, g.dim], { vThreshold: 0.5 });
      const floats = arena.tensor([T, B, g.tokens, g.dim]);
      lif.forward(arena.from(ref.out, [T, B, g.tokens, g.dim]), { floats });
      const bitPath = valuesOf(arena, b.attnSpikes);
      expect(Array.from(bitPath), `block ${j} attn_lif`).toEqual(Array.from(floats.f32));
      expect(Array.from(bitPath)).toEqual(Array.from(tensorOf<Uint8Array>(file, `expected.block.${j}.attn.attn_lif.spikes`)));
    });
  });

  it("orders 'qk_v', 'q_kv' and 'auto' give the same bytes everywhere", () => {
    const runs = (['qk_v', 'q_kv', 'auto'] as const).map((order) => run(name, { order }));
    for (const r of runs.slice(1)) {
      expect(r.logits).toEqual(runs[0].logits);
      r.ws.blocks.forEach((b, j) => {
        expect(b.attnOut.toArray(), `block ${j}`).toEqual(runs[0].ws.blocks[j].attnOut.toArray());
        expect(b.attnSpikes.bits.toArray()).toEqual(runs[0].ws.blocks[j].attnSpikes.bits.toArray());
      });
    }
  });

  for (const fold of [true, false]) {
    it(`the model's block 0 SSA equals spiking's SpikingSelfAttention on X0 (${fold ? 'folded' : 'separate'} BN)`, () => {
      const { model, ws, arena, file } = run(name, { foldBatchNorm: fold });
      const g = model.geometry;
      const ssa = SpikingSelfAttention.fromStateDict(arena, file.tensors, 'block.0.attn.', {
        dim: g.dim, numHeads: g.heads, T: g.T, batch: ws.batch, tokens: g.tokens, foldBatchNorm: fold,
      });
      resetNet(ssa);
      const out = SpikeTensor.alloc(arena, ws.patchEmbed.shape);
      ssa.forward(ws.patchEmbed, out);
      expect(Array.from(valuesOf(arena, out))).toEqual(Array.from(ws.blocks[0].attn.f32));
    });
  }
});
