// Input validation of every public entry point of @spikewasm/lmu (docs/input-validation.md): each bad input gets its
// typed error, whose message names the tensor and the expected and actual shape or value; then a good input gives
// exactly (bit for bit) the output of a fresh model or stream: a rejected input leaves the state usable.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, instantiate, ArgumentError, DTypeError, NonFiniteError, ShapeError, type Arena, type Core, type SafetensorsFile, type Tensor,
} from '@spikewasm/core-wasm';
import {
  LMUFormer, SpikingLMUFormer, PsMnistLMU, PsMnistSLMU, FbankStream, fbank, readWav, WavError, LMU,
} from '@spikewasm/lmu';
import { loadFixture, notStateDict, randomF32 } from './helpers.js';
import { withArena, bits } from '../../core-wasm/test/arena.js';

type Model = {
  forward(x: unknown): Tensor;
  allowNonFinite: boolean;
  stream(batch?: number, options?: object): Stream;
};
type Stream = {
  push(x: unknown): Tensor | null;
  pushChunk?(x: unknown): Tensor;
  flush?(): Tensor;
};

const MODELS = [
  ['LMUFormer', 'lmuformer_nonspiking_small.safetensors', LMUFormer],
  ['SpikingLMUFormer', 'lmuformer_spiking_small.safetensors', SpikingLMUFormer],
  ['psmnist_lmu', 'lmuformer_psmnist_nonspiking_small.safetensors', PsMnistLMU],
  ['psmnist_slmu', 'lmuformer_psmnist_spiking_small.safetensors', PsMnistSLMU],
] as const;

let core: Core, other: Core;
beforeAll(async () => {
  core = await init();
  other = await instantiate();
});

/** A bad input: what it is, the argument (made in the model's arena), the error class and the message. */
type Bad = [string, (a: Arena, x: Float32Array, shape: number[]) => unknown, new (...args: never[]) => Error, (who: string, shape: number[]) => RegExp];

const fmt = (s: number[]) => `\\[${s.join(', ')}\\]`;
const BAD_INPUTS: Bad[] = [
  ['NaN (Float32Array)', (_a, x) => { const y = x.slice(); y[3] = NaN; return y; }, NonFiniteError,
    (w, s) => new RegExp(`^${w}: input element 3 \\(index \\[0, 0, ${s[2] > 3 ? 3 : '\\d+'}\\]\\)|^${w}: input element 3 .* is NaN`)],
  ['+Infinity at the last element', (_a, x) => { const y = x.slice(); y[y.length - 1] = Infinity; return y; }, NonFiniteError,
    (w, s) => new RegExp(`^${w}: input element ${s.reduce((p, q) => p * q, 1) - 1} \\(index ${fmt(s.map((d) => d - 1))}\\) is Infinity; values must be finite`)],
  ['-Infinity (Tensor)', (a, x, s) => { const y = x.slice(); y[1] = -Infinity; return a.from(y, s); }, NonFiniteError, (w) => new RegExp(`^${w}: input element 1 .* is -Infinity`)],
  ['wrong rank (Tensor)', (a, x, s) => a.from(x, [s[0] * s[1], s[2]]), ShapeError, (w, s) => new RegExp(`^${w}: input expected f32 \\[B, ${s[1]}, ${s[2]}\\].*, got f32 ${fmt([s[0] * s[1], s[2]])}`)],
  ['wrong last dim (Tensor)', (a, _x, s) => a.tensor([s[0], s[1], s[2] + 1]), ShapeError, (w, s) => new RegExp(`^${w}: input expected f32 \\[B, ${s[1]}, ${s[2]}\\].*, got f32 ${fmt([s[0], s[1], s[2] + 1])}`)],
  ['wrong dtype (i32 Tensor)', (a, _x, s) => a.tensor(s, 'i32'), ShapeError, (w, s) => new RegExp(`^${w}: input expected f32 .* got i32 ${fmt(s)}`)],
  ['wrong dtype (bits Tensor)', (a, _x, s) => a.tensor(s, 'bits'), ShapeError, (w, s) => new RegExp(`^${w}: input expected f32 .* got bits ${fmt(s)}`)],
  ['batch 0 (Tensor)', (a, _x, s) => a.tensor([0, s[1], s[2]]), ShapeError, (w, s) => new RegExp(`^${w}: input has batch size 0 \\(shape ${fmt([0, s[1], s[2]])}\\); expected B ≥ 1`)],
  ['Float64Array', (_a, x) => Float64Array.from(x), DTypeError, (w) => new RegExp(`^${w}: input must be a Float32Array or an f32 Tensor, got Float64Array`)],
  ['plain array', (_a, x) => Array.from(x), DTypeError, (w) => new RegExp(`^${w}: input must be a Float32Array or an f32 Tensor, got Array`)],
  ['null', () => null, DTypeError, (w) => new RegExp(`^${w}: input must be a Float32Array or an f32 Tensor, got null`)],
  ['empty Float32Array', () => new Float32Array(0), ShapeError, (w) => new RegExp(`^${w}: input holds 0 values, not a multiple of`)],
  ['length not a multiple of one input', (_a, x) => x.subarray(1), ShapeError, (w, s) => new RegExp(`^${w}: input holds ${x0(s) - 1} values, not a multiple of .* = ${s[1] * s[2]}`)],
  ['a tensor of another Wasm instance', (_a, x, s) => other.arena().from(x, s), ArgumentError, (w) => new RegExp(`^${w}: the input tensor comes from another Wasm instance`)],
];
const x0 = (s: number[]) => s.reduce((p, q) => p * q, 1);

