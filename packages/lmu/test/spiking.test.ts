// The spiking models against their golden fixtures (shared/fixtures/lmuformer_spiking_small and
// lmuformer_psmnist_spiking_small): every LIF layer's spikes exactly (a flip is tolerated only where the expected
// |margin| < 1e-5, README) and its margins, the real-valued intermediates and the logits within
// max |got − expected| ≤ 1e-4 · max(1, max |expected|), in every LMU form, with and without BN folding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, ShapeError, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import { SpikingLMUFormer, PsMnistSLMU, checkpointMetadata, type LMUFormerConfig, type LMUMode, type PsMnistConfig, type LifRecord } from '../src/index.js';
import { bcnToBnc, countAllocations, fixtureTol, loadFixture, maxErr, notStateDict, tensorOf } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const measured = new Map<string, [number, number]>();
const flipsSeen = new Map<string, number>();
afterAll(() => {
  for (const [k, [e, tol]] of measured) console.log(`${k}: max |error| ${e.toExponential(2)} (tolerance ${tol.toExponential(1)})`);
  for (const [k, n] of flipsSeen) console.log(`${k}: ${n} spike flips (all at |margin| < 1e-5)`);
});

function check(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  const { err, scale } = maxErr(got, want);
  const tol = fixtureTol(scale);
  const prev = measured.get(label);
  if (!prev || err > prev[0]) measured.set(label, [err, tol]);
  expect(err, label).toBeLessThanOrEqual(tol);
}

/** Spikes equal, except where the expected |margin| < 1e-5; the margin h − V_th within tolerance. */
function checkLif(label: string, rec: LifRecord, wantSpikes: ArrayLike<number>, wantMargin: ArrayLike<number>): void {
  const got = rec.spikes.f32, h = rec.h.f32;
  const bad: string[] = [];
  let flips = 0;
  for (let i = 0; i < wantSpikes.length; i++) {
    if (got[i] !== wantSpikes[i]) {
      if (Math.abs(wantMargin[i]) < 1e-5) flips++;
      else bad.push(`${label}[${i}]: got ${got[i]}, want ${wantSpikes[i]} (margin ${wantMargin[i]})`);
    }
  }
  expect(bad.slice(0, 5), label).toEqual([]);
  if (flips) flipsSeen.set(label, Math.max(flipsSeen.get(label) ?? 0, flips));
  const margin = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) margin[i] = h[i] - rec.vThreshold;
  check(`${label} margin`, margin, wantMargin);
}

const MODES: LMUMode[] = ['fft', 'fir', 'recurrent'];
const CASES = MODES.flatMap((mode) => [true, false].map((fold) => [mode, fold] as const));

