// Streaming inference (model.stream()) against the parallel models, over the fixtures' inputs (batch 2):
// - SCv2 models: the prefix logits of EVERY frame equal row n of the parallel `all_seq` output bit for bit (same LMU
//   form: 'fir', the default, and 'recurrent'), and within float32 rounding of the parallel 'fft' form; for the
//   spiking model every LIF layer's spikes equal the parallel ones; the look-ahead is exactly 5 frames; flush() is the
//   zero padding of every conv in its own input domain (equal to the parallel forward on utterances of any length,
//   not to zero fbank frames); chunked pushing equals single-frame pushing; reset / flush start clean utterances;
//   no Wasm allocation per step.
// - psMNIST models: h_t at every step, the logits after the last pixel bit for bit, and intermediate logits bit for
//   bit against a float32 re-computation with the GEMM's summation order.
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, ArgumentError, ShapeError, type Core, type SafetensorsFile, type Tensor } from '@spikewasm/core-wasm';
import {
  LMUFormer, SpikingLMUFormer, PsMnistLMU, PsMnistSLMU, LMUFORMER_LOOKAHEAD, LMUMemory, checkpointMetadata, expectedStateDict,
  scv2Config, psmnistConfig,
  type LMUFormerConfig, type PsMnistConfig, type LMUFormerStream, type SpikingLMUFormerStream, type StreamSpikes,
} from '../src/index.js';
import { countAllocations, loadFixture, maxErr, notStateDict, randomF32, tensorOf } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const notes: string[] = [];
afterAll(() => {
  for (const n of notes) console.log(n);
});

