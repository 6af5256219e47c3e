// The non-spiking models against their golden fixtures (shared/fixtures/lmuformer_nonspiking_small and
// lmuformer_psmnist_nonspiking_small): logits and every expected.* intermediate within the README's tolerance
// max |got − expected| ≤ 1e-4 · max(1, max |expected|), in every LMU form, with and without BN folding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, ArgumentError, ShapeError, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import {
  LMUFormer, PsMnistLMU, cumulativeMean, checkpointMetadata, expectedStateDict, scv2Config, psmnistConfig,
  type LMUFormerConfig, type LMUMode, type PsMnistConfig,
} from '../src/index.js';
import { bcnToBnc, countAllocations, fixtureTol, loadFixture, maxErr, notStateDict, randomF32, tensorOf } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

/** Measured errors, printed at the end: name → [max |error|, tolerance]. */
const measured = new Map<string, [number, number]>();
afterAll(() => {
  for (const [k, [e, tol]] of measured) console.log(`${k}: max |error| ${e.toExponential(2)} (tolerance ${tol.toExponential(1)})`);
});

function check(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  const { err, scale } = maxErr(got, want);
  const tol = fixtureTol(scale);
  const prev = measured.get(label);
  if (!prev || err > prev[0]) measured.set(label, [err, tol]);
  expect(err, label).toBeLessThanOrEqual(tol);
}

const MODES: LMUMode[] = ['fft', 'fir', 'recurrent'];