/** A fixture's model builder and input (read once), for the describe blocks of each model. */
function fixtureModel(fixture: string, Cls: unknown): { build: (a: Arena) => Model; x: Float32Array; shape: number[] } {
  const file: SafetensorsFile = loadFixture(fixture);
  const t = file.tensors.get('input')!;
  const config = JSON.parse(file.metadata.config);
  const build = (a: Arena) => (Cls as { fromCheckpoint(a: Arena, f: SafetensorsFile, c: object, o: object): Model }).fromCheckpoint(a, file, config, { ignore: notStateDict });
  return { build, x: t.data as Float32Array, shape: [...t.shape] };
}

describe.each(MODELS)('%s: forward', (who, fixture, Cls) => {
  let build: (a: Arena) => Model, x: Float32Array, shape: number[], reference: Uint32Array;
  beforeAll(() => {
    ({ build, x, shape } = fixtureModel(fixture, Cls));
    reference = withArena((a) => bits(build(a).forward(x).toArray()));
  });

  it.each(BAD_INPUTS)('%s → its typed error; then a good input gives the fresh output bit for bit', (_what, make, Err, msg) => withArena((a) => {
    const m = build(a);
    m.forward(x); // warm: the batch's buffers exist, so a rejected input could only corrupt them
    const input = make(a, x, shape);
    const bad = () => m.forward(input);
    expect(bad).toThrow(Err);
    expect(bad).toThrow(msg(who, shape));
    expect(bits(m.forward(x).toArray())).toEqual(reference);
    expect(bits(m.forward(a.from(x, shape)).toArray())).toEqual(reference);
  }));

  it('NonFiniteError carries the tensor, the index and the value; allowNonFinite: true runs NaN inputs, then good inputs are unchanged', () => withArena((a) => {
    const m = build(a);
    const y = x.slice(); y[10] = NaN;
    let err: NonFiniteError | undefined;
    try { m.forward(y); } catch (e) { err = e as NonFiniteError; }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err).toBeInstanceOf(ArgumentError);
    expect([err!.tensor, err!.index, err!.value]).toEqual(['input', 10, NaN]);
    m.allowNonFinite = true;
    expect(() => m.forward(y)).not.toThrow();
    m.allowNonFinite = false;
    expect(bits(m.forward(x).toArray())).toEqual(reference);
  }));
});

/** Frame t of x [B, N, C] as [B, C] (time-major rows for a stream). */
function frame(x: Float32Array, [B, N, C]: number[], t: number): Float32Array {
  const f = new Float32Array(B * C);
  for (let b = 0; b < B; b++) f.set(x.subarray((b * N + t) * C, (b * N + t + 1) * C), b * C);
  return f;
}

/** Pushes frames [from, to) and returns every output row (and the flush, at the end) as one array. */
function pushAll(s: Stream, x: Float32Array, shape: number[], from: number, to: number, flush: boolean): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t++) {
    const y = s.push(frame(x, shape, t));
    if (y) out.push(...y.toArray());
  }
  if (flush && s.flush) out.push(...s.flush().toArray());
  return out;
}