/** Asserts that two float arrays are equal bit for bit (reports the first difference). */
function expectBitwise(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const g = new Float32Array(got), w = new Float32Array(want);
  const gb = new Uint32Array(g.buffer), wb = new Uint32Array(w.buffer);
  let first = -1, count = 0;
  for (let i = 0; i < gb.length; i++) {
    if (gb[i] !== wb[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  expect(first < 0 ? 'bitwise equal' : `${count} differences, first at ${first}: got ${g[first]}, want ${w[first]}`, label).toBe('bitwise equal');
}

/** Frame n of x [B, N, C] as [B, C]. */
function frameOf(x: Float32Array, B: number, N: number, C: number, n: number): Float32Array {
  const f = new Float32Array(B * C);
  for (let b = 0; b < B; b++) f.set(x.subarray((b * N + n) * C, (b * N + n + 1) * C), b * C);
  return f;
}

/** Frames n0 .. n0 + T − 1 of x [B, N, C], time-major [T, B, C]. */
function framesOf(x: Float32Array, B: number, N: number, C: number, n0: number, T: number): Float32Array {
  const f = new Float32Array(T * B * C);
  for (let t = 0; t < T; t++) f.set(frameOf(x, B, N, C, n0 + t), t * B * C);
  return f;
}

/** The first `frames` frames of x [B, N, C] as [B, frames, C]. */
function prefixOf(x: Float32Array, B: number, N: number, C: number, frames: number): Float32Array {
  const f = new Float32Array(B * frames * C);
  for (let b = 0; b < B; b++) f.set(x.subarray(b * N * C, (b * N + frames) * C), b * frames * C);
  return f;
}

type AnyStream = LMUFormerStream | SpikingLMUFormerStream;

/**
 * Streams `frames` frames of x [B, N, C] (single pushes, or chunks of the given sizes), then flushes. Returns the
 * prefix logits [frames, B, K] in frame order, checking that each output arrives exactly 5 frames after its frame.
 */
function runStream(s: AnyStream, x: Float32Array, B: number, N: number, C: number, K: number, frames = N, chunks?: number[]): Float32Array {
  const out = new Float32Array(frames * B * K);
  let next = 0;
  const take = (t: Tensor) => {
    const k = t.shape.length === 3 ? t.shape[0] : 1;
    out.set(t.f32.subarray(0, k * B * K), next * B * K);
    next += k;
  };
  if (!chunks) {
    for (let n = 0; n < frames; n++) {
      const l = s.push(frameOf(x, B, N, C, n));
      if (n < LMUFORMER_LOOKAHEAD) {
        expect(l).toBeNull();
      } else {
        expect(l!.shape).toEqual([B, K]);
        expect(next).toBe(n - LMUFORMER_LOOKAHEAD);
        take(l!);
      }
      expect(s.framesOut).toBe(next);
      expect(s.framesIn).toBe(n + 1);
    }
  } else {
    let n = 0;
    for (const T of chunks) {
      if (n >= frames) break;
      const t = Math.min(T, frames - n);
      const l = s.pushChunk(framesOf(x, B, N, C, n, t));
      n += t;
      expect(l.shape).toEqual([Math.max(0, n - LMUFORMER_LOOKAHEAD) - next, B, K]);
      take(l);
    }
    expect(n).toBe(frames);
  }
  const last = s.flush();
  expect(last.shape).toEqual([frames - next, B, K]);
  expect(last.shape[0]).toBe(Math.min(frames, LMUFORMER_LOOKAHEAD));
  take(last);
  expect(next).toBe(frames);
  expect(s.framesOut).toBe(frames);
  return out;
}

describe.each([
  ['lmu_rnn_conv1d', 'lmuformer_nonspiking_small.safetensors'],
  ['slmu_rnn_ms_conv1d', 'lmuformer_spiking_small.safetensors'],
] as const)('%s stream (%s, batch 2)', (factory, fixture) => {
  let file: SafetensorsFile;
  let config: LMUFormerConfig;
  let x: Float32Array;
  let B: number, N: number, C: number, K: number;
  const spiking = factory === 'slmu_rnn_ms_conv1d';
  beforeAll(() => {
    file = loadFixture(fixture);
    const meta = checkpointMetadata(file)!;
    expect(meta.factory).toBe(factory);
    config = { ...(meta.config as LMUFormerConfig), test_mode: 'all_seq' };
    x = Float32Array.from(tensorOf(file, 'input'));
    [B, N, C] = file.tensors.get('input')!.shape;
    K = config.num_classes;
    expect(B).toBe(2);
  });

  const build = (arena: ReturnType<Core['arena']>, lmuMode: 'fft' | 'fir' | 'recurrent', keepSpikes = false, foldBatchNorm = true) =>
    spiking
      ? SpikingLMUFormer.fromCheckpoint(arena, file, config, { ignore: notStateDict, lmuMode, keepSpikes, foldBatchNorm })
      : LMUFormer.fromCheckpoint(arena, file, config, { ignore: notStateDict, lmuMode, foldBatchNorm });

  it.each([
    ['fir', true], ['fir', false], ['recurrent', true],
  ] as const)("lmuMode '%s' (foldBatchNorm %s): every frame's prefix logits equal the parallel all_seq row, bit for bit", (mode, fold) => {
    const a = core.arena();
    try {
      const model = build(a, mode, false, fold);
      const want = model.forward(x).toArray();
      expect(want.length).toBe(N * B * K);
      const s = model.stream(B, { lmuMode: mode });
      expect(s.lookahead).toBe(5);
      expectBitwise(`stream (${mode}) vs parallel all_seq`, runStream(s, x, B, N, C, K), want);
    } finally {
      a.dispose();
    }
  });

  it("the default 'fir' stream vs the parallel model's default 'fft' form: within float32 rounding", () => {
    const a = core.arena();
    try {
      const model = build(a, 'fft');
      const want = model.forward(x).toArray();
      const got = runStream(model.stream(B), x, B, N, C, K);
      const { err, scale } = maxErr(got, want);
      notes.push(`${factory}: stream (fir) vs parallel fft, all ${N} prefixes × ${B}: max |Δ| ${err.toExponential(2)} (max |logit| ${scale.toFixed(2)})`);
      expect(err).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    } finally {
      a.dispose();
    }
  });

  it('chunked pushing equals single-frame pushing, bit for bit, for any chunking', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const want = model.forward(x).toArray();
      for (const chunks of [[N], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18], [40, 40, 40, 8], [5, 123], [64, 64]]) {
        const s = model.stream(B, { maxChunk: Math.max(...chunks) });
        expectBitwise(`chunks ${chunks.join(',')}`, runStream(s, x, B, N, C, K, N, chunks), want);
      }
      // chunks after single frames, on one stream
      const s = model.stream(B, { maxChunk: 32 });
      expectBitwise('mixed chunks', runStream(s, x, B, N, C, K, N, [1, 1, 1, 32, 7, 1, 32, 32, 21]), want);
      expect(() => s.pushChunk(framesOf(x, B, N, C, 0, 33))).toThrow(/maxChunk/);
    } finally {
      a.dispose();
    }
  });

  it('flush() after fewer frames equals the parallel forward on that utterance (zero padding in every layer), for every length tried', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const s = model.stream(B);
      for (const frames of [1, 2, 4, 5, 6, 17, 40, 100, 127]) {
        const want = model.forwardUtterance(prefixOf(x, B, N, C, frames), frames).toArray();
        expect(want.length).toBe(frames * B * K);
        expectBitwise(`utterance of ${frames} frames`, runStream(s, x, B, N, C, K, frames), want);
        expect(s.flush().shape).toEqual([0, B, K]); // a second flush has nothing left
      }
      // an empty utterance flushes nothing
      s.reset();
      expect(s.flush().shape[0]).toBe(0);
    } finally {
      a.dispose();
    }
  });

  it('flush() is not the same as feeding zero fbank frames (the padding is in each layer’s own input domain)', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const want = model.forward(x).toArray();
      const s = model.stream(B);
      for (let n = 0; n < N; n++) s.push(frameOf(x, B, N, C, n));
      const zeros: Float32Array[] = [];
      for (let i = 0; i < LMUFORMER_LOOKAHEAD; i++) zeros.push(s.push(new Float32Array(B * C))!.toArray() as Float32Array);
      const tail = want.subarray((N - LMUFORMER_LOOKAHEAD) * B * K);
      // the first of them is exact only where the zero frame cannot reach; the last rows differ
      let differ = 0;
      for (let i = 0; i < LMUFORMER_LOOKAHEAD; i++) {
        const w = tail.subarray(i * B * K, (i + 1) * B * K);
        if (zeros[i].some((v, j) => v !== w[j])) differ++;
      }
      expect(differ).toBeGreaterThan(0);
      notes.push(`${factory}: zero fbank frames instead of flush() change ${differ} of the last 5 prefixes`);
    } finally {
      a.dispose();
    }
  });

  it('reset() between utterances, and the push after flush(), start clean: the same outputs as a fresh stream', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const fresh = runStream(model.stream(B), x, B, N, C, K);
      const s = model.stream(B);
      // an unrelated partial utterance, then reset
      const other = randomF32(B * N * C, 9, -1, 1);
      for (let n = 0; n < 50; n++) s.push(frameOf(other, B, N, C, n));
      s.reset();
      expect(s.framesIn).toBe(0);
      expectBitwise('after reset', runStream(s, x, B, N, C, K), fresh);
      // flushed utterance, then the next one starts without reset
      runStream(s, other, B, N, C, K, 77);
      expectBitwise('after flush', runStream(s, x, B, N, C, K), fresh);
      s.resetNet();
      expectBitwise('after resetNet', runStream(s, x, B, N, C, K), fresh);
    } finally {
      a.dispose();
    }
  });

  it('a step allocates no Wasm memory once the stream exists (push, pushChunk, flush, reset)', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      for (const mode of ['fir', 'recurrent'] as const) {
        const s = model.stream(B, { lmuMode: mode, maxChunk: 16 });
        const { count } = countAllocations(core, () => {
          runStream(s, x, B, N, C, K);
          runStream(s, x, B, N, C, K, N, [16, 3, 16, 16, 16, 16, 16, 16, 13]);
          s.reset();
        });
        expect(count, mode).toBe(0);
      }
    } finally {
      a.dispose();
    }
  });

  it('batch elements are independent: batch 1 streams give the batch-2 rows bit for bit; Tensor inputs work too', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const both = runStream(model.stream(B), x, B, N, C, K);
      for (let b = 0; b < B; b++) {
        const xb = x.slice(b * N * C, (b + 1) * N * C);
        const one = runStream(model.stream(1), xb, 1, N, C, K);
        const want = new Float32Array(N * K);
        for (let n = 0; n < N; n++) want.set(both.subarray((n * B + b) * K, (n * B + b + 1) * K), n * K);
        expectBitwise(`sequence ${b} alone`, one, want);
      }
      const s = model.stream(B);
      const t = a.tensor([B, C]);
      for (let n = 0; n < 6; n++) {
        t.f32.set(frameOf(x, B, N, C, n));
        const l = s.push(t);
        if (n === 5) expectBitwise('Tensor push', l!.f32, both.subarray(0, B * K));
      }
    } finally {
      a.dispose();
    }
  });

  it('streams past 128 frames (no parallel counterpart): the first 128 prefixes are unchanged; fir slides its window, recurrent keeps the IIR', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const want = model.forward(x).toArray();
      const long = new Float32Array(B * 300 * C);
      for (let b = 0; b < B; b++) for (let n = 0; n < 300; n++) long.set(x.subarray((b * N + (n % N)) * C, (b * N + (n % N) + 1) * C), (b * 300 + n) * C);
      const fir = runStream(model.stream(B, { maxChunk: 64 }), long, B, 300, C, K, 300, [64, 64, 64, 64, 44]);
      const rec = runStream(model.stream(B, { lmuMode: 'recurrent' }), long, B, 300, C, K);
      expectBitwise('first 128 prefixes of a 300-frame stream', fir.subarray(0, (N - LMUFORMER_LOOKAHEAD) * B * K), want.subarray(0, (N - LMUFORMER_LOOKAHEAD) * B * K));
      expect(fir.every(Number.isFinite) && rec.every(Number.isFinite)).toBe(true);
      const early = maxErr(rec.subarray(0, N * B * K / 2), fir.subarray(0, N * B * K / 2)).err;
      expect(early).toBeLessThanOrEqual(1e-4);
    } finally {
      a.dispose();
    }
  });

  it('rejects bad inputs and options', () => {
    const a = core.arena();
    try {
      const model = build(a, 'fir');
      const s = model.stream(B);
      expect(() => s.push(new Float32Array(B * C + 1))).toThrow(ShapeError);
      expect(() => s.push(a.tensor([B, C + 1]))).toThrow(ShapeError);
      expect(() => s.push(a.tensor([1, B, C]))).toThrow(ShapeError);
      expect(() => s.pushChunk(new Float32Array(B * C * 2 + 1))).toThrow(ShapeError);
      expect(() => s.pushChunk(a.tensor([2, B + 1, C]))).toThrow(ShapeError);
      expect(() => model.stream(0)).toThrow(ArgumentError);
      expect(() => model.stream(1, { lmuMode: 'fft' as 'fir' })).toThrow(/lmuMode/);
      expect(() => model.stream(1, { maxChunk: 0 })).toThrow(/maxChunk/);
      expect(() => model.forwardUtterance(x, 129)).toThrow(ArgumentError);
      expect(s.framesIn).toBe(0);
    } finally {
      a.dispose();
    }
  });
});