describe('slmu_rnn_ms_conv1d: lmuformer_spiking_small', () => {
  let file: SafetensorsFile;
  let config: LMUFormerConfig;
  beforeAll(() => {
    file = loadFixture('lmuformer_spiking_small.safetensors');
    const meta = checkpointMetadata(file)!;
    expect(meta.factory).toBe('slmu_rnn_ms_conv1d');
    config = meta.config as LMUFormerConfig;
  });

  it.each(CASES)('lmuMode %s, foldBatchNorm %s: every LIF layer, every intermediate and the logits', (mode, fold) => {
    const a = core.arena();
    try {
      const model = SpikingLMUFormer.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: mode, foldBatchNorm: fold, keepSpikes: true });
      const [B, N, Cin] = file.tensors.get('input')!.shape;
      const E = config.embed_dims;
      const logits = model.forward(a.from(tensorOf(file, 'input'), [B, N, Cin]));
      const sfx = `(${mode}${fold ? '' : ', unfolded'})`;
      const lif = model.lifLayers(B);
      const lifNames = JSON.parse(file.metadata.lif_layers) as Record<string, unknown>;
      expect([...lif.keys()].sort()).toEqual(Object.keys(lifNames).sort());
      for (const [name, rec] of lif) {
        const C = rec.spikes.shape[2];
        const spikes = bcnToBnc(tensorOf<Uint8Array>(file, `expected.${name}.spikes`), B, C, N);
        const margin = bcnToBnc(tensorOf(file, `expected.${name}.margin`), B, C, N);
        checkLif(`spiking ${name} ${sfx}`, rec, spikes, margin);
      }
      const ws = model.buffers(B);
      check(`spiking patch_embed ${sfx}`, ws.patchEmbed.f32, bcnToBnc(tensorOf(file, 'expected.patch_embed'), B, E, N));
      for (let j = 0; j < config.depths; j++) {
        const bb = ws.blocks[j];
        check(`spiking block.${j}.attn.lmu.memory ${sfx}`, bb.memory.f32, tensorOf(file, `expected.block.${j}.attn.lmu.memory`));
        check(`spiking block.${j}.attn ${sfx}`, bb.attn.f32, bcnToBnc(tensorOf(file, `expected.block.${j}.attn`), B, E, N));
        check(`spiking block.${j}.mlp ${sfx}`, bb.mlp.f32, bcnToBnc(tensorOf(file, `expected.block.${j}.mlp`), B, E, N));
        check(`spiking block.${j} ${sfx}`, bb.out.f32, bcnToBnc(tensorOf(file, `expected.block.${j}`), B, E, N));
      }
      check(`spiking head_per_token ${sfx}`, ws.headPerToken.f32, tensorOf(file, 'expected.head_per_token'));
      check(`spiking logits ${sfx}`, logits.f32, tensorOf(file, 'expected.logits'));
    } finally {
      a.dispose();
    }
  });

  it("'all_seq': [N, B, classes]; the last row is the 'normal' logits; no allocation after warm-up", () => {
    const a = core.arena();
    try {
      const model = SpikingLMUFormer.fromCheckpoint(a, file, { ...config, test_mode: 'all_seq' }, { ignore: notStateDict });
      const [B, N] = file.tensors.get('input')!.shape;
      const K = config.num_classes;
      const x = Float32Array.from(tensorOf(file, 'input'));
      const all = model.forward(x).toArray() as Float32Array;
      expect(model.buffers(B).logitsAllSeq.shape).toEqual([N, B, K]);
      check('spiking all_seq last row vs expected.logits', all.subarray((N - 1) * B * K), tensorOf(file, 'expected.logits'));
      // row n is head(mean of the head_lif spikes over frames 1..n+1): recompute row 40 from the spikes in float64
      const s = model.buffers(B).headSpikes.f32, E = config.embed_dims;
      const W = tensorOf(file, 'head.weight'), bias = tensorOf(file, 'head.bias');
      const n = 40, want = new Float64Array(B * K);
      for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) {
        let acc = bias[k];
        for (let e = 0; e < E; e++) {
          let c = 0;
          for (let q = 0; q <= n; q++) c += s[(b * N + q) * E + e];
          acc += (W[k * E + e] * c) / (n + 1);
        }
        want[b * K + k] = acc;
      }
      check('spiking all_seq row 40 vs float64', all.subarray(n * B * K, (n + 1) * B * K), want);
      expect(countAllocations(core, () => model.forward(x)).count).toBe(0);
      model.testMode = 'normal';
      model.forward(x);
      expect(countAllocations(core, () => model.forward(x)).count).toBe(0);
      expect(() => model.forward(new Float32Array(7))).toThrow(ShapeError);
    } finally {
      a.dispose();
    }
  });
});

describe('psmnist_slmu: lmuformer_psmnist_spiking_small', () => {
  let file: SafetensorsFile;
  let config: PsMnistConfig;
  beforeAll(() => {
    file = loadFixture('lmuformer_psmnist_spiking_small.safetensors');
    const meta = checkpointMetadata(file)!;
    expect(meta.factory).toBe('psmnist_slmu');
    config = meta.config as PsMnistConfig;
  });

  it.each(MODES)('lmuMode %s: f_u and f_h spikes and margins, the memory and the logits', (mode) => {
    const a = core.arena();
    try {
      const model = PsMnistSLMU.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: mode, keepSpikes: true });
      const [B, L] = file.tensors.get('input')!.shape;
      const logits = model.forward(a.from(tensorOf(file, 'input'), [B, L, 1]));
      const lif = model.buffers(B).lif;
      for (const name of ['lmu_fft.f_u', 'lmu_fft.f_h']) {
        checkLif(`psmnist spiking ${name} (${mode})`, lif.get(name)!, tensorOf<Uint8Array>(file, `expected.${name}.spikes`), tensorOf(file, `expected.${name}.margin`));
      }
      check(`psmnist spiking memory (${mode})`, model.readMemory(B), tensorOf(file, 'expected.lmu_fft.memory'));
      check(`psmnist spiking logits (${mode})`, logits.f32, tensorOf(file, 'expected.logits'));
      const x = Float32Array.from(tensorOf(file, 'input'));
      expect(Array.from(model.forward(x).toArray())).toEqual(Array.from(logits.toArray()));
      expect(countAllocations(core, () => model.forward(x)).count).toBe(0);
    } finally {
      a.dispose();
    }
  });
});