describe.each(MODELS)('%s: stream', (who, fixture, Cls) => {
  const scv2 = who === 'LMUFormer' || who === 'SpikingLMUFormer';
  const op = scv2 ? 'stream.push' : `${who === 'psmnist_lmu' ? 'PsMnistLMU' : 'PsMnistSLMU'}.push`;
  let build: (a: Arena) => Model, x: Float32Array, shape: number[], reference: Uint32Array;
  beforeAll(() => {
    ({ build, x, shape } = fixtureModel(fixture, Cls));
    reference = withArena((a) => bits(pushAll(build(a).stream(shape[0]), x, shape, 0, shape[1], true)));
  });

  const badFrames: [string, (a: Arena, f: Float32Array, B: number, C: number) => unknown, new (...args: never[]) => Error, (B: number, C: number) => RegExp][] = [
    ['NaN', (_a, f) => { const g = f.slice(); g[g.length - 1] = NaN; return g; }, NonFiniteError, (B, C) => new RegExp(`^${op}: input element ${B * C - 1} \\(index \\[${B - 1}, ${C - 1}\\]\\) is NaN; values must be finite`)],
    ['-Infinity (Tensor)', (a, f, B, C) => { const g = f.slice(); g[0] = -Infinity; return a.from(g, [B, C]); }, NonFiniteError, () => new RegExp(`^${op}: input element 0 \\(index \\[0, 0\\]\\) is -Infinity`)],
    ['one value too many', (_a, f) => Float32Array.from([...f, 0]), ShapeError, (B, C) => new RegExp(`^${op}: expected .*${B}·${C} values, got ${B * C + 1}`)],
    ['wrong shape (Tensor)', (a, _f, B, C) => a.tensor([B, C + 1]), ShapeError, (B, C) => new RegExp(`^${op}: input expected shape \\[${B}, ${C}\\], got \\[${B}, ${C + 1}\\]`)],
    ['wrong dtype (i32 Tensor)', (a, _f, B, C) => a.tensor([B, C], 'i32'), ShapeError, () => new RegExp(`^${op}: input must be an f32 tensor, got i32`)],
    ['Float64Array', (_a, f) => Float64Array.from(f), DTypeError, () => new RegExp(`^${op}: input must be a Float32Array or an f32 Tensor, got Float64Array`)],
    ['undefined', () => undefined, DTypeError, () => new RegExp(`^${op}: input must be a Float32Array or an f32 Tensor, got undefined`)],
    ['a tensor of another Wasm instance', (_a, f, B, C) => other.arena().from(f, [B, C]), ArgumentError, () => new RegExp(`^${op}: the input tensor comes from another Wasm instance`)],
  ];

  it.each(badFrames)('push of %s mid-sequence → its typed error, the stream state unchanged (the rest gives the fresh outputs bit for bit)', (_what, make, Err, msg) => withArena((a) => {
    const [B, N, C] = shape;
    const s = build(a).stream(B);
    const half = N >> 1;
    const first = pushAll(s, x, shape, 0, half, false);
    const bad = () => s.push(make(a, frame(x, shape, half), B, C));
    expect(bad).toThrow(Err);
    expect(bad).toThrow(msg(B, C));
    const rest = pushAll(s, x, shape, half, N, true);
    expect(bits([...first, ...rest])).toEqual(reference);
  }));

  it('stream(batch) and its options are checked; allowNonFinite streams accept NaN, and the model default carries over', () => withArena((a) => {
    const m = build(a);
    for (const b of [0, -1, 1.5, NaN]) expect(() => m.stream(b)).toThrow(/batch size must be a positive integer/);
    expect(() => m.stream(1, { lmuMode: 'fft' })).toThrow(ArgumentError);
    const [B, , C] = shape;
    const nan = new Float32Array(B * C).fill(NaN);
    expect(() => m.stream(B, { allowNonFinite: true }).push(nan)).not.toThrow();
    m.allowNonFinite = true;
    expect(() => m.stream(B).push(nan)).not.toThrow();
    expect(() => m.stream(B, { allowNonFinite: false }).push(nan)).toThrow(NonFiniteError);
  }));

  if (scv2) {
    it('pushChunk: NaN, T > maxChunk, T = 0, wrong layout → typed errors; flush twice is empty; a push after flush starts a fresh utterance', () => withArena((a) => {
      const [B, N, C] = shape;
      const s = build(a).stream(B, { maxChunk: 4 }) as Required<Stream>;
      const chunk = new Float32Array(4 * B * C);
      for (let t = 0; t < 4; t++) chunk.set(frame(x, shape, t), t * B * C);
      const bad = chunk.slice(); bad[B * C + 2] = NaN;
      expect(() => s.pushChunk(bad)).toThrow(new RegExp(`^stream\\.pushChunk: input element ${B * C + 2} \\(index \\[1, 0, 2\\]\\) is NaN`));
      expect(() => s.pushChunk(new Float32Array(5 * B * C))).toThrow(/5 frames exceed maxChunk = 4/);
      expect(() => s.pushChunk(a.tensor([0, B, C]))).toThrow(new RegExp(`stream\\.pushChunk: input expected f32 \\[T, B, in_channels\\] = \\[T ≥ 1, ${B}, ${C}\\], got f32 \\[0, ${B}, ${C}\\]`));
      expect(() => s.pushChunk(a.tensor([2, B + 1, C]))).toThrow(ShapeError);
      expect(() => s.pushChunk(new Float32Array(B * C + 1))).toThrow(/are not T frames of/);
      expect(() => s.pushChunk([1, 2, 3])).toThrow(DTypeError);
      const out = [...s.pushChunk(chunk).toArray(), ...pushAll(s, x, shape, 4, N, true)];
      expect(bits(out)).toEqual(reference);
      expect(s.flush().shape[0]).toBe(0); // a second flush: nothing left
      expect(bits(pushAll(s, x, shape, 0, N, true))).toEqual(reference); // after the flush, a new utterance
    }));
  }
});