describe('slmu_rnn_ms_conv1d stream: spikes (lmuformer_spiking_small.safetensors)', () => {
  let file: SafetensorsFile;
  let config: LMUFormerConfig;
  let x: Float32Array;
  let B: number, N: number, C: number, K: number;
  beforeAll(() => {
    file = loadFixture('lmuformer_spiking_small.safetensors');
    config = { ...(checkpointMetadata(file)!.config as LMUFormerConfig), test_mode: 'all_seq' };
    x = Float32Array.from(tensorOf(file, 'input'));
    [B, N, C] = file.tensors.get('input')!.shape;
    K = config.num_classes;
  });

  it('every LIF layer fires exactly as in the parallel model (spikes equal at every frame, batch 2)', () => {
    const a = core.arena();
    try {
      const model = SpikingLMUFormer.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: 'fir', keepSpikes: true });
      model.forward(x);
      const want = model.lifLayers(B);
      const got = new Map<string, Float32Array>();
      const seen = new Map<string, number>();
      const onSpikes = (e: StreamSpikes) => {
        const rec = want.get(e.layer);
        expect(rec, e.layer).toBeDefined();
        const Cl = rec!.spikes.shape[2];
        let g = got.get(e.layer);
        if (!g) got.set(e.layer, (g = new Float32Array(B * N * Cl).fill(-1)));
        const v = e.spikes.f32;
        if (e.batchIndex >= 0) {
          const T = e.spikes.shape[0];
          for (let t = 0; t < T; t++) g.set(v.subarray(t * Cl, (t + 1) * Cl), (e.batchIndex * N + e.frame + t) * Cl);
        } else {
          const T = e.spikes.shape[0];
          for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) g.set(v.subarray((t * B + b) * Cl, (t * B + b + 1) * Cl), (b * N + e.frame + t) * Cl);
        }
        seen.set(e.layer, (seen.get(e.layer) ?? 0) + 1);
      };
      const s = model.stream(B, { onSpikes });
      runStream(s, x, B, N, C, K);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      const rates: string[] = [];
      for (const [name, rec] of want) {
        expectBitwise(`${name} spikes`, got.get(name)!, rec.spikes.f32);
        const w = rec.spikes.f32;
        rates.push(`${name} ${((100 * w.reduce((p, q) => p + q, 0)) / w.length).toFixed(0)}%`);
      }
      notes.push(`slmu_rnn_ms_conv1d: all ${want.size} LIF layers equal at every frame; firing rates ${rates.join(', ')}`);
    } finally {
      a.dispose();
    }
  });

});