describe('lmu_rnn_conv1d: lmuformer_nonspiking_small', () => {
  let file: SafetensorsFile;
  let config: LMUFormerConfig;
  beforeAll(() => {
    file = loadFixture('lmuformer_nonspiking_small.safetensors');
    const meta = checkpointMetadata(file)!;
    expect(meta.factory).toBe('lmu_rnn_conv1d');
    config = meta.config as LMUFormerConfig;
  });

  const cases = MODES.flatMap((mode) => [true, false].map((fold) => [mode, fold] as const));
  it.each(cases)('lmuMode %s, foldBatchNorm %s: logits and every intermediate within tolerance', (mode, fold) => {
    const a = core.arena();
    try {
      const model = LMUFormer.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: mode, foldBatchNorm: fold });
      const [B, N, Cin] = file.tensors.get('input')!.shape;
      const E = config.embed_dims;
      expect(model.testMode).toBe('normal');
      const logits = model.forward(a.from(tensorOf(file, 'input'), [B, N, Cin]));
      expect(logits.shape).toEqual([B, config.num_classes]);
      const sfx = `(${mode}${fold ? '' : ', unfolded'})`;
      check(`nonspiking logits ${sfx}`, logits.f32, tensorOf(file, 'expected.logits'));
      const ws = model.buffers(B);
      check(`nonspiking patch_embed ${sfx}`, ws.patchEmbed.f32, bcnToBnc(tensorOf(file, 'expected.patch_embed'), B, E, N));
      for (let j = 0; j < config.depths; j++) {
        const bb = ws.blocks[j], lmu = model.lmus[j];
        check(`nonspiking block.${j}.attn.lmu.u ${sfx}`, lmu.buffers(B, N).u.f32, tensorOf(file, `expected.block.${j}.attn.lmu.u`));
        check(`nonspiking block.${j}.attn.lmu.memory ${sfx}`, lmu.readMemory(B, N), tensorOf(file, `expected.block.${j}.attn.lmu.memory`));
        check(`nonspiking block.${j}.attn.lmu.h ${sfx}`, bb.h.f32, tensorOf(file, `expected.block.${j}.attn.lmu.h`));
        check(`nonspiking block.${j}.attn ${sfx}`, bb.attn.f32, bcnToBnc(tensorOf(file, `expected.block.${j}.attn`), B, E, N));
        check(`nonspiking block.${j}.mlp ${sfx}`, bb.mlp.f32, bcnToBnc(tensorOf(file, `expected.block.${j}.mlp`), B, E, N));
        check(`nonspiking block.${j} ${sfx}`, bb.out.f32, bcnToBnc(tensorOf(file, `expected.block.${j}`), B, E, N));
      }
      check(`nonspiking head_per_token ${sfx}`, ws.headPerToken.f32, tensorOf(file, 'expected.head_per_token'));
    } finally {
      a.dispose();
    }
  });

  it("test_mode 'all_seq': [N, B, classes], the cumulative mean of the features then the head; the last row is the 'normal' logits", () => {
    const a = core.arena();
    try {
      const model = LMUFormer.fromCheckpoint(a, file, { ...config, test_mode: 'all_seq' }, { ignore: notStateDict });
      const [B, N, Cin] = file.tensors.get('input')!.shape;
      const K = config.num_classes, E = config.embed_dims;
      const x = Float32Array.from(tensorOf(file, 'input'));
      const all = model.forward(x).toArray() as Float32Array;
      expect(model.buffers(B).logitsAllSeq.shape).toEqual([N, B, K]);
      // independent float64 recomputation from the expected block output: cumulative mean, then head
      const feats = bcnToBnc(tensorOf(file, `expected.block.${config.depths - 1}`), B, E, N);
      const W = tensorOf(file, 'head.weight'), bias = tensorOf(file, 'head.bias');
      const want = new Float64Array(N * B * K);
      let scale = 0;
      for (let b = 0; b < B; b++) {
        const acc = new Float64Array(E);
        for (let n = 0; n < N; n++) {
          for (let e = 0; e < E; e++) acc[e] += feats[(b * N + n) * E + e];
          for (let k = 0; k < K; k++) {
            let s = bias[k];
            for (let e = 0; e < E; e++) s += (W[k * E + e] * acc[e]) / (n + 1);
            want[(n * B + b) * K + k] = s;
            scale = Math.max(scale, Math.abs(s));
          }
        }
      }
      check('nonspiking all_seq logits', all, want);
      // the last prefix is the whole clip: head(mean x) = mean head(x) up to rounding
      check('nonspiking all_seq last row vs expected.logits', all.subarray((N - 1) * B * K), tensorOf(file, 'expected.logits'));
      model.testMode = 'normal';
      const normal = model.forward(x).toArray();
      const last = all.subarray((N - 1) * B * K);
      let d = 0;
      for (let i = 0; i < last.length; i++) d = Math.max(d, Math.abs(last[i] - normal[i]));
      expect(d).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    } finally {
      a.dispose();
    }
  });

  it('forward allocates nothing once a batch size is warmed up; batch sizes are independent', () => {
    const a = core.arena();
    try {
      const model = LMUFormer.fromCheckpoint(a, file, config, { ignore: notStateDict });
      const [B, N, Cin] = file.tensors.get('input')!.shape;
      const x = Float32Array.from(tensorOf(file, 'input'));
      const first = model.forward(x).toArray();
      expect(countAllocations(core, () => model.forward(x)).count).toBe(0);
      model.testMode = 'all_seq';
      expect(countAllocations(core, () => model.forward(x)).count).toBe(0);
      model.testMode = 'normal';
      // batch element 1 alone gives the same logits as in the batch of 2 (bit for bit: rows are independent)
      const one = model.forward(x.subarray(N * Cin)).toArray();
      expect(Array.from(one)).toEqual(Array.from(first.subarray(config.num_classes)));
      expect(Array.from(model.forward(x).toArray())).toEqual(Array.from(first));
      expect(model.buffers(1)).not.toBe(model.buffers(B));
    } finally {
      a.dispose();
    }
  });

  it('rejects inputs of the wrong shape', () => {
    const a = core.arena();
    try {
      const model = LMUFormer.fromCheckpoint(a, file, config, { ignore: notStateDict });
      expect(() => model.forward(a.tensor([1, 127, 16]))).toThrow(ShapeError);
      expect(() => model.forward(new Float32Array(128 * 16 + 1))).toThrow(ShapeError);
      expect(() => model.forward(a.tensor([1, 128, 15]))).toThrow(/\[B, 128, 16\]/);
    } finally {
      a.dispose();
    }
  });
});