describe('FbankStream, fbank, readWav, LMU: the front end and the layer', () => {
  const pcm = randomF32(4000, 7, 0.3);

  it('FbankStream.push: NaN/Inf, non-Float32Array and a missing callback are rejected before anything is consumed', () => {
    const fresh = new FbankStream({ output: 'features' }).pushFrames(pcm);
    const s = new FbankStream({ output: 'features' });
    const half = s.pushFrames(pcm.subarray(0, 2000));
    const buffered = s.bufferedSamples;
    const bad = pcm.slice(2000, 2100); bad[7] = NaN;
    expect(() => s.pushFrames(bad)).toThrow(NonFiniteError);
    expect(() => s.pushFrames(bad)).toThrow(/^FbankStream\.push: waveform\[7\] is NaN, samples must be finite$/);
    const inf = pcm.slice(2000, 2100); inf[0] = -Infinity;
    expect(() => s.pushFrames(inf)).toThrow(/waveform\[0\] is -Infinity/);
    expect(() => s.pushFrames(Float64Array.from(pcm) as unknown as Float32Array)).toThrow(/waveform must be a Float32Array, got \[object Float64Array\]/);
    expect(() => s.push(pcm, null as never)).toThrow(/onFrame must be a function, got null/);
    expect(s.bufferedSamples).toBe(buffered);
    const rest = s.pushFrames(pcm.subarray(2000));
    expect(bits([...half, ...rest])).toEqual(bits(fresh));
    expect(() => new FbankStream({ output: 'mfcc' as never })).toThrow(ArgumentError);
  });

  it('fbank: too short, NaN → typed errors; readWav: not a WAV → WavError', () => {
    expect(() => fbank(new Float32Array(399))).toThrow(/waveform has 399 samples, at least 400/);
    const bad = pcm.slice(); bad[123] = Infinity;
    expect(() => fbank(bad)).toThrow(NonFiniteError);
    expect(() => readWav(new Uint8Array(0))).toThrow(WavError);
    expect(() => readWav(new TextEncoder().encode('RIFX....WAVE'))).toThrow(WavError);
  });

  it('LMU layer: wrong shapes, other instance, stepper batch → typed errors; then the same output as a fresh layer', () => withArena((a) => {
    const opts = { inputSize: 3, hiddenSize: 5, order: 4, theta: 8, seqLen: 8 };
    const p = { W_u: { weight: randomF32(3, 1, 0.5), bias: randomF32(1, 2, 0.1) }, W_h: { weight: randomF32(5 * 7, 3, 0.3), bias: randomF32(5, 4, 0.1) } };
    const lmu = new LMU(a, opts, p);
    const x = a.from(randomF32(2 * 8 * 3, 5, 1), [2, 8, 3]);
    const h = a.tensor([2, 8, 5]);
    lmu.forward(x, h);
    const want = bits(h.toArray());
    expect(() => lmu.forward(a.tensor([2, 8, 4]), h)).toThrow(ShapeError);
    expect(() => lmu.forward(x, a.tensor([2, 8, 6]))).toThrow(ShapeError);
    expect(() => lmu.forward(other.arena().tensor([2, 8, 3]), h)).toThrow(/another Wasm instance|different Wasm instances/);
    expect(() => lmu.stepper(0)).toThrow(ArgumentError);
    h.f32.fill(0);
    lmu.forward(x, h);
    expect(bits(h.toArray())).toEqual(want);
  }));
});