/** Random SCv2-shaped weights with plausible BN statistics (running_var ∈ [0.5, 2], BN weight ∈ [0.5, 1.5]). */
function randomStateDict(factory: 'lmu_rnn_conv1d' | 'slmu_rnn_ms_conv1d', c: LMUFormerConfig, seed: number): Map<string, Float32Array> {
  const sd = new Map<string, Float32Array>();
  const shapes = expectedStateDict(factory, c);
  const bnPrefixes = new Set([...shapes.keys()].filter((k) => k.endsWith('.running_var')).map((k) => k.slice(0, -'.running_var'.length)));
  for (const [k, s] of shapes) {
    if (/\.(A|B|H)$/.test(k)) continue; // computed from (order, theta)
    const n = s.reduce((p, q) => p * q, 1);
    const fan = s.length > 1 ? s.slice(1).reduce((p, q) => p * q, 1) : 1;
    const bn = bnPrefixes.has(k.slice(0, k.lastIndexOf('.')));
    if (bn && k.endsWith('running_var')) sd.set(k, randomF32(n, seed++, 0.5, 2));
    else if (bn && k.endsWith('running_mean')) sd.set(k, randomF32(n, seed++, -0.2, 0.2));
    else if (bn && k.endsWith('weight')) sd.set(k, randomF32(n, seed++, 0.5, 1.5));
    else if (bn && k.endsWith('bias')) sd.set(k, randomF32(n, seed++, spiking(factory) ? 0.3 : -0.1, spiking(factory) ? 0.9 : 0.1));
    else sd.set(k, randomF32(n, seed++, -Math.sqrt(3 / fan), Math.sqrt(3 / fan)));
  }
  if (factory === 'lmu_rnn_conv1d') sd.set('block.0.attn.lmu.W_u.bias', Float32Array.of(0.5));
  return sd;
}
const spiking = (f: string) => f === 'slmu_rnn_ms_conv1d';