describe('psmnist_lmu: lmuformer_psmnist_nonspiking_small', () => {
  let file: SafetensorsFile;
  let config: PsMnistConfig;
  beforeAll(() => {
    file = loadFixture('lmuformer_psmnist_nonspiking_small.safetensors');
    const meta = checkpointMetadata(file)!;
    expect(meta.factory).toBe('psmnist_lmu');
    config = meta.config as PsMnistConfig;
  });

  const cases = MODES.flatMap((mode) => [true, false].map((fold) => [mode, fold] as const));
  it.each(cases)('lmuMode %s, foldBatchNorm %s: logits, bn1, u, memory, h within tolerance (seq_len 96: FFT zero-padded to 128)', (mode, fold) => {
    const a = core.arena();
    try {
      const model = PsMnistLMU.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: mode, foldBatchNorm: fold });
      const [B, L] = file.tensors.get('input')!.shape;
      expect(model.lmu.memory.fftLength).toBe(128);
      const logits = model.forward(a.from(tensorOf(file, 'input'), [B, L, 1]));
      const sfx = `(${mode}${fold ? '' : ', unfolded'})`;
      check(`psmnist logits ${sfx}`, logits.f32, tensorOf(file, 'expected.logits'));
      const ws = model.buffers(B);
      check(`psmnist bn1 ${sfx}`, ws.bn1.f32, tensorOf(file, 'expected.bn1'));
      check(`psmnist lmu_fft.u ${sfx}`, model.lmu.buffers(B, L).u.f32, tensorOf(file, 'expected.lmu_fft.u'));
      check(`psmnist lmu_fft.memory ${sfx}`, model.lmu.readMemory(B, L), tensorOf(file, 'expected.lmu_fft.memory'));
      check(`psmnist lmu_fft.h ${sfx}`, ws.h.f32, tensorOf(file, 'expected.lmu_fft.h'));
    } finally {
      a.dispose();
    }
  });

  it('Float32Array input, no allocation after warm-up, wrong lengths rejected', () => {
    const a = core.arena();
    try {
      const model = PsMnistLMU.fromCheckpoint(a, file, config, { ignore: notStateDict });
      const x = Float32Array.from(tensorOf(file, 'input'));
      check('psmnist logits (Float32Array input)', model.forward(x).f32, tensorOf(file, 'expected.logits'));
      expect(countAllocations(core, () => model.forward(x)).count).toBe(0);
      expect(() => model.forward(new Float32Array(95))).toThrow(ShapeError);
      expect(() => model.forward(a.tensor([1, 96, 2]))).toThrow(ShapeError);
    } finally {
      a.dispose();
    }
  });
});