describe('published SCv2 size (embed_dims 256, in_channels 128; random weights, computed LMU buffers), batch 1', () => {
  it.each(['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d'] as const)('%s: streaming == parallel fir all_seq on every frame, bit for bit', (factory) => {
    const a = core.arena();
    try {
      const c = scv2Config({ test_mode: 'all_seq' });
      const sd = randomStateDict(factory, c, factory.length);
      const model = spiking(factory) ? new SpikingLMUFormer(a, c, sd, { lmuMode: 'fir' }) : new LMUFormer(a, c, sd, { lmuMode: 'fir' });
      const stream = (opts: { maxChunk?: number; onSpikes?: (e: StreamSpikes) => void }) =>
        model instanceof SpikingLMUFormer ? model.stream(1, opts) : model.stream(1, opts);
      const xs = randomF32(128 * 128, 77, -1, 1);
      const want = model.forward(xs).toArray();
      expect(want.every(Number.isFinite)).toBe(true);
      const ones = new Map<string, [number, number]>();
      const onSpikes = (e: StreamSpikes) => {
        const v = e.spikes.f32, r = ones.get(e.layer) ?? [0, 0];
        for (let i = 0; i < v.length; i++) r[0] += v[i];
        r[1] += v.length;
        ones.set(e.layer, r);
      };
      const got = runStream(stream({ onSpikes }), xs, 1, 128, 128, 35);
      expectBitwise(`${factory} SCv2 size`, got, want);
      if (spiking(factory)) {
        expect(ones.size).toBe(11);
        const rates = [...ones].map(([k, [s1, n]]) => [k, s1 / n] as const);
        for (const [k, r] of rates) expect(r, k).toBeGreaterThan(0.001);
        for (const [k, r] of rates) expect(r, k).toBeLessThan(0.99);
        notes.push(`slmu_rnn_ms_conv1d (SCv2 size, random): firing rates ${rates.map(([k, r]) => `${k.replace(/^.*\./, '')} ${(100 * r).toFixed(1)}%`).join(', ')}`);
      }
      const chunked = runStream(stream({ maxChunk: 32 }), xs, 1, 128, 128, 35, 128, [32, 32, 32, 32]);
      expectBitwise(`${factory} SCv2 size, chunks of 32`, chunked, want);
    } finally {
      a.dispose();
    }
  });
});

/** Bytes in V8's new space (where short-lived garbage is allocated; JIT code and feedback go to other spaces). */
function newSpaceUsed(): number {
  for (const sp of v8.getHeapSpaceStatistics()) if (sp.space_name === 'new_space') return sp.space_used_size;
  throw new Error('no new_space in v8.getHeapSpaceStatistics()');
}

/**
 * Bytes of JS heap allocated per call of push (reps calls after `setup` and a full GC): the growth of the new space,
 * the median of 7 trials, minus the same measurement of an empty function (the statistics objects themselves).
 * Node 20's v8.getHeapStatistics() has no total_allocated_bytes, and heapUsed also counts the optimized code and
 * feedback that V8 installs whenever a concurrent compile finishes (seen: up to 6 KiB/frame of noise), hence the
 * new space alone. A scavenge during a trial would lower its figure; none happens (reps · 16 KiB ≪ the new space).
 */
function heapPerFrame(setup: () => void, push: () => void, reps: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  const median = (fn: () => void, before: () => void) => {
    const trials: number[] = [];
    for (let trial = 0; trial < 7; trial++) {
      before();
      gc();
      const h0 = newSpaceUsed();
      for (let i = 0; i < reps; i++) fn();
      trials.push(newSpaceUsed() - h0);
    }
    return trials.sort((p, q) => p - q)[3];
  };
  const empty = median(() => {}, () => {});
  return (median(push, setup) - empty) / reps;
}

describe('zero JS allocation per streamed frame once warmed up (published SCv2 size, random weights)', () => {
  // Bound: 64 bytes per frame (a few small objects). The pipeline creates no arrays, views or options objects per
  // frame (ops check shapes with loops, every view and options object is made at construction); measured now: 0–16 B.
  // Before the change: 6.5–16 KiB per frame, so the test fails on that code.
  const BOUND = 64;
  it.each([
    ['lmu_rnn_conv1d', 'fir'], ['lmu_rnn_conv1d', 'recurrent'], ['slmu_rnn_ms_conv1d', 'fir'], ['slmu_rnn_ms_conv1d', 'recurrent'],
  ] as const)('%s, lmuMode %s: push(frame) allocates < 64 B of JS heap per frame, before and after frame 128', (factory, mode) => {
    const a = core.arena();
    try {
      const c = scv2Config({ test_mode: 'all_seq' });
      const sd = randomStateDict(factory, c, factory.length);
      const model = spiking(factory) ? new SpikingLMUFormer(a, c, sd, { lmuMode: 'fir' }) : new LMUFormer(a, c, sd, { lmuMode: 'fir' });
      const s = model instanceof SpikingLMUFormer ? model.stream(1, { lmuMode: mode }) : model.stream(1, { lmuMode: mode });
      const frames = Array.from({ length: 16 }, (_, i) => randomF32(128, 100 + i, -1, 1));
      let k = 0;
      const push = () => { s.push(frames[k++ & 15]); };
      const from = (n: number) => () => { s.reset(); k = 0; for (let i = 0; i < n; i++) push(); };
      for (let r = 0; r < 2; r++) from(200)(); // warm-up: JIT tier-up, every cached view made, the FIR window wrapped
      const early = heapPerFrame(from(8), push, 32); // frames 8 .. 39: past the look-ahead, the FIR window filling
      const late = heapPerFrame(from(140), push, 32); // frames 140 .. 171: the sliding window
      notes.push(`${factory} stream (${mode}): JS heap ${early.toFixed(1)} B/frame (frames 8–39), ${late.toFixed(1)} B/frame (frames 140–171)`);
      expect(early, 'frames 8–39').toBeLessThan(BOUND);
      expect(late, 'frames 140–171').toBeLessThan(BOUND);
    } finally {
      a.dispose();
    }
  });
});

describe('bounds between the LMU forms (stream vs parallel, every prefix): measured and checked', () => {
  it.each(['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d'] as const)('%s: fixture and SCv2-size models, stream fir/recurrent vs parallel fft/fir/recurrent', (factory) => {
    const a = core.arena();
    try {
      const file = loadFixture(factory === 'lmu_rnn_conv1d' ? 'lmuformer_nonspiking_small.safetensors' : 'lmuformer_spiking_small.safetensors');
      const fc = { ...(checkpointMetadata(file)!.config as LMUFormerConfig), test_mode: 'all_seq' as const };
      const big = scv2Config({ test_mode: 'all_seq' });
      const cases = [
        { label: 'fixture', c: fc, sd: loadSd(file), x: Float32Array.from(tensorOf(file, 'input')), B: 2, C: fc.in_channels },
        { label: 'SCv2 size', c: big, sd: randomStateDict(factory, big, factory.length), x: randomF32(128 * 128, 77, -1, 1), B: 1, C: 128 },
      ];
      for (const { label, c, sd, x, B, C } of cases) {
        const model = spiking(factory) ? new SpikingLMUFormer(a, c, sd) : new LMUFormer(a, c, sd);
        const par: Record<string, Float32Array> = {};
        for (const mode of ['fft', 'fir', 'recurrent'] as const) {
          model.lmuMode = mode;
          par[mode] = model.forward(x).toArray() as Float32Array;
        }
        const row: string[] = [];
        for (const sm of ['fir', 'recurrent'] as const) {
          const got = runStream(model.stream(B, { lmuMode: sm }), x, B, 128, C, c.num_classes);
          for (const pm of ['fft', 'fir', 'recurrent'] as const) {
            const { err, scale } = maxErr(got, par[pm]);
            if (sm === pm) expect(err, `${label} stream ${sm} vs parallel ${pm}`).toBe(0);
            else expect(err, `${label} stream ${sm} vs parallel ${pm}`).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
            row.push(`${sm}/${pm} ${err.toExponential(1)}`);
          }
        }
        notes.push(`${factory} ${label}: max |Δ prefix logits| stream/parallel: ${row.join(', ')}`);
      }
    } finally {
      a.dispose();
    }
  });
});