describe('published configurations', () => {
  /** Trainable parameters: every expected key except BN running statistics and the LMU buffers A, B, H. */
  const params = (sd: Map<string, number[]>) => {
    let n = 0;
    for (const [k, s] of sd) if (!/\.(running_mean|running_var|A|B|H)$/.test(k)) n += s.reduce((x, y) => x * y, 1);
    return n;
  };

  it('SCv2 lmu_rnn_conv1d has 1,621,796 parameters and psMNIST psmnist_lmu 166,798 (spec §2, §5)', () => {
    const c = scv2Config();
    expect([c.embed_dims, c.in_channels, c.depths, c.num_classes, c.mlp_ratios, c.num_heads, c.test_mode]).toEqual([256, 128, 1, 35, 4, 16, 'normal']);
    expect(params(expectedStateDict('lmu_rnn_conv1d', c))).toBe(1_621_796);
    const p = psmnistConfig();
    expect([p.memory_size, p.theta, p.hidden_size, p.seq_len, p.output_size]).toEqual([468, 784, 346, 784, 10]);
    expect(params(expectedStateDict('psmnist_lmu', p))).toBe(166_798);
    expect(params(expectedStateDict('psmnist_slmu', p))).toBe(166_092);
    expect(params(expectedStateDict('slmu_rnn_ms_conv1d', c))).toBe(1_689_894);
  });

  it('an SCv2-sized model runs (random weights, computed LMU buffers): fft, fir and recurrent agree', () => {
    const a = core.arena();
    try {
      const c = scv2Config();
      const sd = new Map<string, Float32Array>();
      let seed = 1;
      for (const [k, s] of expectedStateDict('lmu_rnn_conv1d', c)) {
        if (/\.(A|B|H)$/.test(k)) continue; // computed from (order, theta)
        const n = s.reduce((x, y) => x * y, 1);
        const fan = s.length > 1 ? s.slice(1).reduce((x, y) => x * y, 1) : 1;
        if (k.endsWith('running_var')) sd.set(k, randomF32(n, seed++, 0.5, 2));
        else if (k.endsWith('.weight') && s.length === 1) sd.set(k, randomF32(n, seed++, 0.5, 1.5));
        else sd.set(k, randomF32(n, seed++, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)));
      }
      sd.set('block.0.attn.lmu.W_u.bias', Float32Array.of(0.5)); // keep u = ReLU(W_u x + b) mostly positive
      const model = new LMUFormer(a, c, sd);
      const x = randomF32(128 * 128, 77, -1, 1);
      const ref = model.forward(x).toArray();
      expect(ref.every(Number.isFinite)).toBe(true);
      const u = model.lmus[0].buffers(1, 128).u.f32;
      expect(u.filter((v) => v > 0).length).toBeGreaterThan(32);
      for (const mode of ['fir', 'recurrent'] as const) {
        model.lmuMode = mode;
        const got = model.forward(x).toArray();
        const { err, scale } = maxErr(got, ref);
        measured.set(`SCv2-size logits ${mode} vs fft`, [err, 1e-4 * Math.max(1, scale)]);
        expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      }
    } finally {
      a.dispose();
    }
  });

  it('the published psMNIST model runs (seq_len 784: FFT zero-padded to 1024); fft, fir and recurrent agree', () => {
    const a = core.arena();
    try {
      const c = psmnistConfig();
      const sd = new Map<string, Float32Array>();
      let seed = 100;
      for (const [k, s] of expectedStateDict('psmnist_lmu', c)) {
        if (/\.(A|B|H)$/.test(k)) continue;
        const n = s.reduce((x, y) => x * y, 1);
        const fan = s.length > 1 ? s.slice(1).reduce((x, y) => x * y, 1) : 1;
        if (k.endsWith('running_var')) sd.set(k, randomF32(n, seed++, 0.5, 2));
        else sd.set(k, randomF32(n, seed++, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)));
      }
      sd.set('lmu_fft.W_u.bias', Float32Array.of(0.5));
      const model = new PsMnistLMU(a, c, sd);
      expect(model.lmu.memory.fftLength).toBe(1024);
      const x = randomF32(2 * 784, 5, 0, 1);
      const ref = model.forward(x).toArray();
      expect(model.lmu.buffers(2, 784).u.f32.filter((v) => v > 0).length).toBeGreaterThan(100);
      for (const mode of ['fir', 'recurrent'] as const) {
        model.lmu.mode = mode;
        const { err, scale } = maxErr(model.forward(x).toArray(), ref);
        measured.set(`psMNIST-size logits ${mode} vs fft`, [err, 1e-4 * Math.max(1, scale)]);
        expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      }
    } finally {
      a.dispose();
    }
  });

  it('configs are validated with the official argument names', () => {
    expect(() => scv2Config({ embed_dims: 30, num_heads: 16 })).toThrow(ArgumentError);
    expect(() => scv2Config({ depths: 0 })).toThrow(/depths/);
    expect(() => scv2Config({ test_mode: 'recurrent' as 'normal' })).toThrow(/test_mode/);
    expect(() => psmnistConfig({ theta: 0 })).toThrow(/theta/);
    expect(scv2Config({ embed_dims: undefined }).embed_dims).toBe(256);
  });

  it('cumulativeMean follows torch.cumsum then ÷ n in float32', () => {
    const a = core.arena();
    try {
      const B = 2, N = 5, C = 3;
      const xs = randomF32(B * N * C, 4, -1, 1);
      const out = cumulativeMean(a.from(xs, [B, N, C]), a.tensor([N, B, C]));
      for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let n = 0; n < N; n++) {
          acc = Math.fround(acc + xs[(b * N + n) * C + c]);
          expect(out.f32[(n * B + b) * C + c]).toBe(Math.fround(acc / (n + 1)));
        }
      }
    } finally {
      a.dispose();
    }
  });
});