/** A fixture's state dict (the weights only). */
function loadSd(file: SafetensorsFile): Map<string, Float32Array> {
  const sd = new Map<string, Float32Array>();
  for (const [k, t] of file.tensors) if (!notStateDict(k)) sd.set(k, t.data as Float32Array);
  return sd;
}

describe('LMUMemoryStepper.stepMany', () => {
  it.each(['fir', 'recurrent'] as const)('%s: equals step() bit for bit, also past the FIR window', (mode) => {
    const a = core.arena();
    try {
      const mem = new LMUMemory(a, { order: 24, theta: 16, seqLen: 16 });
      const Bq = 3, T = 40, u = randomF32(T * Bq, 3, 0, 1);
      const s1 = mem.stepper(Bq, mode), s2 = mem.stepper(Bq, mode);
      const ut = a.tensor([Bq]), mt = a.tensor([Bq, 24]);
      const want = new Float32Array(T * Bq * 24);
      for (let t = 0; t < T; t++) {
        ut.f32.set(u.subarray(t * Bq, (t + 1) * Bq));
        s1.step(ut, mt);
        want.set(mt.f32, t * Bq * 24);
      }
      const got = new Float32Array(T * Bq * 24);
      let t0 = 0;
      for (const n of [1, 5, 10, 3, 11, 10]) {
        const uc = a.from(u.subarray(t0 * Bq, (t0 + n) * Bq), [n, Bq]), out = a.tensor([n, Bq, 30]);
        s2.stepMany(uc, out);
        for (let i = 0; i < n * Bq; i++) got.set(out.f32.subarray(i * 30, i * 30 + 24), (t0 * Bq + i) * 24);
        t0 += n;
      }
      expect(t0).toBe(T);
      expect(s2.t).toBe(T);
      expectBitwise(`stepMany (${mode})`, got, want);
    } finally {
      a.dispose();
    }
  });
});

/** out = x Wᵀ + b for one row, in float32 with the GEMM's order (ascending k, mul then add, bias last). */
function gemvF32(xv: ArrayLike<number>, W: ArrayLike<number>, bias: ArrayLike<number>, N: number, Kd: number): Float32Array {
  const f = Math.fround, out = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let k = 0; k < Kd; k++) acc = f(acc + f(xv[k] * W[n * Kd + k]));
    out[n] = f(acc + bias[n]);
  }
  return out;
}

describe.each([
  ['psmnist_lmu', 'lmuformer_psmnist_nonspiking_small.safetensors'],
  ['psmnist_slmu', 'lmuformer_psmnist_spiking_small.safetensors'],
] as const)('%s stream (%s, batch 2)', (factory, fixture) => {
  let file: SafetensorsFile;
  let config: PsMnistConfig;
  let x: Float32Array;
  let B: number, L: number;
  const isSpiking = factory === 'psmnist_slmu';
  beforeAll(() => {
    file = loadFixture(fixture);
    const meta = checkpointMetadata(file)!;
    expect(meta.factory).toBe(factory);
    config = meta.config as PsMnistConfig;
    x = Float32Array.from(tensorOf(file, 'input'));
    [B, L] = file.tensors.get('input')!.shape;
  });

  it.each(['fir', 'recurrent'] as const)("lmuMode '%s': h_t at every step and the logits after the last pixel equal the parallel forward bit for bit; intermediate logits too", (mode) => {
    const a = core.arena();
    try {
      const model = isSpiking
        ? PsMnistSLMU.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: mode })
        : PsMnistLMU.fromCheckpoint(a, file, config, { ignore: notStateDict, lmuMode: mode });
      const want = model.forward(x).toArray();
      const H = config.hidden_size, Kc = config.output_size;
      const hPar = model.buffers(B).h.f32;
      const s = model.stream(B, { lmuMode: mode });
      const W = tensorOf(file, 'classifier.weight'), bias = tensorOf(file, 'classifier.bias');
      const acc = new Float32Array(B * H);
      let logits: Tensor | null = null;
      for (let t = 0; t < L; t++) {
        const px = new Float32Array(B);
        for (let b = 0; b < B; b++) px[b] = x[b * L + t];
        logits = s.push(px);
        expect(s.steps).toBe(t + 1);
        const hWant = new Float32Array(B * H);
        for (let b = 0; b < B; b++) hWant.set(hPar.subarray((b * L + t) * H, (b * L + t + 1) * H), b * H);
        expectBitwise(`h_${t}`, s.h.f32, hWant);
        // the prefix logits: classifier(running mean of h) or classifier(h_t), in the GEMM's float32 order
        const feat = new Float32Array(B * H);
        for (let i = 0; i < B * H; i++) {
          acc[i] += hWant[i];
          feat[i] = isSpiking ? hWant[i] : acc[i] / (t + 1);
        }
        const lw = new Float32Array(B * Kc);
        for (let b = 0; b < B; b++) lw.set(gemvF32(feat.subarray(b * H, (b + 1) * H), W, bias, Kc, H), b * Kc);
        expectBitwise(`logits at step ${t}`, logits.f32, lw);
      }
      expectBitwise('logits after the last pixel vs forward', logits!.f32, want);
      // reset, then the same sequence again (Tensor input [B, 1]); no allocation per step
      s.reset();
      const px = a.tensor([B, 1]);
      const { count } = countAllocations(core, () => {
        for (let t = 0; t < L; t++) {
          for (let b = 0; b < B; b++) px.f32[b] = x[b * L + t];
          logits = s.push(px);
        }
      });
      expect(count).toBe(0);
      expectBitwise('after reset', logits!.f32, want);
      expect(() => s.push(new Float32Array(B + 1))).toThrow(ShapeError);
    } finally {
      a.dispose();
    }
  });

  it("the default 'fir' stream vs the parallel 'fft' form: within float32 rounding after the last pixel", () => {
    const a = core.arena();
    try {
      const model = isSpiking
        ? PsMnistSLMU.fromCheckpoint(a, file, config, { ignore: notStateDict })
        : PsMnistLMU.fromCheckpoint(a, file, config, { ignore: notStateDict });
      const want = model.forward(x).toArray();
      const s = model.stream(B);
      let logits: Tensor | null = null;
      for (let t = 0; t < L; t++) logits = s.push(Float32Array.from({ length: B }, (_, b) => x[b * L + t]));
      const { err, scale } = maxErr(logits!.f32, want);
      notes.push(`${factory}: stream (fir) vs parallel fft after ${L} steps: max |Δ| ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    } finally {
      a.dispose();
    }
  });
});

describe('published psMNIST size (seq_len = theta = 784; random weights)', () => {
  it.each(['psmnist_lmu', 'psmnist_slmu'] as const)('%s: the FIR stream equals the parallel fir forward bit for bit after 784 pixels; the recurrent stream is within the stated bound of it', (factory) => {
    const a = core.arena();
    try {
      const c = psmnistConfig();
      const sd = new Map<string, Float32Array>();
      let seed = 300;
      for (const [k, s] of expectedStateDict(factory, c)) {
        if (/\.(A|B|H)$/.test(k)) continue;
        const n = s.reduce((p, q) => p * q, 1);
        const fan = s.length > 1 ? s.slice(1).reduce((p, q) => p * q, 1) : 1;
        if (k.endsWith('running_var')) sd.set(k, randomF32(n, seed++, 0.5, 2));
        else sd.set(k, randomF32(n, seed++, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)));
      }
      sd.set('lmu_fft.W_u.bias', Float32Array.of(factory === 'psmnist_lmu' ? 0.5 : 1.5));
      if (factory === 'psmnist_slmu') sd.set('lmu_fft.W_h.bias', randomF32(c.hidden_size, 7, 0.6, 1.4)); // f_h fires ~10–50 %
      const model = factory === 'psmnist_lmu' ? new PsMnistLMU(a, c, sd, { lmuMode: 'fir' }) : new PsMnistSLMU(a, c, sd, { lmuMode: 'fir' });
      const Bq = 2, xs = randomF32(Bq * 784, 5, 0, 1);
      const want = model.forward(xs).toArray();
      const results: Record<string, Float32Array> = {};
      for (const mode of ['fir', 'recurrent'] as const) {
        const s = model.stream(Bq, { lmuMode: mode });
        let logits: Tensor | null = null, fired = 0;
        for (let t = 0; t < 784; t++) {
          logits = s.push(Float32Array.from({ length: Bq }, (_, b) => xs[b * 784 + t]));
          fired += s.h.f32.reduce((p, q) => p + q, 0);
        }
        results[mode] = logits!.toArray() as Float32Array;
        if (mode === 'fir' && factory === 'psmnist_slmu') {
          const rate = fired / (784 * Bq * c.hidden_size);
          notes.push(`psmnist_slmu (published size, random): f_h fires ${(100 * rate).toFixed(1)}%`);
          expect(rate).toBeGreaterThan(0.01);
          expect(rate).toBeLessThan(0.99);
        }
      }
      expectBitwise(`${factory} fir stream`, results.fir, want);
      const { err, scale } = maxErr(results.recurrent, want);
      notes.push(`${factory} (published size): recurrent stream vs parallel fir after 784 steps: max |Δ logits| ${err.toExponential(2)} (max |logit| ${scale.toFixed(2)})`);
      expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    } finally {
      a.dispose();
    }
  });
});
